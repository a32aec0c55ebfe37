package upstream

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer is an upstream on a loopback port that counts the connections
// it accepted and those the client closed (its handler returned).
type testServer struct {
	addr     string
	accepted atomic.Int64
	closed   atomic.Int64

	ln      net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
	closing bool
}

// drain reads until the client closes.
func drain(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// echo writes back what it reads until the client closes.
func echo(c net.Conn) { _, _ = io.Copy(c, c) }

// newServer serves each connection with handle (nil: drain) and shuts down,
// closing every connection, when the test ends.
func newServer(tb testing.TB, handle func(net.Conn)) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if handle == nil {
		handle = drain
	}
	s := &testServer{addr: ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			if s.closing {
				s.mu.Unlock()
				c.Close()
				continue
			}
			s.conns = append(s.conns, c)
			s.wg.Add(1)
			s.mu.Unlock()
			go func() {
				defer s.wg.Done()
				handle(c)
				c.Close()
				s.closed.Add(1)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		s.closing = true
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// newPool returns a pool closed when the test ends.
func newPool(tb testing.TB, cfg Config) *Pool {
	p := New(cfg)
	tb.Cleanup(p.Close)
	return p
}

// waitFor polls cond until it holds, failing the test after two seconds.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for end := time.Now().Add(2 * time.Second); !cond(); {
		if time.Now().After(end) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func mustGet(tb testing.TB, p *Pool) *Conn {
	tb.Helper()
	c, err := p.Get(time.Now().Add(2 * time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func wantStats(tb testing.TB, p *Pool, open, idle int) {
	tb.Helper()
	if o, i := p.Stats(); o != open || i != idle {
		tb.Fatalf("Stats() = %d open, %d idle; want %d, %d", o, i, open, idle)
	}
}

// waiting is the number of callers queued in Get.
func (p *Pool) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiters.len()
}

func (p *Pool) cleanerRunning() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cleaning
}
