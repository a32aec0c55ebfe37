package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/edge"
	"tollgate/internal/h1"
)

// clientConn is a client connection whose requests are a fixed byte stream; what the
// gateway answers is collected.
type clientConn struct {
	in  bytes.Reader
	out bytes.Buffer
}

func (m *clientConn) Read(p []byte) (int, error)  { return m.in.Read(p) }
func (m *clientConn) Write(p []byte) (int, error) { return m.out.Write(p) }
func (m *clientConn) Close() error                { return nil }
func (m *clientConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
}
func (m *clientConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (m *clientConn) SetDeadline(time.Time) error      { return nil }
func (m *clientConn) SetReadDeadline(time.Time) error  { return nil }
func (m *clientConn) SetWriteDeadline(time.Time) error { return nil }

func codecServer(p *Proxy) *h1.Server {
	return &h1.Server{
		Handler: h1.HandlerFunc(func(w *h1.ResponseWriter, r *h1.Request) { p.ServeH1(w, r, "http", 8000) }),
		Refuse:  p.RefuseH1,
	}
}

// TestServeH1 proxies pipelined requests through the codec front end to the canned upstream
// and reads the answers with net/http's reader.
func TestServeH1(t *testing.T) {
	r := newHandlerRig(t, benchPlainConfig)
	s := codecServer(r.p)
	c := &clientConn{}
	c.in.Reset([]byte("GET /plain/a?x=1 HTTP/1.1\r\nHost: gw.example\r\n\r\n" +
		"POST /plain/b HTTP/1.1\r\nHost: gw.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
		"HEAD /plain/c HTTP/1.1\r\nHost: gw.example\r\n\r\n" +
		"GET /nowhere HTTP/1.1\r\nHost: gw.example\r\nAccept: application/json\r\n\r\n" +
		"GET /plain/d HTTP/1.1\r\nHost: gw.example\r\nX_Bad: 1\r\n\r\n" +
		"GET /plain/e HTTP/1.1\nHost: gw.example\r\n\r\n"))
	before := time.Now().Truncate(time.Second)
	if err := s.ServeConn(c); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	br := bufio.NewReader(&c.out)
	for i, want := range []struct {
		method, body string
		status       int
	}{
		{"GET", "hello from upstream", 200},
		{"POST", "hello from upstream", 200},
		{"HEAD", "", 200},
		{"GET", `"message":"no Route matched with those values"`, 404},
		{"GET", "hello from upstream", 200}, // the underscore field is dropped, not refused
		{"GET", `"message":"bare LF line ending"`, 400},
	} {
		resp, err := http.ReadResponse(br, &http.Request{Method: want.method})
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want.status || !strings.Contains(string(body), want.body) || (want.body == "" && len(body) != 0) {
			t.Fatalf("response %d: %d %q", i, resp.StatusCode, body)
		}
		if resp.Header.Get("Date") == "" || resp.Header.Get("X-Tollgate-Request-Id") == "" {
			t.Fatalf("response %d lacks Date or the request id: %v", i, resp.Header)
		}
		// the canned upstream sends no Date: the gateway's states when the answer came,
		// or, for its own answers, when it wrote them
		if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || d.Before(before) || d.After(after) {
			t.Fatalf("response %d: Date %q (%v) outside the exchange [%v, %v]", i, resp.Header.Get("Date"), err, before, after)
		}
		if want.method == "HEAD" && resp.ContentLength != int64(len("hello from upstream")) {
			t.Fatalf("HEAD: Content-Length %d", resp.ContentLength)
		}
	}
	if r.p.Inflight.Load() != 0 {
		t.Fatalf("%d requests still in flight", r.p.Inflight.Load())
	}
}

// BenchmarkEngines serves the same pipelined GETs through each HTTP/1.1 engine with the
// gateway on top, the upstream canned: the engine's loop, the edge rules and the handler,
// without sockets.
func BenchmarkEngines(b *testing.B) {
	const perConn = 100
	stream := []byte(strings.Repeat("GET /plain/bench HTTP/1.1\r\nHost: gw.example\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n", perConn))
	r := newHandlerRig(b, benchPlainConfig)
	pol := edge.DefaultPolicy()
	fast := &fasthttp.Server{
		Handler: func(rc *fasthttp.RequestCtx) {
			v, drops := pol.CheckRequest(rc)
			if !v.OK() {
				r.p.Refuse(rc, v.Status, v.Reason)
				return
			}
			drops.Apply(&rc.Request.Header)
			r.p.ServeFast(rc, "http", 8000)
		},
		NoDefaultServerHeader: true, NoDefaultContentType: true, StreamRequestBody: true,
		DisablePreParseMultipartForm: true, ReadBufferSize: 61 << 10, WriteBufferSize: 16 << 10,
	}
	codec := codecServer(r.p)
	// the side-by-side harness's scenario (f): the same requests through the plugin stack
	withPlugins := codecServer(newHandlerRig(b, benchPluginsConfig).p)
	for _, bc := range []struct {
		name  string
		serve func(c net.Conn) error
	}{
		{"fasthttp", func(c net.Conn) error { return fast.ServeConn(edge.NewConn(c)) }},
		{"codec", codec.ServeConn},
		{"codec-plugins", withPlugins.ServeConn},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := &clientConn{}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%perConn == 0 {
					c.in.Reset(stream)
					c.out.Reset()
					_ = bc.serve(c)
				}
			}
			if n := strings.Count(c.out.String(), "HTTP/1.1 200 OK\r\n"); n != perConn {
				b.Fatalf("%d answers of %d", n, perConn)
			}
		})
	}
}

