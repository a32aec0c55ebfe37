package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seedHealthchecks is the second seed document's upstream with health checks, as written
// (indentation restored; the document flattens it), plus the service that uses it. Its
// targets are names; a hosts file maps them to loopback addresses, and only the port (8080
// there) is a free one here.
const seedHealthchecks = `_format_version: "3.0"
services:
- name: users
  host: user-service
  routes: [{name: users, paths: [/api/users]}]
upstreams:
- name: user-service
  targets:
  - target: users-1:{{port}}
    weight: 100
  - target: users-2:{{port}}
    weight: 100
  healthchecks:
    active:
      http_path: /health
      healthy:
        interval: 5
        successes: 2
      unhealthy:
        interval: 5
        http_failures: 3
        timeouts: 3
    passive:
      healthy:
        successes: 5
      unhealthy:
        http_failures: 5
        timeouts: 3
`

// TestSeedUpstreamHealthchecks: the seed's checks behave as described: active probes reach
// /health on each target, and a target answering 500 leaves the rotation after the five
// failures its passive check allows, while every request keeps being answered.
func TestSeedUpstreamHealthchecks(t *testing.T) {
	var probes [2]atomic.Int64
	var failing atomic.Bool
	failing.Store(true)
	start := func(i int, ip string, port int) int {
		name := fmt.Sprintf("users-%d", i+1)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/health" {
				probes[i].Add(1)
			}
			w.Header().Set("X-Upstream", name)
			if i == 1 && failing.Load() {
				w.WriteHeader(500)
			}
		})}
		return serveOn(t, srv, ip, port)
	}
	port := start(0, "127.0.0.1", 0)
	start(1, "127.0.0.2", port)
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 users-1\n127.0.0.2 users-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, strings.ReplaceAll(seedHealthchecks, "{{port}}", fmt.Sprint(port)), "--dns-hostsfile", hosts)
	c := client()
	var fromBad int
	for i := 0; i < 40; i++ {
		resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/api/users", nil))
		if resp.Header.Get("X-Upstream") == "users-2" {
			fromBad++
			if resp.StatusCode != 500 {
				t.Fatalf("users-2 answered %d", resp.StatusCode)
			}
		} else if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if fromBad != 5 {
		t.Fatalf("users-2 answered %d requests; its passive check (http_failures: 5) must take it out after 5", fromBad)
	}
	waitFor(t, "active probes on /health of both targets (interval 5)", 7*time.Second, func() bool {
		return probes[0].Load() > 0 && probes[1].Load() > 0
	})
}

// TestSeedNginxUpstreamInKongTerms: the first seed document's nginx upstream, in Kong terms:
//
//	least_conn                                 → algorithm: least-connections
//	server ... weight=3/2/1                    → target weights 300/200/100
//	max_fails=3 fail_timeout=30s               → circuit_breaker {consecutive_failures: 3, open_timeout: 30}
//	proxy_next_upstream error timeout http_502 http_503 → connection errors and timeouts are
//	                                             retried; --retry-on-status 502,503
//	proxy_next_upstream_tries 2                → retries: 1
//
// With one of four instances answering 503, no GET of eight concurrent clients fails, and that
// instance stops getting traffic after its third failure (a few more may already be on their
// way when the third one lands, as in nginx).
func TestSeedNginxUpstreamInKongTerms(t *testing.T) {
	var sick atomic.Int64
	var urls []string
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("user-svc-%d", i+1)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Upstream", name)
			if name == "user-svc-4" {
				sick.Add(1)
				w.WriteHeader(503)
				return
			}
			time.Sleep(2 * time.Millisecond) // some concurrency for least_conn to spread

		})}
		urls = append(urls, fmt.Sprintf("127.0.0.1:%d", serveOn(t, srv, "127.0.0.1", 0)))
	}
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: user_service
  host: user_service
  retries: 1
  routes: [{name: users, paths: [/api/users]}]
upstreams:
- name: user_service
  algorithm: least-connections
  circuit_breaker: {consecutive_failures: 3, open_timeout: 30}
  targets:
  - {target: "%s", weight: 300}
  - {target: "%s", weight: 200}
  - {target: "%s", weight: 100}
  - {target: "%s", weight: 100}
`, urls[0], urls[1], urls[2], urls[3])
	g := startGateway(t, cfg, "--retry-on-status", "502,503")
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client()
			for i := 0; i < 50; i++ {
				resp, err := c.Get(g.Proxy + "/api/users")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode != 200 {
					got[fmt.Sprint(resp.StatusCode)]++
				} else {
					got[resp.Header.Get("X-Upstream")]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if got["user-svc-1"]+got["user-svc-2"]+got["user-svc-3"] != 400 {
		t.Fatalf("not every GET was answered 200: %v", got)
	}
	if n := sick.Load(); n < 3 || n > 3+8 {
		t.Fatalf("the failing instance got %d requests; max_fails=3 means 3 (plus those already in flight)", n)
	}
	if got["user-svc-1"] <= got["user-svc-3"] {
		t.Errorf("weights 3:1 not visible: %v", got)
	}
	t.Logf("answers per instance: %v", got)
}
