package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestUpstreamPathAndHost checks the upstream request line and Host through the binary for
// the strip_path × service path × preserve_host combinations of Kong's table.
func TestUpstreamPathAndHost(t *testing.T) {
	srv := startEcho(t, "up")
	h, port := hostPort(srv)
	cfg := sprintf(`_format_version: "3.0"
services:
  - name: nopath
    url: http://%[1]s:%[2]d
    routes:
      - {name: strip, paths: [/r], strip_path: true}
      - {name: nostrip, paths: [/n], strip_path: false}
      - {name: keephost, paths: [/k], preserve_host: true}
      - {name: rx, paths: ["~/v\\d+"], strip_path: true}
  - name: withpath
    url: http://%[1]s:%[2]d/s
    routes:
      - {name: s-strip, paths: [/sr], strip_path: true}
      - {name: s-nostrip, paths: [/sn], strip_path: false}
      - {name: s-slash, paths: [/ss/], strip_path: true}
`, h, port)
	g := startGateway(t, cfg)
	c := client()
	tests := []struct{ path, wantURI, host, wantHost string }{
		{path: "/r", wantURI: "/"},
		{path: "/r/a", wantURI: "/a"},
		{path: "/rx", wantURI: "/x"},
		{path: "/r/a?b=1&c=%20", wantURI: "/a?b=1&c=%20"},
		{path: "/r/a?", wantURI: "/a?"},
		{path: "/n/a", wantURI: "/n/a"},
		{path: "/v2/x", wantURI: "/x"},
		{path: "/sr", wantURI: "/s"},
		{path: "/sr/", wantURI: "/s/"},
		{path: "/sr/a", wantURI: "/s/a"},
		{path: "/srx", wantURI: "/s/x"},
		{path: "/sn/a", wantURI: "/s/sn/a"},
		{path: "/ss/a", wantURI: "/s/a"},
		{path: "/r/a%20b", wantURI: "/a%20b"},
		{path: "/r/a%2Fb", wantURI: "/a%2Fb"},
		{path: "/r/a", wantURI: "/a", wantHost: sprintf("%s:%d", h, port)},
		{path: "/k/x", host: "client.example:1234", wantURI: "/", wantHost: "client.example:1234"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			req := mustReq(t, "GET", g.Proxy+tc.path, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, body := do(t, c, req)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			e := decodeEcho(t, body)
			if tc.path == "/k/x" {
				tc.wantURI = "/x"
			}
			if e.URI != tc.wantURI {
				t.Errorf("upstream URI %q, want %q", e.URI, tc.wantURI)
			}
			if tc.wantHost != "" && e.Host != tc.wantHost {
				t.Errorf("upstream Host %q, want %q", e.Host, tc.wantHost)
			}
		})
	}
}

// TestForwardedHeaders checks X-Forwarded-*, X-Real-IP, Via and the request id, with an
// untrusted client (its forwarding headers are replaced, X-Forwarded-For appended to) and a
// trusted one (kept).
func TestForwardedHeaders(t *testing.T) {
	srv := startEcho(t, "up")
	cfg := sprintf(`_format_version: "3.0"
services:
  - name: s
    url: %s
    routes: [{name: r, paths: [/pre], strip_path: true}]
`, srv.URL)
	for _, trusted := range []bool{false, true} {
		t.Run(sprintf("trusted=%v", trusted), func(t *testing.T) {
			var extra []string
			if trusted {
				extra = []string{"--trusted-ips", "127.0.0.1/32"}
			}
			g := startGateway(t, cfg, extra...)
			req := mustReq(t, "GET", g.Proxy+"/pre/a?q=1", nil)
			req.Host = "Shop.Example:8443"
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "outer.example")
			req.Header.Set("X-Forwarded-Port", "443")
			req.Header.Set("X-Forwarded-Prefix", "/evil")
			req.Header.Set("X-Tollgate-Request-Id", "client-chosen-id")
			req.Header.Set("Connection", "X-Hop")
			req.Header.Set("X-Hop", "secret")
			req.Header.Set("Via", "1.0 edge")
			resp, body := do(t, client(), req)
			e := decodeEcho(t, body)
			check := func(name, want string) {
				t.Helper()
				if got := e.header(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			check("X-Forwarded-For", "203.0.113.9, 127.0.0.1")
			check("X-Hop", "")
			if via := e.header("Via"); !strings.HasPrefix(via, "1.0 edge, 1.1 tollgate/") {
				t.Errorf("Via = %q, want the client's Via then ours", via)
			}
			if trusted {
				check("X-Forwarded-Proto", "https")
				check("X-Forwarded-Host", "outer.example")
				check("X-Forwarded-Port", "443")
				check("X-Forwarded-Prefix", "/evil")
				check("X-Tollgate-Request-Id", "client-chosen-id")
			} else {
				check("X-Forwarded-Proto", "http")
				check("X-Forwarded-Host", "shop.example")
				check("X-Forwarded-Port", strings.Split(g.Proxy, ":")[2])
				check("X-Forwarded-Prefix", "/pre")
				check("X-Forwarded-Path", "/pre/a")
				check("X-Real-Ip", "127.0.0.1")
				if id := e.header("X-Tollgate-Request-Id"); len(id) != 32 || id == "client-chosen-id" {
					t.Errorf("request id %q: want a generated one", id)
				}
			}
			if resp.Header.Get("X-Tollgate-Request-Id") != e.header("X-Tollgate-Request-Id") {
				t.Errorf("client got request id %q, upstream %q", resp.Header.Get("X-Tollgate-Request-Id"), e.header("X-Tollgate-Request-Id"))
			}
			if !strings.Contains(resp.Header.Get("Via"), "tollgate/") {
				t.Errorf("response Via %q", resp.Header.Get("Via"))
			}
			for _, h := range []string{"X-Tollgate-Upstream-Latency", "X-Tollgate-Proxy-Latency"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("missing %s", h)
				}
			}
		})
	}
}

