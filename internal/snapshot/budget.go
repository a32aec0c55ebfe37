package snapshot

import (
	"sync/atomic"

	"tollgate/internal/config"
)

// RetryBudget bounds a service's retries as Envoy's retry budget does: a retry may start only
// while the retries in flight stay under Percent of the requests in flight, or under
// MinConcurrency, whichever is larger. When every target is failing, each request would
// otherwise turn into 1+retries tries and multiply the load on whatever is left; with the
// budget, retries fade to a trickle as soon as they are a noticeable share of the traffic.
//
// The counters are two atomics on the compiled service: a reload starts fresh counters, and
// requests admitted under the old snapshot settle on the old ones.
type RetryBudget struct {
	percent float64
	min     int64
	active  atomic.Int64 // requests of this service being forwarded
	retries atomic.Int64 // retries in flight
}

func newRetryBudget(b *config.RetryBudget) *RetryBudget {
	if b == nil {
		d := config.DefaultRetryBudget()
		b = &d
	}
	return &RetryBudget{percent: b.Percent, min: int64(b.MinConcurrency)}
}

// Enter counts a request entering the forward phase; Leave undoes it.
func (b *RetryBudget) Enter() { b.active.Add(1) }

// Leave ends what Enter started.
func (b *RetryBudget) Leave() { b.active.Add(-1) }

// TryRetry reserves a retry when the budget allows one; the caller calls RetryDone when that
// retry ends.
func (b *RetryBudget) TryRetry() bool {
	limit := max(b.min, int64(float64(b.active.Load())*b.percent/100))
	if b.retries.Add(1) > limit {
		b.retries.Add(-1)
		return false
	}
	return true
}

// RetryDone releases a retry reserved by TryRetry.
func (b *RetryBudget) RetryDone() { b.retries.Add(-1) }

// InFlight reports the counters (for the admin API and tests).
func (b *RetryBudget) InFlight() (requests, retries int64) { return b.active.Load(), b.retries.Load() }
