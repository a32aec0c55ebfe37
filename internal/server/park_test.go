//go:build unix

// Parking exists only where canPark (park_unix.go); elsewhere newParker returns nil.

package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/sockio"
	"tollgate/internal/testnet"
)

// recConn records what parkConn passes down.
type recConn struct {
	net.Conn
	rd      time.Time
	readN   int
	readErr error
}

func (c *recConn) SetReadDeadline(t time.Time) error { c.rd = t; return nil }
func (c *recConn) SetDeadline(t time.Time) error     { c.rd = t; return nil }
func (c *recConn) Read(b []byte) (int, error)        { return c.readN, c.readErr }

func testParker() *parker {
	return &parker{delay: time.Second, keepalive: 75 * time.Second, log: slog.New(slog.DiscardHandler),
		parked: map[*parkConn]struct{}{}, done: make(chan struct{})}
}

func TestParkConnDeadline(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 1, 15, 0, time.UTC) // a keep-alive deadline: now+75s
	soon := time.Now().Add(500 * time.Millisecond)     // closer than the park delay
	tests := []struct {
		name       string
		state      int32
		set        time.Time
		wantDown   time.Time
		wantGraced bool
	}{
		{name: "idle: shortened to the park delay", state: connIdle, set: at, wantDown: at.Add(-74 * time.Second), wantGraced: true},
		{name: "idle, no deadline: unchanged", state: connIdle, set: time.Time{}, wantDown: time.Time{}},
		{name: "new, header timeout within the delay: unchanged", state: connNew, set: soon, wantDown: soon},
		{name: "active: unchanged", state: connActive, set: at, wantDown: at},
		{name: "hijacked: unchanged", state: connHijacked, set: at, wantDown: at},
	}
	t.Run("new: the header timeout shortened to the park delay from now", func(t *testing.T) {
		rc := &recConn{}
		c := &parkConn{Conn: rc, p: testParker()}
		c.state.Store(connNew)
		header := time.Now().Add(60 * time.Second)
		before := time.Now()
		_ = c.SetReadDeadline(header)
		if !c.graced || !c.real.Equal(header) || rc.rd.Before(before.Add(time.Second)) || rc.rd.After(time.Now().Add(time.Second)) {
			t.Errorf("passed down %v (graced %v, real %v), want now+1s", rc.rd, c.graced, c.real)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recConn{}
			c := &parkConn{Conn: rc, p: testParker()}
			c.state.Store(tt.state)
			if err := c.SetReadDeadline(tt.set); err != nil {
				t.Fatal(err)
			}
			if !rc.rd.Equal(tt.wantDown) || c.graced != tt.wantGraced {
				t.Errorf("passed down %v (graced %v), want %v (graced %v)", rc.rd, c.graced, tt.wantDown, tt.wantGraced)
			}
			if tt.wantGraced && !c.real.Equal(tt.set) {
				t.Errorf("kept %v as the real deadline, want %v", c.real, tt.set)
			}
			if _ = c.SetDeadline(time.Time{}); c.graced {
				t.Error("SetDeadline left the shortened deadline marked")
			}
		})
	}
}

