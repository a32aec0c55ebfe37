package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestEdgeRawRequests sends raw bytes to the real binary: smuggling and header-syntax attacks
// are refused with the gateway's JSON error and the connection closed; a hidden pipelined
// request never reaches the upstream; underscore headers never pose as dashed ones.
func TestEdgeRawRequests(t *testing.T) {
	var hidden atomic.Int64
	seen := make(chan http.Header, 16)
	up := startEchoWith(t, func(r *http.Request) {
		if strings.Contains(r.URL.Path, "hidden") {
			hidden.Add(1)
		}
		select {
		case seen <- r.Header.Clone():
		default:
		}
	})
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: s\n    url: %s\n    routes: [{name: r, paths: [/]}]\n", up))
	addr := strings.TrimPrefix(g.Proxy, "http://")
	tests := []struct {
		name, raw string
		status    string // prefix of the first response's status
	}{
		{"CL and TE together (CL.TE smuggling)", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hidden HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"TE and CL together (TE.CL order)", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /hidden HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"duplicate Content-Length", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "400"},
		{"Transfer-Encoding identity", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", "501"},
		{"obs-fold", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", "400"},
		{"bare LF in the header block", "GET /a HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n", "400"},
		{"bare LF ending the request line", "GET /a HTTP/1.1\nHost: x\r\n\r\n", "400"},
		{"NUL in a value", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", "400"},
		{"space inside a header name", "GET /a HTTP/1.1\r\nHost: x\r\nTransfer Encoding: chunked\r\n\r\n", "400"},
		{"absolute-form host differs from Host", "GET http://evil.test/a HTTP/1.1\r\nHost: good.test\r\n\r\n", "400"},
		{"missing Host on HTTP/1.1", "GET /a HTTP/1.1\r\n\r\n", "400"},
		{"unknown HTTP version", "GET /a HTTP/1.2\r\nHost: x\r\n\r\n", "505"},
		{"URI over the limit", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "414"},
		{"clean request passes", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, tc.raw); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.HasPrefix(resp.Status, tc.status) {
				t.Fatalf("status %q, want %s: %s", resp.Status, tc.status, body)
			}
			if tc.status != "200" {
				if !strings.Contains(string(body), `"request_id"`) {
					t.Errorf("refusal is not the JSON error shape: %s", body)
				}
				// the connection is closed: nothing more is answered
				if _, err := http.ReadResponse(br, nil); err == nil {
					t.Error("a second response came on a refused connection")
				}
			}
		})
	}
	if n := hidden.Load(); n != 0 {
		t.Errorf("a smuggled request reached the upstream %d times", n)
	}

	// underscore headers are dropped by default
	for len(seen) > 0 {
		<-seen
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /u HTTP/1.1\r\nHost: x\r\nX_User_Id: admin\r\nX-Other: 1\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("underscore request: %v %v", err, resp)
	}
	h := <-seen
	for k := range h {
		if strings.Contains(k, "_") || strings.EqualFold(k, "X-User-Id") {
			t.Errorf("underscore header reached the upstream as %q", k)
		}
	}
	if h.Get("X-Other") != "1" {
		t.Error("other headers must pass")
	}
}

// TestSlowClients: a client trickling its head is cut after the header timeout, one that stops
// sending its body gets 408 after the body timeout, and other clients are served meanwhile.
func TestSlowClients(t *testing.T) {
	up := startEchoWith(t, func(r *http.Request) { _, _ = io.ReadAll(r.Body) })
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: s\n    url: %s\n    routes: [{name: r, paths: [/]}]\n", up),
		"--client-header-timeout", "1s", "--client-body-timeout", "1s")
	addr := strings.TrimPrefix(g.Proxy, "http://")

	// slow head: never finished
	head, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer head.Close()
	_, _ = io.WriteString(head, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	// slow body: announces 10 bytes, sends 1
	body, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	_, _ = io.WriteString(body, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\na")

	// others are served while both hang
	resp, _ := do(t, client(), mustReq(t, "GET", g.Proxy+"/ok", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("other client: %d", resp.StatusCode)
	}

	start := time.Now()
	_ = head.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(head); err != nil {
		t.Fatalf("slow head: connection not closed by the gateway: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("slow head cut after %v", d)
	}
	_ = body.SetReadDeadline(time.Now().Add(5 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(body), nil)
	if err != nil {
		t.Fatalf("slow body: no answer: %v", err)
	}
	if r.StatusCode != 408 {
		t.Errorf("slow body: %d, want 408", r.StatusCode)
	}
}
