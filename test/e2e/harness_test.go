// Package e2e runs the real tollgate binary against real upstream servers on 127.0.0.1.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tollgate-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tollgate")
	build := exec.Command("go", "build", "-race", "-o", binary, "tollgate/cmd/tollgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tollgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gateway is one running tollgate process.
type gateway struct {
	t        *testing.T
	cmd      *exec.Cmd
	Proxy    string // http://127.0.0.1:port
	Admin    string
	Config   string // config file path ("" when none)
	mu       sync.Mutex
	logs     []string
	exited   chan struct{}
	exitCode int
}

// startGateway writes cfg (YAML; "" = none) to a file and starts the binary on free ports.
// Extra flags follow. It waits until the proxy and admin listeners are up.
func startGateway(t *testing.T, cfg string, extra ...string) *gateway {
	t.Helper()
	g := &gateway{t: t, exited: make(chan struct{})}
	args := []string{"run", "--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "info"}
	if cfg != "" {
		g.Config = filepath.Join(t.TempDir(), "kong.yml")
		if err := os.WriteFile(g.Config, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", g.Config)
	}
	args = append(args, extra...)
	g.cmd = exec.Command(binary, args...)
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	g.cmd.Stdout = io.Discard
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			g.mu.Lock()
			g.logs = append(g.logs, line)
			g.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "tollgate started" {
				g.Proxy = "http://" + fmt.Sprint(rec["proxy"])
				g.Admin = "http://" + fmt.Sprint(rec["admin"])
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() {
		_ = g.cmd.Wait()
		g.exitCode = g.cmd.ProcessState.ExitCode()
		close(g.exited)
	}()
	t.Cleanup(g.stop)
	select {
	case <-ready:
	case <-g.exited:
		t.Fatalf("gateway exited early (code %d):\n%s", g.exitCode, g.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("gateway not ready after 30s:\n%s", g.Logs())
	}
	return g
}

// Logs returns what the gateway logged so far.
func (g *gateway) Logs() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.Join(g.logs, "\n")
}

// waitLog waits until a log line contains every one of parts.
func (g *gateway) waitLog(parts ...string) bool { return g.waitLogCount(1, parts...) }

// waitLogCount waits until at least n log lines contain every one of parts.
func (g *gateway) waitLogCount(n int, parts ...string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		c := 0
		for _, l := range g.logs {
			ok := true
			for _, p := range parts {
				if !strings.Contains(l, p) {
					ok = false
					break
				}
			}
			if ok {
				c++
			}
		}
		g.mu.Unlock()
		if c >= n {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (g *gateway) signal(sig syscall.Signal) {
	_ = g.cmd.Process.Signal(sig)
}

// stop ends the process by PID: SIGTERM, then SIGKILL after a grace period.
func (g *gateway) stop() {
	select {
	case <-g.exited:
		return
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(15 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// waitExit waits for the process to end and returns its exit code.
func (g *gateway) waitExit(d time.Duration) (int, bool) {
	select {
	case <-g.exited:
		return g.exitCode, true
	case <-time.After(d):
		return 0, false
	}
}

// client returns an HTTP/1.1 client with a bounded timeout.
func client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
}

// get issues a request and returns the response with its body read.
func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, b
}

func mustReq(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
