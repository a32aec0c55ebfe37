package balancer

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand (not safe for concurrent use).
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time      { return c.now }
func (c *fakeClock) Add(d time.Duration) { c.now = c.now.Add(d) }
func newClock() *fakeClock               { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }
func latencyOpts(c *fakeClock, seed uint64) Options {
	return Options{Rand: rand.NewPCG(seed, 1), Now: c.Now}
}

// TestLatencyPrefersFaster runs 10,000 requests, each Done with its target's response time,
// one millisecond apart. With two random candidates per pick the fastest target wins every
// pair it is in, the slowest none.
func TestLatencyPrefersFaster(t *testing.T) {
	tests := []struct {
		name     string
		weights  []int
		took     []time.Duration
		minShare []float64
		maxShare []float64
	}{
		{"fast and slow", []int{1, 1}, []time.Duration{time.Millisecond, 20 * time.Millisecond},
			[]float64{0.99, 0}, []float64{1, 0.01}},
		// Pairs are uniform: the fastest is in 2 of 3, the middle wins 1 of 3.
		{"three speeds", []int{1, 1, 1}, []time.Duration{time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond},
			[]float64{0.63, 0.30, 0}, []float64{0.70, 0.37, 0.01}},
		// Score is average / weight: 3 × weight beats 2 × slower.
		{"weight offsets latency", []int{1, 3}, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
			[]float64{0, 0.99}, []float64{0.01, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			ts := mkTargets(tc.weights...)
			took := map[*Target]time.Duration{}
			for i, tg := range ts {
				took[tg] = tc.took[i]
			}
			p := NewLatency(ts, latencyOpts(clock, 7))
			counts := map[*Target]int{}
			const n = 10000
			for i := 0; i < n; i++ {
				tg, err := p.Pick(Key{})
				if err != nil {
					t.Fatal(err)
				}
				counts[tg]++
				p.Done(tg, took[tg], false)
				clock.Add(time.Millisecond)
			}
			for i, tg := range ts {
				got := float64(counts[tg]) / n
				if got < tc.minShare[i] || got > tc.maxShare[i] {
					t.Errorf("target %d (%v): share %.3f, want %.2f–%.2f", i, tc.took[i], got, tc.minShare[i], tc.maxShare[i])
				}
			}
		})
	}
}

// TestLatencyIdleTargetRetried: a slow target that loses every comparison gets no traffic and
// so no new samples; its score decays with time until it is tried again (Kong's decay).
func TestLatencyIdleTargetRetried(t *testing.T) {
	clock := newClock()
	ts := mkTargets(1, 1)
	slow, fast := ts[0], ts[1]
	p := NewLatency(ts, latencyOpts(clock, 1))
	p.Done(slow, 100*time.Millisecond, false)
	p.Done(fast, time.Millisecond, false)
	// The fast target stays busy, so its average stays fresh; the slow one's decays:
	// 100ms × e^(-td/10s) falls below 1ms after about 46s.
	for step := time.Duration(0); step < time.Minute; step += 10 * time.Millisecond {
		clock.Add(10 * time.Millisecond)
		tg, err := p.Pick(Key{})
		if err != nil {
			t.Fatal(err)
		}
		if tg == slow {
			if step < 40*time.Second {
				t.Fatalf("slow target retried after %v, before its average decayed", step)
			}
			return
		}
		p.Done(tg, time.Millisecond, false)
	}
	t.Error("idle slow target not retried within a minute")
}

func TestLatencyAverage(t *testing.T) {
	clock := newClock()
	tg := mkTargets(1)[0]
	p := NewLatency([]*Target{tg}, latencyOpts(clock, 1))
	avg := func() float64 { return math.Float64frombits(tg.ewma.Load()) }

	// The first sample is the average.
	p.Done(tg, 8*time.Millisecond, false)
	if got := avg(); got != float64(8*time.Millisecond) {
		t.Fatalf("after first sample: %v, want 8ms", time.Duration(got))
	}
	// A sample 10s later (one decay time) keeps e^-1 of the old average.
	clock.Add(10 * time.Second)
	p.Done(tg, 2*time.Millisecond, false)
	want := 8e6*math.Exp(-1) + 2e6*(1-math.Exp(-1))
	if got := avg(); math.Abs(got-want) > 1 {
		t.Fatalf("after 10s: %v, want %v", time.Duration(got), time.Duration(want))
	}
	// A sample at the same instant does not move it.
	p.Done(tg, time.Hour, false)
	if got := avg(); math.Abs(got-want) > 1 {
		t.Fatalf("same instant: %v, want %v", time.Duration(got), time.Duration(want))
	}
}

// TestLatencyFailuresAreSlow: a target that refuses connections answers in microseconds, and
// must not look like the fastest.
func TestLatencyFailuresAreSlow(t *testing.T) {
	clock := newClock()
	ts := mkTargets(1, 1)
	broken, ok := ts[0], ts[1]
	p := NewLatency(ts, latencyOpts(clock, 3))
	counts := map[*Target]int{}
	for range 1000 {
		tg, err := p.Pick(Key{})
		if err != nil {
			t.Fatal(err)
		}
		counts[tg]++
		if tg == broken {
			p.Done(tg, 10*time.Microsecond, true)
		} else {
			p.Done(tg, 5*time.Millisecond, false)
		}
		clock.Add(time.Millisecond)
	}
	if counts[broken] > 5 {
		t.Errorf("failing target picked %d times of 1000 (ok target %d)", counts[broken], counts[ok])
	}
}
