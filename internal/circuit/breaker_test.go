package circuit

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told; safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(1_700_000_000, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// harness drives one breaker through a script of ops.
type harness struct {
	t       *testing.T
	step    int
	b       *Breaker
	clk     *fakeClock
	held    []Ticket // admitted, not yet done; oldest first
	changes []string
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clk: &fakeClock{}}
	h.b = New("orders", cfg, Options{Now: h.clk.Now, OnChange: func(c Change) {
		h.changes = append(h.changes, fmt.Sprintf("%s>%s: %s", c.From, c.To, c.Reason))
	}})
	return h
}

func (h *harness) errorf(format string, args ...any) {
	h.t.Helper()
	h.t.Errorf("step %d: %s", h.step, fmt.Sprintf(format, args...))
}

type op func(h *harness)

// req runs n requests that are admitted and end at once.
func req(n int, success bool) op {
	return func(h *harness) {
		for i := range n {
			tk, ok := h.b.Allow()
			if !ok {
				h.errorf("request %d of %d refused (state %s)", i+1, n, h.b.State())
				return
			}
			tk.Done(success)
		}
	}
}

// admit lets n requests in and holds them, as slow requests.
func admit(n int) op {
	return func(h *harness) {
		for i := range n {
			tk, ok := h.b.Allow()
			if !ok {
				h.errorf("admit %d of %d refused (state %s)", i+1, n, h.b.State())
				return
			}
			h.held = append(h.held, tk)
		}
	}
}

func refuse(n int) op {
	return func(h *harness) {
		for i := range n {
			if _, ok := h.b.Allow(); ok {
				h.errorf("request %d of %d admitted, want refused (state %s)", i+1, n, h.b.State())
				return
			}
		}
	}
}

// finish ends the n oldest held requests.
func finish(n int, success bool) op {
	return func(h *harness) {
		if n > len(h.held) {
			h.errorf("finish %d: only %d held", n, len(h.held))
			return
		}
		for _, tk := range h.held[:n] {
			tk.Done(success)
		}
		h.held = h.held[n:]
	}
}

func advance(d time.Duration) op { return func(h *harness) { h.clk.Advance(d) } }
func reset() op                  { return func(h *harness) { h.b.Reset() } }

func want(s State) op {
	return func(h *harness) {
		if got := h.b.State(); got != s {
			h.errorf("state %s, want %s", got, s)
		}
	}
}

// counts checks the counters the admin API shows.
func counts(consec, reqs, fails int) op {
	return func(h *harness) {
		s := h.b.Status()
		if s.ConsecutiveFailures != consec || s.WindowRequests != reqs || s.WindowFailures != fails {
			h.errorf("consecutive %d, window %d/%d; want %d, %d/%d",
				s.ConsecutiveFailures, s.WindowFailures, s.WindowRequests, consec, fails, reqs)
		}
	}
}

// retryIn checks Status.RetryAt against the fake clock; a negative d wants it zero.
func retryIn(d time.Duration) op {
	return func(h *harness) {
		got := h.b.Status().RetryAt
		if d < 0 {
			if !got.IsZero() {
				h.errorf("RetryAt %v, want zero", got)
			}
			return
		}
		if w := h.clk.Now().Add(d); !got.Equal(w) {
			h.errorf("RetryAt %v, want %v", got, w)
		}
	}
}

