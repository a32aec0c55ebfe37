package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawExchange sends raw bytes from the given local address and reads one response.
func rawExchange(t *testing.T, proxy, local, raw string) (*http.Response, string) {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", strings.TrimPrefix(proxy, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to %.60q: %v", raw, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestPathSettings: --escaped-slashes and --merge-slashes decide what the router, the
// plugins and the upstream see, as one path.
func TestPathSettings(t *testing.T) {
	up := startEcho(t, "up")
	cfg := sprintf(`_format_version: "3.0"
services:
- name: public
  url: %s
  routes: [{name: public, paths: [/public], strip_path: false}]
- name: admin
  url: %s
  routes: [{name: admin, paths: [/admin]}]
  plugins: [{name: request-termination, config: {status_code: 403, message: guarded}}]
`, up.URL, up.URL)
	tests := []struct {
		flags  []string
		path   string
		status int
		seen   string // path the upstream saw ("" = not checked)
	}{
		{nil, "/public/a%2Fb", 200, "/public/a%2Fb"},
		// a dot segment that only exists once %2F is decoded is refused at the edge
		{nil, "/public/..%2Fadmin", 400, ""},
		{nil, "/public\\..\\admin", 400, ""},
		{nil, "/public//x", 200, "/public/x"},
		{[]string{"--escaped-slashes", "reject"}, "/public/..%2Fadmin", 400, ""},
		{[]string{"--escaped-slashes", "reject"}, "/public/a%5Cb", 400, ""},
		{[]string{"--escaped-slashes", "reject"}, "/public/a\\b", 400, ""},
		{[]string{"--escaped-slashes", "decode"}, "/public/..%2Fadmin", 403, ""},
		{[]string{"--escaped-slashes", "decode"}, "/public\\..\\admin", 403, ""},
		{[]string{"--escaped-slashes", "decode"}, "/public/a%2Fb", 200, "/public/a/b"},
		{[]string{"--merge-slashes=false"}, "/public//x", 200, "/public//x"},
	}
	gws := map[string]*gateway{}
	for _, tc := range tests {
		key := strings.Join(tc.flags, " ")
		g := gws[key]
		if g == nil {
			g = startGateway(t, cfg, tc.flags...)
			gws[key] = g
		}
		resp, body := rawExchange(t, g.Proxy, "", "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != tc.status {
			t.Errorf("%v %s: %d %s, want %d", tc.flags, tc.path, resp.StatusCode, body, tc.status)
			continue
		}
		if tc.seen != "" {
			if e := decodeEcho(t, []byte(body)); e.URI != tc.seen {
				t.Errorf("%v %s: upstream saw %q, want %q", tc.flags, tc.path, e.URI, tc.seen)
			}
		}
	}
}

// TestGlobalBodyLimit: --max-body-size answers 413 for an announced length over it before any
// plugin or upstream sees the request, and cuts a chunked body when it crosses it.
func TestGlobalBodyLimit(t *testing.T) {
	hits := 0
	up := startEchoWith(t, func(r *http.Request) { hits++ })
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n- name: s\n  url: %s\n  routes: [{name: r, paths: [/]}]\n", up), "--max-body-size", "1k")
	resp, body := rawExchange(t, g.Proxy, "", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n"+strings.Repeat("a", 2000))
	if resp.StatusCode != 413 || !strings.Contains(body, "request_id") {
		t.Fatalf("announced 2000 bytes: %d %s", resp.StatusCode, body)
	}
	chunk := fmt.Sprintf("%x\r\n%s\r\n", 600, strings.Repeat("b", 600))
	resp, body = rawExchange(t, g.Proxy, "", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk+chunk+"0\r\n\r\n")
	if resp.StatusCode != 413 {
		t.Fatalf("chunked 1200 bytes: %d %s", resp.StatusCode, body)
	}
	resp, body = rawExchange(t, g.Proxy, "", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk+"0\r\n\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("chunked 600 bytes: %d %s", resp.StatusCode, body)
	}
	resp, _ = rawExchange(t, g.Proxy, "", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n"+strings.Repeat("a", 1024))
	if resp.StatusCode != 200 {
		t.Fatalf("exactly the limit: %d", resp.StatusCode)
	}
}

// TestConnectionLimits: a client holding connections open (slowloris) from one address gets
// 429 past --max-conns-per-ip, while a client from another address keeps being served.
func TestConnectionLimits(t *testing.T) {
	up := startEcho(t, "up")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n- name: s\n  url: %s\n  routes: [{name: r, paths: [/]}]\n", up.URL),
		"--max-conns-per-ip", "5", "--client-header-timeout", "10s")
	addr := strings.TrimPrefix(g.Proxy, "http://")
	attacker := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 2 * time.Second}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	refused := 0
	for i := 0; i < 12; i++ {
		c, err := attacker.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		// a slowloris head: never finished
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			if resp.StatusCode != 429 {
				t.Fatalf("attacker connection %d answered %d", i, resp.StatusCode)
			}
			refused++
		}
	}
	if refused != 7 {
		t.Fatalf("%d of 12 attacker connections refused, want the 7 past the limit of 5", refused)
	}
	c := client()
	for i := 0; i < 10; i++ {
		start := time.Now()
		resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/ok", nil))
		if resp.StatusCode != 200 || time.Since(start) > time.Second {
			t.Fatalf("other client during the attack: %d %s after %v", resp.StatusCode, body, time.Since(start))
		}
	}
}

