package upstream

import (
	"errors"
	"testing"
	"time"
)

type getResult struct {
	c       *Conn
	err     error
	elapsed time.Duration
}

// getAsync calls Get on another goroutine and returns once it is queued.
func getAsync(t *testing.T, p *Pool, deadline time.Time) <-chan getResult {
	t.Helper()
	before := p.waiting()
	res := make(chan getResult, 1)
	go func() {
		start := time.Now()
		c, err := p.Get(deadline)
		res <- getResult{c, err, time.Since(start)}
	}()
	waitFor(t, "Get to queue", func() bool { return p.waiting() == before+1 })
	return res
}

func receive(t *testing.T, res <-chan getResult) getResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(2 * time.Second):
		t.Fatal("waiting Get did not return")
		return getResult{}
	}
}

// With MaxConns open, Get waits for a connection put back, for a slot freed
// by Discard, or until its deadline.
func TestGetWaitsAtMaxConns(t *testing.T) {
	const short = 50 * time.Millisecond
	cases := []struct {
		name           string
		connectTimeout time.Duration
		deadline       time.Duration // from now; 0: zero deadline
		free           func(p *Pool, c *Conn)
		want           string // "same", "new" or "timeout"
	}{
		{"put hands the connection over", 0, 0, (*Pool).Put, "same"},
		{"discard frees the slot for a dial", 0, 0, (*Pool).Discard, "new"},
		{"deadline passes", time.Second, short, nil, "timeout"},
		{"zero deadline waits ConnectTimeout", short, 0, nil, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, nil)
			p := newPool(t, Config{Addr: s.addr, MaxConns: 1, ConnectTimeout: tc.connectTimeout})
			c := mustGet(t, p)
			var deadline time.Time
			if tc.deadline > 0 {
				deadline = time.Now().Add(tc.deadline)
			}
			res := getAsync(t, p, deadline)
			if tc.free != nil {
				tc.free(p, c)
			}
			r := receive(t, res)
			switch tc.want {
			case "same":
				if r.err != nil || r.c != c || !r.c.Reused() || r.c.Straight() {
					t.Fatalf("got %p (err %v), want the connection put back, %p, reused after a wait", r.c, r.err, c)
				}
				waitFor(t, "the server to accept 1", func() bool { return s.accepted.Load() == 1 })
			case "new":
				if r.err != nil || r.c == c || r.c.Reused() || r.c.Straight() {
					t.Fatalf("got %p (err %v), want a new connection", r.c, r.err)
				}
				waitFor(t, "the server to accept 2", func() bool { return s.accepted.Load() == 2 })
			case "timeout":
				if !errors.Is(r.err, ErrNoFreeConns) {
					t.Fatalf("Get: %v, want ErrNoFreeConns", r.err)
				}
				if r.elapsed < short-5*time.Millisecond {
					t.Fatalf("Get gave up after %v, want about %v", r.elapsed, short)
				}
				if p.waiting() != 0 {
					t.Fatal("timed-out waiter still queued")
				}
				r.c = c // still lent
			}
			wantStats(t, p, 1, 0)
			p.Put(r.c)
			wantStats(t, p, 1, 1)
		})
	}
}

func TestWaitersServedInOrder(t *testing.T) {
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr, MaxConns: 1})
	c := mustGet(t, p)
	first := getAsync(t, p, time.Time{})
	second := getAsync(t, p, time.Time{})
	p.Put(c)
	r := receive(t, first)
	if r.c != c {
		t.Fatal("first waiter did not get the connection")
	}
	if p.waiting() != 1 {
		t.Fatal("second waiter not waiting any more")
	}
	p.Put(r.c)
	if r := receive(t, second); r.c != c {
		t.Fatal("second waiter did not get the connection")
	}
	wantStats(t, p, 1, 0)
}

