package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// instances starts n upstream servers answering their own name in X-Upstream; slow ones
// wait before answering.
func instances(t *testing.T, n int, delay map[int]time.Duration) []*httptest.Server {
	t.Helper()
	var out []*httptest.Server
	for i := 0; i < n; i++ {
		name, d := fmt.Sprintf("t%d", i), delay[i]
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if d > 0 {
				time.Sleep(d)
			}
			w.Header().Set("X-Upstream", name)
		}))
		t.Cleanup(srv.Close)
		out = append(out, srv)
	}
	return out
}

func upstreamCfg(algo string, extra string, srvs []*httptest.Server, weights []int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "_format_version: \"3.0\"\nservices:\n- name: s\n  host: pool\n  routes: [{name: r, paths: [/]}]\nupstreams:\n- name: pool\n  algorithm: %s\n%s  targets:\n", algo, extra)
	for i, s := range srvs {
		fmt.Fprintf(&b, "  - target: %s\n    weight: %d\n", strings.TrimPrefix(s.URL, "http://"), weights[i])
	}
	return b.String()
}

// count sends n requests (on conc connections) and counts answers per upstream.
func count(t *testing.T, g *gateway, n, conc int, mod func(i int, r *http.Request)) map[string]int {
	t.Helper()
	c := client()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	per := n / conc
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				req, _ := http.NewRequest("GET", g.Proxy+"/x", nil)
				if mod != nil {
					mod(w*per+i, req)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				got[resp.Header.Get("X-Upstream")]++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return got
}

func TestWeightedRoundRobinRatios(t *testing.T) {
	srvs := instances(t, 3, nil)
	weights := []int{50, 30, 20}
	g := startGateway(t, upstreamCfg("round-robin", "", srvs, weights))
	const n = 10000
	got := count(t, g, n, 8, nil)
	for i, w := range weights {
		share := float64(got[fmt.Sprintf("t%d", i)]) / n
		if want := float64(w) / 100; share < want-0.02 || share > want+0.02 {
			t.Errorf("t%d got %.3f of requests, want %.2f±0.02 (%v)", i, share, want, got)
		}
	}
}

func TestLeastConnectionsPrefersFastTarget(t *testing.T) {
	srvs := instances(t, 2, map[int]time.Duration{0: 150 * time.Millisecond})
	g := startGateway(t, upstreamCfg("least-connections", "", srvs, []int{100, 100}))
	got := count(t, g, 400, 8, nil)
	if got["t1"] < 3*got["t0"] {
		t.Errorf("least-connections should send most requests to the fast target: %v", got)
	}
}

func TestConsistentHashingStickinessAndRemap(t *testing.T) {
	srvs := instances(t, 4, nil)
	w := []int{100, 100, 100, 100}
	extra := "  hash_on: header\n  hash_on_header: X-User\n"
	g := startGateway(t, upstreamCfg("consistent-hashing", extra, srvs, w))
	c := client()
	const users = 400
	first := map[int]string{}
	for round := 0; round < 2; round++ {
		for u := 0; u < users; u++ {
			req := mustReq(t, "GET", g.Proxy+"/x", nil)
			req.Header.Set("X-User", fmt.Sprintf("user-%d", u))
			resp, _ := do(t, c, req)
			name := resp.Header.Get("X-Upstream")
			if round == 0 {
				first[u] = name
			} else if first[u] != name {
				t.Fatalf("user-%d moved from %s to %s without a change", u, first[u], name)
			}
		}
	}
	// remove t3: only its keys may move (Kong's ring; allow a small excess for slot collisions)
	writeFile(t, g.Config, upstreamCfg("consistent-hashing", extra, srvs[:3], w[:3]))
	if !g.waitLogCount(2, "config applied") {
		t.Fatal("reload not applied")
	}
	moved, onRemoved := 0, 0
	for u := 0; u < users; u++ {
		req := mustReq(t, "GET", g.Proxy+"/x", nil)
		req.Header.Set("X-User", fmt.Sprintf("user-%d", u))
		resp, _ := do(t, c, req)
		if first[u] == "t3" {
			onRemoved++
			continue
		}
		if resp.Header.Get("X-Upstream") != first[u] {
			moved++
		}
	}
	if frac := float64(moved) / users; frac > 0.05 {
		t.Errorf("%d of %d keys not on the removed target moved (%.1f%%); consistent hashing should keep them", moved, users, 100*frac)
	}
	t.Logf("%d keys were on the removed target, %d others moved", onRemoved, moved)
}

func TestCookieHashSetsCookie(t *testing.T) {
	srvs := instances(t, 3, nil)
	extra := "  hash_on: cookie\n  hash_on_cookie: tg-affinity\n  hash_on_cookie_path: /app\n"
	g := startGateway(t, upstreamCfg("consistent-hashing", extra, srvs, []int{100, 100, 100}))
	c := client()
	resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
	sc := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "tg-affinity=") || !strings.Contains(sc, "Path=/app") {
		t.Fatalf("Set-Cookie %q", sc)
	}
	cookie := strings.SplitN(sc, ";", 2)[0]
	target := resp.Header.Get("X-Upstream")
	for i := 0; i < 20; i++ {
		req := mustReq(t, "GET", g.Proxy+"/x", nil)
		req.Header.Set("Cookie", cookie)
		resp, _ := do(t, c, req)
		if resp.Header.Get("X-Upstream") != target || resp.Header.Get("Set-Cookie") != "" {
			t.Fatalf("cookie %s: went to %s (first %s), Set-Cookie %q", cookie, resp.Header.Get("X-Upstream"), target, resp.Header.Get("Set-Cookie"))
		}
	}
}

