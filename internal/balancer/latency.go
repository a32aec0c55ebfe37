package balancer

import (
	"math"
	"math/rand/v2"
	"time"
)

// Latency is Kong's latency algorithm (kong/runloop/balancer/latency.lua, after Finagle's
// PeakEWMA): each target keeps an exponentially weighted moving average of its response
// times, and a pick draws two distinct targets at random and keeps the one with the lower
// average per unit of weight (power of two choices, as Envoy's least-request). Two random
// candidates instead of the global minimum keep a burst of concurrent picks, all made before
// any of them reports back, from landing on the one fastest target. (Kong's latency.lua
// scores the first two entries of its table in iteration order, which stays the same from
// pick to pick; we draw them, as power of two choices intends.)
//
// The average is time-weighted, as Kong's: a sample taken td after the previous one counts
// for 1 - e^(-td/10s), so a busy target's average moves smoothly and an idle one's first new
// sample replaces it. When scoring, the average also decays towards 0 with the time since it
// was last updated, again as in Kong: a target that lost every comparison and so got no
// traffic looks better and better until it is tried again, rather than starving forever.
// A target with no sample yet scores 0, so new targets are tried at once.
//
// A failed try counts as at least failurePenalty: a refused connection fails in microseconds,
// and counting that as a fast response would send more traffic to a dead target (Kong takes
// connect + response time whatever the outcome, and does exactly that).
//
// State is per target in atomics: Done updates the average with a compare-and-swap loop and
// then stores the time, so a concurrent pick may pair a new average with the previous time,
// which only decays it a little more for that one pick.
type Latency struct {
	targets []*Target
	usable  []*Target // weight > 0
	rnd     rand.Source
	now     func() time.Time
}

const (
	latencyDecay   = 10 * time.Second // Kong's DECAY_TIME
	failurePenalty = time.Second
)

// NewLatency builds the picker, with opt.Rand and opt.Now (nil: the runtime's generator and
// time.Now).
func NewLatency(targets []*Target, opt Options) *Latency {
	p := &Latency{targets: targets, usable: weighted(targets), rnd: randOf(opt), now: opt.Now}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// Pick returns the better of two distinct random healthy targets. A down candidate is replaced
// by the next healthy target after it, so the common case costs one random number and two
// atomic loads per candidate.
func (p *Latency) Pick(Key) (*Target, error) {
	n := len(p.usable)
	if n == 0 {
		return nil, ErrNoTarget
	}
	if n == 1 {
		if t := p.usable[0]; !t.down.Load() {
			return t, nil
		}
		return nil, ErrNoTarget
	}
	// Two distinct indexes from one draw: 32 random bits each is plenty for n <= 65535.
	r := p.rnd.Uint64()
	i := int(uint64(uint32(r)) * uint64(n) >> 32)
	j := int(uint64(uint32(r>>32)) * uint64(n-1) >> 32)
	if j >= i {
		j++
	}
	a := p.healthyFrom(i)
	if a == nil {
		return nil, ErrNoTarget
	}
	b := p.healthyFrom(j)
	if b == a {
		return a, nil
	}
	now := p.now().UnixNano()
	if score(b, now) < score(a, now) {
		return b, nil
	}
	return a, nil
}

// healthyFrom returns the first healthy target at or after index i, wrapping; nil if none.
func (p *Latency) healthyFrom(i int) *Target {
	for range p.usable {
		if t := p.usable[i]; !t.down.Load() {
			return t
		}
		if i++; i == len(p.usable) {
			i = 0
		}
	}
	return nil
}

// score is the target's average response time decayed to now, per unit of weight (Kong's
// pick_and_score: ewma / weight).
func score(t *Target, now int64) float64 {
	avg := math.Float64frombits(t.ewma.Load())
	if avg == 0 {
		return 0
	}
	return avg * decayWeight(now-t.touched.Load()) / float64(t.Weight)
}

// decayWeight is e^(-td/DECAY_TIME), the weight an average td old keeps (0 for never touched,
// since then td is the whole Unix time).
func decayWeight(td int64) float64 {
	if td <= 0 {
		return 1
	}
	return math.Exp(-float64(td) / float64(latencyDecay))
}

// Done folds the try's response time into the target's average.
func (p *Latency) Done(t *Target, took time.Duration, failed bool) {
	if failed {
		took = max(took, failurePenalty)
	}
	sample := float64(max(took, 0))
	now := p.now().UnixNano()
	for {
		old := t.ewma.Load()
		keep := 0.0
		if last := t.touched.Load(); last != 0 {
			keep = decayWeight(now - last)
		}
		avg := math.Float64frombits(old)*keep + sample*(1-keep)
		if t.ewma.CompareAndSwap(old, math.Float64bits(avg)) {
			t.touched.Store(now)
			return
		}
	}
}

// Targets lists the targets in configuration order.
func (p *Latency) Targets() []*Target { return p.targets }