func TestParkConnRead(t *testing.T) {
	timeout := os.ErrDeadlineExceeded
	future, past := time.Now().Add(time.Hour), time.Now().Add(-time.Second)
	tests := []struct {
		name      string
		state     int32
		graced    bool
		real      time.Time
		n         int
		err       error
		wantErr   error
		wantState int32
	}{
		{name: "idle past the delay: parks", state: connIdle, graced: true, real: future, err: timeout, wantErr: io.EOF, wantState: connParking},
		{name: "new, past the delay: parks", state: connNew, graced: true, real: future, err: timeout, wantErr: io.EOF, wantState: connParking},
		{name: "past the keep-alive deadline: times out", state: connIdle, graced: true, real: past, err: timeout, wantErr: timeout, wantState: connIdle},
		{name: "deadline not shortened: times out", state: connIdle, real: future, err: timeout, wantErr: timeout, wantState: connIdle},
		{name: "active: times out", state: connActive, graced: true, real: future, err: timeout, wantErr: timeout, wantState: connActive},
		{name: "bytes with the timeout: delivered", state: connIdle, graced: true, real: future, n: 3, err: timeout, wantErr: timeout, wantState: connIdle},
		{name: "other error", state: connIdle, graced: true, real: future, err: syscall.ECONNRESET, wantErr: syscall.ECONNRESET, wantState: connIdle},
		{name: "client closed", state: connIdle, graced: true, real: future, err: io.EOF, wantErr: io.EOF, wantState: connIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &parkConn{Conn: &recConn{readN: tt.n, readErr: tt.err}, p: testParker(), graced: tt.graced, real: tt.real}
			c.state.Store(tt.state)
			n, err := c.Read(make([]byte, 8))
			if n != tt.n || !errors.Is(err, tt.wantErr) || c.state.Load() != tt.wantState {
				t.Errorf("Read = %d, %v (state %d), want %d, %v (state %d)", n, err, c.state.Load(), tt.n, tt.wantErr, tt.wantState)
			}
		})
	}
}

func TestParkConnClose(t *testing.T) {
	tests := []struct {
		name       string
		state      int32
		stopped    bool
		wantClosed bool // the client sees the connection closed
		wantParked int
	}{
		{name: "active closes", state: connActive, wantClosed: true},
		{name: "idle closes", state: connIdle, wantClosed: true},
		{name: "new closes", state: connNew, wantClosed: true},
		{name: "hijacked closes", state: connHijacked, wantClosed: true},
		{name: "parking hands over", state: connParking, wantParked: 1},
		{name: "parking after stop closes", state: connParking, stopped: true, wantClosed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testParker()
			p.stopped = tt.stopped
			cc, sc := testnet.Pair(t)
			c := &parkConn{Conn: &lingerConn{Conn: sockio.New(sc)}, p: p, real: time.Now().Add(5 * time.Second)}
			c.state.Store(tt.state)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if got := p.count(); got != tt.wantParked {
				t.Errorf("%d parked, want %d", got, tt.wantParked)
			}
			_ = cc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, err := cc.Read(make([]byte, 1))
			if closed := err != nil && !errors.Is(err, os.ErrDeadlineExceeded); closed != tt.wantClosed {
				t.Errorf("client sees closed %v (%v), want %v", closed, err, tt.wantClosed)
			}
			if tt.wantParked > 0 {
				p.stop() // closes what is parked
				_ = cc.SetReadDeadline(time.Now().Add(2 * time.Second))
				if _, err := cc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
					t.Errorf("after stop the client reads %v, want EOF", err)
				}
				if p.count() != 0 || c.state.Load() != connClosed {
					t.Errorf("after stop: %d parked, state %d", p.count(), c.state.Load())
				}
			}
		})
	}
}

// TestParkedClosedElsewhere: a Close that is not the engine's (the engine's shutdown closing
// what it thinks idle) closes a parked connection, and its waiter lets go of it.
func TestParkedClosedElsewhere(t *testing.T) {
	p := testParker()
	cc, sc := testnet.Pair(t)
	c := &parkConn{Conn: &lingerConn{Conn: sockio.New(sc)}, p: p, real: time.Now().Add(5 * time.Second)}
	c.state.Store(connParking)
	_ = c.Close()
	if p.count() != 1 {
		t.Fatalf("%d parked, want 1", p.count())
	}
	_ = c.Close()
	deadline := time.Now().Add(2 * time.Second)
	for p.count() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p.count() != 0 {
		t.Fatal("the waiter kept a closed connection")
	}
	_ = cc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := cc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("client reads %v, want EOF", err)
	}
}

