package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/edge"
)

// testHandler answers by path:
//
//	/echo     reads the body, answers "METHOD TARGET body=N:DATA" with its length
//	/stream   answers three parts, length unknown, flushing each
//	/noread   answers 204 without reading the body
//	/304      answers 304
//	/short    announces 10 bytes, sends 5
//	/hijack   switches protocols, takes the connection and echoes what comes
//	/header   adds awkward fields
//	/panic    panics
func testHandler(w *ResponseWriter, r *Request) {
	path, _, _ := strings.Cut(string(r.Head.Target), "?")
	switch path {
	case "/echo":
		var data []byte
		if r.Body != nil {
			var err error
			data, err = io.ReadAll(r.Body)
			var be *BodyError
			if errors.As(err, &be) {
				body := "body error: " + be.Reason
				w.WriteHeader(be.Status, int64(len(body)))
				_, _ = w.Write([]byte(body))
				return
			}
		}
		body := fmt.Sprintf("%s %s body=%d:%s", r.Head.Method, r.Head.Target, len(data), data)
		_ = w.AddHeaderString("X-Seq", strconv.FormatUint(r.Seq(), 10))
		_ = w.WriteHeader(200, int64(len(body)))
		_, _ = w.Write([]byte(body))
	case "/stream":
		_ = w.WriteHeader(200, -1)
		for _, part := range []string{"one,", "two,", "three"} {
			_, _ = w.Write([]byte(part))
			_ = w.Flush()
		}
	case "/noread":
		_ = w.WriteHeader(204, -1)
	case "/304":
		_ = w.WriteHeader(304, 99)
	case "/short":
		_ = w.WriteHeader(200, 10)
		_, _ = w.Write([]byte("12345"))
	case "/hijack":
		_ = w.AddHeaderString("Upgrade", "echo")
		_ = w.WriteHeader(101, -1)
		c, rest, err := w.Hijack()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_, _ = c.Write(rest)
			_, _ = io.Copy(c, c)
		}()
	case "/header":
		_ = w.AddHeaderString("X-Split", "a\r\nInjected: 1")
		if err := w.AddHeaderString("Bad Name", "x"); !errors.Is(err, ErrBadHeaderName) {
			panic("bad name accepted")
		}
		_ = w.AddHeaderString("Content-Length", "999")
		_ = w.AddHeaderString("Transfer-Encoding", "chunked")
		_ = w.AddHeaderString("connection", "keep-alive, x")
		_ = w.AddHeaderTrusted([]byte("X-Trusted"), []byte("t"))
		_ = w.AddHeaderTrusted([]byte("content-LENGTH"), []byte("999"))
		_ = w.AddHeaderTrusted([]byte("Connection"), []byte("close"))
		_ = w.WriteHeader(200, 2)
		_, _ = w.Write([]byte("ok"))
	case "/readfrom":
		// more than announced: ReadFrom stops at the length
		_ = w.WriteHeader(200, 11)
		if n, err := w.ReadFrom(strings.NewReader("hello world and more")); n != 11 || err != nil {
			panic(fmt.Sprint("ReadFrom with a length: ", n, err))
		}
	case "/readfrom-chunked":
		if n, err := io.Copy(w, io.LimitReader(zeros{}, 40<<10)); n != 40<<10 || err != nil {
			panic(fmt.Sprint("ReadFrom without a length: ", n, err))
		}
	case "/panic":
		panic("handler bug")
	default:
		_ = w.WriteHeader(404, 0)
	}
}

// zeros reads as an endless run of '0'.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

type testServer struct {
	s    *Server
	addr string
	errs chan error
}