func TestH1Header(t *testing.T) {
	var head edge.RequestHead
	pol := edge.DefaultPolicy()
	raw := "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nx-multi: 1\r\nX-Multi: 2\r\nX-Kid: k\r\n\r\n"
	if n, v := pol.ParseRequest([]byte(raw), &head); n == 0 || !v.OK() {
		t.Fatal(n, v)
	}
	h := h1Header{&head}
	tests := []struct {
		name   string
		peek   string
		has    bool
		values []string
	}{
		{"X-Empty", "", true, []string{""}},
		{"x-empty", "", true, []string{""}},
		{"X-Multi", "1", true, []string{"1", "2"}},
		{"X-Absent", "", false, nil},
		{"X-Mult", "", false, nil},    // a prefix of a field's name
		{"X-Multi-2", "", false, nil}, // a field's name is its prefix
		// ASCII case only: under Unicode folding the Kelvin sign (U+212A) is a "k"
		{"X-\u212aid", "", false, nil},
		{"x-kid", "k", true, []string{"k"}},
	}
	for _, tc := range tests {
		if got := h.Peek(tc.name); string(got) != tc.peek || (got != nil) != tc.has {
			t.Errorf("Peek(%q) = %q (nil %v)", tc.name, got, got == nil)
		}
		if (h.Peek(tc.name) != nil) != tc.has {
			t.Errorf("Peek(%q) != nil is %v", tc.name, !tc.has)
		}
		if got := h.Values(tc.name); !slices.Equal(got, tc.values) {
			t.Errorf("Values(%q) = %q", tc.name, got)
		}
	}
	if h.Len() != 5 {
		t.Errorf("Len = %d", h.Len())
	}
}

// TestDateCache: the Date field is formatted once per second of the instant asked for, and
// follows the instant, not the clock.
func TestDateCache(t *testing.T) {
	base := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	var d dateCache
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"first", base, "Tue, 24 Nov 2026 06:00:00 GMT"},
		{"same second", base.Add(999 * time.Millisecond), "Tue, 24 Nov 2026 06:00:00 GMT"},
		{"next second", base.Add(time.Second), "Tue, 24 Nov 2026 06:00:01 GMT"},
		{"another zone", base.Add(2 * time.Second).In(time.FixedZone("X", 3600)), "Tue, 24 Nov 2026 06:00:02 GMT"},
		{"back in time", base, "Tue, 24 Nov 2026 06:00:00 GMT"},
	} {
		if got := string(d.at(tc.at)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
