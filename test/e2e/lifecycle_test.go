package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	// write then rename, as config managers do, so the gateway never reads half a file
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func cfgTo(name, url string) string {
	return sprintf("_format_version: \"3.0\"\nservices:\n  - name: %s\n    url: %s\n    routes: [{name: r, paths: [/r]}]\n", name, url)
}

// TestReloadUnderLoad rewrites the config file (watched) and sends SIGHUP while a steady
// request loop runs: no request fails, the new config takes effect, and a broken file keeps
// the last good config serving.
func TestReloadUnderLoad(t *testing.T) {
	a, b := startEcho(t, "a"), startEcho(t, "b")
	g := startGateway(t, cfgTo("a", a.URL))
	c := client()
	var okA, okB, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(g.Proxy + "/r")
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				resp.Body.Close()
				switch {
				case resp.StatusCode != 200:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, resp.Status)
				case resp.Header.Get("X-Upstream") == "a":
					okA.Add(1)
				default:
					okB.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 6; i++ {
		time.Sleep(150 * time.Millisecond)
		if i%2 == 0 {
			writeFile(t, g.Config, cfgTo("b", b.URL))
		} else {
			writeFile(t, g.Config, cfgTo("a", a.URL))
			g.signal(syscall.SIGHUP)
		}
	}
	time.Sleep(150 * time.Millisecond)
	// a broken file: rejected, logged, last good config serves on
	writeFile(t, g.Config, cfgTo("b", b.URL)+"  - name: broken\n    port: 99999999\n")
	if !g.waitLog("config rejected", "previous config keeps serving") {
		t.Errorf("broken config not reported in the log:\n%s", g.Logs())
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("requests: a=%d b=%d failed=%d", okA.Load(), okB.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during reloads (first: %v)", failed.Load(), firstErr.Load())
	}
	if okA.Load() == 0 || okB.Load() == 0 {
		t.Errorf("reloads did not switch upstreams: a=%d b=%d", okA.Load(), okB.Load())
	}
	resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/r", nil))
	if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "a" {
		t.Errorf("after a broken file the last good config (a) must serve: %d %s", resp.StatusCode, body)
	}
}

// TestGracefulDrain: on SIGTERM in-flight requests finish, new connections are refused, and
// the process exits 0.
func TestGracefulDrain(t *testing.T) {
	srv := startEcho(t, "slow")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: s\n    url: %s\n    routes: [{name: r, paths: [/r]}]\n", srv.URL))
	c := client()
	const n = 8
	results := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := c.Get(g.Proxy + "/r/sleep/1500")
			if err != nil {
				results <- -1
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
	}
	// let the requests reach the upstream
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(g.Logs(), "") > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	g.signal(syscall.SIGTERM)
	for i := 0; i < n; i++ {
		select {
		case code := <-results:
			if code != 200 {
				t.Errorf("in-flight request cut during drain: %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("in-flight request did not finish")
		}
	}
	code, ok := g.waitExit(10 * time.Second)
	if !ok || code != 0 {
		t.Fatalf("exit code %d (exited=%v)\n%s", code, ok, g.Logs())
	}
	if _, err := (&http.Client{Timeout: time.Second}).Get(g.Proxy + "/r"); err == nil {
		t.Error("new requests still accepted after drain")
	}
}

// TestValidateCommand: `tollgate validate` exits 0 on a valid file and prints every error of
// a broken one as FILE:LINE: kind "name": field: message.
func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/good.yml"
	writeFile(t, good, cfgTo("a", "http://127.0.0.1:1"))
	out, err := exec.Command(binary, "validate", "--config", good).CombinedOutput()
	if err != nil {
		t.Fatalf("valid file: %v\n%s", err, out)
	}
	bad := dir + "/bad.yml"
	writeFile(t, bad, `_format_version: "3.0"
services:
  - name: one
    url: http://127.0.0.1:1
    retries: -1
    routes:
      - name: r1
        paths: [/a//b]
  - name: two
    host: example.test
    port: 70000
    plugins:
      - name: no-such-plugin
`)
	cmd := exec.Command(binary, "validate", "--config", bad)
	out, err = cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("broken file accepted:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 4 {
		t.Fatalf("want every error on its own line, got:\n%s", out)
	}
	for _, want := range []string{
		bad + `:5: service "one": retries:`,
		bad + `:8: route "r1": paths[0]:`,
		bad + `:11: service "two": port:`,
		bad + `:13: plugin "no-such-plugin"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestStartsEmptyThenAdminConfig: without a config the gateway answers 404; POST /config
// loads one; an invalid POST is refused with 400 and the previous config keeps serving.
func TestStartsEmptyThenAdminConfig(t *testing.T) {
	up := startEcho(t, "a")
	g := startGateway(t, "")
	c := client()
	resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/r", nil))
	if resp.StatusCode != 404 {
		t.Fatalf("empty gateway answered %d", resp.StatusCode)
	}
	req := mustReq(t, "POST", g.Admin+"/config", strings.NewReader(cfgTo("a", up.URL)))
	req.Header.Set("Content-Type", "application/yaml")
	resp, body := do(t, c, req)
	if resp.StatusCode != 201 {
		t.Fatalf("POST /config: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, c, mustReq(t, "GET", g.Proxy+"/r", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("after POST /config: %d", resp.StatusCode)
	}
	req = mustReq(t, "POST", g.Admin+"/config", strings.NewReader("_format_version: \"3.0\"\nservices:\n  - name: x\n    port: -5\n"))
	resp, body = do(t, c, req)
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"code":14`) {
		t.Fatalf("invalid POST /config: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, c, mustReq(t, "GET", g.Proxy+"/r", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("old config must keep serving: %d", resp.StatusCode)
	}
	resp, body = do(t, c, mustReq(t, "GET", g.Admin+"/routes", nil))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"paths":["/r"]`) {
		t.Errorf("GET /routes: %d %s", resp.StatusCode, body)
	}
}