func startServer(t *testing.T, s *Server) *testServer {
	t.Helper()
	if s.Handler == nil {
		s.Handler = HandlerFunc(testHandler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{s: s, addr: ln.Addr().String(), errs: make(chan error, 64)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				if err := s.ServeConn(c); err != nil && !errors.Is(err, ErrHijacked) {
					ts.errs <- err
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ts
}

// client is one raw connection with net/http's response reader as the
// judge of what the server writes.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (ts *testServer) dial(t *testing.T) *client {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (cl *client) send(raw string) {
	cl.t.Helper()
	if _, err := io.WriteString(cl.c, raw); err != nil {
		cl.t.Fatal(err)
	}
}

// read reads one response to a request with the given method.
func (cl *client) read(method string) (*http.Response, string) {
	cl.t.Helper()
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: method})
	if err != nil {
		cl.t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		cl.t.Fatalf("reading a response body: %v", err)
	}
	return resp, string(body)
}

// closed reports whether the server closed the connection, with nothing
// more sent.
func (cl *client) closed() bool {
	cl.t.Helper()
	_ = cl.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	b, err := cl.br.ReadByte()
	if err == nil {
		cl.t.Fatalf("unexpected byte %q after the last response", b)
	}
	return errors.Is(err, io.EOF)
}

func TestKeepAliveAndPipelining(t *testing.T) {
	ts := startServer(t, &Server{})
	cl := ts.dial(t)
	cl.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, body := cl.read("GET")
	if resp.StatusCode != 200 || body != "GET /echo body=0:" || resp.Header.Get("X-Seq") != "1" {
		t.Fatalf("first: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// three pipelined requests in one write, bodies of both framings
	cl.send("POST /echo?a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /echo?b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n" +
		"GET /echo?c HTTP/1.1\r\nHost: a\r\n\r\n")
	for i, want := range []string{"POST /echo?a body=5:hello", "POST /echo?b body=5:abcde", "GET /echo?c body=0:"} {
		resp, body := cl.read("GET")
		if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Seq") != strconv.Itoa(i+2) {
			t.Fatalf("pipelined %d: %d %q seq %s", i, resp.StatusCode, body, resp.Header.Get("X-Seq"))
		}
	}
	cl.send("GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if resp, _ := cl.read("GET"); !resp.Close {
		t.Fatal("Connection: close not answered in kind")
	}
	if !cl.closed() {
		t.Fatal("connection not closed after Connection: close")
	}
}

// TestBodyInPieces sends bodies a few bytes per write.
func TestBodyInPieces(t *testing.T) {
	ts := startServer(t, &Server{})
	for _, tc := range []struct{ head, body, want string }{
		{"Content-Length: 26", "abcdefghijklmnopqrstuvwxyz", "body=26:abcdefghijklmnopqrstuvwxyz"},
		{"Transfer-Encoding: chunked", "a\r\nabcdefghij\r\n10\r\nklmnopqrstuvwxyz\r\n0\r\n\r\n", "body=26:abcdefghijklmnopqrstuvwxyz"},
	} {
		cl := ts.dial(t)
		cl.send("POST /echo HTTP/1.1\r\nHost: a\r\n" + tc.head + "\r\n\r\n")
		for i := 0; i < len(tc.body); i += 3 {
			cl.send(tc.body[i:min(i+3, len(tc.body))])
			time.Sleep(time.Millisecond)
		}
		if resp, body := cl.read("POST"); resp.StatusCode != 200 || !strings.HasSuffix(body, tc.want) {
			t.Fatalf("%s: %d %q", tc.head, resp.StatusCode, body)
		}
	}
}

func TestResponseFraming(t *testing.T) {
	ts := startServer(t, &Server{})

	cl := ts.dial(t)
	cl.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, body := cl.read("GET")
	if resp.StatusCode != 200 || body != "one,two,three" || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("stream over HTTP/1.1: %d %q %v", resp.StatusCode, body, resp.TransferEncoding)
	}
	cl.send("HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body := cl.read("HEAD"); resp.ContentLength != int64(len("HEAD /echo body=0:")) || body != "" {
		t.Fatalf("HEAD: length %d body %q", resp.ContentLength, body)
	}
	cl.send("GET /noread HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, code := range []int{204, 304} {
		resp, body := cl.read("GET")
		if resp.StatusCode != code || body != "" || resp.Header.Get("Content-Length") != "" || resp.TransferEncoding != nil {
			t.Fatalf("%d: %d %q %v", code, resp.StatusCode, body, resp.Header)
		}
	}
	cl.send("GET /header HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, body = cl.read("GET")
	if body != "ok" || resp.Header.Get("X-Split") != "a  Injected: 1" || resp.Header.Get("Injected") != "" ||
		resp.ContentLength != 2 || resp.Header.Get("Connection") != "" || resp.Header.Get("X-Trusted") != "t" {
		t.Fatalf("header sanitising: %q %v", body, resp.Header)
	}

	// HTTP/1.0: unknown length ends with the connection
	cl = ts.dial(t)
	cl.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	resp, body = cl.read("GET")
	if body != "one,two,three" || !resp.Close {
		t.Fatalf("stream over HTTP/1.0: %q close %v", body, resp.Close)
	}
	// HTTP/1.0 keep-alive with a known length stays open
	cl = ts.dial(t)
	cl.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /echo HTTP/1.0\r\n\r\n")
	if resp, _ := cl.read("GET"); resp.Close || resp.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("HTTP/1.0 keep-alive: close %v %v", resp.Close, resp.Header)
	}
	if resp, _ := cl.read("GET"); !resp.Close || !cl.closed() {
		t.Fatal("HTTP/1.0 without keep-alive not closed")
	}

	// ReadFrom, with a length and without
	cl = ts.dial(t)
	cl.send("GET /readfrom HTTP/1.1\r\nHost: a\r\n\r\nGET /readfrom-chunked HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body := cl.read("GET"); body != "hello world" || resp.ContentLength != 11 {
		t.Fatalf("ReadFrom with a length: %q", body)
	}
	if resp, body := cl.read("GET"); body != strings.Repeat("0", 40<<10) || resp.TransferEncoding == nil {
		t.Fatalf("ReadFrom chunked: %d bytes, %v", len(body), resp.TransferEncoding)
	}

	// a body cut short of its length ends the connection
	cl = ts.dial(t)
	cl.send("GET /short HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(cl.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); string(b) != "12345" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short body: %q %v", b, err)
	}
}

