package e2e

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const streamSize = 100 << 20

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rem := p.n - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7 % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func rssKB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestStreaming100MB sends 100 MB up and 100 MB down through the gateway (Content-Length and
// chunked) and checks the bytes arrive intact while the gateway's resident memory grows by
// less than ~20 MB: bodies are streamed, never buffered whole.
func TestStreaming100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB transfers skipped when testing.Short (go test -short)")
	}
	var upSum atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			upSum.Store(h.Sum(nil))
			w.Header().Set("X-Received", strconv.FormatInt(n, 10))
			return
		}
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(streamSize))
		}
		_, _ = io.Copy(w, &patternReader{n: streamSize})
	}))
	t.Cleanup(srv.Close)
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: big\n    url: %s\n    routes: [{name: big, paths: [/big]}]\n", srv.URL))
	c := client()
	// warm up so the baseline includes pools and buffers
	resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/big?warm=1&chunked=1", nil))
	_ = resp
	base := rssKB(t, g.cmd.Process.Pid)
	peak := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if r := rssKB(t, g.cmd.Process.Pid); r > peak {
					peak = r
				}
			}
		}
	}()

	want := sha256.New()
	_, _ = io.Copy(want, &patternReader{n: streamSize})
	wantSum := want.Sum(nil)

	for _, chunked := range []bool{false, true} {
		// upload
		req := mustReq(t, "POST", g.Proxy+"/big", &patternReader{n: streamSize})
		if !chunked {
			req.ContentLength = streamSize
		}
		resp, body := do(t, c, req)
		if resp.StatusCode != 200 || resp.Header.Get("X-Received") != strconv.Itoa(streamSize) {
			t.Fatalf("upload chunked=%v: status %d received %q %s", chunked, resp.StatusCode, resp.Header.Get("X-Received"), body)
		}
		if got, _ := upSum.Load().([]byte); string(got) != string(wantSum) {
			t.Fatalf("upload chunked=%v: upstream got different bytes", chunked)
		}
		// download
		q := ""
		if chunked {
			q = "?chunked=1"
		}
		dresp, err := c.Get(g.Proxy + "/big" + q)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, dresp.Body)
		dresp.Body.Close()
		if err != nil || n != streamSize || string(h.Sum(nil)) != string(wantSum) {
			t.Fatalf("download chunked=%v: %d bytes, err %v, intact=%v", chunked, n, err, string(h.Sum(nil)) == string(wantSum))
		}
	}
	close(stop)
	<-done
	growth := peak - base
	t.Logf("gateway RSS: base %d KiB, peak %d KiB, growth %d KiB over 400 MB of transfers", base, peak, growth)
	if growth > 20*1024 {
		t.Errorf("gateway memory grew by %d KiB while streaming (want < 20 MiB): bodies are being buffered", growth)
	}
}
