package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/balancer"
	"tollgate/internal/h1"
	"tollgate/internal/snapshot"
	"tollgate/internal/upstream"
)

// rawUpstream answers every request on a connection with the reply its path names (the raw
// bytes of a response), and counts the connections it accepted.
type rawUpstream struct {
	ln       net.Listener
	accepted atomic.Int32
}

var rawReplies = map[string]string{
	"/len":     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	"/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"/empty":   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"/204":     "HTTP/1.1 204 No Content\r\n\r\n",
	"/close":   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	"/big":     "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 100000),
	"/short":   "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly ten b",
	"/smuggle": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n",
	"/fold":    "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
	"/bare-lf": "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
	"/hangup":  "",
	"/stall":   "",
	"/slow":    "",
}

func newRawUpstream(t *testing.T) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.accepted.Add(1)
			go u.serve(c)
		}
	}()
	return u
}

func (u *rawUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		for { // skip the rest of the head
			h, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if h == "\r\n" {
				break
			}
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return
		}
		path := f[1]
		switch path {
		case "/hangup":
			return
		case "/stall":
			time.Sleep(2 * time.Second)
			return
		case "/slow":
			time.Sleep(300 * time.Millisecond)
			path = "/len"
		}
		reply := rawReplies[path]
		if f[0] == "HEAD" {
			reply = reply[:strings.Index(reply, "\r\n\r\n")+4]
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
		if path == "/short" || path == "/close" {
			return
		}
	}
}

// TestRoundTripConnectionReuse: the connection a streamed body held goes back to the pool
// only when the body was read to its end on a keep-alive exchange; otherwise it is closed,
// so the rest of a body is never read as the next response.
func TestRoundTripConnectionReuse(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		path      string
		read      bool // read the body to its end before release
		wantBody  string
		wantErr   bool // the body read fails
		wantReuse bool
	}{
		{"length body read", "GET", "/len", true, "hello", false, true},
		{"chunked body read", "GET", "/chunked", true, "hello", false, true},
		{"empty body, never read", "GET", "/empty", false, "", false, true},
		{"204, no body", "GET", "/204", false, "", false, true},
		{"HEAD, no body", "HEAD", "/len", false, "", false, true},
		{"body left unread", "GET", "/big", false, "", false, false},
		{"upstream says close", "GET", "/close", true, "hello", false, false},
		{"body shorter than its length", "GET", "/short", true, "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newRawUpstream(t)
			addr := u.ln.Addr().String()
			hc := NewTransports().For(&snapshot.Service{Scheme: "http", ConnectTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second},
				&balancer.Target{Addr: addr}).(*upstream.Pool)
			for i := 0; i < 3; i++ {
				var req fasthttp.Request
				var resp upResp
				var held heldConn
				req.Header.SetMethod(tc.method)
				req.SetRequestURI("http://" + addr + tc.path)
				if err := roundTrip(hc, fastOut{&req}, &resp, &held, 0, time.Now()); err != nil {
					t.Fatalf("try %d: %v", i, err)
				}
				if tc.read && held.active() {
					body, err := io.ReadAll(&held)
					if (err != nil) != tc.wantErr {
						t.Fatalf("try %d: body error %v, wantErr %v", i, err, tc.wantErr)
					}
					if !tc.wantErr && string(body) != tc.wantBody {
						t.Fatalf("try %d: body %q, want %q", i, body, tc.wantBody)
					}
				}
				held.release()
				if held.active() {
					t.Fatal("held still active after release")
				}
				held.release() // a second release is harmless
				if n, err := held.Read(make([]byte, 8)); n != 0 || !errors.Is(err, errReleased) {
					t.Fatalf("read after release: %d, %v", n, err)
				}
			}
			want := int32(3)
			if tc.wantReuse {
				want = 1
			}
			if got := u.accepted.Load(); got != want {
				t.Errorf("upstream accepted %d connections for 3 requests, want %d", got, want)
			}
			open, idle := hc.Stats()
			if tc.wantReuse && (open != 1 || idle != 1) {
				t.Errorf("pool holds %d connections (%d idle), want 1 idle", open, idle)
			}
			if !tc.wantReuse && open != 0 {
				t.Errorf("pool holds %d connections, want 0 (closed)", open)
			}
		})
	}
}

