// Package balancer picks the target of an upstream for each request. Picks are pure: no I/O,
// no locks on the hot path, so they benchmark and fuzz alone.
//
// Each of Kong's algorithms (upstream.algorithm) is a small type behind one interface, as
// Caddy's selection policies are (reverseproxy/selectionpolicies.go): RoundRobin,
// LeastConnections, Ring (consistent-hashing), Latency, plus two extensions of ours, Random
// and ip-hash (a Ring keyed by the client address). New builds the one an upstream names.
//
// Pickers are immutable once built; the only state that changes while they serve lives in
// atomics on each Target (health flag, requests in flight, response-time average), so a
// health check or a finished request never rebuilds a picker and a pick never takes a lock.
package balancer

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// ErrNoTarget is returned when no target can take the request: none configured, every target
// has weight 0, or every target is marked unhealthy. The proxy answers 503 (Kong: "failure to
// get a peer from the ring-balancer").
var ErrNoTarget = errors.New("balancer: no target available")

// Target is one instance of an upstream.
//
// A Target carries atomics, so it is used by pointer and never copied once a picker holds it.
type Target struct {
	ID     string
	Host   string // name or IP as configured (IPv6 without brackets)
	Port   int
	Addr   string // host:port to dial
	Weight int    // Kong's 0–65535; 0 = never picked
	// Index is the target's position in its upstream's target list, set by whoever builds
	// the list; callers keep per-target data (connection pools) in slices indexed by it.
	Index int

	// down is the health flag, inverted so that the zero value is a healthy target.
	down atomic.Bool
	// inflight counts requests picked by least-connections and not yet Done.
	inflight atomic.Int64
	// ewma is the latency picker's decaying average response time, float64 nanoseconds in
	// bits; touched is when it was last updated (Unix nanoseconds, 0 = never).
	ewma    atomic.Uint64
	touched atomic.Int64
}

// SetHealthy marks the target up or down. Every picker reads the flag on each pick, so health
// checks flip it without rebuilding anything; a down target is skipped as if it had weight 0.
func (t *Target) SetHealthy(ok bool) { t.down.Store(!ok) }

// Healthy reports the flag set by SetHealthy (true for a new target).
func (t *Target) Healthy() bool { return !t.down.Load() }

// InFlight is the number of requests least-connections has sent to the target and not yet
// been told are Done (for metrics and the admin API; 0 under other algorithms).
func (t *Target) InFlight() int64 { return t.inflight.Load() }

// Key is what a hashing pick needs, computed by the proxy once per request without allocating:
// KeyOf/KeyOfString of the first non-empty hash input (hash_on, then hash_fallback), or the
// zero Key when there is none. Pickers that do not hash ignore it.
type Key struct {
	// Hash is the input's hash. The ring uses its low 32 bits, which KeyOf fills with the
	// xxHash32 Kong uses, so that a key lands on the same target as under Kong.
	Hash uint64
	// Valid is false when the request had no hash input. Kong then hashes the empty string
	// (balancer/init.lua: get_value_to_hash(...) or ""), sending every such request to one
	// target; the ring does the same.
	Valid bool
}

// KeyOf hashes a hash input (consumer id, client IP as text, header value, cookie, path,
// query argument or URI capture, as Kong reads them) into a Key.
func KeyOf(b []byte) Key { return Key{Hash: uint64(xxh32(b)), Valid: true} }

// KeyOfString is KeyOf for a string, without converting it.
func KeyOfString(s string) Key { return Key{Hash: uint64(xxh32(s)), Valid: true} }

// Picker chooses the target of one try of a request. Implementations are safe for concurrent
// use and never block.
type Picker interface {
	// Pick returns the target for this try, or ErrNoTarget when nothing can be picked.
	// Pickers that track load (see Feedback) count the request from here until Done.
	Pick(k Key) (*Target, error)
	// Targets lists the targets in configuration order.
	Targets() []*Target
}

// Feedback is implemented by the pickers that learn from finished requests: least-connections
// (requests in flight) and latency (response time). The proxy calls Done exactly once for
// every target Pick returned to it, retries included, when the try ends: took is the time
// from connecting to the end of the response, failed tells a connection error or timeout.
// Other pickers do not implement it, so the proxy skips the call for them.
type Feedback interface {
	Done(t *Target, took time.Duration, failed bool)
}

// Counter is implemented by the pickers whose Pick counts the target until Done
// (least-connections). The proxy calls Claim for a target it chose without Pick, and
// Discard for a picked target it did not use (a retry skipping a target it already tried).
type Counter interface {
	Claim(t *Target)
	Discard(t *Target)
}