func TestParkerConnState(t *testing.T) {
	tests := []struct {
		name  string
		from  int32
		event fasthttp.ConnState
		want  int32
	}{
		{name: "idle after a request", from: connActive, event: fasthttp.StateIdle, want: connIdle},
		{name: "active on the next byte", from: connIdle, event: fasthttp.StateActive, want: connActive},
		{name: "active on the first byte", from: connNew, event: fasthttp.StateActive, want: connActive},
		{name: "new is not idle", from: connNew, event: fasthttp.StateIdle, want: connNew},
		{name: "hijacked never parks", from: connActive, event: fasthttp.StateHijacked, want: connHijacked},
		{name: "hijacked stays", from: connHijacked, event: fasthttp.StateIdle, want: connHijacked},
		{name: "closed is not ours to act on", from: connParked, event: fasthttp.StateClosed, want: connParked},
		{name: "new", from: connActive, event: fasthttp.StateNew, want: connActive},
	}
	t.Run("the first byte puts back the header timeout", func(t *testing.T) {
		p := testParker()
		rc := &recConn{}
		c := &parkConn{Conn: rc, p: p}
		c.state.Store(connNew)
		header := time.Now().Add(60 * time.Second)
		_ = c.SetReadDeadline(header)
		p.connState(&netConnWrapper{c}, fasthttp.StateActive)
		if !rc.rd.Equal(header) || c.graced {
			t.Errorf("deadline after the first byte %v (graced %v), want the header timeout %v", rc.rd, c.graced, header)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testParker()
			c := &parkConn{Conn: &recConn{}, p: p}
			c.state.Store(tt.from)
			outer := &netConnWrapper{c} // the engine sees the edge tracker's wrapper
			p.connState(outer, tt.event)
			if got := c.state.Load(); got != tt.want {
				t.Errorf("state %d, want %d", got, tt.want)
			}
		})
	}
}

type netConnWrapper struct{ net.Conn }

func (w *netConnWrapper) NetConn() net.Conn { return w.Conn }

func TestAwaitInput(t *testing.T) {
	tests := []struct {
		name   string
		client func(c *net.TCPConn) // what the client does, 50 ms after the wait began
		before string               // sent before the wait begins
		want   bool
	}{
		{name: "a request arrives", client: func(c *net.TCPConn) { _, _ = c.Write([]byte("GET")) }, want: true},
		{name: "bytes already there", before: "GET", want: true},
		{name: "client closes", client: func(c *net.TCPConn) { c.Close() }, want: false},
		{name: "client resets", client: func(c *net.TCPConn) { _ = c.SetLinger(0); c.Close() }, want: false},
		{name: "deadline passes", client: func(*net.TCPConn) {}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, sc := testnet.Pair(t)
			if tt.before != "" {
				_, _ = cc.Write([]byte(tt.before))
				time.Sleep(20 * time.Millisecond) // in the socket before the wait
			}
			if tt.client != nil {
				time.AfterFunc(50*time.Millisecond, func() { tt.client(cc) })
			}
			_ = sc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			start := time.Now()
			got := awaitInput(&sniffConn{Conn: &lingerConn{Conn: sockio.New(sc)}, decided: true})
			if got != tt.want {
				t.Fatalf("awaitInput = %v after %v, want %v", got, time.Since(start), tt.want)
			}
			if got {
				// a peek: the engine still reads the bytes
				_ = sc.SetReadDeadline(time.Now().Add(time.Second))
				b := make([]byte, 3)
				if n, err := io.ReadFull(sc, b); n != 3 || err != nil || string(b) != "GET" {
					t.Fatalf("after the wait the engine read %q, %v", b[:n], err)
				}
			}
		})
	}
	t.Run("sniffed bytes pending", func(t *testing.T) {
		_, sc := testnet.Pair(t)
		_ = sc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if !awaitInput(&sniffConn{Conn: sc, decided: true, pending: []byte("ET")}) {
			t.Fatal("bytes the sniffer holds must count as input")
		}
	})
}