// TestUpstreamFailures: a stalled upstream gives 504 after read_timeout, a closed port 502, a
// connect timeout 504, a malformed response 502, all with Kong's JSON body and fast. The slow
// service retries once: two tries of at most 300 ms each leave the 2 s bound room on a loaded
// machine (Kong's default of 5 retries made it 1.8 s of 2).
func TestUpstreamFailures(t *testing.T) {
	slow := startEcho(t, "slow")
	bad, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bad.Close() })
	go func() {
		for {
			c, err := bad.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = bufio.NewReader(c).ReadString('\n')
				_, _ = io.WriteString(c, "HTTP/1.1 abc nonsense\r\n\r\n")
			}()
		}
	}()
	cfg := sprintf(`_format_version: "3.0"
services:
  - name: slow
    url: %s
    read_timeout: 300
    retries: 1
    routes: [{name: slow, paths: [/slow]}]
  - name: dead
    url: http://127.0.0.1:%d
    retries: 0
    routes: [{name: dead, paths: [/dead]}]
  - name: bad
    url: http://%s
    retries: 0
    routes: [{name: bad, paths: [/bad]}]
`, slow.URL, deadPort(t), bad.Addr().String())
	g := startGateway(t, cfg)
	c := client()
	tests := []struct {
		path    string
		status  int
		message string
		maxWait time.Duration
	}{
		{path: "/slow/sleep/3000", status: 504, message: "The upstream server is timing out", maxWait: 2 * time.Second},
		{path: "/dead", status: 502, message: "An invalid response was received from the upstream server", maxWait: time.Second},
		{path: "/bad", status: 502, message: "An invalid response was received from the upstream server", maxWait: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			start := time.Now()
			resp, body := do(t, c, mustReq(t, "GET", g.Proxy+tc.path, nil))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var m map[string]string
			if err := json.Unmarshal(body, &m); err != nil || m["message"] != tc.message || m["request_id"] == "" {
				t.Errorf("body %s", body)
			}
			if d := time.Since(start); d > tc.maxWait {
				t.Errorf("took %v, want under %v", d, tc.maxWait)
			}
		})
	}
}

