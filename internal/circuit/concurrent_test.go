package circuit

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrent hammers one breaker from many goroutines while a shared fake clock moves the
// upstream between down and up, so the breaker cycles through every state many times. Tickets
// are held across iterations so that results land after transitions. Run under -race.
func TestConcurrent(t *testing.T) {
	const (
		workers = 8
		iters   = 5000
		probes  = 3
		phase   = 200 * time.Millisecond // fake time the upstream stays down, then up
	)
	clk := &fakeClock{}
	var (
		mu       sync.Mutex
		changes  []Change
		inflight = map[uint64]int{} // half-open tickets admitted and not yet done, per state word
	)
	var b *Breaker
	b = New("hammer", Config{
		ConsecutiveFailures: 4, ErrorRatio: 0.5, MinRequests: 8, Window: time.Second,
		OpenFor: 20 * time.Millisecond, HalfOpenRequests: probes,
	}, Options{Now: clk.Now, OnChange: func(c Change) {
		_ = b.Status() // deadlocks if OnChange were called under the lock
		mu.Lock()
		changes = append(changes, c)
		mu.Unlock()
	}})

	finish := func(tk Ticket, rng *rand.Rand) {
		if State(tk.word&stateMask) == HalfOpen {
			mu.Lock()
			inflight[tk.word]--
			mu.Unlock()
		}
		failRate := 0.05
		if (clk.ns.Load()/int64(phase))%2 == 0 {
			failRate = 0.9
		}
		tk.Done(rng.Float64() >= failRate)
	}

	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var held []Ticket
			for i := range iters {
				if i%256 == 0 && time.Now().After(deadline) {
					t.Error("deadline passed; stopping early")
					break
				}
				clk.Advance(time.Millisecond / 4)
				if tk, ok := b.Allow(); ok {
					if State(tk.word&stateMask) == HalfOpen {
						mu.Lock()
						inflight[tk.word]++
						n := inflight[tk.word]
						mu.Unlock()
						if n > probes {
							t.Errorf("%d probes in flight, limit %d", n, probes)
						}
					}
					held = append(held, tk)
				}
				for len(held) > rng.IntN(4) {
					finish(held[0], rng)
					held = held[1:]
				}
				switch {
				case w == 0 && i%997 == 996:
					b.Reset()
				case w == 1 && i%101 == 0:
					_ = b.Status()
				}
			}
			for _, tk := range held {
				finish(tk, rng)
			}
		})
	}
	wg.Wait()

	valid := map[[2]State]bool{
		{Closed, Open}: true, {Open, HalfOpen}: true, {HalfOpen, Open}: true,
		{HalfOpen, Closed}: true, {Open, Closed}: true, // the last by Reset
	}
	seen := map[[2]State]int{}
	from := Closed
	for i, c := range changes {
		if c.From != from || !valid[[2]State{c.From, c.To}] {
			t.Fatalf("change %d: %s>%s after a change to %s", i, c.From, c.To, from)
		}
		seen[[2]State{c.From, c.To}]++
		from = c.To
	}
	if got := b.State(); got != from {
		t.Errorf("state %s, last change to %s", got, from)
	}
	for _, p := range [][2]State{{Closed, Open}, {Open, HalfOpen}, {HalfOpen, Open}, {HalfOpen, Closed}} {
		if seen[p] == 0 {
			t.Errorf("no %s>%s in %d changes: the test did not cycle the breaker", p[0], p[1], len(changes))
		}
	}
	t.Logf("%d changes: %v", len(changes), seen)
	b.mu.Lock()
	if b.probes != 0 {
		t.Errorf("%d probe slots still taken after every ticket was done", b.probes)
	}
	b.mu.Unlock()
}

// TestClosedPathTakesNoLock runs closed-state requests, successes and failures both, while the
// test holds the breaker's mutex: any Lock on that path would block until the timeout.
func TestClosedPathTakesNoLock(t *testing.T) {
	b := New("x", Config{ConsecutiveFailures: 1000, ErrorRatio: 0.99, MinRequests: 1000}, Options{})
	b.mu.Lock()
	defer b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			tk, ok := b.Allow()
			if !ok {
				t.Error("refused while closed")
				return
			}
			tk.Done(i%3 == 0)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Allow/Done in the closed state waited for the mutex")
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	clk := &fakeClock{}
	closed := New("x", Config{ConsecutiveFailures: 1 << 30, ErrorRatio: 1, MinRequests: 1 << 30},
		Options{Now: clk.Now, OnChange: func(Change) {}})
	realClock := New("z", Config{ConsecutiveFailures: 1 << 30, ErrorRatio: 1, MinRequests: 1 << 30}, Options{})
	open := New("y", Config{ConsecutiveFailures: 1}, Options{Now: clk.Now, OnChange: func(Change) {}})
	tk, _ := open.Allow()
	tk.Done(false)
	tests := []struct {
		name string
		f    func()
	}{
		{"closed success", func() {
			clk.Advance(time.Millisecond)
			tk, _ := closed.Allow()
			tk.Done(true)
		}},
		{"closed failure", func() {
			clk.Advance(time.Millisecond)
			tk, _ := closed.Allow()
			tk.Done(false)
		}},
		{"closed, real clock", func() {
			tk, _ := realClock.Allow()
			tk.Done(false)
			tk, _ = realClock.Allow()
			tk.Done(true)
		}},
		{"open refusal", func() {
			if _, ok := open.Allow(); ok {
				t.Fatal("open breaker admitted a request")
			}
		}},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tt.name, n)
		}
	}
}