// Options tune the pickers New builds; the zero value is Kong's defaults.
type Options struct {
	// Slots is the size of the consistent-hashing ring: Kong's upstream.slots (10–65536,
	// default 10000; 0 here means the default). Kong's ring raises values below 1000 to 1000
	// (consistent_hashing.lua MIN_CONTINUUM_SIZE), and so does ours.
	Slots int
	// Rand is the randomness of the random and latency pickers. It must be safe for
	// concurrent use when the picker is shared; nil means math/rand/v2's runtime generator,
	// which keeps its state per thread and so needs no lock. Tests inject a seeded source.
	Rand rand.Source
	// Now is the latency picker's clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Algorithms New accepts: Kong's four, then our extensions.
const (
	AlgorithmRoundRobin        = "round-robin"
	AlgorithmLeastConnections  = "least-connections"
	AlgorithmConsistentHashing = "consistent-hashing"
	AlgorithmLatency           = "latency"
	AlgorithmRandom            = "random"  // extension: weighted random
	AlgorithmIPHash            = "ip-hash" // extension: the consistent-hashing ring keyed by client IP
)

// New builds the picker for an upstream's algorithm over targets. The only errors are an
// unknown algorithm and a consistent-hashing ring too small for its targets (see NewRing);
// an upstream with no usable target still gets a picker, which answers ErrNoTarget.
func New(algorithm string, targets []*Target, opt Options) (Picker, error) {
	switch algorithm {
	case AlgorithmRoundRobin, "":
		return roundRobinPicker{NewRoundRobin(targets)}, nil
	case AlgorithmLeastConnections:
		return NewLeastConnections(targets), nil
	case AlgorithmConsistentHashing, AlgorithmIPHash:
		return NewRing(targets, opt.Slots)
	case AlgorithmLatency:
		return NewLatency(targets, opt), nil
	case AlgorithmRandom:
		return NewRandom(targets, opt), nil
	}
	return nil, fmt.Errorf("balancer: unknown algorithm %q", algorithm)
}

// Interface guards.
var (
	_ Picker   = roundRobinPicker{}
	_ Picker   = (*LeastConnections)(nil)
	_ Feedback = (*LeastConnections)(nil)
	_ Counter  = (*LeastConnections)(nil)
	_ Picker   = (*Ring)(nil)
	_ Picker   = (*Latency)(nil)
	_ Feedback = (*Latency)(nil)
	_ Picker   = (*Random)(nil)
)

// weighted returns the targets that can ever be picked (weight > 0), so that picks skip the
// others without looking at them.
func weighted(targets []*Target) []*Target {
	var ts []*Target
	for _, t := range targets {
		if t.Weight > 0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// pickHealthy is the slow path shared by the pickers whose first choice was down: a weighted
// draw among the healthy targets of ts (all of weight > 0), driven by r. It is O(len(ts)) and
// only runs while some target is down, so the common path stays one lookup. It returns nil
// when no target is healthy.
func pickHealthy(ts []*Target, r uint64) *Target {
	var total uint64
	for _, t := range ts {
		if !t.down.Load() {
			total += uint64(t.Weight)
		}
	}
	if total == 0 {
		return nil
	}
	x := bounded(r, total)
	var last *Target
	for _, t := range ts {
		if t.down.Load() {
			continue
		}
		if x < uint64(t.Weight) {
			return t
		}
		x -= uint64(t.Weight)
		last = t
	}
	// A target came back up between the two loops, so x overran the total; any healthy
	// target is a fine answer.
	return last
}

// bounded maps a uniform 64-bit r onto [0, n) by Lemire's multiply-shift: no division and a
// bias below n/2^64, far under anything a balancer can notice.
func bounded(r, n uint64) uint64 {
	hi, _ := bits.Mul64(r, n)
	return hi
}

// mix64 is splitmix64's finalizer: it turns a counter into a well-spread 64-bit value, so the
// round-robin slow path gets a deterministic "random" draw without a generator.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// runtimeRand is the default rand.Source: math/rand/v2's top-level generator, which is safe
// for concurrent use and keeps its state per thread (no lock, no shared cache line).
type runtimeRand struct{}

func (runtimeRand) Uint64() uint64 { return rand.Uint64() }

func randOf(opt Options) rand.Source {
	if opt.Rand != nil {
		return opt.Rand
	}
	return runtimeRand{}
}