// TestRetries: connection refusal and (opt-in) 502 answers are retried on another target for
// GET; a POST whose body was sent is never replayed.
func TestRetries(t *testing.T) {
	var badHits, goodHits, badPosts, goodPosts atomicCounter
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		badHits.add()
		if r.Method == http.MethodPost {
			badPosts.add()
		}
		w.WriteHeader(502)
	}))
	t.Cleanup(bad.Close)
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		goodHits.add()
		if r.Method == http.MethodPost {
			goodPosts.add()
		}
		w.Header().Set("X-Upstream", "good")
	}))
	t.Cleanup(good.Close)
	dead := fmt.Sprintf("127.0.0.1:%d", deadPort(t))
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: s
  host: pool
  retries: 3
  routes: [{name: r, paths: [/]}]
upstreams:
- name: pool
  targets:
  - {target: "%s"}
  - {target: "%s"}
  - {target: "%s"}
`, strings.TrimPrefix(bad.URL, "http://"), dead, strings.TrimPrefix(good.URL, "http://"))
	g := startGateway(t, cfg, "--retry-on-status", "502,503")
	c := client()
	for i := 0; i < 30; i++ {
		resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "good" {
			t.Fatalf("GET %d: %d %s (a refused connection or a 502 must go to another target)", i, resp.StatusCode, body)
		}
	}
	var posts502 int
	for i := 0; i < 30; i++ {
		req := mustReq(t, "POST", g.Proxy+"/x", io.NopCloser(strings.NewReader("payload")))
		req.ContentLength = -1 // streamed: cannot be sent twice
		resp, _ := do(t, c, req)
		if resp.StatusCode == 502 {
			posts502++
		}
	}
	if badPosts.get()+goodPosts.get() != 30 {
		t.Errorf("a POST whose body was sent was replayed: bad got %d, good got %d, for 30 POSTs", badPosts.get(), goodPosts.get())
	}
	if posts502 != badPosts.get() {
		t.Errorf("%d POSTs answered 502 but the failing target got %d", posts502, badPosts.get())
	}
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (a *atomicCounter) add() { a.mu.Lock(); a.n++; a.mu.Unlock() }
func (a *atomicCounter) get() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}
