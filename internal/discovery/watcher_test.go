package discovery

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"tollgate/internal/discovery/dnstest"
)

// waitBound bounds every wait for the Watcher: records have TTL 1 s, retries come after 1 s.
const waitBound = 5 * time.Second

// recorder collects onChange calls.
type recorder struct {
	ch chan Result
}

func newRecorder() *recorder            { return &recorder{ch: make(chan Result, 64)} }
func (rec *recorder) onChange(r Result) { rec.ch <- r }

// next waits for the next call for k, skipping calls for other keys.
func (rec *recorder) next(t *testing.T, k Key) Result {
	t.Helper()
	deadline := time.After(waitBound)
	for {
		select {
		case r := <-rec.ch:
			if r.Key == k {
				return r
			}
		case <-deadline:
			t.Fatalf("no onChange for %+v within %v", k, waitBound)
		}
	}
}

// none fails if onChange was called.
func (rec *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-rec.ch:
		t.Fatalf("unexpected onChange: %+v", r)
	default:
	}
}

// waitQueries waits until srv has had n more queries for name than before.
func waitQueries(t *testing.T, srv *dnstest.Server, name string, before, n int) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for srv.Queries(name)-before < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d queries within %v, want %d", name, srv.Queries(name)-before, waitBound, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startWatcher(t *testing.T, srv *dnstest.Server, mod func(*Config)) (*Watcher, *recorder) {
	t.Helper()
	r := newResolver(t, srv, "", func(c *Config) {
		c.NotFoundTTL = time.Second
		if mod != nil {
			mod(c)
		}
	})
	rec := newRecorder()
	w := NewWatcher(r, rec.onChange, WatcherOptions{})
	t.Cleanup(w.Close)
	return w, rec
}

func current(t *testing.T, w *Watcher, k Key) Result {
	t.Helper()
	res, ok := w.Current(k)
	if !ok {
		t.Fatalf("Current(%+v): not watched", k)
	}
	return res
}

func wantAddrs(t *testing.T, what string, res Result, want ...string) {
	t.Helper()
	if got := addrs(res.Addrs); !slices.Equal(got, want) && len(got)+len(want) > 0 {
		t.Fatalf("%s: Addrs = %v (err %v), want %v", what, got, res.Err, want)
	}
}

func TestWatcherPicksUpChangeAfterTTL(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.Set("w1.test", "w1.test. 1 IN A 127.0.0.2")
	w, rec := startWatcher(t, srv, nil)
	k := Key{Name: "w1.test", Port: 8000, Weight: 100}

	w.Set([]Key{k})
	res := current(t, w, k)
	wantAddrs(t, "initial", res, "127.0.0.2:8000/100")
	if res.Kind != KindA || res.TTL != time.Second {
		t.Errorf("initial: Kind %q TTL %v, want A 1s", res.Kind, res.TTL)
	}

	srv.Set("w1.test", "w1.test. 1 IN A 127.0.0.3", "w1.test. 1 IN A 127.0.0.4")
	res = rec.next(t, k)
	wantAddrs(t, "onChange", res, "127.0.0.3:8000/100", "127.0.0.4:8000/100")
	wantAddrs(t, "Current", current(t, w, k), "127.0.0.3:8000/100", "127.0.0.4:8000/100")

	// A change of type: the name becomes an SRV name.
	srv.Set("w1.test", "w1.test. 1 IN SRV 1 7 9000 127.0.0.5.", "w1.test. 1 IN A 127.0.0.3", "w1.test. 1 IN A 127.0.0.4")
	srv.Set("w1.test") // gone: the LAST type is forgotten...
	res = rec.next(t, k)
	if !errors.Is(res.Err, ErrNotFound) {
		t.Fatalf("gone: err %v, want ErrNotFound", res.Err)
	}
	srv.Set("w1.test", "w1.test. 1 IN SRV 1 7 9000 127.0.0.5.", "w1.test. 1 IN A 127.0.0.3")
	res = rec.next(t, k) // ...so the order starts over, with SRV
	wantAddrs(t, "SRV", res, "127.0.0.5:9000/7")
	if res.Kind != KindSRV {
		t.Errorf("Kind %q, want SRV", res.Kind)
	}
}

func TestWatcherNameGoneAndBack(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.Set("w2.test", "w2.test. 1 IN A 127.0.0.2")
	w, rec := startWatcher(t, srv, nil)
	k := Key{Name: "w2.test", Port: 80, Weight: 10}
	w.Set([]Key{k})

	srv.Set("w2.test") // NXDOMAIN
	res := rec.next(t, k)
	if len(res.Addrs) != 0 || !errors.Is(res.Err, ErrNotFound) || res.Kind != "" {
		t.Fatalf("gone: %+v, want no addresses and ErrNotFound", res)
	}
	if res.TTL != time.Second {
		t.Errorf("gone: TTL %v, want NotFoundTTL 1s", res.TTL)
	}
	if cur := current(t, w, k); !errors.Is(cur.Err, ErrNotFound) {
		t.Errorf("Current after gone: err %v", cur.Err)
	}

	srv.Set("w2.test", "w2.test. 1 IN A 127.0.0.7")
	res = rec.next(t, k)
	wantAddrs(t, "back", res, "127.0.0.7:80/10")
	if res.Err != nil {
		t.Errorf("back: err %v", res.Err)
	}
}

