package circuit

import (
	"sync/atomic"
	"testing"
)

// BenchmarkAllowDone is the closed state as the proxy sees it: one Allow and one Done per
// request, one request in 16 failing (never enough to open), on the real clock.
func BenchmarkAllowDone(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"consecutive", Config{ConsecutiveFailures: 5}},
		{"consecutive+ratio", Config{ConsecutiveFailures: 5, ErrorRatio: 0.5}},
	} {
		b.Run(bc.name+"/serial", func(b *testing.B) {
			br := New("bench", bc.cfg, Options{})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tk, ok := br.Allow()
				if !ok {
					b.Fatal("refused")
				}
				tk.Done(i&15 != 0)
				i++
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			br := New("bench", bc.cfg, Options{})
			var refused atomic.Bool
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					tk, ok := br.Allow()
					if !ok {
						refused.Store(true)
						return
					}
					tk.Done(i&15 != 0)
					i++
				}
			})
			if refused.Load() {
				b.Fatal("refused")
			}
		})
	}
}

// BenchmarkAllowOpen is failing fast while open, which must stay cheap because an open
// breaker sees the full request rate.
func BenchmarkAllowOpen(b *testing.B) {
	br := New("bench", Config{ConsecutiveFailures: 1}, Options{})
	tk, _ := br.Allow()
	tk.Done(false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := br.Allow(); ok {
				b.Error("admitted")
				return
			}
		}
	})
}
