// Package circuit keeps the proxy from sending requests to an upstream target or service that
// keeps failing. Without it every client waits out the timeout of a dead upstream, the waiting
// requests pile up connections and goroutines in the gateway, and retries keep a struggling
// upstream from recovering; with it, requests fail fast while the upstream gets room, and a few
// probes decide when to let traffic back.
//
// Kong has no circuit breaker (its passive health checks mark single targets unhealthy and
// never ask for them back); this is tollgate's extension, modelled on Envoy's outlier detection
// (consecutive failures, an ejection time) and Hystrix (an error ratio over a rolling window
// with a minimum volume, then trial requests while half-open).
//
// A Breaker is closed (requests flow, results are counted), open (requests fail fast) or
// half-open (up to HalfOpenRequests probes are in flight; that many successes in a row close
// it, one failure opens it again). Nothing runs in the background: an open breaker turns
// half-open on the first Allow after OpenFor, so a breaker needs no goroutine and no Close.
//
// Closed is the state of nearly every request, and every request calls Allow and Done, so
// there both use atomics only: no lock, no allocation (BenchmarkAllowDone). Transitions and
// the open and half-open states, which fail fast or admit a few probes, take a mutex.
package circuit

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// State is where a breaker is in its cycle.
type State uint8

// The states; Closed is the zero value.
const (
	Closed State = iota
	Open
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText makes a State a string in the admin API's JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Change is one transition, given to Options.OnChange.
type Change struct {
	Name     string // the breaker's name, as given to New
	From, To State
	Reason   string // "5 consecutive failures", "open for 30s", "probe failed", "reset", ...
	At       time.Time
}

// Options are a breaker's injected dependencies.
type Options struct {
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
	// OnChange, if set, is told of every transition, once, in order, and never while the
	// breaker's lock is held, so it may log, count metrics or call back into the breaker. It
	// runs on the goroutine of a request (the one that caused the transition, or one that was
	// reporting an earlier one), so it must not block.
	OnChange func(Change)
}

// The state word holds the State in its low stateBits and the generation above them.
const (
	stateBits = 2
	stateMask = 1<<stateBits - 1
)

// Breaker is the circuit breaker of one upstream target or service. Its methods are safe for
// concurrent use. A nil *Breaker admits every request, so a caller need not branch on whether
// the entity has one configured.
type Breaker struct {
	// word is the state and a generation bumped by every transition. Allow hands it out in the
	// Ticket and Done compares it, so one atomic load tells whether a result still belongs to
	// the current state: a request admitted while closed that ends after the breaker opened,
	// or a probe of an earlier half-open period, is dropped instead of counted.
	word atomic.Uint64
	// Every Allow reads word; keep it off the cache line that every Done writes.
	_ [64]byte

	consec atomic.Int64 // failures in a row while closed
	// openUntil is when an open breaker may turn half-open, in nanoseconds since origin. It is
	// an atomic apart from mu so that failing fast while open takes no lock either.
	openUntil atomic.Int64
	win       window // kept only when ratio is set: it costs a clock read per result

	name     string
	cfg      Config
	ratio    bool
	now      func() time.Time
	realTime bool // now is time.Now, so sinceOrigin may read the monotonic clock alone
	onChange func(Change)
	origin   time.Time

	mu         sync.Mutex
	since      time.Time // when the current state was entered
	reason     string    // why it was entered
	probes     int       // half-open tickets admitted and not yet done
	successes  int       // probe successes in this half-open period
	pending    []Change  // transitions not yet given to onChange, oldest first
	delivering bool      // a goroutine is draining pending
}

// New returns a closed breaker. cfg should have passed Validate; New applies WithDefaults.
// name identifies the breaker in its Changes, for logs and metrics.
func New(name string, cfg Config, opts Options) *Breaker {
	cfg = cfg.WithDefaults()
	now, realTime := opts.Now, opts.Now == nil
	if realTime {
		now = time.Now
	}
	b := &Breaker{
		win:      newWindow(int64(cfg.Window)),
		name:     name,
		cfg:      cfg,
		ratio:    cfg.ErrorRatio > 0,
		now:      now,
		realTime: realTime,
		onChange: opts.OnChange,
		origin:   now(),
	}
	b.since = b.origin
	return b
}

// Name is the name given to New.
func (b *Breaker) Name() string { return b.name }

// Config is the breaker's config, defaults filled.
func (b *Breaker) Config() Config { return b.cfg }

// Ticket is one admitted request: call Done exactly once when it ends. It is a small value that
// carries the state and generation it was admitted under; the zero Ticket's Done does nothing.
type Ticket struct {
	b    *Breaker
	word uint64
}

// Allow asks whether a request may go to the upstream. false means fail fast: the breaker is
// open, or half-open with every probe slot taken.
func (b *Breaker) Allow() (Ticket, bool) {
	if b == nil {
		return Ticket{}, true
	}
	switch w := b.word.Load(); State(w & stateMask) {
	case Closed:
		return Ticket{b: b, word: w}, true
	case Open:
		if b.sinceOrigin() < b.openUntil.Load() {
			return Ticket{}, false
		}
	}
	return b.allowSlow()
}

func (b *Breaker) allowSlow() (Ticket, bool) {
	b.mu.Lock()
	w := b.word.Load()
	changed := false
	switch State(w & stateMask) {
	case Closed:
		// A transition since the caller's load: closed again already.
		b.mu.Unlock()
		return Ticket{b: b, word: w}, true
	case Open:
		now := b.now()
		if b.elapsed(now) < b.openUntil.Load() {
			b.mu.Unlock()
			return Ticket{}, false
		}
		w = b.transition(HalfOpen, now, "open for "+b.cfg.OpenFor.String())
		changed = true
	}
	ok := b.probes < b.cfg.HalfOpenRequests
	if ok {
		b.probes++
	}
	b.mu.Unlock()
	if changed {
		b.deliver()
	}
	if !ok {
		return Ticket{}, false
	}
	return Ticket{b: b, word: w}, true
}

// Done reports how the request ended: success is whatever the caller counts as the upstream
// working (typically a response below 500 that arrived in time).
func (t Ticket) Done(success bool) {
	switch {
	case t.b == nil:
	case State(t.word&stateMask) == Closed:
		t.b.record(t.word, success)
	default:
		t.b.probeDone(t.word, success)
	}
}

// record counts a result of the closed state; lock-free unless it opens the breaker.
func (b *Breaker) record(word uint64, success bool) {
	if b.word.Load() != word {
		return // admitted before a transition: it says nothing about the current period
	}
	var e uint64
	if b.ratio {
		e = b.win.epoch(b.sinceOrigin())
		b.win.add(e, !success)
	}
	if success {
		// Load before Store so that a run of successes does not write the shared line.
		if b.consec.Load() != 0 {
			b.consec.Store(0)
		}
		return
	}
	n := b.consec.Add(1)
	if m := b.cfg.ConsecutiveFailures; m > 0 && n >= int64(m) {
		b.trip(word, cause{consec: n})
		return
	}
	if b.ratio {
		reqs, fails := b.win.sum(e)
		if reqs > 0 && reqs >= uint64(b.cfg.MinRequests) && float64(fails)/float64(reqs) >= b.cfg.ErrorRatio {
			b.trip(word, cause{reqs: reqs, fails: fails})
		}
	}
}

// cause is what tripped a breaker, kept as numbers so that the failures that lose the race to
// open it format nothing.
type cause struct {
	consec      int64
	reqs, fails uint64
}

func (b *Breaker) trip(word uint64, c cause) {
	b.mu.Lock()
	if b.word.Load() != word {
		// Another failure of the same period opened it first, or a Reset came between.
		b.mu.Unlock()
		return
	}
	var reason string
	if c.consec > 0 {
		reason = strconv.FormatInt(c.consec, 10) + " consecutive failures"
		if c.consec == 1 {
			reason = "1 failure"
		}
	} else {
		reason = fmt.Sprintf("error ratio %.2f >= %.2f over %s (%d requests)",
			float64(c.fails)/float64(c.reqs), b.cfg.ErrorRatio, b.cfg.Window, c.reqs)
	}
	b.transition(Open, b.now(), reason)
	b.mu.Unlock()
	b.deliver()
}

// probeDone counts the result of a half-open probe.
func (b *Breaker) probeDone(word uint64, success bool) {
	b.mu.Lock()
	if b.word.Load() != word {
		// A probe of an earlier half-open period; its slot went with that period.
		b.mu.Unlock()
		return
	}
	if b.probes > 0 { // guards a second Done on one ticket, which the contract forbids
		b.probes--
	}
	changed := true
	switch {
	case !success:
		b.transition(Open, b.now(), "probe failed")
	case b.successes+1 >= b.cfg.HalfOpenRequests:
		reason := "probe succeeded"
		if n := b.cfg.HalfOpenRequests; n > 1 {
			reason = strconv.Itoa(n) + " probes succeeded"
		}
		b.transition(Closed, b.now(), reason)
	default:
		b.successes++
		changed = false
	}
	b.mu.Unlock()
	if changed {
		b.deliver()
	}
}

// Reset closes the breaker and clears its counters, as an admin action. A breaker that was not
// closed reports the change (reason "reset"); one that was closed has nothing to report, but
// results of requests admitted before the reset are still dropped.
func (b *Breaker) Reset() {
	b.mu.Lock()
	if w := b.word.Load(); State(w&stateMask) == Closed {
		b.consec.Store(0)
		b.win.clear()
		b.word.Store(next(w, Closed))
		b.mu.Unlock()
		return
	}
	b.transition(Closed, b.now(), "reset")
	b.mu.Unlock()
	b.deliver()
}

// transition moves to state to in a new generation and queues the Change; b.mu is held.
// It returns the new state word.
func (b *Breaker) transition(to State, now time.Time, reason string) uint64 {
	old := b.word.Load()
	// Everything a ticket of the new word may read is set before the word is published.
	switch to {
	case Closed:
		b.consec.Store(0)
		b.win.clear()
	case Open:
		b.openUntil.Store(b.elapsed(now) + int64(b.cfg.OpenFor))
	}
	// Probe slots belong to one half-open period; the probes still out are stale from here on.
	b.probes, b.successes = 0, 0
	w := next(old, to)
	b.word.Store(w)
	b.since, b.reason = now, reason
	if b.onChange != nil {
		b.pending = append(b.pending, Change{Name: b.name, From: State(old & stateMask), To: to, Reason: reason, At: now})
	}
	return w
}

func next(w uint64, to State) uint64 { return (w>>stateBits+1)<<stateBits | uint64(to) }

// deliver gives queued Changes to onChange without holding b.mu. One goroutine drains at a
// time, so OnChange sees transitions in the order they happened even when they were made on
// different goroutines.
func (b *Breaker) deliver() {
	if b.onChange == nil {
		return
	}
	b.mu.Lock()
	if b.delivering {
		b.mu.Unlock()
		return // the drainer will pick ours up
	}
	b.delivering = true
	for len(b.pending) > 0 {
		c := b.pending[0]
		b.pending = b.pending[1:]
		b.mu.Unlock()
		b.notify(c)
		b.mu.Lock()
	}
	b.pending = nil
	b.delivering = false
	b.mu.Unlock()
}

// notify calls onChange and, should it panic, gives up the drainer's role so that a later
// transition can deliver what is left.
func (b *Breaker) notify(c Change) {
	ok := false
	defer func() {
		if !ok {
			b.mu.Lock()
			b.delivering = false
			b.mu.Unlock()
		}
	}()
	b.onChange(c)
	ok = true
}

// State is the current state. An open breaker whose OpenFor has passed still reads Open until
// the next Allow turns it half-open.
func (b *Breaker) State() State { return State(b.word.Load() & stateMask) }

// Status is a breaker's state for the admin API.
type Status struct {
	State  State
	Since  time.Time // when State was entered (New's time if it never left closed)
	Reason string    // why State was entered; "" if it never left closed
	// ConsecutiveFailures is the current run of failures; it is kept while open and half-open
	// to show what tripped the breaker, and cleared on closing.
	ConsecutiveFailures int
	// WindowRequests and WindowFailures are the results in the ratio's window; always 0 when
	// ErrorRatio is off, since the window is then not kept.
	WindowRequests, WindowFailures int
	// RetryAt is, while open, when the next Allow turns the breaker half-open; it may be in the
	// past if no request has come since. Zero in other states.
	RetryAt time.Time
}

// Status reports the breaker's state and counters.
func (b *Breaker) Status() Status {
	now := b.now()
	b.mu.Lock()
	s := Status{
		State:               State(b.word.Load() & stateMask),
		Since:               b.since,
		Reason:              b.reason,
		ConsecutiveFailures: int(b.consec.Load()),
	}
	if s.State == Open {
		s.RetryAt = b.origin.Add(time.Duration(b.openUntil.Load()))
	}
	b.mu.Unlock()
	if b.ratio {
		reqs, fails := b.win.sum(b.win.epoch(b.elapsed(now)))
		s.WindowRequests, s.WindowFailures = int(reqs), int(fails)
	}
	return s
}

// elapsed is now in nanoseconds since the breaker was made, on the monotonic clock when now
// comes from time.Now.
func (b *Breaker) elapsed(now time.Time) int64 { return int64(now.Sub(b.origin)) }

// sinceOrigin is elapsed(b.now()) for the lock-free paths. On the real clock it skips the wall
// clock, which time.Now also reads: half the cost of a clock read that every result pays when
// the ratio trigger is on.
func (b *Breaker) sinceOrigin() int64 {
	if b.realTime {
		return int64(time.Since(b.origin))
	}
	return b.elapsed(b.now())
}
