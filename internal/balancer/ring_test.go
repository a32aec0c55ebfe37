package balancer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestXXH32 pins the hash to luaxxhash's own test vectors (szensk/luaxxhash test.lua), which
// it prints as signed 32-bit numbers.
func TestXXH32(t *testing.T) {
	cats := "Cats are interesting."
	tests := []struct {
		in   string
		want int32
	}{
		{"", 46947589},
		{"a", 1426945110},
		{"aaaa", -631806169},
		{strings.Repeat("a", 16), 1571609996},
		{strings.Repeat("a", 32), -1557966914},
		{strings.Repeat("a", 37), 1065833563},
		{"dupa", 0x1A47C09D},
		{cats, 1710037756},
		{strings.Repeat(cats, 256), -237286296},
	}
	for _, tc := range tests {
		if got := int32(xxh32(tc.in)); got != tc.want {
			t.Errorf("xxh32(%.20q) = %d, want %d", tc.in, got, tc.want)
		}
		if got := int32(xxh32([]byte(tc.in))); got != tc.want {
			t.Errorf("xxh32([]byte(%.20q)) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if xxh32("") != emptyHash {
		t.Errorf("emptyHash = %#x, want %#x", emptyHash, xxh32(""))
	}
}

// TestRingIndex checks Kong's reduction: a signed hash and Lua's floored modulo.
func TestRingIndex(t *testing.T) {
	tests := []struct {
		in    string
		slots uint32
		want  uint32
	}{
		{"a", 10000, 1426945110%10000 + 1},
		{"aaaa", 10000, 3832}, // -631806169 % 10000 == 3831 in Lua (uint32 % would give 1127)
		{"aaaa", 1000, 832},
	}
	for _, tc := range tests {
		if got := ringIndex(xxh32(tc.in), tc.slots); got != tc.want {
			t.Errorf("ringIndex(%q, %d) = %d, want %d", tc.in, tc.slots, got, tc.want)
		}
	}
}

// TestRingPointsKong pins the number of points per target to Kong's unit tests
// (spec/01-unit/09-balancer/03-consistent_hashing_spec.lua, "wheel manipulation").
func TestRingPointsKong(t *testing.T) {
	tests := []struct {
		name  string
		slots int
		ts    []*Target
		want  []int
	}{
		{"equal weights", 1000, []*Target{
			{Host: "1.2.3.4", Port: 80, Weight: 10}, {Host: "::1", Port: 80, Weight: 10},
		}, []int{160, 160}},
		{"75/25, ring below 1000 raised to 1000", 100, []*Target{
			{Host: "1.2.3.4", Port: 80, Weight: 150}, {Host: "9.9.9.9", Port: 123, Weight: 50},
		}, []int{240, 80}},
		{"66/33", 1000, []*Target{
			{Host: "1.2.3.4", Port: 80, Weight: 20}, {Host: "::1", Port: 80, Weight: 10},
		}, []int{213, 106}},
		// Kong counts weight-0 targets in "number of targets", so the others get more points.
		{"weight 0 counted", 10000, mkTargets(10, 0, 10), []int{240, 0, 240}},
		{"tiny weight gets one point", 10000, mkTargets(65535, 1), []int{319, 1}}, // floor(319.995)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRing(tc.ts, tc.slots)
			if err != nil {
				t.Fatal(err)
			}
			if tc.slots < minRingSlots && r.slots != minRingSlots {
				t.Errorf("ring of %d slots, want %d", r.slots, minRingSlots)
			}
			got := map[*Target]int{}
			for _, o := range r.owners {
				got[o]++
			}
			for i, tg := range tc.ts {
				if got[tg] != tc.want[i] {
					t.Errorf("target %d: %d points, want %d", i, got[tg], tc.want[i])
				}
			}
		})
	}
}

func TestRingSticky(t *testing.T) {
	ks := keys(5000)
	for _, algorithm := range []string{AlgorithmConsistentHashing, AlgorithmIPHash} {
		t.Run(algorithm, func(t *testing.T) {
			ts := mkTargets(100, 50, 100, 25, 100)
			p := mustNew(t, algorithm, ts, Options{})
			// The same targets in another order (another node's configuration) give the same
			// ring: Kong sorts them before placing points.
			shuffled := mkTargets(100, 50, 100, 25, 100)
			rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) {
				shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
			})
			q := mustNew(t, algorithm, shuffled, Options{})
			for _, k := range ks {
				a, _ := p.Pick(k)
				for range 3 {
					if b, _ := p.Pick(k); b != a {
						t.Fatalf("key %x: %s then %s", k.Hash, a.ID, b.ID)
					}
				}
				if b, _ := q.Pick(k); b.Addr != a.Addr {
					t.Fatalf("key %x: %s, but %s with targets reordered", k.Hash, a.Addr, b.Addr)
				}
			}
			// No hash input: every such request goes where Kong sends "".
			a, _ := p.Pick(Key{})
			b, _ := p.Pick(KeyOfString(""))
			if a != b {
				t.Errorf("Key{} went to %s, the empty string to %s", a.ID, b.ID)
			}
		})
	}
}

