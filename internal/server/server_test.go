package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/plugin"
)

// pipeConn is one end of an in-memory connection whose writes we control.
func pipePair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestSniffConn(t *testing.T) {
	tests := []struct {
		name     string
		send     string
		readSize int
		h2       bool
		wantRead string
		// reads the engine needs for wantRead (0: not checked)
		wantReads int
	}{
		{name: "http1 GET", send: "GET / HTTP/1.1\r\n", readSize: 64, wantRead: "GET / HTTP/1.1\r\n"},
		{name: "http1 POST starts with P", send: "POST / HTTP/1.1\r\n", readSize: 64, wantRead: "POST / HTTP/1.1\r\n"},
		{name: "http1 PUT", send: "PUT /x HTTP/1.1\r\n", readSize: 64, wantRead: "PUT /x HTTP/1.1\r\n"},
		{name: "small first read keeps the rest", send: "GET / HTTP/1.1\r\n", readSize: 2, wantRead: "GET / HTTP/1.1\r\n"},
		{name: "one-byte first read keeps the rest", send: "GET / HTTP/1.1\r\n", readSize: 1, wantRead: "GET / HTTP/1.1\r\n"},
		{name: "first read takes the whole head", send: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", readSize: 4096, wantRead: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", wantReads: 1},
		{name: "h2 preface through a one-byte read", send: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", readSize: 1, h2: true},
		{name: "h2 preface through a large read", send: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", readSize: 4096, h2: true},
		{name: "P then not the preface", send: "PUT /x HTTP/1.1\r\n", readSize: 3, wantRead: "PUT /x HTTP/1.1\r\n"},
		{name: "h2 preface handed over", send: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", readSize: 64, h2: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, srv := pipePair(t)
			handed := make(chan []byte, 1)
			sc := &sniffConn{Conn: srv, handoff: func(c net.Conn) {
				b := make([]byte, 24)
				n, _ := io.ReadFull(c, b)
				handed <- b[:n]
			}}
			go func() { _, _ = io.WriteString(client, tc.send) }()
			var got bytes.Buffer
			buf := make([]byte, tc.readSize)
			reads := 0
			for got.Len() < len(tc.wantRead) || tc.h2 {
				n, err := sc.Read(buf)
				reads++
				got.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if tc.wantReads > 0 && reads != tc.wantReads {
				t.Errorf("%d reads for the head, want %d", reads, tc.wantReads)
			}
			if tc.h2 {
				if got.Len() != 0 {
					t.Errorf("HTTP/1.1 engine saw %q", got.String())
				}
				select {
				case b := <-handed:
					if string(b) != tc.send {
						t.Errorf("HTTP/2 server got %q, want the whole preface", b)
					}
				case <-time.After(2 * time.Second):
					t.Fatal("not handed over")
				}
				if err := sc.Close(); err != nil || sc.SetDeadline(time.Now()) != nil {
					t.Error("after hand-over Close and deadlines must be no-ops")
				}
				return
			}
			if got.String() != tc.wantRead {
				t.Errorf("read %q, want %q", got.String(), tc.wantRead)
			}
		})
	}
}

// TestSniffConnTimeoutUndecided: a read that times out before any byte leaves the connection
// undecided (it may park, then send the HTTP/2 preface).
func TestSniffConnTimeoutUndecided(t *testing.T) {
	client, srv := pipePair(t)
	handed := make(chan struct{}, 1)
	sc := &sniffConn{Conn: srv, handoff: func(net.Conn) { handed <- struct{}{} }}
	_ = sc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 64)
	if n, err := sc.Read(buf); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %d, %v; want a timeout", n, err)
	}
	_ = sc.SetReadDeadline(time.Time{})
	go func() { _, _ = io.WriteString(client, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") }()
	if n, err := sc.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("after the timeout Read = %d, %v; want the HTTP/2 hand-off", n, err)
	}
	select {
	case <-handed:
	case <-time.After(2 * time.Second):
		t.Fatal("not handed over")
	}
}

func TestIsH2CUpgrade(t *testing.T) {
	tests := []struct {
		name, raw string
		want      bool
	}{
		{"upgrade without body", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n", true},
		{"no settings header", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", false},
		{"websocket", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false},
		{"with a body stays http1", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\nabc", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rc fasthttp.RequestCtx
			if err := rc.Request.Read(bufioReader(tc.raw)); err != nil {
				t.Fatal(err)
			}
			if got := isH2CUpgrade(&rc); got != tc.want {
				t.Errorf("isH2CUpgrade = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOptionsRefused: options that would put bad bytes on the wire, or name no engine, are
// refused by New with the option named.
func TestOptionsRefused(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"request id header with a space", Options{RequestIDHeader: "X Request Id"}, "request id header"},
		{"request id header with CR LF", Options{RequestIDHeader: "X-Id\r\nEvil"}, "request id header"},
		{"unknown engine", Options{HTTP1Engine: "nethttp"}, "http1 engine"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Registry = plugin.NewRegistry(nil)
			if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
	if _, err := New(Options{Registry: plugin.NewRegistry(nil), RequestIDHeader: "X-Request-Id"}); err != nil {
		t.Fatalf("a valid name refused: %v", err)
	}
}

func TestLoadKeepsLastGoodConfig(t *testing.T) {
	s, err := New(Options{Registry: plugin.NewRegistry(nil)})
	if err != nil {
		t.Fatal(err)
	}
	good := "_format_version: \"3.0\"\nservices:\n- name: a\n  url: http://127.0.0.1:1\n  routes: [{name: r, paths: [/r]}]\n"
	if err := s.LoadBytes("k.yml", []byte(good)); err != nil {
		t.Fatal(err)
	}
	hash := s.Current().Config.Hash
	tests := []struct{ name, src, wantErr string }{
		{"invalid field", "_format_version: \"3.0\"\nservices:\n- name: a\n  port: 99999999\n", "port"},
		{"syntax", "_format_version: \"3.0\"\nservices: [", "k.yml"},
		{"unavailable plugin", "_format_version: \"3.0\"\nplugins:\n- name: rate-limiting\n", "not available yet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.LoadBytes("k.yml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
			if s.Current().Config.Hash != hash {
				t.Error("a rejected config replaced the serving one")
			}
		})
	}
}

func TestRunAndDrain(t *testing.T) {
	s, err := New(Options{ProxyListen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", StatusListen: "127.0.0.1:0",
		Registry: plugin.NewRegistry(nil), DrainTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Serving():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI("http://" + s.ProxyAddr.String() + "/anything")
	if err := fasthttp.DoTimeout(&req, &resp, 2*time.Second); err != nil || resp.StatusCode() != 404 {
		t.Fatalf("empty gateway: %v %d", err, resp.StatusCode())
	}
	req.SetRequestURI("http://" + s.StatusAddr.String() + "/status")
	if err := fasthttp.DoTimeout(&req, &resp, 2*time.Second); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("status: %v %d", err, resp.StatusCode())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not drain")
	}
}

// chunkConn serves data in reads of at most chunk bytes, then io.EOF.
type chunkConn struct {
	net.Conn
	data  []byte
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) SetDeadline(time.Time) error { return nil }

// FuzzSniffConn: however the client's bytes arrive and however large the engine's reads are,
// a connection that starts with the HTTP/2 preface's "PRI " goes whole to HTTP/2 and the engine
// sees nothing; any other reaches the engine byte for byte.
func FuzzSniffConn(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), uint8(1), uint8(1))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04"), uint8(3), uint8(64))
	f.Add([]byte("PR"), uint8(1), uint8(8))
	f.Add([]byte("POST / HTTP/1.1\r\n"), uint8(2), uint8(2))
	f.Add([]byte(""), uint8(4), uint8(4))
	f.Fuzz(func(t *testing.T, in []byte, chunk, readSize uint8) {
		if chunk == 0 || readSize == 0 {
			return
		}
		handed := make(chan []byte, 1)
		sc := &sniffConn{Conn: &chunkConn{data: append([]byte(nil), in...), chunk: int(chunk)}, handoff: func(c net.Conn) {
			b, _ := io.ReadAll(c)
			handed <- b
		}}
		var got []byte
		buf := make([]byte, readSize)
		for range len(in) + 2 {
			n, err := sc.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		if bytes.HasPrefix(in, h2Prefix) {
			var h []byte
			select { // the hand-off runs on its own goroutine
			case h = <-handed:
			case <-time.After(2 * time.Second):
				t.Fatalf("HTTP/2 input %q not handed over", in)
			}
			if len(got) != 0 || !bytes.Equal(h, in) {
				t.Fatalf("HTTP/2 input %q: engine saw %q, HTTP/2 got %q", in, got, h)
			}
			return
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("input %q (chunks of %d, reads of %d): engine saw %q", in, chunk, readSize, got)
		}
	})
}
