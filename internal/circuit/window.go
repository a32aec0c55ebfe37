package circuit

import "sync/atomic"

const (
	numBuckets = 10

	// Each counter is one word: the bucket's epoch (its index since the breaker's origin)
	// above countBits, its count below. 40 bits of epoch outlast any process even at
	// MinWindow's 100ms buckets; 24 bits of count saturate at 16.7M results per bucket, far
	// past the point where one more request changes a ratio.
	countBits = 24
	countMask = 1<<countBits - 1
)

// window counts requests and failures over the last Window in a ring of numBuckets buckets,
// with atomics only, because the closed state's Done records into it on every request.
//
// The epoch lives in the same word as the count it qualifies: a writer that finds a count
// left from an earlier lap of the ring restarts it with one CAS. A separate epoch word reset
// apart from its counts would lose the increments that land between the two stores.
type window struct {
	width int64 // nanoseconds per bucket
	reqs  [numBuckets]atomic.Uint64
	fails [numBuckets]atomic.Uint64
}

func newWindow(w int64) window { return window{width: max(w/numBuckets, 1)} }

// epoch is the bucket index of a moment, given as nanoseconds since the breaker's origin.
func (w *window) epoch(elapsed int64) uint64 { return uint64(max(elapsed, 0) / w.width) }

// add records one result in bucket e. Requests are bumped before failures so that a reader
// taking failures first never sees more failures than requests.
func (w *window) add(e uint64, failed bool) {
	i := e % numBuckets
	bump(&w.reqs[i], e)
	if failed {
		bump(&w.fails[i], e)
	}
}

func bump(c *atomic.Uint64, e uint64) {
	for {
		v := c.Load()
		switch ve := v >> countBits; {
		case ve == e:
			if v&countMask == countMask {
				return // saturated: an overflow would carry into the epoch
			}
			if c.CompareAndSwap(v, v+1) {
				return
			}
		case ve > e:
			// A later lap owns the slot: this result was timed more than a window ago by a
			// goroutine that stalled before recording it.
			return
		default:
			if c.CompareAndSwap(v, e<<countBits|1) {
				return
			}
		}
	}
}

// sum totals the buckets of the window that ends in bucket e.
func (w *window) sum(e uint64) (reqs, fails uint64) {
	for i := range w.fails {
		fails += count(w.fails[i].Load(), e)
	}
	for i := range w.reqs {
		reqs += count(w.reqs[i].Load(), e)
	}
	// A slot restarted by a later lap between the two loops can still undercount requests.
	return reqs, min(fails, reqs)
}

// count is v's count if its bucket lies in the window ending in bucket e. A bucket later than
// e (another goroutine read the clock after us) wraps to a huge distance and is left out.
func count(v, e uint64) uint64 {
	if e-v>>countBits < numBuckets {
		return v & countMask
	}
	return 0
}

// clear forgets every result. Zero is an empty bucket of epoch 0, which any later result
// restarts.
func (w *window) clear() {
	for i := range w.reqs {
		w.reqs[i].Store(0)
		w.fails[i].Store(0)
	}
}