// TestRingRemapping measures the keys that change target when one joins or leaves. Ideal
// consistent hashing moves exactly the keys the change gives to or takes from that target,
// about 1/N; Kong's ring adds a few displaced by collisions (a point that collided with the
// removed target's point comes back at a different place).
func TestRingRemapping(t *testing.T) {
	ip := func(i int) *Target {
		return &Target{ID: fmt.Sprint(i), Host: fmt.Sprintf("10.0.0.%d", i), Port: i, Addr: fmt.Sprintf("10.0.0.%d:%d", i, i), Weight: 100}
	}
	span := func(from, to int) []*Target {
		var ts []*Target
		for i := from; i <= to; i++ {
			ts = append(ts, ip(i))
		}
		return ts
	}
	without := func(ts []*Target, drop int) []*Target {
		var out []*Target
		for _, tg := range ts {
			if tg.Port != drop {
				out = append(out, tg)
			}
		}
		return out
	}
	tests := []struct {
		name          string
		before, after []*Target
		slots         int
		ideal         float64 // share of keys that must move
		limit         float64 // share allowed to move
	}{
		// Kong's own case: 5 → 6 targets on 5000 slots, where Kong asserts < 20%.
		{"5 to 6 (Kong's case)", span(1, 5), span(1, 6), 5000, 1.0 / 6, 1.0/6 + 0.03},
		{"5 to 8 (Kong's case)", span(1, 5), span(1, 8), 5000, 3.0 / 8, 3.0/8 + 0.04},
		{"10 to 11", span(1, 10), span(1, 11), 10000, 1.0 / 11, 1.0/11 + 0.03},
		{"10 to 9", span(1, 10), without(span(1, 10), 4), 10000, 1.0 / 10, 1.0/10 + 0.03},
		{"50 to 49", span(1, 50), without(span(1, 50), 17), 65536, 1.0 / 50, 1.0/50 + 0.02},
		{"100 to 99", span(1, 100), without(span(1, 100), 42), 65536, 1.0 / 100, 1.0/100 + 0.02},
		// 8000 points on 10000 slots: most points past the first targets' collided once,
		// so removing a target shifts many others' points. Kong's ring does the same; a
		// ring well above 160 × targets slots avoids it.
		{"50 to 49, ring 80% full", span(1, 50), without(span(1, 50), 17), 10000, 1.0 / 50, 1.0/50 + 0.05},
	}
	const n = 100000
	ks := keys(n)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, err := NewRing(tc.before, tc.slots)
			if err != nil {
				t.Fatal(err)
			}
			after, err := NewRing(tc.after, tc.slots)
			if err != nil {
				t.Fatal(err)
			}
			inAfter := map[string]bool{}
			for _, tg := range tc.after {
				inAfter[tg.Addr] = true
			}
			moved, forced := 0, 0
			for _, k := range ks {
				a, _ := before.Pick(k)
				b, _ := after.Pick(k)
				if a.Addr != b.Addr {
					moved++
					// Keys of a removed target, or keys taken by an added one, had to move.
					if !inAfter[a.Addr] || !containsAddr(tc.before, b.Addr) {
						forced++
					}
				}
			}
			share := float64(moved) / n
			t.Logf("moved %.2f%% of keys (ideal 1/N = %.2f%%; had to move %.2f%%, moved by collisions %.2f%%)",
				100*share, 100*tc.ideal, 100*float64(forced)/n, 100*float64(moved-forced)/n)
			if share > tc.limit {
				t.Errorf("%.2f%% of keys moved, want at most %.2f%%", 100*share, 100*tc.limit)
			}
		})
	}
}

func containsAddr(ts []*Target, addr string) bool {
	for _, tg := range ts {
		if tg.Addr == addr {
			return true
		}
	}
	return false
}

// TestRingCapacity: about 160 points per target must fit in the ring. Kong logs and serves
// nothing when they do not; New refuses.
func TestRingCapacity(t *testing.T) {
	ts := make([]int, 100)
	for i := range ts {
		ts[i] = 100
	}
	if _, err := New(AlgorithmConsistentHashing, mkTargets(ts...), Options{}); err == nil {
		t.Error("100 targets on the default 10000 slots: no error")
	}
	if _, err := New(AlgorithmConsistentHashing, mkTargets(ts...), Options{Slots: 65536}); err != nil {
		t.Errorf("100 targets on 65536 slots: %v", err)
	}
	if _, err := New(AlgorithmConsistentHashing, mkTargets(1), Options{Slots: 70000}); err == nil {
		t.Error("slots above 65536 accepted")
	}
}