func TestExpectContinue(t *testing.T) {
	ts := startServer(t, &Server{})
	cl := ts.dial(t)
	cl.send("PUT /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
	if resp, _ := cl.read("PUT"); resp.StatusCode != 100 {
		t.Fatalf("got %d before the body, want 100", resp.StatusCode)
	}
	cl.send("abc")
	if resp, body := cl.read("PUT"); resp.StatusCode != 200 || body != "PUT /echo body=3:abc" {
		t.Fatalf("after 100: %d %q", resp.StatusCode, body)
	}

	// answered without reading the body: no 100, and the connection
	// closes, since the client may or may not send the body now
	cl = ts.dial(t)
	cl.send("PUT /noread HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
	if resp, _ := cl.read("PUT"); resp.StatusCode != 204 || !cl.closed() {
		t.Fatalf("unread expected body: %d", resp.StatusCode)
	}
}

func TestDrain(t *testing.T) {
	ts := startServer(t, &Server{MaxDrain: 1000})
	cl := ts.dial(t)
	cl.send("POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("x", 1000) +
		"POST /noread HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
		"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, code := range []int{204, 204, 200} {
		if resp, _ := cl.read("GET"); resp.StatusCode != code {
			t.Fatalf("got %d, want %d", resp.StatusCode, code)
		}
	}
	cl.send("POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n")
	if resp, _ := cl.read("POST"); resp.StatusCode != 204 || !cl.closed() {
		t.Fatal("a body over MaxDrain left unread must close the connection")
	}
}

func TestRefusals(t *testing.T) {
	ts := startServer(t, &Server{})
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"bare LF", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
		{"too many fields", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: 1\r\n", 100) + "\r\n", 431},
		// exactly one byte over the bound and no line end yet: refused
		// before the head is complete (more would be unread when the
		// server closes, and the kernel would answer it with a reset; the
		// lingering close that avoids it is the listener's, internal/server)
		{"head over the bound", ("GET /" + strings.Repeat("v", 70<<10))[:edge.DefaultMaxHeaderBytes+1], 431},
		{"malformed chunked body sent with its head", "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"after a good request", "GET /echo HTTP/1.1\r\nHost: a\r\n\r\nGET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := ts.dial(t)
			cl.send(tc.raw)
			resp, body := cl.read("GET")
			if strings.HasPrefix(tc.name, "after") {
				resp, body = cl.read("GET")
			}
			if resp.StatusCode != tc.status || !resp.Close || !strings.HasPrefix(body, `{"message":"`) ||
				resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d close %v %q", resp.StatusCode, resp.Close, body)
			}
			if !cl.closed() {
				t.Fatal("not closed after a refusal")
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	ts := startServer(t, &Server{HeaderTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond, BodyTimeout: 200 * time.Millisecond})

	cl := ts.dial(t)
	cl.send("GET /echo HTTP/1.1\r\nHost: a\r\n") // no blank line
	if resp, _ := cl.read("GET"); resp.StatusCode != 408 || !cl.closed() {
		t.Fatalf("slow head: %d", resp.StatusCode)
	}

	cl = ts.dial(t)
	start := time.Now()
	if !cl.closed() || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("idle connection closed after %v", time.Since(start))
	}

	cl = ts.dial(t)
	cl.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab")
	if resp, body := cl.read("POST"); resp.StatusCode != 408 || body != "body error: "+ReasonBodyTimeout || !cl.closed() {
		t.Fatalf("slow body: %d %q", resp.StatusCode, body)
	}

	// the idle bound holds between requests too, after a served one
	cl = ts.dial(t)
	cl.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
	cl.read("GET")
	if !cl.closed() {
		t.Fatal("keep-alive connection not closed when idle")
	}
}

func TestBodyErrors(t *testing.T) {
	ts := startServer(t, &Server{})
	cl := ts.dial(t)
	cl.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")
	if resp, body := cl.read("POST"); resp.StatusCode != 400 || !strings.Contains(body, "malformed chunked") || !cl.closed() {
		t.Fatalf("malformed chunked body: %d %q", resp.StatusCode, body)
	}
	cl = ts.dial(t)
	cl.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
	_ = cl.c.(*net.TCPConn).CloseWrite()
	if resp, body := cl.read("POST"); resp.StatusCode != 400 || body != "body error: "+ReasonBodyTruncated {
		t.Fatalf("truncated body: %d %q", resp.StatusCode, body)
	}
}

func TestHijack(t *testing.T) {
	ts := startServer(t, &Server{})
	cl := ts.dial(t)
	cl.send("GET /hijack HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly bytes|")
	resp, err := http.ReadResponse(cl.br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Connection") != "upgrade" {
		t.Fatalf("switch: %v %v", err, resp)
	}
	cl.send("later bytes")
	want := "early bytes|later bytes"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(cl.br, got); err != nil || string(got) != want {
		t.Fatalf("after the switch: %q %v", got, err)
	}
}

func TestHandlerPanic(t *testing.T) {
	ts := startServer(t, &Server{})
	cl := ts.dial(t)
	cl.send("GET /panic HTTP/1.1\r\nHost: a\r\n\r\n")
	if !cl.closed() {
		t.Fatal("connection of a panicking handler not closed")
	}
	select {
	case err := <-ts.errs:
		if !strings.Contains(err.Error(), "handler bug") {
			t.Fatalf("error %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("panic not reported")
	}
	// the server goes on
	cl = ts.dial(t)
	cl.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, _ := cl.read("GET"); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
}

// memConn is a connection whose client side is a fixed byte stream; what the
// server writes is collected.
type memConn struct {
	in  bytes.Reader
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error)       { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error)      { return m.out.Write(p) }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// constHandler answers every request with a fixed 1 KiB body, as the bench
// upstream does.
func constHandler(w *ResponseWriter, r *Request) {
	body := kib[:]
	_ = w.AddHeaderString("Content-Type", "text/plain")
	_ = w.WriteHeader(200, int64(len(body)))
	_, _ = w.Write(body)
}

var kib = [1024]byte{}

const benchReq = "GET /1k HTTP/1.1\r\nHost: 127.0.0.1:19300\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"

func TestServeConnNoAlloc(t *testing.T) {
	s := &Server{Handler: HandlerFunc(constHandler)}
	stream := []byte(strings.Repeat(benchReq, 100))
	m := &memConn{}
	_ = s.ServeConn(m) // warm the pool
	// AllocsPerRun counts every goroutine's allocations, and a goroutine an earlier test left
	// winding down (a closing connection, a timer) can add a few under a loaded CI machine;
	// an allocation of the loop's own shows in every attempt.
	var per float64
	for range 3 {
		allocs := testing.AllocsPerRun(20, func() {
			m.in.Reset(stream)
			m.out.Reset()
			if err := s.ServeConn(m); err != nil {
				t.Fatal(err)
			}
		})
		if per = allocs / 100; per <= 0.05 {
			break
		}
	}
	if per > 0.05 {
		t.Errorf("%.2f allocations per keep-alive request", per)
	}
	if n := strings.Count(m.out.String(), "HTTP/1.1 200 OK\r\n"); n != 100 {
		t.Fatalf("%d responses to 100 requests", n)
	}
}

// BenchmarkServeConn serves pipelined GETs of a 1 KiB body through an
// in-memory connection: the loop's own cost, no syscalls.
func BenchmarkServeConn(b *testing.B) {
	s := &Server{Handler: HandlerFunc(constHandler)}
	benchServeConn(b, s.ServeConn)
}

// benchServeConn times serve per request over connections of 100 pipelined benchReqs.
func benchServeConn(b *testing.B, serve func(net.Conn) error) {
	const perConn = 100
	stream := []byte(strings.Repeat(benchReq, perConn))
	m := &memConn{}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchReq)))
	for i := 0; b.Loop(); i++ {
		if i%perConn == 0 {
			m.in.Reset(stream)
			m.out.Reset()
			_ = serve(m)
		}
	}
}

// FuzzServeConn feeds any bytes to a connection and holds what comes back to
// net/http's response reader: well-framed responses, one per request the
// codec took, and no panic.
func FuzzServeConn(f *testing.F) {
	for _, s := range []string{
		"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /stream HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n",
		"PUT /noread HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"GET /stream HTTP/1.0\r\n\r\n",
		"\r\nGET /header HTTP/1.1\r\nHost: a\r\n\r\nGET /short HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var served []string
		s := &Server{MaxDrain: 64, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
			switch string(r.Head.Target) {
			case "/hijack", "/panic":
				_ = w.WriteHeader(403, 0)
				return
			}
			served = append(served, string(r.Head.Method))
			testHandler(w, r)
		})}
		m := &memConn{}
		m.in.Reset(data)
		_ = s.ServeConn(m)
		br := bufio.NewReader(&m.out)
		for i := 0; ; i++ {
			method := "GET"
			if i < len(served) {
				method = served[i]
			}
			resp, err := http.ReadResponse(br, &http.Request{Method: method})
			if err != nil {
				if errors.Is(err, io.EOF) && i >= len(served) {
					return
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					// a response cut by its own handler (/short) ends the stream
					return
				}
				t.Fatalf("response %d of %d: %v\nin %q\nout %q", i, len(served), err, data, m.out.String())
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode == 100 {
				i--
			}
		}
	})
}