func TestWatcherUnchangedAnswersAreNotReported(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	// Same records, answered in a different order each time: still the same set.
	srv.Set("w3.test", "w3.test. 1 IN A 127.0.0.2", "w3.test. 1 IN A 127.0.0.3")
	w, rec := startWatcher(t, srv, nil)
	k := Key{Name: "w3.test", Port: 80, Weight: 1}
	w.Set([]Key{k})

	before := srv.Queries("w3.test")
	srv.Set("w3.test", "w3.test. 1 IN A 127.0.0.3", "w3.test. 1 IN A 127.0.0.2")
	waitQueries(t, srv, "w3.test", before, 2) // two renewals
	rec.none(t)
	wantAddrs(t, "Current", current(t, w, k), "127.0.0.2:80/1", "127.0.0.3:80/1")
}

func TestWatcherServesStaleOnTransientFailure(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.Set("w4.test", "w4.test. 1 IN A 127.0.0.2")
	w, rec := startWatcher(t, srv, func(c *Config) {
		c.StaleTTL = 1500 * time.Millisecond
		c.ErrorTTL = 200 * time.Millisecond
	})
	k := Key{Name: "w4.test", Port: 80, Weight: 1}
	w.Set([]Key{k})
	start := time.Now()

	srv.Fail("w4.test", dns.RcodeServerFailure)
	var res Result
	for deadline := time.Now().Add(waitBound); !res.Stale; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not served stale within %v: %+v", waitBound, res)
		}
		res = current(t, w, k)
	}
	// Within TTL + StaleTTL: the last answer still serves, and nothing is reported.
	if elapsed := time.Since(start); elapsed > 2500*time.Millisecond {
		t.Fatalf("first failed refresh only after %v", elapsed)
	}
	wantAddrs(t, "stale", res, "127.0.0.2:80/1")
	if res.Err != nil || res.TTL != 200*time.Millisecond {
		t.Errorf("stale: err %v TTL %v, want nil and ErrorTTL", res.Err, res.TTL)
	}
	rec.none(t)

	res = rec.next(t, k) // past StaleTTL: out of rotation
	if len(res.Addrs) != 0 || res.Err == nil || errors.Is(res.Err, ErrNotFound) {
		t.Fatalf("after StaleTTL: %+v, want no addresses and a transient error", res)
	}
	if elapsed := time.Since(start); elapsed < 2500*time.Millisecond-100*time.Millisecond {
		t.Errorf("dropped after %v, before TTL + StaleTTL", elapsed)
	}

	srv.Fail("w4.test", dns.RcodeSuccess)
	res = rec.next(t, k)
	wantAddrs(t, "back", res, "127.0.0.2:80/1")
	if res.Stale || res.Err != nil {
		t.Errorf("back: Stale %v err %v", res.Stale, res.Err)
	}
}

func TestWatcherSetRemovesNames(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.Set("w5a.test", "w5a.test. 1 IN A 127.0.0.2")
	srv.Set("w5b.test", "w5b.test. 1 IN A 127.0.0.3")
	w, rec := startWatcher(t, srv, nil)
	a80 := Key{Name: "w5a.test", Port: 80, Weight: 1}
	a81 := Key{Name: "w5a.test", Port: 81, Weight: 2}
	b := Key{Name: "w5b.test", Port: 80, Weight: 1}

	w.Set([]Key{a80, a81, b})
	wantAddrs(t, "a81", current(t, w, a81), "127.0.0.2:81/2")
	wantAddrs(t, "b", current(t, w, b), "127.0.0.3:80/1")

	w.Set([]Key{a80})
	for _, k := range []Key{a81, b} {
		if _, ok := w.Current(k); ok {
			t.Errorf("Current(%+v) after removal: still watched", k)
		}
	}
	beforeB := srv.Queries("w5b.test")
	beforeA := srv.Queries("w5a.test")
	srv.Set("w5b.test", "w5b.test. 1 IN A 127.0.0.9")
	srv.Set("w5a.test", "w5a.test. 1 IN A 127.0.0.8")
	res := rec.next(t, a80)
	wantAddrs(t, "a80", res, "127.0.0.8:80/1")
	waitQueries(t, srv, "w5a.test", beforeA, 2)
	if q := srv.Queries("w5b.test") - beforeB; q != 0 {
		t.Errorf("removed name asked %d times", q)
	}
	rec.none(t) // nothing for a81 or b

	// Added back: resolved at once, by Set.
	w.Set([]Key{a80, b})
	wantAddrs(t, "b again", current(t, w, b), "127.0.0.9:80/1")
}

