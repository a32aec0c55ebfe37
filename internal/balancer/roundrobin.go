package balancer

import "sync/atomic"

// RoundRobin is nginx's smooth weighted round-robin, precomputed into a schedule at compile
// time so that a pick is one atomic increment: no lock, no burst to the heaviest target.
type RoundRobin struct {
	targets  []*Target
	usable   []*Target // weight > 0, for the slow path when the scheduled target is down
	schedule []uint16  // indexes into targets
	next     atomic.Uint64
}

// maxSchedule bounds the precomputed schedule; larger weight sums are scaled down
// proportionally, which keeps the ratios within one part in maxSchedule/len(targets).
const maxSchedule = 1 << 16

// NewRoundRobin builds the schedule for targets (weight 0 targets never get traffic).
func NewRoundRobin(targets []*Target) *RoundRobin {
	rr := &RoundRobin{targets: targets, usable: weighted(targets)}
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

// Pick returns the next target of the schedule. When that target is down, the pick falls back
// to a weighted draw among the healthy ones (seeded by the ticket, so still lock-free):
// handing the slot to the schedule's next target instead would give a down target's whole
// share to whichever target follows it.
func (rr *RoundRobin) Pick() (*Target, error) {
	if len(rr.schedule) == 0 {
		return nil, ErrNoTarget
	}
	n := rr.next.Add(1) - 1
	t := rr.targets[rr.schedule[n%uint64(len(rr.schedule))]]
	if !t.down.Load() {
		return t, nil
	}
	if t = pickHealthy(rr.usable, mix64(n)); t == nil {
		return nil, ErrNoTarget
	}
	return t, nil
}

// Targets lists the targets in configuration order.
func (rr *RoundRobin) Targets() []*Target { return rr.targets }

// roundRobinPicker is RoundRobin behind Picker. RoundRobin keeps its key-less Pick() so that
// its callers outside this package compile unchanged until they move to Picker; once they
// have, RoundRobin.Pick can take the Key itself and this adapter goes.
type roundRobinPicker struct{ *RoundRobin }

// Pick ignores the key: round-robin does not hash.
func (p roundRobinPicker) Pick(Key) (*Target, error) { return p.RoundRobin.Pick() }

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