// BenchmarkFasthttpServeConn is BenchmarkServeConn's reference: the engine
// this codec is to replace, on the same stream and answer (fasthttp's
// defaults: it writes Server and Date fields the codec leaves to its caller,
// and normalises header names, as the gateway runs it).
func BenchmarkFasthttpServeConn(b *testing.B) {
	s := &fasthttp.Server{Handler: func(rc *fasthttp.RequestCtx) {
		rc.Response.Header.SetContentType("text/plain")
		rc.SetBody(kib[:])
	}}
	benchServeConn(b, s.ServeConn)
}

// serveOn runs s.Serve on a fresh loopback listener; Serve's result comes on the channel.
func serveOn(t *testing.T, s *Server) (*testServer, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	return &testServer{s: s, addr: ln.Addr().String()}, served
}

func TestShutdown(t *testing.T) {
	release, inHandler := make(chan struct{}), make(chan struct{})
	s := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		if string(r.Head.Target) == "/slow" {
			close(inHandler)
			<-release
		}
		_ = w.WriteHeader(200, 2)
		_, _ = w.Write([]byte("ok"))
	})}
	ts, served := serveOn(t, s)

	idle := ts.dial(t)
	idle.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
	idle.read("GET")
	busy := ts.dial(t)
	busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-inHandler

	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	if !idle.closed() {
		t.Fatal("idle connection not closed by Shutdown")
	}
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Fatal("listener still accepting after Shutdown")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	resp, body := busy.read("GET")
	if body != "ok" || !resp.Close {
		t.Fatalf("in-flight request: %q close %v", body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}

	// a deadline cuts what is still open
	inHandler2 := make(chan struct{})
	s2 := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		close(inHandler2)
		time.Sleep(time.Second)
	})}
	ts2 := startServer(t, s2)
	cl := ts2.dial(t)
	cl.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	<-inHandler2
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s2.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown past its deadline: %v", err)
	}
}