func TestWatcherSharedNameResolvedOnce(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.Set("w6.test", "w6.test. 1 IN A 127.0.0.2")
	w, rec := startWatcher(t, srv, func(c *Config) { c.Order = []string{"A"} })
	k1 := Key{Name: "w6.test", Port: 80, Weight: 1}
	k2 := Key{Name: "W6.test", Port: 90, Weight: 5}
	w.Set([]Key{k1, k2})
	if q := srv.Queries("w6.test"); q != 1 {
		t.Errorf("%d queries for two targets of one name, want 1", q)
	}

	srv.Set("w6.test", "w6.test. 1 IN A 127.0.0.3")
	got := map[Key]Result{}
	for range 2 {
		select {
		case r := <-rec.ch:
			got[r.Key] = r
		case <-time.After(waitBound):
			t.Fatalf("onChange calls: %v, want one per target", got)
		}
	}
	wantAddrs(t, "k1", got[k1], "127.0.0.3:80/1")
	wantAddrs(t, "k2", got[k2], "127.0.0.3:90/5")
}

func TestWatcherTTLZeroDoesNotSpin(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.Set("w7.test", "w7.test. 0 IN A 127.0.0.2")
	w, _ := startWatcher(t, srv, func(c *Config) {
		c.Order = []string{"A"}
		c.MinTTL = 500 * time.Millisecond
	})
	k := Key{Name: "w7.test", Port: 80, Weight: 1}
	w.Set([]Key{k})
	if ttl := current(t, w, k).TTL; ttl != 500*time.Millisecond {
		t.Errorf("TTL %v, want MinTTL", ttl)
	}
	before := srv.Queries("w7.test")
	time.Sleep(1200 * time.Millisecond)
	if q := srv.Queries("w7.test") - before; q < 1 || q > 3 {
		t.Errorf("%d queries in 1.2s with MinTTL 500ms, want 2 or so", q)
	}
}

func TestWatcherStaticNames(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	w, rec := startWatcher(t, srv, nil)
	ip := Key{Name: "10.0.0.1", Port: 80, Weight: 1}
	local := Key{Name: "localhost", Port: 81, Weight: 2}
	w.Set([]Key{ip, local})
	res := current(t, w, ip)
	wantAddrs(t, "ip", res, "10.0.0.1:80/1")
	if res.Kind != KindIP || res.TTL != NeverExpires {
		t.Errorf("ip: Kind %q TTL %v", res.Kind, res.TTL)
	}
	res = current(t, w, local)
	wantAddrs(t, "localhost", res, "127.0.0.1:81/2")
	if res.Kind != KindHosts {
		t.Errorf("localhost: Kind %q", res.Kind)
	}
	w.mu.Lock()
	queued := len(w.queue)
	w.mu.Unlock()
	if queued != 0 {
		t.Errorf("%d names queued for renewal, want none", queued)
	}
	rec.none(t)
}

// TestWatcherCloseStopsEverything is not parallel: it counts goroutines, and parallel tests
// are paused while it runs.
func TestWatcherCloseStopsEverything(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("w8.test", "w8.test. 1 IN A 127.0.0.2")
	srv.Set("w8slow.test", "w8slow.test. 1 IN A 127.0.0.3")
	r := newResolver(t, srv, "", func(c *Config) {
		c.Order = []string{"A"}
		c.Timeout = 3 * time.Second
	})
	baseline := runtime.NumGoroutine()

	var mu sync.Mutex
	calls := 0
	closed := false
	w := NewWatcher(r, func(Result) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if closed {
			t.Error("onChange after Close")
		}
	}, WatcherOptions{})
	w.Set([]Key{{Name: "w8.test", Port: 80}, {Name: "w8slow.test", Port: 80}})

	// Leave a lookup hanging on a server that does not answer.
	before := srv.Queries("w8slow.test")
	srv.Drop("w8slow.test", true)
	waitQueries(t, srv, "w8slow.test", before, 1)

	start := time.Now()
	w.Close()
	mu.Lock()
	closed = true
	mu.Unlock()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v: it should cancel the lookup in flight, not wait out the 3s timeout", d)
	}
	w.Close() // idempotent
	w.Set([]Key{{Name: "w8.test", Port: 81}})
	if _, ok := w.Current(Key{Name: "w8.test", Port: 81}); ok {
		t.Error("Set after Close took effect")
	}

	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before NewWatcher:\n%s",
				runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	q := srv.Queries("w8.test")
	time.Sleep(1500 * time.Millisecond) // longer than the TTL
	if n := srv.Queries("w8.test") - q; n != 0 {
		t.Errorf("%d queries after Close", n)
	}
}
