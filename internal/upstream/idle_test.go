package upstream

import (
	"testing"
	"time"
)

func TestIdleConnectionsExpire(t *testing.T) {
	const idleTimeout = 50 * time.Millisecond
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr, IdleTimeout: idleTimeout})
	if p.cleanerRunning() {
		t.Fatal("cleaner runs in an unused pool")
	}
	a, b := mustGet(t, p), mustGet(t, p)
	if p.cleanerRunning() {
		t.Fatal("cleaner runs with no idle connection")
	}
	put := time.Now() // before either Put: neither may close sooner than IdleTimeout after it
	p.Put(a)
	p.Put(b)
	if !p.cleanerRunning() {
		t.Fatal("cleaner not started when a connection went idle")
	}
	waitFor(t, "both idle connections closed", func() bool { return s.closed.Load() == 2 })
	if elapsed := time.Since(put); elapsed < idleTimeout {
		t.Fatalf("idle connections closed after %v, IdleTimeout %v", elapsed, idleTimeout)
	}
	wantStats(t, p, 0, 0)
	waitFor(t, "the cleaner to exit", func() bool { return !p.cleanerRunning() })

	// used again, the pool starts a new cleaner
	p.Put(mustGet(t, p))
	if !p.cleanerRunning() {
		t.Fatal("cleaner not restarted")
	}
	waitFor(t, "the third connection closed", func() bool { return s.closed.Load() == 3 })
	waitFor(t, "the cleaner to exit", func() bool { return !p.cleanerRunning() })
}

// Only connections idle longer than the timeout go; the others keep their
// order, so the stack stays LIFO.
func TestExpireLocked(t *testing.T) {
	now := time.Hour // since the pool's epoch
	cases := []struct {
		name     string
		ages     []time.Duration // idle list, bottom first
		expired  []int
		kept     []int
		waiting  bool // a waiter is queued: freed slots go to it
		wantOpen int
	}{
		{"none idle", nil, nil, nil, false, 0},
		{"none expired", []time.Duration{3, 2, 1}, nil, []int{0, 1, 2}, false, 3},
		{"oldest expired", []time.Duration{20, 15, 5, 1}, []int{0, 1}, []int{2, 3}, false, 2},
		{"out of order", []time.Duration{20, 5, 15, 1}, []int{0, 2}, []int{1, 3}, false, 2},
		{"all expired", []time.Duration{30, 20, 11}, []int{0, 1, 2}, nil, false, 0},
		{"freed slot to a waiter", []time.Duration{20, 1}, []int{0}, []int{1}, true, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := New(Config{})
			conns := make([]*Conn, len(tc.ages))
			for i, age := range tc.ages {
				conns[i] = &Conn{idleSince: now - age*time.Second}
				p.idle = append(p.idle, conns[i])
			}
			p.open = len(conns)
			w := &waiter{ch: make(chan handoff, 1)}
			if tc.waiting {
				p.waiters.push(w)
			}
			expired := p.expireLocked(now-10*time.Second, nil)
			if len(expired) != len(tc.expired) {
				t.Fatalf("%d expired, want %d", len(expired), len(tc.expired))
			}
			for i, j := range tc.expired {
				if expired[i] != conns[j] {
					t.Fatalf("expired[%d] is not connection %d", i, j)
				}
			}
			if len(p.idle) != len(tc.kept) {
				t.Fatalf("%d kept, want %d", len(p.idle), len(tc.kept))
			}
			for i, j := range tc.kept {
				if p.idle[i] != conns[j] {
					t.Fatalf("idle[%d] is not connection %d", i, j)
				}
			}
			if p.open != tc.wantOpen {
				t.Fatalf("open = %d, want %d", p.open, tc.wantOpen)
			}
			if tc.waiting != w.handed {
				t.Fatalf("waiter handed: %v, want %v", w.handed, tc.waiting)
			}
		})
	}
}