// TestConnState pins the order of ConnState calls the parker relies on: New, then Active at
// the first byte of each request and Idle before each wait for the next, Hijacked on a
// takeover; pipelined requests behind a first one cause no Idle.
func TestConnState(t *testing.T) {
	var mu sync.Mutex
	var states []ConnState
	s := &Server{ConnState: func(_ net.Conn, st ConnState) {
		mu.Lock()
		states = append(states, st)
		mu.Unlock()
	}}
	ts := startServer(t, s)
	cl := ts.dial(t)
	cl.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
	cl.read("GET")
	cl.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
	cl.read("GET")
	cl.read("GET")
	cl.send("GET /hijack HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
	if resp, err := http.ReadResponse(cl.br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v", err)
	}
	want := []ConnState{StateNew, StateActive, StateIdle, StateActive, StateIdle, StateActive, StateHijacked}
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		got := slices.Clone(states)
		mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("states %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeWorkers: Serve hands connections to goroutines that served earlier ones, and they
// all end once Serve returns.
func TestServeWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	s := &Server{Handler: HandlerFunc(constHandler), MaxIdleWorkerDuration: time.Minute}
	ts, served := serveOn(t, s)
	for range 20 {
		cl := ts.dial(t)
		cl.send(benchReq[:len(benchReq)-2] + "Connection: close\r\n\r\n")
		if resp, _ := cl.read("GET"); resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
		cl.c.Close()
		time.Sleep(5 * time.Millisecond) // the worker gets back to waiting
	}
	// sequential connections reuse workers: far fewer goroutines than connections
	if n := runtime.NumGoroutine() - before; n > 6 {
		t.Errorf("%d goroutines after 20 sequential connections", n)
	}
	_ = s.Shutdown(context.Background())
	<-served
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left, %d before", n, before)
	}
}

// TestCloseUnread: a connection closed with its request body unread goes to CloseUnread,
// whatever made it close; one whose body was read, or that had none, to Close.
func TestCloseUnread(t *testing.T) {
	tests := []struct {
		name   string
		req    string
		read   bool
		unread bool
	}{
		{"large body left unread", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\nxx", false, true},
		{"body read, connection: close", "POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2\r\n\r\nxx", true, false},
		{"small body left unread, connection: close", "POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2\r\n\r\nxx", false, true},
		{"no body, connection: close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unread := make(chan bool, 1)
			s := &Server{
				Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
					if tc.read && r.Body != nil {
						_, _ = io.Copy(io.Discard, r.Body)
					}
					w.SetClose()
					_ = w.WriteHeader(413, 0)
				}),
				CloseUnread: func(c net.Conn) error { unread <- true; return c.Close() },
			}
			ts, _ := serveOn(t, s)
			defer s.Shutdown(context.Background())
			c := ts.dial(t)
			c.send(tc.req)
			if resp, _ := c.read(strings.Fields(tc.req)[0]); resp.StatusCode != 413 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			_ = c.closed() // EOF, or a reset after the test's own close: either way closed
			select {
			case <-unread:
				if !tc.unread {
					t.Fatal("CloseUnread for a body that was read")
				}
			default:
				if tc.unread {
					t.Fatal("Close for a body left unread")
				}
			}
		})
	}
}

