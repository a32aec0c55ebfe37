package proxy

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"tollgate/internal/balancer"
	"tollgate/internal/upstream"
)

func targets(n int) []*balancer.Target {
	ts := make([]*balancer.Target, n)
	for i := range ts {
		ts[i] = &balancer.Target{Addr: fmt.Sprintf("10.0.0.%d:80", i+1), Weight: 100, Index: i}
	}
	return ts
}

// TestPickTryMovesOn: a retry goes to a target not tried yet whatever the algorithm, also a
// ring that maps the key to the target that failed; with every target tried it repeats.
func TestPickTryMovesOn(t *testing.T) {
	for _, algo := range []string{"round-robin", "least-connections", "consistent-hashing", "latency", "random"} {
		t.Run(algo, func(t *testing.T) {
			ts := targets(3)
			b, err := balancer.New(algo, ts, balancer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			key := balancer.KeyOfString("user-7")
			var done tried
			seen := map[string]bool{}
			for try := 0; try < 3; try++ {
				tg, err := pickTry(b, key, done, try)
				if err != nil {
					t.Fatal(err)
				}
				if seen[tg.Addr] {
					t.Fatalf("try %d went back to %s while others were untried", try, tg.Addr)
				}
				seen[tg.Addr] = true
				done.add(tg)
				if fb, ok := b.(balancer.Feedback); ok {
					fb.Done(tg, 0, true)
				}
			}
			if _, err := pickTry(b, key, done, 3); err != nil {
				t.Fatalf("all tried: %v", err)
			}
			for _, tg := range ts {
				if n := tg.InFlight(); n < 0 || n > 1 {
					t.Errorf("%s: in flight %d after the tries ended", tg.Addr, n)
				}
			}
		})
	}
}

func TestPickTrySkipsUnhealthy(t *testing.T) {
	ts := targets(3)
	ts[1].SetHealthy(false)
	b, _ := balancer.New("consistent-hashing", ts, balancer.Options{})
	key := balancer.KeyOfString("k")
	first, _ := pickTry(b, key, 0, 0)
	var done tried
	done.add(first)
	next, _ := pickTry(b, key, done, 1)
	if next == first || next == ts[1] {
		t.Fatalf("retry went to %s (first %s, down %s)", next.Addr, first.Addr, ts[1].Addr)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name                   string
		err                    error
		idempotent, resendable bool
		want                   bool
	}{
		{"refused, POST with a streamed body", syscall.ECONNREFUSED, false, false, true},
		{"dial timeout", upstream.ErrDialTimeout, false, false, true},
		{"timeout, GET", os.ErrDeadlineExceeded, true, true, true},
		{"timeout, POST", os.ErrDeadlineExceeded, false, true, false},
		{"reset, GET", syscall.ECONNRESET, true, true, true},
		{"reset, PUT with a streamed body", syscall.ECONNRESET, true, false, false},
		{"closed keep-alive, GET", errUpstreamClosed, true, true, true},
		{"malformed response", fmt.Errorf("cannot parse response"), true, true, false},
	}
	for _, tc := range tests {
		if got := retryable(tc.err, tc.idempotent, tc.resendable); got != tc.want {
			t.Errorf("%s: retryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