func TestTransitions(t *testing.T) {
	consec := func(n int) Config { return Config{ConsecutiveFailures: n} }
	ratio := func(r float64, minReqs int) Config { return Config{ErrorRatio: r, MinRequests: minReqs} }
	tests := []struct {
		name    string
		cfg     Config
		ops     []op
		changes []string
	}{
		{
			name: "consecutive failures open it; a success breaks the run",
			cfg:  consec(5),
			ops: []op{
				req(4, false), req(1, true), req(4, false), want(Closed), counts(4, 0, 0),
				req(1, false), want(Open), counts(5, 0, 0), refuse(3),
			},
			changes: []string{"closed>open: 5 consecutive failures"},
		},
		{
			name:    "no trigger never opens",
			cfg:     Config{},
			ops:     []op{req(1000, false), want(Closed), counts(1000, 0, 0)},
			changes: nil,
		},
		{
			name: "error ratio opens it",
			cfg:  ratio(0.5, 13),
			ops: []op{
				req(5, true), req(7, false), want(Closed), counts(7, 12, 7),
				req(1, false), want(Open), counts(8, 13, 8),
			},
			changes: []string{"closed>open: error ratio 0.62 >= 0.50 over 10s (13 requests)"},
		},
		{
			name: "ratio below the threshold stays closed",
			cfg:  ratio(0.5, 10),
			ops:  slices.Repeat([]op{req(1, false), req(2, true)}, 20),
		},
		{
			name: "MinRequests holds the ratio back (default 20)",
			cfg:  ratio(0.5, 0),
			ops:  []op{req(19, false), want(Closed), req(1, false), want(Open)},
			changes: []string{
				"closed>open: error ratio 1.00 >= 0.50 over 10s (20 requests)",
			},
		},
		{
			name: "a success that reaches MinRequests leaves it to the next failure",
			cfg:  ratio(0.5, 4),
			ops:  []op{req(3, false), req(1, true), want(Closed), req(1, false), want(Open)},
			changes: []string{
				"closed>open: error ratio 0.80 >= 0.50 over 10s (5 requests)",
			},
		},
		{
			name: "failures older than the window slide out",
			cfg:  ratio(0.5, 4),
			ops: []op{
				req(3, false), counts(3, 3, 3), advance(10 * time.Second), counts(3, 0, 0),
				req(1, false), want(Closed), counts(4, 1, 1),
			},
		},
		{
			name: "failures inside the window still count",
			cfg:  ratio(0.5, 4),
			ops: []op{
				req(3, false), advance(9*time.Second + 999*time.Millisecond),
				req(1, false), want(Open),
			},
			changes: []string{"closed>open: error ratio 1.00 >= 0.50 over 10s (4 requests)"},
		},
		{
			name: "the window slides bucket by bucket",
			cfg:  Config{ErrorRatio: 0.6, MinRequests: 4, Window: 20 * time.Second},
			ops: []op{
				req(2, false), advance(6 * time.Second), req(2, true), counts(0, 4, 2),
				advance(14 * time.Second), counts(0, 2, 0), // the first 2s bucket has left
				req(2, false), want(Closed), counts(2, 4, 2),
				req(1, false), want(Open),
			},
			changes: []string{"closed>open: error ratio 0.60 >= 0.60 over 20s (5 requests)"},
		},
		{
			name: "both triggers: the ratio opens it while runs stay short",
			cfg:  Config{ConsecutiveFailures: 5, ErrorRatio: 0.5, MinRequests: 6},
			ops: []op{
				req(2, false), req(1, true), req(2, false), req(1, true), want(Closed),
				req(1, false), want(Open),
			},
			changes: []string{"closed>open: error ratio 0.71 >= 0.50 over 10s (7 requests)"},
		},
		{
			name:    "both triggers: a run opens it under a low ratio",
			cfg:     Config{ConsecutiveFailures: 3, ErrorRatio: 0.9, MinRequests: 5},
			ops:     []op{req(10, true), req(3, false), want(Open)},
			changes: []string{"closed>open: 3 consecutive failures"},
		},
		{
			name: "open fails fast until OpenFor, then turns half-open lazily",
			cfg:  consec(1),
			ops: []op{
				req(1, false), want(Open), retryIn(30 * time.Second),
				advance(29 * time.Second), refuse(5), retryIn(time.Second),
				advance(time.Second), want(Open), retryIn(0), // no Allow yet
				admit(1), want(HalfOpen), retryIn(-1), refuse(2),
				finish(1, true), want(Closed), counts(0, 0, 0), retryIn(-1),
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 30s",
				"half_open>closed: probe succeeded",
			},
		},
		{
			name: "a failed probe opens it for another OpenFor",
			cfg:  Config{ConsecutiveFailures: 1, OpenFor: 5 * time.Second},
			ops: []op{
				req(1, false), advance(5 * time.Second), admit(1), finish(1, false), want(Open),
				retryIn(5 * time.Second), advance(4 * time.Second), refuse(1),
				advance(time.Second), req(1, true), want(Closed),
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 5s",
				"half_open>open: probe failed",
				"open>half_open: open for 5s",
				"half_open>closed: probe succeeded",
			},
		},
		{
			name: "half-open admits HalfOpenRequests at once; that many successes close it",
			cfg:  Config{ConsecutiveFailures: 1, HalfOpenRequests: 3},
			ops: []op{
				req(1, false), advance(30 * time.Second),
				admit(3), refuse(2), finish(1, true), want(HalfOpen),
				admit(1), refuse(1), // the finished probe's slot
				finish(2, true), want(Closed),
				finish(1, false), want(Closed), counts(0, 0, 0), // the fourth probe is stale now
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 30s",
				"half_open>closed: 3 probes succeeded",
			},
		},
		{
			name: "one failed probe among several reopens it",
			cfg:  Config{ConsecutiveFailures: 1, HalfOpenRequests: 3},
			ops: []op{
				req(1, false), advance(30 * time.Second), admit(3),
				finish(2, true), finish(1, false), want(Open),
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 30s",
				"half_open>open: probe failed",
			},
		},
		{
			name: "a slow request from the closed state is no probe success",
			cfg:  Config{ConsecutiveFailures: 1, HalfOpenRequests: 2},
			ops: []op{
				admit(1), req(1, false), advance(30 * time.Second), admit(2),
				finish(1, true), want(HalfOpen), refuse(1), // slots still taken by the probes
				finish(1, true), want(HalfOpen), finish(1, true), want(Closed),
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 30s",
				"half_open>closed: 2 probes succeeded",
			},
		},
		{
			name: "a slow request from the closed state is no probe failure",
			cfg:  consec(1),
			ops: []op{
				admit(1), req(1, false), advance(30 * time.Second), admit(1),
				finish(1, false), want(HalfOpen), refuse(1), finish(1, true), want(Closed),
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 30s",
				"half_open>closed: probe succeeded",
			},
		},
		{
			name: "a probe of an earlier half-open period is stale",
			cfg:  Config{ConsecutiveFailures: 1, HalfOpenRequests: 2},
			ops: []op{
				req(1, false), advance(30 * time.Second), admit(2), finish(1, false), want(Open),
				advance(30 * time.Second), admit(2), finish(1, true), // the first period's
				want(HalfOpen), refuse(1), finish(2, true), want(Closed),
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 30s",
				"half_open>open: probe failed",
				"open>half_open: open for 30s",
				"half_open>closed: 2 probes succeeded",
			},
		},
		{
			name: "a closed-state failure that ends after closing again is dropped",
			cfg:  consec(2),
			ops: []op{
				admit(1), req(2, false), advance(30 * time.Second), req(1, true), want(Closed),
				finish(1, false), counts(0, 0, 0), req(1, false), want(Closed),
			},
			changes: []string{
				"closed>open: 2 consecutive failures",
				"open>half_open: open for 30s",
				"half_open>closed: probe succeeded",
			},
		},
		{
			name: "closing clears the counters",
			cfg:  Config{ConsecutiveFailures: 10, ErrorRatio: 0.5, MinRequests: 4, OpenFor: time.Second},
			ops: []op{
				req(4, false), want(Open), counts(4, 4, 4), advance(time.Second),
				req(1, true), want(Closed), counts(0, 0, 0),
				req(3, false), want(Closed), counts(3, 3, 3), // old failures would make it 8/9
			},
			changes: []string{
				"closed>open: error ratio 1.00 >= 0.50 over 10s (4 requests)",
				"open>half_open: open for 1s",
				"half_open>closed: probe succeeded",
			},
		},
		{
			name: "reset closes an open breaker",
			cfg:  consec(1),
			ops: []op{
				req(1, false), reset(), want(Closed), counts(0, 0, 0), retryIn(-1),
				req(1, true),
			},
			changes: []string{"closed>open: 1 failure", "open>closed: reset"},
		},
		{
			name: "reset closes a half-open breaker and drops its probes",
			cfg:  consec(1),
			ops: []op{
				req(1, false), advance(30 * time.Second), admit(1), reset(), want(Closed),
				finish(1, false), want(Closed), counts(0, 0, 0),
			},
			changes: []string{
				"closed>open: 1 failure",
				"open>half_open: open for 30s",
				"half_open>closed: reset",
			},
		},
		{
			name: "reset of a closed breaker clears counters and reports nothing",
			cfg:  Config{ConsecutiveFailures: 3, ErrorRatio: 1, MinRequests: 3},
			ops: []op{
				admit(1), req(2, false), reset(), counts(0, 0, 0),
				finish(1, false), req(2, false), want(Closed), counts(2, 2, 2),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg)
			for i, o := range tt.ops {
				h.step = i
				o(h)
			}
			if !slices.Equal(h.changes, tt.changes) {
				t.Errorf("changes:\n got %q\nwant %q", h.changes, tt.changes)
			}
		})
	}
}