// TestHeadOutlivesBody: the request head stays intact in the read buffer while the handler
// reads a chunked body through it, however the body arrives. The proxy refers to the head's
// fields when it writes the upstream request and when plugins read them after the body.
func TestHeadOutlivesBody(t *testing.T) {
	headOf := func(r *Request) string {
		var b strings.Builder
		b.WriteString(string(r.Head.Method) + " " + string(r.Head.Target))
		for _, f := range r.Head.Fields {
			b.WriteString("|" + string(f.Name) + "=" + string(f.Value))
		}
		return b.String()
	}
	var chunked strings.Builder
	for i := range 40 {
		part := strings.Repeat(string(rune('a'+i%26)), 50+i)
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", len(part), part)
	}
	chunked.WriteString("0\r\n\r\n")
	for _, tc := range []struct {
		name  string
		size  int // read buffer size
		piece int // bytes per write of the body
	}{
		{"whole", 256, 1 << 20},
		{"pieces", 4096, 7},
		{"small buffer, pieces", 256, 61},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mismatch string
			ts := startServer(t, &Server{ReadBufferSize: tc.size, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
				before := headOf(r)
				n, err := io.Copy(io.Discard, r.Body)
				if after := headOf(r); after != before || err != nil {
					mismatch = fmt.Sprintf("after %d bytes (%v): %q, was %q", n, err, after, before)
				}
				_ = w.WriteHeader(204, 0)
			})})
			cl := ts.dial(t)
			cl.send("POST /upload?x=1 HTTP/1.1\r\nHost: a\r\nX-Id: 12345\r\nTransfer-Encoding: chunked\r\n\r\n")
			body := chunked.String()
			for i := 0; i < len(body); i += tc.piece {
				cl.send(body[i:min(i+tc.piece, len(body))])
				if tc.piece < len(body) {
					time.Sleep(100 * time.Microsecond)
				}
			}
			if resp, _ := cl.read("POST"); resp.StatusCode != 204 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if mismatch != "" {
				t.Fatal(mismatch)
			}
		})
	}
}

