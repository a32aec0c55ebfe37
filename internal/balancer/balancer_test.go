package balancer

import (
	"fmt"
	"testing"
)

func TestRoundRobinRatiosAndSmoothness(t *testing.T) {
	tests := []struct {
		name      string
		weights   []int
		maxStreak int // longest run of the same target allowed
	}{
		{name: "equal", weights: []int{100, 100, 100}, maxStreak: 1},
		{name: "5-1-1 nginx example (a a b a c a a, repeating)", weights: []int{5, 1, 1}, maxStreak: 4},
		{name: "3-2-1", weights: []int{3, 2, 1}, maxStreak: 2},
		{name: "zero weight never picked", weights: []int{10, 0, 10}, maxStreak: 1},
		{name: "single", weights: []int{7}, maxStreak: 1 << 30},
		{name: "large weights scaled", weights: []int{65535, 65535, 1000, 1}, maxStreak: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ts []*Target
			total := 0
			for i, w := range tc.weights {
				ts = append(ts, &Target{ID: fmt.Sprint(i), Weight: w})
				total += w
			}
			rr := NewRoundRobin(ts)
			n := len(rr.schedule) * 10
			counts := map[string]int{}
			streak, last, worst := 0, "", 0
			for i := 0; i < n; i++ {
				tg, err := rr.Pick()
				if err != nil {
					t.Fatal(err)
				}
				counts[tg.ID]++
				if tg.ID == last {
					streak++
				} else {
					streak, last = 1, tg.ID
				}
				worst = max(worst, streak)
			}
			for i, w := range tc.weights {
				want := float64(w) / float64(total)
				got := float64(counts[fmt.Sprint(i)]) / float64(n)
				if d := got - want; d > 0.01 || d < -0.01 {
					t.Errorf("target %d: share %.4f, want %.4f", i, got, want)
				}
			}
			if worst > tc.maxStreak {
				t.Errorf("longest streak %d, want <= %d (not smooth)", worst, tc.maxStreak)
			}
		})
	}
}

func TestRoundRobinNoTargets(t *testing.T) {
	for _, ts := range [][]*Target{nil, {{ID: "a", Weight: 0}}} {
		if _, err := NewRoundRobin(ts).Pick(); err != ErrNoTarget {
			t.Errorf("Pick() error = %v, want ErrNoTarget", err)
		}
	}
}

func BenchmarkRoundRobinPick(b *testing.B) {
	for _, n := range []int{3, 100} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			var ts []*Target
			for i := 0; i < n; i++ {
				ts = append(ts, &Target{ID: fmt.Sprint(i), Weight: 1 + i%7})
			}
			rr := NewRoundRobin(ts)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := rr.Pick(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
