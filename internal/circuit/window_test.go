package circuit

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	tests := []struct {
		name              string
		adds              []uint64 // epochs, a failure each
		at                uint64
		wantReqs, wantFls uint64
	}{
		{name: "empty", at: 5},
		{name: "one bucket", adds: []uint64{3, 3, 3}, at: 3, wantReqs: 3, wantFls: 3},
		{name: "whole window", adds: []uint64{0, 5, 9}, at: 9, wantReqs: 3, wantFls: 3},
		{name: "oldest bucket left", adds: []uint64{0, 5, 9}, at: 10, wantReqs: 2, wantFls: 2},
		{name: "a later lap restarts the slot", adds: []uint64{2, 2, 12}, at: 12, wantReqs: 1, wantFls: 1},
		{name: "a late result of an earlier lap is dropped", adds: []uint64{12, 2}, at: 12, wantReqs: 1, wantFls: 1},
		{name: "buckets after the reader's are left out", adds: []uint64{4, 5}, at: 4, wantReqs: 1, wantFls: 1},
		{name: "long idle", adds: []uint64{1, 1 << 30}, at: 1 << 30, wantReqs: 1, wantFls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindow(int64(10 * time.Second))
			for _, e := range tt.adds {
				w.add(e, true)
			}
			reqs, fails := w.sum(tt.at)
			if reqs != tt.wantReqs || fails != tt.wantFls {
				t.Errorf("sum(%d) = %d/%d, want %d/%d", tt.at, fails, reqs, tt.wantFls, tt.wantReqs)
			}
		})
	}
}

func TestWindowSaturates(t *testing.T) {
	w := newWindow(int64(10 * time.Second))
	w.reqs[3].Store(3<<countBits | (countMask - 1))
	for range 3 {
		w.add(3, false)
	}
	if reqs, _ := w.sum(3); reqs != countMask {
		t.Errorf("reqs %d, want %d", reqs, countMask)
	}
	if e := w.reqs[3].Load() >> countBits; e != 3 {
		t.Errorf("epoch %d, want 3: the count carried into it", e)
	}
}

func TestWindowEpoch(t *testing.T) {
	w := newWindow(int64(10 * time.Second))
	for _, tt := range []struct {
		elapsed time.Duration
		want    uint64
	}{{0, 0}, {999 * time.Millisecond, 0}, {time.Second, 1}, {95 * time.Second, 95}, {-time.Second, 0}} {
		if got := w.epoch(int64(tt.elapsed)); got != tt.want {
			t.Errorf("epoch(%s) = %d, want %d", tt.elapsed, got, tt.want)
		}
	}
}
