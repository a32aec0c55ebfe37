package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/config"
	"tollgate/internal/plugin"
	"tollgate/internal/snapshot"
	"tollgate/plugins/all"
)

// cannedConn is an upstream connection that answers every request written to it with the same
// response, synchronously: no goroutine, no socket. It lets a benchmark time the gateway's own
// work per request (the handler and the upstream client's encoding and parsing) without the
// scheduler and the kernel, which dominate any benchmark over real or in-memory sockets.
type cannedConn struct {
	resp          []byte
	pending       []byte // what is left to read of the current answer
	local, remote net.Addr
}

// newCannedConn answers resp to every request; its addresses are loopback ones, made once.
func newCannedConn(resp string) *cannedConn {
	return &cannedConn{
		resp:   []byte(resp),
		local:  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
		remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80},
	}
}

func (c *cannedConn) Write(p []byte) (int, error) {
	c.pending = c.resp
	return len(p), nil
}

func (c *cannedConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		return 0, io.EOF // read before any request: the client library treats the conn as dead
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *cannedConn) Close() error                     { return nil }
func (c *cannedConn) LocalAddr() net.Addr              { return c.local }
func (c *cannedConn) RemoteAddr() net.Addr             { return c.remote }
func (c *cannedConn) SetDeadline(time.Time) error      { return nil }
func (c *cannedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *cannedConn) SetWriteDeadline(time.Time) error { return nil }

// benchPlainConfig is the side-by-side harness's plain route: no plugins.
const benchPlainConfig = `_format_version: "3.0"
services:
  - name: s
    url: http://upstream.test:80
    routes:
      - name: plain
        paths: [/plain]
`

const cannedResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\nhello from upstream"

// handlerRig is a proxy whose upstream is a cannedConn, driven by calling ServeFast directly on
// a request context the way the engine's loop does.
type handlerRig struct {
	p     *Proxy
	rc    fasthttp.RequestCtx
	raw   []byte
	dials int // upstream connections opened
}

func newHandlerRig(tb testing.TB, cfgYAML string) *handlerRig {
	tb.Helper()
	reg := plugin.NewRegistry(all.Specs())
	cfg, err := config.Load("bench.yml", []byte(cfgYAML), reg)
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	ts := NewTransports()
	r := &handlerRig{raw: []byte("GET /plain/bench HTTP/1.1\r\nHost: gw.example\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")}
	ts.Dial = func(string, time.Time) (net.Conn, error) {
		r.dials++
		return newCannedConn(cannedResponse), nil
	}
	snap, err := snapshot.Compile(cfg, reg, snapshot.Options{Transport: ts.For})
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	var h snapshot.Holder
	h.Swap(snap)
	r.p = New(Options{Holder: &h, Transports: ts, Version: "bench"})
	r.rc.Init2(newCannedConn(""), nil, false) // the client's side: only its addresses are read
	return r
}

// serve runs one request through ServeFast and writes the answer the way the engine does
// (which also ends the upstream exchange and releases its connection). It returns the status.
func (r *handlerRig) serve(tb testing.TB, br *bufio.Reader, bw *bufio.Writer, src *bytes.Reader) int {
	src.Reset(r.raw)
	br.Reset(src)
	r.rc.Request.Reset()
	r.rc.Response.Reset()
	if err := r.rc.Request.Header.Read(br); err != nil {
		tb.Fatalf("parse: %v", err)
	}
	r.p.ServeFast(&r.rc, "http", 8000)
	if err := r.rc.Response.Write(bw); err != nil {
		tb.Fatalf("write: %v", err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatalf("flush: %v", err)
	}
	return r.rc.Response.StatusCode()
}

// BenchmarkHandler times the gateway's own work for one proxied GET on the HTTP/1.1 path: the
// handler (route, edge of the plugin chain, forwarding headers, request id), the upstream
// client encoding the request and parsing the answer, and the answer's head and body written
// back, with the engine's request parsing. No sockets and no goroutine switches are involved,
// so small changes show here that BenchmarkProxyFast's scheduling noise would hide.
func BenchmarkHandler(b *testing.B) {
	for _, bc := range []struct{ name, cfg string }{
		{"plain", benchPlainConfig},
		{"plugins", benchPluginsConfig},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := newHandlerRig(b, bc.cfg)
			br := bufio.NewReader(nil)
			bw := bufio.NewWriter(io.Discard)
			src := bytes.NewReader(nil)
			if st := r.serve(b, br, bw, src); st != 200 {
				b.Fatalf("status %d: %s", st, r.rc.Response.Body())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.serve(b, br, bw, src)
			}
		})
	}
}

// TestHandlerRig: the rig behind BenchmarkHandler proxies for real: the upstream's answer
// reaches the client with the gateway's headers, over one reused upstream connection.
func TestHandlerRig(t *testing.T) {
	r := newHandlerRig(t, benchPlainConfig)
	br := bufio.NewReader(nil)
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	src := bytes.NewReader(nil)
	for i := range 3 {
		out.Reset()
		if st := r.serve(t, br, bw, src); st != 200 {
			t.Fatalf("request %d: status %d", i, st)
		}
		got := out.String()
		for _, want := range []string{"HTTP/1.1 200 OK\r\n", "hello from upstream", DefaultRequestIDHeader + ": "} {
			if !strings.Contains(got, want) {
				t.Fatalf("request %d: answer lacks %q:\n%s", i, want, got)
			}
		}
	}
	if r.dials != 1 {
		t.Errorf("%d upstream connections for 3 requests, want 1 (released to the pool each time)", r.dials)
	}
}
