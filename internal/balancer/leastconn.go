package balancer

import (
	"sync/atomic"
	"time"
)

// LeastConnections sends each request to the target with the fewest requests in flight per
// unit of weight, as Kong's least-connections does: the score is (in flight + 1) / weight, the
// "+1" making the heaviest target win among idle ones rather than the first. Weights therefore
// shape the spread of concurrent requests; with no concurrency at all (each request Done
// before the next Pick) the heaviest target takes every request, in Kong as here.
//
// There is no heap (Kong's) and no lock: the counts are atomics on the targets and a pick
// scans the targets, O(n) atomic loads of about a nanosecond each, which is fine up to a few
// hundred targets, beyond what an upstream has. Ties go round-robin. Two concurrent picks may
// both see the same minimum and choose the same target; the counts then correct the next
// picks, which is all a balancer needs.
type LeastConnections struct {
	targets []*Target
	usable  []*Target // weight > 0
	next    atomic.Uint64
}

// NewLeastConnections builds the picker (weight 0 targets never get traffic).
func NewLeastConnections(targets []*Target) *LeastConnections {
	return &LeastConnections{targets: targets, usable: weighted(targets)}
}

// Pick returns the healthy target with the lowest (in flight + 1) / weight and counts the
// request against it until Done. Ties go round-robin among the tied targets: the k-th of them
// for a rotating k, remembered during the scan (a second scan only past 32 ties). Starting a
// single scan at a rotating place would be simpler but would hand a down target's turns to
// the target after it.
func (lc *LeastConnections) Pick(Key) (*Target, error) {
	var best *Target
	var bestLoad int64
	var tied [32]*Target // on the stack
	ties := 0
	for _, t := range lc.usable {
		if t.down.Load() {
			continue
		}
		load := lcLoad(t)
		// load/w against bestLoad/bestW without division; both sides stay far below 2^63.
		if best != nil {
			l, r := load*int64(best.Weight), bestLoad*int64(t.Weight)
			if l > r {
				continue
			}
			if l == r {
				if ties < len(tied) {
					tied[ties] = t
				}
				ties++
				continue
			}
		}
		best, bestLoad = t, load
		tied[0], ties = t, 1
	}
	if best == nil {
		return nil, ErrNoTarget
	}
	if ties > 1 {
		k := int((lc.next.Add(1) - 1) % uint64(ties))
		if k < len(tied) {
			best = tied[k]
		} else {
			best = lc.kthTied(best, bestLoad, k)
		}
	}
	best.inflight.Add(1)
	return best, nil
}

// kthTied finds the k-th healthy target scoring bestLoad/best.Weight, or keeps best when
// counts moved since the first scan and fewer ties remain.
func (lc *LeastConnections) kthTied(best *Target, bestLoad int64, k int) *Target {
	for _, t := range lc.usable {
		if t.down.Load() || lcLoad(t)*int64(best.Weight) != bestLoad*int64(t.Weight) {
			continue
		}
		if k == 0 {
			return t
		}
		k--
	}
	return best
}

// lcLoad is the numerator of the score. A negative count (Done called too often) must not
// make a target a sink.
func lcLoad(t *Target) int64 { return max(t.inflight.Load(), 0) + 1 }

// Done releases the request Pick counted against t.
func (lc *LeastConnections) Done(t *Target, _ time.Duration, _ bool) { t.inflight.Add(-1) }

// Targets lists the targets in configuration order.
func (lc *LeastConnections) Targets() []*Target { return lc.targets }

// Claim counts t as picked although Pick did not choose it (a retry sent to a target the
// picker would not have chosen), so that the Done that follows keeps the count balanced.
func (lc *LeastConnections) Claim(t *Target) { t.inflight.Add(1) }

// Discard undoes a Pick whose target is not used after all.
func (lc *LeastConnections) Discard(t *Target) { t.inflight.Add(-1) }
