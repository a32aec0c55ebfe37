package discovery

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultMaxInFlight bounds the lookups a Watcher runs at once.
const DefaultMaxInFlight = 8

// WatcherOptions tunes a Watcher. The zero value is ready to use.
type WatcherOptions struct {
	// Logger receives a Warn when a name is served stale or drops out, an Info when it comes
	// back. nil: discard.
	Logger *slog.Logger
	// MaxInFlight bounds the lookups running at once, so one slow nameserver delays only
	// that many names. Default DefaultMaxInFlight.
	MaxInFlight int
}

// Watcher keeps a set of targets resolved, re-resolving each name when its TTL runs out, as
// Kong's balancer does with its renewal heap (kong/runloop/balancer/targets.lua).
//
// One goroutine owns a timer heap of names, like Kong's single renewal timer, rather than a
// goroutine per name: the state has one owner and onChange is called from that goroutine
// only, one call at a time, so the gateway can rebuild a balancer without locking. The DNS
// queries themselves run on short-lived goroutines, at most MaxInFlight at once, so a
// nameserver that times out does not hold up the renewal of every other name.
//
// Targets that share a name are resolved once per TTL (Kong's dns_no_sync off) and each gets
// the answer with its own port and weight.
type Watcher struct {
	r           *Resolver
	onChange    func(Result)
	log         *slog.Logger
	maxInFlight int

	// ctx is the Watcher's own lifetime, cancelled by Close, not a request's: the lookups it
	// starts stop with it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the run loop and its lookups
	done   chan lookupDone
	wake   chan struct{} // len 1: Set changed the heap
	once   sync.Once

	setMu sync.Mutex // serialises Set, whose lookups run without mu

	mu       sync.Mutex // guards the rest; never held across a lookup or onChange
	names    map[string]*entry
	keys     map[Key]*keyState
	queue    queue
	inFlight int
	closed   bool
}

// entry is one watched name and the targets that use it.
type entry struct {
	name      string // as the first target spelled it; it is what is looked up
	keys      map[Key]*keyState
	next      time.Time // when to look it up again
	index     int       // position in the queue; -1 when not queued
	good      *answer   // last successful answer
	goodUntil time.Time // when good's TTL runs out
	cur       served
	resolved  bool // cur holds a lookup's outcome
}

// served is what an entry currently serves to its targets.
type served struct {
	a     answer // zero when err is set
	err   error
	ttl   time.Duration
	stale bool
}

type keyState struct {
	res Result
	set bool // res holds an answer; later changes are reported
}

type lookupDone struct {
	e   *entry
	a   answer
	err error
	at  time.Time
}

// NewWatcher starts a Watcher that resolves with r and calls onChange when the addresses of a
// watched target change. onChange runs on the Watcher's goroutine, never two at once; it must
// not call Close, and should return quickly: renewals wait for it. It may, rarely, report a
// target that a concurrent Set has just removed; ignore targets you no longer use.
func NewWatcher(r *Resolver, onChange func(Result), opts WatcherOptions) *Watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{
		r:           r,
		onChange:    onChange,
		log:         opts.Logger,
		maxInFlight: opts.MaxInFlight,
		ctx:         ctx,
		cancel:      cancel,
		done:        make(chan lookupDone),
		wake:        make(chan struct{}, 1),
		names:       map[string]*entry{},
		keys:        map[Key]*keyState{},
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.maxInFlight <= 0 {
		w.maxInFlight = DefaultMaxInFlight
	}
	if w.onChange == nil {
		w.onChange = func(Result) {}
	}
	w.wg.Add(1)
	go w.run()
	return w
}

// Set makes targets the full set to watch. Targets no longer in it stop being watched (and
// their names, if no other target uses them); names new to the Watcher are resolved before
// Set returns, so that Current answers for every target at config compile time, as Kong
// resolves the targets when it builds a balancer. The first answer for a target is not
// reported to onChange: read it with Current. Set after Close does nothing.
func (w *Watcher) Set(targets []Key) {
	w.setMu.Lock()
	defer w.setMu.Unlock()

	want := make(map[Key]bool, len(targets))
	for _, k := range targets {
		want[k] = true
	}

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	for k := range w.keys {
		if want[k] {
			continue
		}
		delete(w.keys, k)
		cn := canonicalName(k.Name)
		e := w.names[cn]
		delete(e.keys, k)
		if len(e.keys) == 0 {
			delete(w.names, cn)
			if e.index >= 0 {
				heap.Remove(&w.queue, e.index)
			}
		}
	}
	var fresh []*entry
	for k := range want {
		if _, ok := w.keys[k]; ok {
			continue
		}
		cn := canonicalName(k.Name)
		e := w.names[cn]
		if e == nil {
			e = &entry{name: k.Name, keys: map[Key]*keyState{}, index: -1}
			w.names[cn] = e
			fresh = append(fresh, e)
		}
		ks := &keyState{}
		if e.resolved {
			ks.res, ks.set = e.resultFor(k), true
		}
		e.keys[k] = ks
		w.keys[k] = ks
	}
	w.mu.Unlock()

	// Fresh entries are in the map but not in the queue, so the run loop leaves them alone.
	results := make([]lookupDone, len(fresh))
	sem := make(chan struct{}, w.maxInFlight)
	var wg sync.WaitGroup
	for i, e := range fresh {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a, err := w.r.lookup(w.ctx, e.name)
			results[i] = lookupDone{e: e, a: a, err: err, at: time.Now()}
		}()
	}
	wg.Wait()

	w.mu.Lock()
	if !w.closed {
		for _, d := range results {
			w.applyLocked(d) // first answers: nothing to report
		}
	}
	w.mu.Unlock()
	w.poke()
}

