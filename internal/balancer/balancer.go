// Package balancer picks the target of an upstream for each request. Picks are pure: no I/O,
// no locks on the hot path, so they benchmark and fuzz alone.
package balancer

import (
	"errors"
	"sync/atomic"
)

// ErrNoTarget is returned when no target can take the request (none configured, or every
// target has weight 0). The proxy answers 503.
var ErrNoTarget = errors.New("balancer: no target available")

// Target is one instance of an upstream.
type Target struct {
	ID     string
	Host   string // name or IP as configured
	Port   int
	Addr   string // host:port to dial
	Weight int
	// Transport is the proxy's connection pool for this target, resolved at compile time so
	// that a pick needs no lookup. Opaque to the balancer.
	Transport any
}

// RoundRobin is nginx's smooth weighted round-robin, precomputed into a schedule at compile
// time so that a pick is one atomic increment: no lock, no burst to the heaviest target.
type RoundRobin struct {
	targets  []*Target
	schedule []uint16 // indexes into targets
	next     atomic.Uint64
}

// maxSchedule bounds the precomputed schedule; larger weight sums are scaled down
// proportionally, which keeps the ratios within one part in maxSchedule/len(targets).
const maxSchedule = 1 << 16

// NewRoundRobin builds the schedule for targets (weight 0 targets never get traffic).
func NewRoundRobin(targets []*Target) *RoundRobin {
	rr := &RoundRobin{targets: targets}
	weights := make([]int, len(targets))
	total := 0
	for i, t := range targets {
		if t.Weight > 0 {
			weights[i] = t.Weight
			total += t.Weight
		}
	}
	if total == 0 {
		return rr
	}
	if g := gcdAll(weights); g > 1 {
		total = 0
		for i := range weights {
			weights[i] /= g
			total += weights[i]
		}
	}
	if total > maxSchedule {
		scaled := 0
		for i, w := range weights {
			if w == 0 {
				continue
			}
			w = w * maxSchedule / total
			if w == 0 {
				w = 1
			}
			weights[i] = w
			scaled += w
		}
		total = scaled
	}
	// nginx's smooth weighted round-robin: each round every target gains its weight, the
	// largest current value wins and pays back the total.
	current := make([]int, len(weights))
	rr.schedule = make([]uint16, 0, total)
	for n := 0; n < total; n++ {
		best := -1
		for i, w := range weights {
			if w == 0 {
				continue
			}
			current[i] += w
			if best < 0 || current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		rr.schedule = append(rr.schedule, uint16(best))
	}
	return rr
}

// Pick returns the next target.
func (rr *RoundRobin) Pick() (*Target, error) {
	if len(rr.schedule) == 0 {
		return nil, ErrNoTarget
	}
	n := rr.next.Add(1) - 1
	return rr.targets[rr.schedule[n%uint64(len(rr.schedule))]], nil
}

// Targets lists the targets in configuration order.
func (rr *RoundRobin) Targets() []*Target { return rr.targets }

func gcdAll(ws []int) int {
	g := 0
	for _, w := range ws {
		if w == 0 {
			continue
		}
		a, b := g, w
		for b != 0 {
			a, b = b, a%b
		}
		g = a
	}
	return g
}
