package snapshot

import (
	"testing"

	"tollgate/internal/config"
)

func TestRetryBudget(t *testing.T) {
	tests := []struct {
		name     string
		budget   *config.RetryBudget
		active   int
		reserved int // retries already in flight
		want     bool
	}{
		{"default: three retries always allowed", nil, 1, 2, true},
		{"default: a fourth needs 20 requests in flight", nil, 10, 3, false},
		{"default: 20% of 100 requests", nil, 100, 19, true},
		{"default: over 20% of 100 requests", nil, 100, 20, false},
		{"zero budget refuses every retry", &config.RetryBudget{Percent: 0, MinConcurrency: 0}, 50, 0, false},
		{"100% allows a retry per request", &config.RetryBudget{Percent: 100, MinConcurrency: 0}, 5, 4, true},
		{"100% not more", &config.RetryBudget{Percent: 100, MinConcurrency: 0}, 5, 5, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newRetryBudget(tc.budget)
			for range tc.active {
				b.Enter()
			}
			for i := range tc.reserved {
				if !b.TryRetry() {
					t.Fatalf("setup retry %d refused", i)
				}
			}
			if got := b.TryRetry(); got != tc.want {
				t.Fatalf("TryRetry() = %v, want %v", got, tc.want)
			}
			_, r := b.InFlight()
			want := int64(tc.reserved)
			if tc.want {
				want++
			}
			if r != want {
				t.Fatalf("retries in flight %d, want %d (a refused retry must not stay counted)", r, want)
			}
		})
	}
}

func TestRetryBudgetReleases(t *testing.T) {
	b := newRetryBudget(&config.RetryBudget{Percent: 0, MinConcurrency: 1})
	b.Enter()
	if !b.TryRetry() || b.TryRetry() {
		t.Fatal("min_concurrency 1 allows exactly one retry at a time")
	}
	b.RetryDone()
	if !b.TryRetry() {
		t.Fatal("a finished retry frees its slot")
	}
	b.RetryDone()
	b.Leave()
	if a, r := b.InFlight(); a != 0 || r != 0 {
		t.Fatalf("counters %d/%d after everything ended", a, r)
	}
}
