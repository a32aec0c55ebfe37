package proxy

import (
	"bufio"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"tollgate/internal/edge"
	"tollgate/internal/h1"
)

func TestRealIP(t *testing.T) {
	trust := Trust{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, RealIPHeader: "X-Real-IP"}
	rec := trust
	rec.RealIPHeader, rec.Recursive = "X-Forwarded-For", true
	tests := []struct {
		name   string
		trust  Trust
		peer   string
		header string
		want   string
	}{
		{"untrusted peer ignores header", trust, "192.0.2.1", "203.0.113.5", "192.0.2.1"},
		{"trusted peer takes header", trust, "10.1.2.3", "203.0.113.5", "203.0.113.5"},
		{"trusted peer without header", trust, "10.1.2.3", "", "10.1.2.3"},
		{"garbage header keeps peer", trust, "10.1.2.3", "not-an-ip", "10.1.2.3"},
		{"recursive skips trusted hops", rec, "10.1.2.3", "198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"recursive stops at first untrusted from the right", rec, "10.1.2.3", "1.1.1.1, 198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"non-recursive takes the last", Trust{Prefixes: trust.Prefixes, RealIPHeader: "X-Forwarded-For"}, "10.1.2.3", "198.51.100.7, 10.9.9.9", "10.9.9.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			peek := func(name string) []byte {
				if strings.EqualFold(name, tc.trust.RealIPHeader) && tc.header != "" {
					return []byte(tc.header)
				}
				return nil
			}
			got := tc.trust.realIP(netip.MustParseAddr(tc.peer), peek)
			if got.String() != tc.want {
				t.Errorf("realIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSanitizeUpstream(t *testing.T) {
	tests := []struct {
		name    string
		in      string // header lines as a client sends them
		upgrade bool
		gone    []string
		kept    map[string]string
	}{
		{name: "hop headers", in: "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nProxy-Connection: x\r\nUpgrade: foo\r\nTe: gzip\r\nX-A: 1\r\n",
			gone: []string{"Keep-Alive", "Proxy-Connection", "Upgrade", "Te"}, kept: map[string]string{"X-A": "1"}},
		{name: "lower-case names", in: "keep-alive: timeout=5\r\nproxy-authorization: Basic eA==\r\nproxy: x\r\nx-a: 1\r\n",
			gone: []string{"Keep-Alive", "Proxy-Authorization", "Proxy"}, kept: map[string]string{"X-A": "1"}},
		{name: "empty values are removed too", in: "Keep-Alive:\r\nProxy-Authenticate:\r\nTrailer: \r\nX-A: 1\r\n",
			gone: []string{"Keep-Alive", "Proxy-Authenticate", "Trailer"}, kept: map[string]string{"X-A": "1"}},
		{name: "connection-listed removed", in: "Connection: X-Secret, close\r\nX-Secret: s\r\nX-B: 2\r\n",
			gone: []string{"X-Secret"}, kept: map[string]string{"X-B": "2"}},
		{name: "te trailers kept", in: "Te: trailers, deflate\r\n", kept: map[string]string{"Te": "trailers"}},
		{name: "te TRAILERS kept", in: "TE: deflate, TRAILERS\r\n", kept: map[string]string{"Te": "trailers"}},
		{name: "websocket upgrade kept", in: "Connection: Upgrade\r\nUpgrade: websocket\r\n", upgrade: true,
			kept: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}},
		{name: "expect removed", in: "Expect: 100-continue\r\n", gone: []string{"Expect"}},
		{name: "every Connection field's names removed", in: "Connection: X-One\r\nX-One: 1\r\nconnection: x-two\r\nX-Two: 2\r\nX-C: 3\r\n",
			gone: []string{"X-One", "X-Two", "Connection"}, kept: map[string]string{"X-C": "3"}},
		{name: "names in any case", in: "CONNECTION: X-Secret\r\nx-secret: s\r\nKEEP-ALIVE: 1\r\nX-B: 2\r\n",
			gone: []string{"X-Secret", "Keep-Alive", "Connection"}, kept: map[string]string{"X-B": "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := headerOf(t, "GET / HTTP/1.1\r\nHost: x\r\n"+tc.in+"\r\n")
			fs := upstreamFields(h, "")
			sanitizeUpstream(h, tc.upgrade, fs, nil)
			out := "\n" + h.String()
			for _, k := range tc.gone {
				if strings.Contains(strings.ToLower(out), "\n"+strings.ToLower(k)+":") {
					t.Errorf("%s still present in\n%s", k, out)
				}
			}
			for k, want := range tc.kept {
				if got := string(h.Peek(k)); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// headerOf is the upstream header the codec front end starts from for the request head raw.
func headerOf(tb testing.TB, raw string) *h1.Header {
	tb.Helper()
	var head edge.RequestHead
	pol := edge.Policy{UnderscoreHeaders: edge.UnderscoreAllow}
	if n, v := pol.ParseRequest([]byte(raw), &head); n == 0 || !v.OK() {
		tb.Fatalf("parse: %d %v", n, v)
	}
	h := &h1.Header{}
	h.AddFields(head.Fields)
	return h
}

func TestHostOnlyLower(t *testing.T) {
	for in, want := range map[string]string{"Example.COM": "example.com", "a.b:8080": "a.b", "[::1]:80": "[::1]", "[::1]": "[::1]", "": ""} {
		if got := string(hostOnlyLower(nil, in)); got != want {
			t.Errorf("hostOnlyLower(%q) = %q, want %q", in, got, want)
		}
		// appended after what dst holds, which stays as it was
		if got := string(hostOnlyLower([]byte("Pre:"), in)); got != "Pre:"+want {
			t.Errorf("hostOnlyLower(Pre:, %q) = %q, want %q", in, got, "Pre:"+want)
		}
	}
}

func TestHeaderNameEq(t *testing.T) {
	tests := []struct {
		k, name string
		want    bool
	}{
		{"X-Region", "x-region", true},
		{"x_region", "x-region", true},
		{"X-Regio", "x-region", false},
		{"X-Regiom", "x-region", false},
		{"X-1", "x-1", true},
	}
	for _, tc := range tests {
		if got := headerNameEq([]byte(tc.k), tc.name); got != tc.want {
			t.Errorf("headerNameEq(%q, %q) = %v", tc.k, tc.name, got)
		}
	}
}

func TestIsWebSocketUpgrade(t *testing.T) {
	tests := []struct {
		conn, up string
		want     bool
	}{
		{"Upgrade", "websocket", true},
		{"keep-alive, Upgrade", "WebSocket", true},
		{"keep-alive", "websocket", false},
		{"Upgrade", "h2c", false},
		{"Upgrade", "WEBSOCKET", true},
		// Unicode folding would take U+212A (Kelvin sign) for "k" and U+017F (long s) for
		// "s"; an upstream comparing ASCII would not see a WebSocket handshake
		{"Upgrade", "websoc\u212aet", false},
		{"Upgrade", "web\u017focket", false},
	}
	for _, tc := range tests {
		if got := isWebSocketUpgrade([]byte(tc.conn), []byte(tc.up)); got != tc.want {
			t.Errorf("isWebSocketUpgrade(%q, %q) = %v", tc.conn, tc.up, got)
		}
	}
}

// BenchmarkSanitize: the hop-by-hop clean-up every proxied request and response goes through,
// on a typical head with none to remove and on one whose Connection header lists several.
func BenchmarkSanitize(b *testing.B) {
	heads := []struct {
		name string
		req  string
		resp string
	}{
		{name: "plain", req: "GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: bench\r\nAccept: */*\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
			resp: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nDate: Mon, 23 Nov 2026 20:00:00 GMT\r\n\r\n"},
		{name: "hop-by-hop", req: "GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-A, X-B\r\nX-A: 1\r\nX-B: 2\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: x\r\n\r\n",
			resp: "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-C\r\nX-C: 3\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n"},
	}
	for _, hd := range heads {
		var req, resp h1.Header
		var reqIn edge.RequestHead
		var respIn h1.ResponseHead
		pol := edge.DefaultPolicy()
		if n, v := pol.ParseRequest([]byte(hd.req), &reqIn); n == 0 || !v.OK() {
			b.Fatal(n, v)
		}
		if err := h1.ReadResponseHead(bufio.NewReader(strings.NewReader(hd.resp)), &respIn); err != nil {
			b.Fatal(err)
		}
		var buf []byte
		b.Run(hd.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req.Reset()
				req.AddFields(reqIn.Fields)
				fs := upstreamFields(&req, "")
				buf = sanitizeUpstream(&req, false, fs, buf)
				resp.Reset()
				resp.AddFields(respIn.Fields)
				buf = sanitizeResponse(&resp, upstreamFields(&resp, ""), buf)
			}
		})
	}
}

// TestCheckStdHost: an HTTP/2 request's Host must name its :authority in ASCII case only; a
// name that matches only under Unicode folding is another host to an upstream.
func TestCheckStdHost(t *testing.T) {
	pol := edge.DefaultPolicy()
	tests := []struct {
		name, authority string
		host            []string // the Host field's values; nil: none
		want            string   // the verdict's reason, "" for none
	}{
		{"no Host", "example.com", nil, ""},
		{"the same", "example.com", []string{"example.com"}, ""},
		{"another case", "example.com", []string{"EXAMPLE.com"}, ""},
		{"another host", "example.com", []string{"evil.test"}, edge.ReasonHostMismatch},
		{"two Host fields", "example.com", []string{"example.com", "example.com"}, edge.ReasonHostMismatch},
		{"a long s for s", "examples.com", []string{"example\u017f.com"}, edge.ReasonHostMismatch},
		{"a Kelvin sign for k", "k.example", []string{"\u212a.example"}, edge.ReasonHostMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{Method: "GET", Host: tc.authority, Header: http.Header{}}
			if tc.host != nil {
				r.Header["Host"] = tc.host
			}
			if got := checkStd(&pol, r, "/", false); got.Reason != tc.want {
				t.Errorf("reason %q, want %q", got.Reason, tc.want)
			}
		})
	}
}