// TestServerSentEventsFlush: each event reaches the client as the upstream sends it.
func TestServerSentEventsFlush(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		fmt.Fprint(w, "data: second\n\n")
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: sse\n    url: %s\n    routes: [{name: sse, paths: [/sse]}]\n", srv.URL))
	resp, err := client().Get(g.Proxy + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	got := make(chan string, 1)
	go func() {
		line, _ := br.ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if line != "data: first\n" {
			t.Fatalf("first line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first event not delivered while the upstream stream is open")
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Errorf("rest %q", rest)
	}
}

// TestMalformedRequests: what the HTTP/1.1 engine cannot read is answered in the gateway's
// JSON error shape (never a bare engine message), and the connection closed.
func TestMalformedRequests(t *testing.T) {
	g := startGateway(t, "")
	addr := strings.TrimPrefix(g.Proxy, "http://")
	tests := []struct {
		name, raw string
		status    string
	}{
		{"header line without colon", "GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n", "400"},
		{"header block over the read buffer", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("a", 70000) + "\r\n\r\n", "431"},
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
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.HasPrefix(resp.Status, tc.status) {
				t.Errorf("status %s, want %s", resp.Status, tc.status)
			}
			var m map[string]string
			if err := json.Unmarshal(body, &m); err != nil || m["request_id"] == "" || m["message"] == "" {
				t.Errorf("body %q", body)
			}
			if !resp.Close {
				t.Error("connection not closed after a malformed request")
			}
		})
	}
}

// TestForwardedForHTTP2: over HTTP/2 too, the client's X-Forwarded-For fields are joined and
// the peer appended.
func TestForwardedForHTTP2(t *testing.T) {
	srv := startEcho(t, "up")
	g := startGateway(t, sprintf(`_format_version: "3.0"
services:
  - name: s
    url: %s
    routes: [{name: r, paths: [/]}]
`, srv.URL))
	req := mustReq(t, "GET", g.Proxy+"/xff", nil)
	req.Header.Add("X-Forwarded-For", "203.0.113.9")
	req.Header.Add("X-Forwarded-For", "198.51.100.2")
	resp, body := do(t, h2cClient(), req)
	if resp.ProtoMajor != 2 {
		t.Fatalf("served over %s", resp.Proto)
	}
	if got, want := decodeEcho(t, body).header("X-Forwarded-For"), "203.0.113.9, 198.51.100.2, 127.0.0.1"; got != want {
		t.Errorf("X-Forwarded-For = %q, want %q", got, want)
	}
}

// TestForwardedHeadersRepeated: a client that repeats a forwarding header (two X-Forwarded-Host
// fields, say) cannot get its own value to the upstream beside the gateway's, on HTTP/1.1 or
// HTTP/2; repeated X-Forwarded-For and Via fields are joined in order, then the gateway's
// entry is appended. The same holds for an upstream's repeated Via on the way back.
func TestForwardedHeadersRepeated(t *testing.T) {
	viaUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Via", "1.0 a")
		w.Header().Add("Via", "1.0 b")
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(viaUp.Close)
	echo := startEcho(t, "up")
	g := startGateway(t, sprintf(`_format_version: "3.0"
services:
  - name: echo
    url: %s
    routes: [{name: r, paths: [/echo]}]
  - name: raw
    url: %s
    routes: [{name: raw, paths: [/raw]}]
`, echo.URL, viaUp.URL))
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		t.Run(proto, func(t *testing.T) {
			c := client()
			if proto == "HTTP/2" {
				c = h2cClient()
			}
			req := mustReq(t, "GET", g.Proxy+"/echo", nil)
			for _, kv := range [][2]string{
				{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-For", "198.51.100.2"},
				{"X-Forwarded-Host", "one.example"}, {"X-Forwarded-Host", "evil.example"},
				{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Proto", "https"},
				{"X-Real-Ip", "192.0.2.1"}, {"X-Real-Ip", "192.0.2.2"},
				{"Via", "1.0 a"}, {"Via", "1.0 b"},
			} {
				req.Header.Add(kv[0], kv[1])
			}
			_, body := do(t, c, req)
			e := decodeEcho(t, body)
			for name, want := range map[string]string{
				"X-Forwarded-For":   "203.0.113.9, 198.51.100.2, 127.0.0.1",
				"X-Forwarded-Host":  "127.0.0.1",
				"X-Forwarded-Proto": "http",
				"X-Real-Ip":         "127.0.0.1",
			} {
				if got := e.header(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if via := e.header("Via"); !strings.HasPrefix(via, "1.0 a, 1.0 b, ") || strings.Count(via, "tollgate/") != 1 {
				t.Errorf("Via = %q, want the client's two entries then one of ours", via)
			}
			resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/raw", nil))
			if via := resp.Header.Values("Via"); len(via) != 1 || !strings.HasPrefix(via[0], "1.0 a, 1.0 b, ") {
				t.Errorf("response Via = %q, want one field: the upstream's two entries then ours", via)
			}
		})
	}
}
