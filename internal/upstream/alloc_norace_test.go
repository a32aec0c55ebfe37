//go:build !race

package upstream

import (
	"testing"
	"time"
)

// TestGetPutDoesNotAllocate is built without -race only: under the race detector sync.Pool
// drops items at random, so allocations cannot be counted. make test runs it in a pass of its
// own without -race.
func TestGetPutDoesNotAllocate(t *testing.T) {
	s := newServer(t, nil)
	p := newPool(t, Config{Addr: s.addr})
	p.Put(mustGet(t, p)) // one idle connection; the cleaner runs
	allocs := testing.AllocsPerRun(1000, func() {
		c, err := p.Get(time.Time{})
		if err != nil {
			panic(err)
		}
		p.Put(c)
	})
	if allocs != 0 {
		t.Fatalf("Get+Put of an idle connection: %v allocations, want 0", allocs)
	}
}