func TestChangeAndStatusFields(t *testing.T) {
	clk := &fakeClock{}
	start := clk.Now()
	var got []Change
	b := New("svc-a", Config{ConsecutiveFailures: 2}, Options{Now: clk.Now, OnChange: func(c Change) {
		got = append(got, c)
	}})
	if s := b.Status(); s != (Status{State: Closed, Since: start}) {
		t.Errorf("new breaker status %+v", s)
	}
	clk.Advance(time.Minute)
	for range 2 {
		tk, _ := b.Allow()
		tk.Done(false)
	}
	opened := start.Add(time.Minute)
	want := Change{Name: "svc-a", From: Closed, To: Open, Reason: "2 consecutive failures", At: opened}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("changes %+v, want [%+v]", got, want)
	}
	clk.Advance(time.Second)
	wantStatus := Status{
		State: Open, Since: opened, Reason: "2 consecutive failures",
		ConsecutiveFailures: 2, RetryAt: opened.Add(DefaultOpenFor),
	}
	if s := b.Status(); s != wantStatus {
		t.Errorf("status %+v, want %+v", s, wantStatus)
	}
	if b.Name() != "svc-a" || b.Config() != (Config{ConsecutiveFailures: 2}).WithDefaults() {
		t.Errorf("Name %q, Config %+v", b.Name(), b.Config())
	}
}

