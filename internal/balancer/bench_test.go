package balancer

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPick measures one pick (and its Done, for the pickers that take feedback) from
// many goroutines at once, through the Picker interface as the proxy calls it.
func BenchmarkPick(b *testing.B) {
	ks := keys(1024)
	for _, algorithm := range algorithms {
		for _, n := range []int{3, 100} {
			b.Run(fmt.Sprintf("algorithm=%s/targets=%d", algorithm, n), func(b *testing.B) {
				ws := make([]int, n)
				for i := range ws {
					ws[i] = 1 + i%7
				}
				// The default randomness (safe for concurrent use); a ring big enough
				// for 100 targets.
				p := mustNew(b, algorithm, mkTargets(ws...), Options{Slots: 65536})
				fb, _ := p.(Feedback)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						t, err := p.Pick(ks[i&1023])
						if err != nil {
							b.Error(err)
							return
						}
						if fb != nil {
							fb.Done(t, time.Millisecond, false)
						}
						i++
					}
				})
			})
		}
	}
}

// BenchmarkKeyOf is what the proxy adds per request for a hashing upstream.
func BenchmarkKeyOf(b *testing.B) {
	for _, in := range []string{"203.0.113.195", "9a0a8d1c-7f1e-4c43-9a53-2f1c2b1e6d0f"} {
		b.Run(fmt.Sprintf("len=%d", len(in)), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			for b.Loop() {
				sink += KeyOfString(in).Hash
			}
			_ = sink
		})
	}
}
