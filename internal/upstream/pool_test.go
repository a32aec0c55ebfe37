package upstream

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tollgate/internal/sockio"
)

func TestGetReusesLastPutFirst(t *testing.T) {
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr})
	var lent [3]*Conn
	for i := range lent {
		lent[i] = mustGet(t, p)
		if lent[i].Reused() || lent[i].Straight() {
			t.Fatalf("new connection %d: Reused() %v, Straight() %v", i, lent[i].Reused(), lent[i].Straight())
		}
	}
	for _, c := range lent {
		p.Put(c)
	}
	wantStats(t, p, 3, 3)
	for i := len(lent) - 1; i >= 0; i-- {
		c := mustGet(t, p)
		if c != lent[i] {
			t.Fatalf("Get %d: got another connection than the one put back %d", len(lent)-1-i, i)
		}
		if !c.Reused() || !c.Straight() {
			t.Fatalf("connection %d from the idle list: Reused() %v, Straight() %v", i, c.Reused(), c.Straight())
		}
	}
	if c := mustGet(t, p); c.Reused() {
		t.Fatal("Get with the idle list empty: Reused() = true")
	}
	// the client's connect completes before the server's Accept returns
	waitFor(t, "the server to accept 4 connections", func() bool { return s.accepted.Load() == 4 })
}

func TestStats(t *testing.T) {
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr})
	var lent []*Conn
	last := func() *Conn {
		c := lent[len(lent)-1]
		lent = lent[:len(lent)-1]
		return c
	}
	steps := []struct {
		name       string
		do         func()
		open, idle int
	}{
		{"new pool", func() {}, 0, 0},
		{"get a", func() { lent = append(lent, mustGet(t, p)) }, 1, 0},
		{"get b", func() { lent = append(lent, mustGet(t, p)) }, 2, 0},
		{"put b", func() { p.Put(last()) }, 2, 1},
		{"discard a", func() { p.Discard(last()) }, 1, 1},
		{"get b again", func() { lent = append(lent, mustGet(t, p)) }, 1, 0},
		{"get c", func() { lent = append(lent, mustGet(t, p)) }, 2, 0},
		{"put c", func() { p.Put(last()) }, 2, 1},
		{"close idle", p.CloseIdle, 1, 0},
		{"put b", func() { p.Put(last()) }, 1, 1},
		{"close", p.Close, 0, 0},
	}
	for _, st := range steps {
		st.do()
		if open, idle := p.Stats(); open != st.open || idle != st.idle {
			t.Fatalf("after %s: Stats() = %d open, %d idle; want %d, %d", st.name, open, idle, st.open, st.idle)
		}
	}
}

// A connection with bytes left in R would read them as the next response;
// one with bytes left in W would send them before the next request.
func TestPutClosesConnectionOutOfStep(t *testing.T) {
	cases := []struct {
		name string
		sent string        // what the upstream sends on connect
		use  func(c *Conn) // what the client does before Put
		kept bool          // put back idle, or closed
	}{
		{"clean", "", func(*Conn) {}, true},
		{"everything sent read", "ab", func(c *Conn) {
			for range 2 {
				if _, err := c.R.ReadByte(); err != nil {
					t.Fatal(err)
				}
			}
		}, true},
		{"unread bytes in R", "ab", func(c *Conn) {
			if _, err := c.R.Peek(2); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"unflushed bytes in W", "", func(c *Conn) { _, _ = c.W.WriteString("GET") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, func(c net.Conn) {
				if _, err := io.WriteString(c, tc.sent); err == nil {
					drain(c)
				}
			})
			p := newPool(t, Config{Addr: s.addr})
			c := mustGet(t, p)
			tc.use(c)
			p.Put(c)
			if tc.kept {
				wantStats(t, p, 1, 1)
				if n := s.closed.Load(); n != 0 {
					t.Fatalf("server saw %d closes, want 0", n)
				}
				return
			}
			wantStats(t, p, 0, 0)
			waitFor(t, "the server to see the close", func() bool { return s.closed.Load() == 1 })
		})
	}
}

func TestCloseIdle(t *testing.T) {
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr})
	a, b, c := mustGet(t, p), mustGet(t, p), mustGet(t, p)
	p.Put(a)
	p.Put(b)
	p.CloseIdle()
	wantStats(t, p, 1, 0)
	waitFor(t, "the server to see two closes", func() bool { return s.closed.Load() == 2 })
	// the pool stays usable
	p.Put(c)
	wantStats(t, p, 1, 1)
	if got := mustGet(t, p); got != c {
		t.Fatal("Get after CloseIdle and Put: not the connection put back")
	}
}

func TestClose(t *testing.T) {
	s := newServer(t, nil)
	p := New(Config{Addr: s.addr, IdleTimeout: time.Hour})
	a, b, c := mustGet(t, p), mustGet(t, p), mustGet(t, p)
	p.Put(a)
	p.Close() // also waits for the cleaner that Put started
	waitFor(t, "the server to see the idle connection closed", func() bool { return s.closed.Load() == 1 })
	wantStats(t, p, 2, 0)
	if _, err := p.Get(time.Time{}); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Get after Close: %v, want ErrPoolClosed", err)
	}
	// a lent connection still works until it goes back
	if _, err := b.W.WriteString("x"); err != nil {
		t.Fatal(err)
	}
	if err := b.W.Flush(); err != nil {
		t.Fatal(err)
	}
	p.Put(b)
	p.Discard(c)
	wantStats(t, p, 0, 0)
	waitFor(t, "the server to see all closed", func() bool { return s.closed.Load() == 3 })
	p.Close() // again: no effect
}

