package balancer

import (
	"math/rand/v2"
	"slices"
)

// Random is weighted random selection, an extension of ours (Kong has none; Caddy's "random"
// and Traefik's WRR are the models). It needs no shared counter at all, so it scales with
// cores better than round-robin, at the price of round-robin's smoothness: over n picks a
// target's share varies by about √n instead of by at most one.
type Random struct {
	targets []*Target
	usable  []*Target // weight > 0
	cum     []uint64  // cum[i] = sum of usable weights 0..i
	rnd     rand.Source
}

// NewRandom builds the picker with opt.Rand (nil: the runtime's generator).
func NewRandom(targets []*Target, opt Options) *Random {
	p := &Random{targets: targets, usable: weighted(targets), rnd: randOf(opt)}
	var sum uint64
	for _, t := range p.usable {
		sum += uint64(t.Weight)
		p.cum = append(p.cum, sum)
	}
	return p
}

// Pick draws a target with probability weight/total; when it is down, it draws again among
// the healthy ones, so their shares stay proportional to their weights.
func (p *Random) Pick(Key) (*Target, error) {
	if len(p.cum) == 0 {
		return nil, ErrNoTarget
	}
	r := p.rnd.Uint64()
	x := bounded(r, p.cum[len(p.cum)-1])
	// The first cumulative sum above x: BinarySearch finds the first >= x+1.
	i, _ := slices.BinarySearch(p.cum, x+1)
	if t := p.usable[i]; !t.down.Load() {
		return t, nil
	}
	if t := pickHealthy(p.usable, mix64(r)); t != nil {
		return t, nil
	}
	return nil, ErrNoTarget
}

// Targets lists the targets in configuration order.
func (p *Random) Targets() []*Target { return p.targets }