// Current is the last answer for a watched target: false if k is not watched (or, during a
// concurrent Set, not resolved yet).
func (w *Watcher) Current(k Key) (Result, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ks, ok := w.keys[k]
	if !ok || !ks.set {
		return Result{}, false
	}
	return cloneResult(ks.res), true
}

// Close stops the Watcher and waits for its goroutines; onChange is not called once Close
// has returned. Close is idempotent.
func (w *Watcher) Close() {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		w.cancel()
	})
	w.wg.Wait()
}

func (w *Watcher) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run starts the lookups that are due and applies their answers.
func (w *Watcher) run() {
	defer w.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.mu.Lock()
		now := time.Now()
		for w.inFlight < w.maxInFlight && len(w.queue) > 0 && !w.queue[0].next.After(now) {
			e := heap.Pop(&w.queue).(*entry)
			w.inFlight++
			w.wg.Add(1)
			go w.lookup(e)
		}
		wait := time.Hour
		if len(w.queue) > 0 && w.inFlight < w.maxInFlight {
			wait = w.queue[0].next.Sub(now)
		}
		w.mu.Unlock()
		timer.Reset(wait) // since Go 1.23 Reset discards a value that was not received

		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		case d := <-w.done:
			w.mu.Lock()
			w.inFlight--
			changed := w.applyLocked(d)
			w.mu.Unlock()
			w.notify(changed)
		}
	}
}

func (w *Watcher) lookup(e *entry) {
	defer w.wg.Done()
	a, err := w.r.lookup(w.ctx, e.name)
	select {
	case w.done <- lookupDone{e: e, a: a, err: err, at: time.Now()}:
	case <-w.ctx.Done():
	}
}

// applyLocked takes a lookup's outcome, with Kong's rules for what to serve, schedules the
// next lookup and returns the targets whose addresses changed.
func (w *Watcher) applyLocked(d lookupDone) []Result {
	e := d.e
	if w.names[canonicalName(e.name)] != e {
		return nil // removed by Set while the lookup ran
	}
	prev, first := e.cur, !e.resolved
	e.resolved = true
	switch {
	case d.err == nil:
		e.good, e.goodUntil = &d.a, d.at.Add(d.a.ttl)
		e.cur = served{a: d.a, ttl: d.a.ttl}
		if !first && prev.err != nil {
			w.log.Info("dns name resolves again", "name", e.name, "kind", d.a.kind)
		}
	case errors.Is(d.err, ErrNotFound):
		// Kong replaces its cache entry on NXDOMAIN at once: no stale answer.
		e.good = nil
		e.cur = served{err: d.err, ttl: w.r.notFound}
		if first || prev.err == nil {
			w.log.Warn("dns name does not resolve; its targets are out of rotation", "name", e.name, "err", d.err)
		}
	case e.good != nil && d.at.Before(e.goodUntil.Add(w.r.staleTTL)):
		e.cur = served{a: *e.good, ttl: w.r.errorTTL, stale: true}
		if !prev.stale {
			w.log.Warn("dns refresh failed; serving the last answer", "name", e.name, "err", d.err,
				"stale_until", e.goodUntil.Add(w.r.staleTTL))
		}
	default:
		e.good = nil
		e.cur = served{err: d.err, ttl: w.r.errorTTL}
		if first || prev.err == nil {
			w.log.Warn("dns lookup failed; its targets are out of rotation", "name", e.name, "err", d.err)
		}
	}
	if e.cur.err != nil || e.cur.a.ttl != NeverExpires {
		e.next = d.at.Add(e.cur.ttl)
		heap.Push(&w.queue, e)
	}

	var changed []Result
	for k, ks := range e.keys {
		res := e.resultFor(k)
		report := ks.set && !slices.Equal(res.Addrs, ks.res.Addrs)
		ks.res, ks.set = res, true
		if report {
			changed = append(changed, cloneResult(res))
		}
	}
	slices.SortFunc(changed, func(a, b Result) int { return compareKey(a.Key, b.Key) })
	return changed
}

// notify calls onChange for the targets still watched.
func (w *Watcher) notify(changed []Result) {
	for _, res := range changed {
		w.mu.Lock()
		_, ok := w.keys[res.Key]
		closed := w.closed
		w.mu.Unlock()
		if closed {
			return
		}
		if ok {
			w.onChange(res)
		}
	}
}

func (e *entry) resultFor(k Key) Result {
	res := Result{Key: k, Name: k.Name, TTL: e.cur.ttl, Err: e.cur.err, Stale: e.cur.stale}
	if e.cur.err == nil {
		res.Kind = e.cur.a.kind
		res.Addrs = e.cur.a.expand(k.Port, k.Weight)
	}
	return res
}

func cloneResult(r Result) Result {
	r.Addrs = slices.Clone(r.Addrs)
	return r
}

func compareKey(a, b Key) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Weight, b.Weight))
}

// queue is a min-heap of entries by next lookup time.
type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.index = -1
	return e
}