func TestCloseWakesWaiters(t *testing.T) {
	s := newServer(t, nil)
	p := New(Config{Addr: s.addr, MaxConns: 1})
	c := mustGet(t, p)
	errc := make(chan error, 1)
	go func() {
		_, err := p.Get(time.Time{}) // no deadline, no ConnectTimeout: only Close ends it
		errc <- err
	}()
	waitFor(t, "the waiter to queue", func() bool { return p.waiting() == 1 })
	p.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrPoolClosed) {
			t.Fatalf("waiting Get: %v, want ErrPoolClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("waiting Get not woken by Close")
	}
	p.Put(c)
	wantStats(t, p, 0, 0)
}

type countConn struct {
	net.Conn
	reads, writes *atomic.Int64
}

func (c *countConn) Read(b []byte) (int, error) {
	c.reads.Add(1)
	return c.Conn.Read(b)
}

func (c *countConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

func TestWrap(t *testing.T) {
	s := newServer(t, echo)
	var wraps, reads, writes atomic.Int64
	var dialed net.Conn
	p := newPool(t, Config{Addr: s.addr, Wrap: func(c net.Conn) net.Conn {
		wraps.Add(1)
		dialed = c
		return &countConn{Conn: c, reads: &reads, writes: &writes}
	}})
	for range 2 {
		c := mustGet(t, p)
		if _, ok := c.Conn.(*countConn); !ok {
			t.Fatalf("Conn is %T, want the wrapper", c.Conn)
		}
		if _, err := c.W.WriteString("ping"); err != nil {
			t.Fatal(err)
		}
		if err := c.W.Flush(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c.R, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("echo: %q, %v", buf, err)
		}
		p.Put(c)
	}
	if wraps.Load() != 1 {
		t.Fatalf("Wrap called %d times for one connection, want 1", wraps.Load())
	}
	if _, ok := dialed.(*sockio.Conn); !ok {
		t.Fatalf("the pool dialed a %T, want the raw-call socket (*sockio.Conn)", dialed)
	}
	if reads.Load() == 0 || writes.Load() == 0 {
		t.Fatalf("R and W bypass the wrapper: %d reads, %d writes through it", reads.Load(), writes.Load())
	}
}

func TestReleaseTwicePanics(t *testing.T) {
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr})
	c := mustGet(t, p)
	p.Put(c)
	defer func() {
		if recover() == nil {
			t.Fatal("second Put did not panic")
		}
		wantStats(t, p, 1, 1)
	}()
	p.Put(c)
}

// Eight callers share three connections: the bound holds, no connection is
// lent to two callers at once, and the counts add up at the end.
func TestConcurrentGetPutDiscard(t *testing.T) {
	const (
		maxConns   = 3
		goroutines = 8
		iterations = 150
	)
	s := newServer(t, echo)
	p := newPool(t, Config{Addr: s.addr, MaxConns: maxConns, ConnectTimeout: 5 * time.Second})
	var (
		mu       sync.Mutex
		inUse    = map[*Conn]int{}
		discards atomic.Int64
		wg       sync.WaitGroup
	)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := []byte{byte(g)}
			for i := range iterations {
				c, err := p.Get(time.Now().Add(5 * time.Second))
				if err != nil {
					t.Error(err)
					return
				}
				if open, _ := p.Stats(); open > maxConns {
					t.Errorf("%d connections open, MaxConns %d", open, maxConns)
				}
				mu.Lock()
				if other, ok := inUse[c]; ok {
					t.Errorf("connection lent to goroutines %d and %d at once", other, g)
				}
				inUse[c] = g
				mu.Unlock()
				// a round trip: the connection works and its bytes are this caller's
				if _, err := c.W.Write(buf); err != nil {
					t.Error(err)
				}
				if err := c.W.Flush(); err != nil {
					t.Error(err)
				}
				if b, err := c.R.ReadByte(); err != nil || b != byte(g) {
					t.Errorf("echo: got %d, %v; want %d", b, err, g)
				}
				mu.Lock()
				delete(inUse, c)
				mu.Unlock()
				if (g+i)%5 == 0 {
					discards.Add(1)
					p.Discard(c)
				} else {
					p.Put(c)
				}
			}
		}()
	}
	wg.Wait()
	open, idle := p.Stats()
	if open != idle || open > maxConns {
		t.Fatalf("at rest: %d open, %d idle; want equal, at most %d", open, idle, maxConns)
	}
	waitFor(t, "the server to accept one connection per discard, plus the idle ones", func() bool {
		return s.accepted.Load() == discards.Load()+int64(open)
	})
	waitFor(t, "the server to see the discarded ones closed", func() bool { return s.closed.Load() == discards.Load() })
	p.Close()
	wantStats(t, p, 0, 0)
	waitFor(t, "the server to see every connection closed", func() bool { return s.closed.Load() == s.accepted.Load() })
}

func BenchmarkGetPut(b *testing.B) {
	s := newServer(b, nil)
	p := newPool(b, Config{Addr: s.addr})
	p.Put(mustGet(b, p))
	b.ReportAllocs()
	for b.Loop() {
		c, err := p.Get(time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		p.Put(c)
	}
}

// BenchmarkGetPutParallel has every P take and give back connections at once:
// the cost of the one mutex under contention.
func BenchmarkGetPutParallel(b *testing.B) {
	s := newServer(b, nil)
	p := newPool(b, Config{Addr: s.addr})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := p.Get(time.Time{})
			if err != nil {
				b.Error(err)
				return
			}
			p.Put(c)
		}
	})
}