// TestClientFaultsDoNotEjectTargets: requests that fail because of the client's body (over the
// limit, malformed after forwarding began) never count against the target: with passive checks
// that eject a target on its first failure and a circuit that opens on the first, the target
// stays healthy and closed.
func TestClientFaultsDoNotEjectTargets(t *testing.T) {
	up := startEcho(t, "up")
	addr := strings.TrimPrefix(up.URL, "http://")
	cfg := sprintf(`_format_version: "3.0"
services:
- name: s
  host: pool
  routes: [{name: r, paths: [/]}]
upstreams:
- name: pool
  circuit_breaker: {consecutive_failures: 1}
  healthchecks:
    passive:
      unhealthy: {tcp_failures: 1, timeouts: 1, http_failures: 1}
  targets: [{target: "%s"}]
`, addr)
	g := startGateway(t, cfg, "--max-body-size", "1k")
	chunk := fmt.Sprintf("%x\r\n%s\r\n", 600, strings.Repeat("b", 600))
	for i := 0; i < 3; i++ {
		resp, body := rawExchange(t, g.Proxy, "", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk+chunk+"0\r\n\r\n")
		if resp.StatusCode != 413 {
			t.Fatalf("over the limit: %d %s", resp.StatusCode, body)
		}
	}
	if h := healthOf(t, g, addr); h != "HEALTHY" {
		t.Fatalf("the target is %s after the clients' faults", h)
	}
	if b := breakers(t, g)["upstream:pool/"+addr]; b.State != "closed" {
		t.Fatalf("the target's circuit is %+v after the clients' faults", b)
	}
	resp, body := rawExchange(t, g.Proxy, "", "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("a normal request afterwards: %d %s", resp.StatusCode, body)
	}
}

// TestHeaderLimits: --max-header-bytes bounds the request head on HTTP/1.1 (16 KiB by default)
// and can be raised to Envoy's 60 KiB; --max-header-count bounds the fields.
func TestHeaderLimits(t *testing.T) {
	up := startEcho(t, "up")
	cfg := sprintf("_format_version: \"3.0\"\nservices:\n- name: s\n  url: %s\n  routes: [{name: r, paths: [/]}]\n", up.URL)
	head := func(kib int) string {
		var b strings.Builder
		for i := 0; i < kib/4; i++ { // 4 KiB lines: few enough for a count of 20
			fmt.Fprintf(&b, "X-H%d: %s\r\n", i, strings.Repeat("a", 4<<10-10))
		}
		return "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b.String() + "\r\n"
	}
	fields := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "X-F%d: v\r\n", i)
		}
		return "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b.String() + "\r\n"
	}
	def := startGateway(t, cfg)
	big := startGateway(t, cfg, "--max-header-bytes", "60k", "--max-header-count", "20")
	tests := []struct {
		name   string
		g      *gateway
		raw    string
		status int
	}{
		{"default: 12 KiB head", def, head(12), 200},
		{"default: 20 KiB head", def, head(20), 431},
		{"60k: 40 KiB head", big, head(40), 200},
		{"60k: 70 KiB head", big, head(70), 431},
		{"count 20: 15 fields", big, fields(15), 200},
		{"count 20: 30 fields", big, fields(30), 431},
	}
	for _, tc := range tests {
		resp, body := rawExchange(t, tc.g.Proxy, "", tc.raw)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %.100s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
	}
}