func TestNilBreakerAndZeroTicket(t *testing.T) {
	var b *Breaker
	tk, ok := b.Allow()
	if !ok {
		t.Fatal("nil breaker refused a request")
	}
	tk.Done(false) // must not panic
	Ticket{}.Done(true)
}

// OnChange runs outside the lock, so it may call back in; a transition it causes is reported
// after the one it was told of.
func TestOnChangeMayCallBack(t *testing.T) {
	clk := &fakeClock{}
	var b *Breaker
	var got []string
	b = New("x", Config{ConsecutiveFailures: 1}, Options{Now: clk.Now, OnChange: func(c Change) {
		got = append(got, fmt.Sprintf("%s>%s %s", c.From, c.To, b.Status().State))
		if c.To == Open {
			b.Reset()
		}
	}})
	tk, _ := b.Allow()
	tk.Done(false)
	want := []string{"closed>open open", "open>closed closed"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOnChangePanicKeepsLaterChanges(t *testing.T) {
	clk := &fakeClock{}
	var got []State
	b := New("x", Config{ConsecutiveFailures: 1}, Options{Now: clk.Now, OnChange: func(c Change) {
		got = append(got, c.To)
		if c.To == Open {
			panic("boom")
		}
	}})
	func() {
		defer func() { _ = recover() }()
		tk, _ := b.Allow()
		tk.Done(false)
	}()
	b.Reset()
	if want := []State{Open, Closed}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Closed: "closed", Open: "open", HalfOpen: "half_open", 7: "State(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", s, got, want)
		}
		if got, _ := s.MarshalText(); string(got) != want {
			t.Errorf("%d.MarshalText() = %q, want %q", s, got, want)
		}
	}
}

// The default clock takes a shortcut (the monotonic clock alone); it must agree with time.Now.
func TestRealClock(t *testing.T) {
	b := New("x", Config{ErrorRatio: 0.5, MinRequests: 3, OpenFor: time.Hour}, Options{})
	before := time.Now()
	for range 3 {
		tk, _ := b.Allow()
		tk.Done(false)
	}
	s := b.Status()
	if s.State != Open || s.WindowRequests != 3 || s.WindowFailures != 3 {
		t.Fatalf("status %+v, want open with 3/3", s)
	}
	if s.RetryAt.Before(before.Add(time.Hour)) || s.RetryAt.After(time.Now().Add(time.Hour)) {
		t.Errorf("RetryAt %v, want an hour after %v", s.RetryAt, before)
	}
	if _, ok := b.Allow(); ok {
		t.Error("open breaker admitted a request")
	}
}
