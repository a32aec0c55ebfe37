package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoed is what the echo upstream saw.
type echoed struct {
	Name    string              `json:"name"`
	Method  string              `json:"method"`
	URI     string              `json:"uri"` // request target as received (escaped path + query)
	Host    string              `json:"host"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// startEcho starts a real HTTP server on 127.0.0.1 that answers with what it received, as
// JSON. Paths starting /sleep/<ms> wait first; /status/<code> answers that status.
func startEcho(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/sleep/"); ok {
			ms, _ := strconv.Atoi(strings.SplitN(rest, "/", 2)[0])
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		status := 200
		if rest, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok {
			status, _ = strconv.Atoi(rest)
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", name)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(echoed{Name: name, Method: r.Method, URI: r.RequestURI, Host: r.Host, Headers: r.Header, Body: string(body)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func hostPort(srv *httptest.Server) (string, int) {
	u := strings.TrimPrefix(srv.URL, "http://")
	h, p, _ := net.SplitHostPort(u)
	port, _ := strconv.Atoi(p)
	return h, port
}

// deadPort returns a loopback port with nothing listening on it.
func deadPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func decodeEcho(t *testing.T, b []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("upstream answer is not the echo JSON: %v: %s", err, b)
	}
	return e
}

func (e echoed) header(name string) string {
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) {
			return strings.Join(v, ", ")
		}
	}
	return ""
}

func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }

// noRedirect builds a client that returns redirects instead of following them.
type noRedirect struct{}

func (noRedirect) client() *http.Client {
	c := client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// startEchoWith starts an upstream that calls hook for every request and answers 200 "ok".
func startEchoWith(t *testing.T, hook func(*http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook(r)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// startEchoStatus starts an upstream answering every request with status; it returns host:port.
func startEchoStatus(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