// TestRoundTripErrors: each failure comes back as the retry and status rules sort it.
func TestRoundTripErrors(t *testing.T) {
	u := newRawUpstream(t)
	addr := u.ln.Addr().String()
	hc := NewTransports().For(&snapshot.Service{Scheme: "http", ConnectTimeout: time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: time.Second},
		&balancer.Target{Addr: addr}).(*upstream.Pool)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := closed.Addr().String()
	closed.Close()
	dead := NewTransports().For(&snapshot.Service{Scheme: "http", ConnectTimeout: time.Second}, &balancer.Target{Addr: deadAddr}).(*upstream.Pool)
	tests := []struct {
		name    string
		hc      *upstream.Pool
		url     string
		timeout time.Duration
		check   func(error) bool
	}{
		{"closed before the first byte", hc, "http://" + addr + "/hangup", 0, func(err error) bool { return errors.Is(err, errUpstreamClosed) }},
		{"try timeout", hc, "http://" + addr + "/stall", 200 * time.Millisecond, isTimeout},
		{"refused", dead, "http://" + deadAddr + "/", 0, isRefused},
		// the strict reader's refusals: the gateway answers 502 (upstreamStatus) and drops
		// the connection, which a lenient reader would have kept in step with the upstream
		{"Content-Length beside chunked", hc, "http://" + addr + "/smuggle", 0, badResponse},
		{"obs-fold", hc, "http://" + addr + "/fold", 0, badResponse},
		{"bare LF", hc, "http://" + addr + "/bare-lf", 0, badResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			var resp upResp
			var held heldConn
			req.SetRequestURI(tc.url)
			start := time.Now()
			err := roundTrip(tc.hc, fastOut{&req}, &resp, &held, tc.timeout, time.Now())
			if err == nil || !tc.check(err) {
				t.Fatalf("error %v (%T) is not the expected kind", err, err)
			}
			if held.active() {
				t.Error("a failed try holds a connection")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func badResponse(err error) bool {
	status, _ := upstreamStatus(err)
	return errors.Is(err, h1.ErrBadResponse) && status == 502
}

// TestRoundTripTimeoutEndsWithItsTry: a try_timeout set on a pooled connection does not cut
// the next request on it, which has none.
func TestRoundTripTimeoutEndsWithItsTry(t *testing.T) {
	u := newRawUpstream(t)
	addr := u.ln.Addr().String()
	hc := NewTransports().For(&snapshot.Service{Scheme: "http", ConnectTimeout: time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: time.Second},
		&balancer.Target{Addr: addr}).(*upstream.Pool)
	for i, tc := range []struct {
		path    string
		timeout time.Duration
	}{{"/len", 100 * time.Millisecond}, {"/slow", 0}} {
		var req fasthttp.Request
		var resp upResp
		var held heldConn
		req.SetRequestURI("http://" + addr + tc.path)
		if err := roundTrip(hc, fastOut{&req}, &resp, &held, tc.timeout, time.Now()); err != nil {
			t.Fatalf("request %d (%s): %v", i, tc.path, err)
		}
		if body, err := io.ReadAll(&held); err != nil || string(body) != "hello" {
			t.Fatalf("request %d: body %q, %v", i, body, err)
		}
		held.release()
	}
	if n := u.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (reused)", n)
	}
}

// fastOut lets the transport tests write their requests with fasthttp's writer; the
// gateway's own writer (upReq) is tested through the proxy.
type fastOut struct{ *fasthttp.Request }

func (r fastOut) writeRequest(bw *bufio.Writer) error { return r.Write(bw) }
func (r fastOut) isHead() bool                        { return r.Header.IsHead() }
