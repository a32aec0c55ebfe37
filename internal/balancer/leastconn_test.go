package balancer

import (
	"strings"
	"testing"
	"time"
)

func TestLeastConnectionsSequential(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		want    string // IDs picked, each request Done before the next
	}{
		// Equal scores: ties go round-robin.
		{"equal weights rotate", []int{1, 1, 1}, "012012012"},
		// (0+1)/w: with no concurrency the heaviest target takes everything, as in Kong.
		{"heaviest wins when idle", []int{1, 3, 2}, "111111"},
		{"zero weight skipped", []int{0, 1, 1}, "121212"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lc := NewLeastConnections(mkTargets(tc.weights...))
			var got strings.Builder
			for range tc.want {
				tg, err := lc.Pick(Key{})
				if err != nil {
					t.Fatal(err)
				}
				got.WriteString(tg.ID)
				lc.Done(tg, 0, false)
			}
			if got.String() != tc.want {
				t.Errorf("picked %s, want %s", got.String(), tc.want)
			}
		})
	}
}

// TestLeastConnectionsSlowFast simulates a fixed number of concurrent clients in ticks:
// requests to each target take a fixed number of ticks, and a client sends its next request
// as soon as one ends. Least-connections keeps the in-flight counts in proportion to the
// weights, so a target's share of requests is weight/duration: the fast target takes most.
func TestLeastConnectionsSlowFast(t *testing.T) {
	tests := []struct {
		name      string
		weights   []int
		ticks     []int // duration of a request to each target
		clients   int
		wantShare []float64 // share of requests, weight_i/ticks_i normalised
	}{
		{"fast and slow, equal weights", []int{1, 1}, []int{1, 10}, 20, []float64{10.0 / 11, 1.0 / 11}},
		{"three speeds", []int{1, 1, 1}, []int{1, 2, 4}, 28, []float64{4.0 / 7, 2.0 / 7, 1.0 / 7}},
		{"weights with equal speed", []int{2, 1}, []int{5, 5}, 30, []float64{2.0 / 3, 1.0 / 3}},
		{"weight against speed", []int{1, 4}, []int{1, 4}, 40, []float64{0.5, 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := mkTargets(tc.weights...)
			dur := map[*Target]int{}
			for i, tg := range ts {
				dur[tg] = tc.ticks[i]
			}
			lc := NewLeastConnections(ts)
			type req struct {
				t   *Target
				end int
			}
			var inflight []req
			counts := map[*Target]int{}
			total := 0
			for tick := 0; total < 20000; tick++ {
				kept := inflight[:0]
				for _, r := range inflight {
					if r.end <= tick {
						lc.Done(r.t, 0, false)
					} else {
						kept = append(kept, r)
					}
				}
				inflight = kept
				for len(inflight) < tc.clients {
					tg, err := lc.Pick(Key{})
					if err != nil {
						t.Fatal(err)
					}
					inflight = append(inflight, req{tg, tick + dur[tg]})
					counts[tg]++
					total++
				}
			}
			for i, tg := range ts {
				got := float64(counts[tg]) / float64(total)
				if d := got - tc.wantShare[i]; d > 0.03 || d < -0.03 {
					t.Errorf("target %d: share %.3f, want %.3f", i, got, tc.wantShare[i])
				}
			}
			for _, r := range inflight {
				lc.Done(r.t, 0, false)
			}
			for _, tg := range ts {
				if tg.InFlight() != 0 {
					t.Errorf("target %s: %d in flight after draining", tg.ID, tg.InFlight())
				}
			}
		})
	}
}

func TestLeastConnectionsNegativeCountIsNotASink(t *testing.T) {
	lc := NewLeastConnections(mkTargets(1, 1))
	a, _ := lc.Pick(Key{})
	lc.Done(a, time.Millisecond, false)
	lc.Done(a, time.Millisecond, false) // a caller bug: one Done too many
	picked := map[string]int{}
	for i := 0; i < 10; i++ {
		tg, _ := lc.Pick(Key{})
		picked[tg.ID]++
		lc.Done(tg, 0, false)
	}
	if picked["0"] != 5 || picked["1"] != 5 {
		t.Errorf("picks %v, want 5 each", picked)
	}
}

// TestLeastConnectionsManyTies: past the 32 ties remembered during the scan, a second scan
// keeps the rotation exact.
func TestLeastConnectionsManyTies(t *testing.T) {
	for _, n := range []int{32, 33, 40} {
		ws := make([]int, n)
		for i := range ws {
			ws[i] = 5
		}
		ts := mkTargets(ws...)
		lc := NewLeastConnections(ts)
		counts := map[*Target]int{}
		for range 3 * n {
			tg, err := lc.Pick(Key{})
			if err != nil {
				t.Fatal(err)
			}
			counts[tg]++
			lc.Done(tg, 0, false)
		}
		for _, tg := range ts {
			if counts[tg] != 3 {
				t.Fatalf("%d targets: target %s picked %d times in %d picks, want 3", n, tg.ID, counts[tg], 3*n)
			}
		}
	}
}
