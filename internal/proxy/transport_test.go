package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/balancer"
	"tollgate/internal/snapshot"
	"tollgate/internal/upstream"
)

// TestTransportReadTimeoutBetweenReads: read_timeout bounds the wait between two reads: a
// stalled upstream is cut, a slow but steady stream longer than the timeout is not.
func TestTransportReadTimeoutBetweenReads(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall" {
			time.Sleep(time.Second)
			return
		}
		// 8 chunks, 80 ms apart: 640 ms in all, longer than the 400 ms timeout, each gap well
		// under the 300 ms the timeout can shrink to (it is pushed only once under 3/4 of it),
		// with room left for a loaded machine under the race detector
		for i := 0; i < 8; i++ {
			_, _ = w.Write([]byte("chunk\n"))
			w.(http.Flusher).Flush()
			time.Sleep(80 * time.Millisecond)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	host, port, _ := net.SplitHostPort(addr)
	_ = port
	ts := NewTransports()
	svc := &snapshot.Service{Scheme: "http", ConnectTimeout: time.Second, ReadTimeout: 400 * time.Millisecond, WriteTimeout: time.Second}
	hc := ts.For(svc, &balancer.Target{Host: host, Addr: addr}).(*upstream.Pool)

	tests := []struct {
		path    string
		wantErr bool
	}{
		{"/stall", true},
		{"/stream", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			var req fasthttp.Request
			var resp upResp
			req.SetRequestURI("http://" + addr + tc.path)
			start := time.Now()
			err := doAndDrain(hc, &req, &resp, 0)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v after %v, wantErr %v", err, time.Since(start), tc.wantErr)
			}
			if tc.wantErr && !isTimeout(err) {
				t.Errorf("error %v is not a timeout", err)
			}
			if tc.wantErr && time.Since(start) > 800*time.Millisecond {
				t.Errorf("stall cut after %v, want about 400ms", time.Since(start))
			}
		})
	}
}

// TestTransportTryTimeoutIsHard: a per-request timeout (try_timeout) cuts a steady stream
// that the between-reads timeout alone lets through.
func TestTransportTryTimeoutIsHard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 20; i++ {
			_, _ = w.Write([]byte("chunk\n"))
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ts := NewTransports()
	svc := &snapshot.Service{Scheme: "http", ConnectTimeout: time.Second, ReadTimeout: 300 * time.Millisecond, WriteTimeout: time.Second}
	hc := ts.For(svc, &balancer.Target{Addr: addr}).(*upstream.Pool)
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		wantErr bool
	}{{"no try timeout: the 1 s stream completes", 0, false}, {"try timeout 250ms cuts it", 250 * time.Millisecond, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			var resp upResp
			req.SetRequestURI("http://" + addr + "/")
			start := time.Now()
			err := doAndDrain(hc, &req, &resp, tc.timeout)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v after %v, wantErr %v", err, time.Since(start), tc.wantErr)
			}
			if tc.wantErr && time.Since(start) > 700*time.Millisecond {
				t.Errorf("cut after %v, want about 250ms", time.Since(start))
			}
		})
	}
}

// TestTransportLargeResponseHead: an upstream response head of 20 KiB (large cookies) is read,
// not answered 502; one over the buffer is an error.
func TestTransportLargeResponseHead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 20 << 10
		if r.URL.Path == "/huge" {
			n = 40 << 10
		}
		w.Header().Set("Set-Cookie", "a="+strings.Repeat("x", n))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ts := NewTransports()
	svc := &snapshot.Service{Scheme: "http", ConnectTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
	hc := ts.For(svc, &balancer.Target{Addr: addr}).(*upstream.Pool)
	for _, tc := range []struct {
		path    string
		wantErr bool
	}{{"/big", false}, {"/huge", true}} {
		var req fasthttp.Request
		var resp upResp
		req.SetRequestURI("http://" + addr + tc.path)
		var held heldConn
		err := roundTrip(hc, fastOut{&req}, &resp, &held, 0, time.Now())
		held.release()
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tc.path, err, tc.wantErr)
		}
	}
}

// doAndDrain makes the call and reads the streamed body to its end: the error is the call's or
// the body's (EOF is success).
func doAndDrain(hc *upstream.Pool, req *fasthttp.Request, resp *upResp, timeout time.Duration) error {
	var held heldConn
	err := roundTrip(hc, fastOut{req}, resp, &held, timeout, time.Now())
	if err != nil || !held.active() {
		return err
	}
	defer held.release()
	buf := make([]byte, 64)
	for err == nil {
		_, err = held.Read(buf)
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// TestTransportSlowDialKeepsReadTimeout: the per-read deadlines of a connection dialled for a
// try count from its first read, not from the try's start, even when the dial took most of
// the read timeout (the start is lent to a connection only when the pool had it idle).
func TestTransportSlowDialKeepsReadTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		_, _ = w.Write([]byte("late but in time"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ts := NewTransports()
	ts.Dial = func(addr string, _ time.Time) (net.Conn, error) {
		time.Sleep(300 * time.Millisecond)
		return net.Dial("tcp", addr)
	}
	svc := &snapshot.Service{Scheme: "http", ConnectTimeout: time.Second, ReadTimeout: 400 * time.Millisecond, WriteTimeout: time.Second}
	hc := ts.For(svc, &balancer.Target{Addr: addr}).(*upstream.Pool)
	for i := range 2 { // dialled, then idle in the pool
		var req fasthttp.Request
		var resp upResp
		req.SetRequestURI("http://" + addr + "/")
		if err := doAndDrain(hc, &req, &resp, 0); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if open, idle := hc.Stats(); open != 1 || idle != 1 {
		t.Fatalf("%d connections open, %d idle; want the one reused", open, idle)
	}
}