// A waiter whose time ran out after it was handed something passes it on.
// withdraw is driven directly: through Get, the hand-off and the timer race.
func TestWithdrawAfterHandoff(t *testing.T) {
	cases := []struct {
		name       string
		put        bool // the lent connection is put back (else discarded)
		next       bool // a second waiter is queued
		close      bool // the pool is closed before the withdrawal
		open, idle int
	}{
		{"connection goes idle", true, false, false, 1, 1},
		{"connection goes to the next waiter", true, true, false, 1, 0},
		{"connection closed in a closed pool", true, false, true, 0, 0},
		{"slot released", false, false, false, 0, 0},
		{"slot goes to the next waiter", false, true, false, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, nil)
			p := newPool(t, Config{Addr: s.addr, MaxConns: 1})
			c := mustGet(t, p)
			w, next := &waiter{ch: make(chan handoff, 1)}, &waiter{ch: make(chan handoff, 1)}
			p.mu.Lock()
			p.waiters.push(w)
			if tc.next {
				p.waiters.push(next)
			}
			p.mu.Unlock()
			if tc.put {
				p.Put(c)
			} else {
				p.Discard(c)
			}
			if !w.handed || next.handed {
				t.Fatal("not handed to the first waiter alone")
			}
			if tc.close {
				p.Close()
			}
			if err := p.withdraw(w); !errors.Is(err, ErrNoFreeConns) {
				t.Fatalf("withdraw: %v, want ErrNoFreeConns", err)
			}
			wantStats(t, p, tc.open, tc.idle)
			if p.waiting() != 0 {
				t.Fatalf("%d waiters still queued", p.waiting())
			}
			if tc.next {
				if !next.handed {
					t.Fatal("next waiter not handed what the first passed on")
				}
				h := <-next.ch
				if tc.put && h.c != c || !tc.put && (h.c != nil || h.err != nil) {
					t.Fatalf("next waiter handed %+v, want the connection put back: %v", h, tc.put)
				}
				// finish as the next waiter would
				if h.c != nil {
					p.Put(p.lend(h.c))
				} else {
					p.mu.Lock()
					p.releaseSlotLocked()
					p.mu.Unlock()
				}
			}
			if tc.close {
				waitFor(t, "the server to see the close", func() bool { return s.closed.Load() == 1 })
			}
		})
	}
}

// A waiter that withdrew before anything was handed leaves the queue: what is
// freed next skips it.
func TestWithdrawBeforeHandoff(t *testing.T) {
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr, MaxConns: 1})
	c := mustGet(t, p)
	w := &waiter{ch: make(chan handoff, 1)}
	p.mu.Lock()
	p.waiters.push(w)
	p.mu.Unlock()
	if err := p.withdraw(w); !errors.Is(err, ErrNoFreeConns) {
		t.Fatalf("withdraw: %v, want ErrNoFreeConns", err)
	}
	p.Put(c)
	if w.handed {
		t.Fatal("withdrawn waiter handed the connection")
	}
	wantStats(t, p, 1, 1)
}

// The queue stays FIFO through withdrawals and compactions, and does not
// grow with waiters that left.
func TestWaitQueue(t *testing.T) {
	var q waitQueue
	var ws []*waiter
	for range 64 {
		w := &waiter{}
		ws = append(ws, w)
		q.push(w)
	}
	for i, w := range ws {
		if i%4 != 0 {
			q.remove(w)
		}
	}
	for range 1000 { // arrivals that time out at once must not grow the queue
		w := &waiter{}
		q.push(w)
		q.remove(w)
	}
	if c := cap(q.items); c > 256 {
		t.Fatalf("queue grew to %d entries for %d waiters", c, q.len())
	}
	if q.len() != 16 {
		t.Fatalf("len() = %d, want 16", q.len())
	}
	for i := 0; i < 64; i += 4 {
		if w := q.pop(); w != ws[i] {
			t.Fatalf("pop: waiter out of order, want number %d", i)
		}
	}
	if w := q.pop(); w != nil || q.len() != 0 {
		t.Fatal("queue not empty")
	}
}