// TestPeer: the client's address on a TCP connection, the zero Addr on another kind, the
// same on every request of a connection and fresh on the next connection.
func TestPeer(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []netip.Addr
	)
	s := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Peer())
		_ = w.WriteHeader(204, 0)
	})}
	ts := startServer(t, s)
	cl := ts.dial(t)
	cl.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
	cl.read("GET")
	cl.read("GET")
	// net.Pipe's addresses are not TCP addresses
	a, b := net.Pipe()
	go func() {
		_, _ = b.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
		_, _ = io.Copy(io.Discard, b)
	}()
	if err := s.ServeConn(a); err != nil {
		t.Fatal(err)
	}
	b.Close()
	loop := netip.MustParseAddr("127.0.0.1")
	mu.Lock()
	defer mu.Unlock()
	if want := []netip.Addr{loop, loop, {}}; !slices.Equal(seen, want) {
		t.Fatalf("peers %v, want %v", seen, want)
	}
}

// TestWriteTimeout: a client that stops reading is let go once a write waited WriteTimeout
// (nginx's send_timeout), and a hijacked connection keeps no write deadline of the codec's.
func TestWriteTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name string
		// handler answers; late reports what a write after the switch met (hijack only)
		handler func(late chan<- error) HandlerFunc
		// client reads what it should, and reports whether the outcome is right
		client func(t *testing.T, c net.Conn, late <-chan error, served <-chan error)
	}{
		{
			name: "client stops reading",
			handler: func(chan<- error) HandlerFunc {
				return func(w *ResponseWriter, r *Request) {
					_ = w.WriteHeader(200, -1)
					for range 1000 {
						if _, err := w.Write(kib[:]); err != nil || w.Flush() != nil {
							return
						}
					}
				}
			},
			client: func(t *testing.T, c net.Conn, _ <-chan error, served <-chan error) {
				start := time.Now()
				select {
				case <-served:
					if took := time.Since(start); took < timeout/2 {
						t.Fatalf("let go after %v, before the timeout", took)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("a client that reads nothing holds the connection")
				}
			},
		},
		{
			name: "hijacked",
			handler: func(late chan<- error) HandlerFunc {
				return func(w *ResponseWriter, r *Request) {
					_ = w.WriteHeader(101, -1)
					c, _, err := w.Hijack()
					if err != nil {
						late <- err
						return
					}
					time.Sleep(2 * timeout) // past the deadline the 101's flush would have set
					_, err = c.Write([]byte("late"))
					late <- err
					_ = c.Close()
				}
			},
			client: func(t *testing.T, c net.Conn, late <-chan error, _ <-chan error) {
				br := bufio.NewReader(c)
				if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
					t.Fatalf("switch: %v %v", err, resp)
				}
				got := make([]byte, 4)
				if _, err := io.ReadFull(br, got); err != nil || string(got) != "late" {
					t.Fatalf("after the switch: %q %v", got, err)
				}
				if err := <-late; err != nil {
					t.Fatalf("the new protocol's write: %v", err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			late := make(chan error, 1)
			s := &Server{WriteTimeout: timeout, Handler: tc.handler(late)}
			cl, sv := net.Pipe()
			defer cl.Close()
			served := make(chan error, 1)
			go func() { served <- s.ServeConn(sv) }()
			_ = cl.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := cl.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			tc.client(t, cl, late, served)
		})
	}
}

// deadlineRecorder records the read deadlines set on it.
type deadlineRecorder struct {
	net.Conn
	set []time.Time
}

func (d *deadlineRecorder) SetReadDeadline(t time.Time) error {
	d.set = append(d.set, t)
	return nil
}

// TestLazyIdleDeadline: an idle wait's deadline later than the idle deadline in force by less
// than lazyDeadline is not set; an earlier one, one later by more, or one that follows a
// deadline set for anything else (a head, a body, none) always is.
func TestLazyIdleDeadline(t *testing.T) {
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var none time.Time
	type ask struct {
		idle bool
		at   time.Time
	}
	idle := func(d time.Duration) ask { return ask{true, base.Add(d)} }
	other := func(d time.Duration) ask { return ask{false, base.Add(d)} }
	at := func(d time.Duration) time.Time { return base.Add(d) }
	tests := []struct {
		name string
		asks []ask
		want []time.Time
	}{
		{"the first", []ask{idle(0)}, []time.Time{at(0)}},
		{"the same again", []ask{idle(0), idle(0)}, []time.Time{at(0)}},
		{"a little later", []ask{idle(0), idle(100 * time.Millisecond)}, []time.Time{at(0)}},
		{"later by the lazy delay", []ask{idle(0), idle(lazyDeadline)}, []time.Time{at(0), at(lazyDeadline)}},
		{"earlier", []ask{idle(0), idle(-time.Millisecond)}, []time.Time{at(0), at(-time.Millisecond)}},
		{"creeping later counts from the one in force", []ask{idle(0), idle(200 * time.Millisecond), idle(400 * time.Millisecond)}, []time.Time{at(0), at(400 * time.Millisecond)}},
		{"after a head's deadline", []ask{other(0), idle(100 * time.Millisecond)}, []time.Time{at(0), at(100 * time.Millisecond)}},
		{"a body's deadline after an idle one", []ask{idle(0), other(100 * time.Millisecond)}, []time.Time{at(0), at(100 * time.Millisecond)}},
		{"after none", []ask{idle(0), {false, none}, idle(100 * time.Millisecond)}, []time.Time{at(0), none, at(100 * time.Millisecond)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &deadlineRecorder{}
			cn := &conn{c: rec}
			for _, a := range tc.asks {
				if a.idle {
					cn.setIdleDeadline(a.at)
				} else {
					cn.setReadDeadline(a.at)
				}
			}
			if !reflect.DeepEqual(rec.set, tc.want) {
				t.Errorf("set %v, want %v", rec.set, tc.want)
			}
		})
	}
}

// TestHeadInWriteBuffer holds WriteHeader's one-piece head to the exact bytes expected when
// it fits the write buffer's free space, when pipelined answers fill the buffer first (they
// are flushed), and when the head is larger than the whole buffer (built apart).
func TestHeadInWriteBuffer(t *testing.T) {
	cases := []struct {
		name      string
		bufSize   int
		field     int // bytes of the X-Big value
		pipelined int
	}{
		{"fits", 0, 10, 1},
		{"pipelined, fits", 0, 10, 5},
		{"pipelined, fills the buffer", 512, 150, 6},
		{"larger than the buffer", 256, 1000, 1},
		{"larger than the buffer, pipelined", 256, 1000, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			big := strings.Repeat("b", tc.field)
			s := &Server{WriteBufferSize: tc.bufSize, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
				_ = w.AddHeaderString("X-Big", big)
				_ = w.AddHeaderTrusted([]byte("X-Seq"), strconv.AppendUint(nil, r.Seq(), 10))
				_ = w.WriteHeader(200, 2)
				_, _ = w.Write([]byte("ok"))
			})}
			m := &memConn{}
			m.in.Reset([]byte(strings.Repeat("GET / HTTP/1.1\r\nHost: a\r\n\r\n", tc.pipelined)))
			if err := s.ServeConn(m); err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			for i := 1; i <= tc.pipelined; i++ {
				fmt.Fprintf(&want, "HTTP/1.1 200 OK\r\nX-Big: %s\r\nX-Seq: %d\r\nContent-Length: 2\r\n\r\nok", big, i)
			}
			if got := m.out.String(); got != want.String() {
				t.Fatalf("wrote\n%q\nwant\n%q", got, want.String())
			}
		})
	}
}

// TestStatusLine holds the status lines from the table, and those built for codes it does not
// hold, to the one format: the code, a space, net/http's reason phrase (empty when it names
// none).
func TestStatusLine(t *testing.T) {
	for _, code := range []int{100, 101, 103, 200, 204, 206, 299, 304, 404, 418, 451, 499, 502, 511, 599, 600, 999} {
		s := &Server{Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
			_ = w.WriteHeader(code, 0)
		})}
		m := &memConn{}
		m.in.Reset([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
		_ = s.ServeConn(m)
		line, _, _ := strings.Cut(m.out.String(), "\n")
		if want := fmt.Sprintf("HTTP/1.1 %d %s\r", code, http.StatusText(code)); line != want {
			t.Errorf("status %d: %q, want %q", code, line, want)
		}
	}
}
