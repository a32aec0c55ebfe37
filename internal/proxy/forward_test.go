package proxy

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
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
		in      map[string]string
		upgrade bool
		gone    []string
		kept    map[string]string
	}{
		{name: "hop headers", in: map[string]string{"Connection": "keep-alive", "Keep-Alive": "timeout=5", "Proxy-Connection": "x", "Upgrade": "foo", "Te": "gzip", "X-A": "1"},
			gone: []string{"Keep-Alive", "Proxy-Connection", "Upgrade", "Te"}, kept: map[string]string{"X-A": "1"}},
		{name: "connection-listed removed", in: map[string]string{"Connection": "X-Secret, close", "X-Secret": "s", "X-B": "2"},
			gone: []string{"X-Secret"}, kept: map[string]string{"X-B": "2"}},
		{name: "te trailers kept", in: map[string]string{"Te": "trailers, deflate"}, kept: map[string]string{"Te": "trailers"}},
		{name: "websocket upgrade kept", in: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}, upgrade: true,
			kept: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}},
		{name: "expect removed", in: map[string]string{"Expect": "100-continue"}, gone: []string{"Expect"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h fasthttp.RequestHeader
			for k, v := range tc.in {
				h.Set(k, v)
			}
			sanitizeUpstream(&h, tc.upgrade)
			for _, k := range tc.gone {
				if v := h.Peek(k); len(v) > 0 {
					t.Errorf("%s still present: %q", k, v)
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

func TestHostOnlyLower(t *testing.T) {
	for in, want := range map[string]string{"Example.COM": "example.com", "a.b:8080": "a.b", "[::1]:80": "[::1]", "[::1]": "[::1]", "": ""} {
		if got := string(hostOnlyLower(nil, in)); got != want {
			t.Errorf("hostOnlyLower(%q) = %q, want %q", in, got, want)
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
	}
	for _, tc := range tests {
		if got := isWebSocketUpgrade([]byte(tc.conn), []byte(tc.up)); got != tc.want {
			t.Errorf("isWebSocketUpgrade(%q, %q) = %v", tc.conn, tc.up, got)
		}
	}
}
