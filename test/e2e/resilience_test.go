package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestKillUnderSteadyLoad is the upstream issue's "done when": while eight clients keep
// sending GETs, one of three targets is killed (listener and open connections) and later
// revived. No request fails: tries that meet the dead target are retried on another one,
// active checks take it out of the rotation, and it is used again once it is back.
func TestKillUnderSteadyLoad(t *testing.T) {
	ks := []*killable{newKillable(t, "a"), newKillable(t, "b"), newKillable(t, "c")}
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: s
  host: pool
  retries: 3
  connect_timeout: 1000
  routes: [{name: r, paths: [/]}]
upstreams:
- name: pool
  healthchecks:
    active:
      http_path: /
      timeout: 0.5
      healthy: {interval: 0.3, successes: 1}
      unhealthy: {interval: 0.3, tcp_failures: 1, http_failures: 1, timeouts: 1}
    passive:
      unhealthy: {tcp_failures: 1, timeouts: 1}
  targets:
  - {target: "%s"}
  - {target: "%s"}
  - {target: "%s"}
`, ks[0].addr, ks[1].addr, ks[2].addr)
	g := startGateway(t, cfg)

	var (
		sent, failed atomic.Int64
		mu           sync.Mutex
		byUp         = map[string]int{}
		firstErr     atomic.Value
		afterRevive  atomic.Bool
		bAfterRevive atomic.Int64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client()
			for i := 0; i < 5000; i++ { // bounded in count as well as in time
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				resp, err := c.Get(g.Proxy + "/x")
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, resp.Status)
					continue
				}
				up := resp.Header.Get("X-Upstream")
				mu.Lock()
				byUp[up]++
				mu.Unlock()
				if up == "b" && afterRevive.Load() {
					bAfterRevive.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	ks[1].kill()
	waitFor(t, "b marked unhealthy", 5*time.Second, func() bool { return healthOf(t, g, ks[1].addr) == "UNHEALTHY" })
	time.Sleep(time.Second)
	ks[1].revive(t)
	afterRevive.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for bAfterRevive.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests, per upstream %v, %d to b after it came back", sent.Load(), byUp, bAfterRevive.Load())
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d idempotent requests failed while a target was killed (first: %v)", n, sent.Load(), firstErr.Load())
	}
	if bAfterRevive.Load() < 20 {
		t.Fatalf("the revived target got %d requests afterwards", bAfterRevive.Load())
	}
}

// TestTryTimeout: try_timeout bounds each try, so a stalled target is left for another one
// within the bound, and with nowhere else to go the client gets a 504 that says how long it
// waited (X-Tollgate-Upstream-Latency), in about retries+1 times the bound.
func TestTryTimeout(t *testing.T) {
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stall.Close)
	fast := instances(t, 1, nil)[0]
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: s
  host: pool
  retries: 1
  try_timeout: 300
  routes: [{name: r, paths: [/pool]}]
- name: alone
  url: %s
  retries: 1
  try_timeout: 300
  routes: [{name: r2, paths: [/alone]}]
upstreams:
- name: pool
  targets:
  - {target: "%s"}
  - {target: "%s"}
`, stall.URL, strings.TrimPrefix(stall.URL, "http://"), strings.TrimPrefix(fast.URL, "http://"))
	g := startGateway(t, cfg)
	c := client()
	for i := 0; i < 6; i++ {
		start := time.Now()
		resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/pool", nil))
		if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "t0" {
			t.Fatalf("GET %d: %d %s, want the fast target's 200", i, resp.StatusCode, body)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Fatalf("GET %d took %v: the stalled try was not cut at 300ms", i, d)
		}
	}
	start := time.Now()
	resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/alone", nil))
	took := time.Since(start)
	if resp.StatusCode != 504 || !strings.Contains(string(body), "timing out") {
		t.Fatalf("stalled service: %d %s, want 504", resp.StatusCode, body)
	}
	waited, err := strconv.Atoi(resp.Header.Get("X-Tollgate-Upstream-Latency"))
	if err != nil || waited < 550 || waited > 2000 {
		t.Fatalf("X-Tollgate-Upstream-Latency %q: want the ~600ms of two 300ms tries", resp.Header.Get("X-Tollgate-Upstream-Latency"))
	}
	if took > 2500*time.Millisecond {
		t.Fatalf("504 after %v", took)
	}
	if !g.waitLog("upstream call failed", `"waited_ms"`) {
		t.Error("the failure log line lacks waited_ms")
	}
}

// TestRetryBudget: with the default budget a refused try is retried on the live target; a
// service whose budget allows no retry answers the refused half of its requests with 502.
func TestRetryBudget(t *testing.T) {
	live := instances(t, 1, nil)[0]
	dead := fmt.Sprintf("127.0.0.1:%d", deadPort(t))
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: default
  host: pool
  routes: [{name: r1, paths: [/default]}]
- name: strict
  host: pool
  retry_budget: {percent: 0, min_concurrency: 0}
  routes: [{name: r2, paths: [/strict]}]
upstreams:
- name: pool
  targets:
  - {target: "%s"}
  - {target: "%s"}
`, strings.TrimPrefix(live.URL, "http://"), dead)
	g := startGateway(t, cfg)
	c := client()
	statuses := func(path string) map[int]int {
		got := map[int]int{}
		for i := 0; i < 20; i++ {
			resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+path, nil))
			got[resp.StatusCode]++
		}
		return got
	}
	if got := statuses("/default"); got[200] != 20 {
		t.Fatalf("default budget: %v, want every request retried onto the live target", got)
	}
	if got := statuses("/strict"); got[502] == 0 || got[200] == 0 {
		t.Fatalf("zero budget: %v, want the dead target's share answered 502", got)
	}
	if !g.waitLog("retry budget exhausted", `"service":"strict"`) {
		t.Error("no log line for the exhausted budget")
	}
}

// TestHealthThreshold: under healthchecks.threshold the whole upstream fails fast with 503,
// and the admin API's balancer_health says so; it serves again once enough weight is back.
func TestHealthThreshold(t *testing.T) {
	srvs := instances(t, 2, nil)
	cfg := upstreamCfg("round-robin", "  healthchecks: {threshold: 60}\n", srvs, []int{100, 100})
	g := startGateway(t, cfg)
	c := client()
	target := strings.TrimPrefix(srvs[0].URL, "http://")
	balancerHealth := func() string {
		resp, body := do(t, c, mustReq(t, "GET", g.Admin+"/upstreams/pool/health?balancer_health=1", nil))
		if resp.StatusCode != 200 {
			t.Fatalf("balancer_health: %d %s", resp.StatusCode, body)
		}
		var out struct {
			Data struct {
				BalancerHealth string `json:"balancer_health"`
				Details        struct {
					Weight struct{ Total, Available int }
				}
			}
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		if out.Data.Details.Weight.Total != 200 {
			t.Fatalf("weights: %s", body)
		}
		return out.Data.BalancerHealth
	}
	if h := balancerHealth(); h != "HEALTHY" {
		t.Fatalf("balancer_health %s at start", h)
	}
	resp, body := do(t, c, mustReq(t, "PUT", g.Admin+"/upstreams/pool/targets/"+target+"/unhealthy", nil))
	if resp.StatusCode != 204 {
		t.Fatalf("PUT unhealthy: %d %s", resp.StatusCode, body)
	}
	if h := balancerHealth(); h != "UNHEALTHY" {
		t.Fatalf("balancer_health %s with 50%% of the weight left under a 60%% threshold", h)
	}
	for i := 0; i < 5; i++ {
		start := time.Now()
		resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		if resp.StatusCode != 503 || !strings.Contains(string(body), "failure to get a peer") {
			t.Fatalf("GET with the upstream under its threshold: %d %s", resp.StatusCode, body)
		}
		if time.Since(start) > time.Second {
			t.Fatal("the 503 was not immediate")
		}
	}
	do(t, c, mustReq(t, "PUT", g.Admin+"/upstreams/pool/targets/"+target+"/healthy", nil))
	if resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil)); resp.StatusCode != 200 {
		t.Fatalf("GET after the target came back: %d %s", resp.StatusCode, body)
	}
	if !g.waitLog("upstream health changed", `"health":"UNHEALTHY"`) {
		t.Error("no log line for the upstream going down")
	}
}

// TestWebSocketRetriesAndPassiveChecks: a WebSocket handshake that meets a dead target is
// retried on the live one, and the refused connections feed the passive checks, which take
// the dead target out of the rotation.
func TestWebSocketRetriesAndPassiveChecks(t *testing.T) {
	up := websocket.Upgrader{}
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		mt, msg, err := conn.ReadMessage()
		if err == nil {
			_ = conn.WriteMessage(mt, msg)
		}
	}))
	t.Cleanup(live.Close)
	dead := fmt.Sprintf("127.0.0.1:%d", deadPort(t))
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: s
  host: pool
  routes: [{name: r, paths: [/]}]
upstreams:
- name: pool
  healthchecks:
    passive:
      unhealthy: {tcp_failures: 2}
  targets:
  - {target: "%s"}
  - {target: "%s"}
`, dead, strings.TrimPrefix(live.URL, "http://"))
	g := startGateway(t, cfg)
	wsURL := "ws" + strings.TrimPrefix(g.Proxy, "http") + "/chat"
	for i := 0; i < 6; i++ {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatalf("handshake %d: %v (a refused target must be retried on another)", i, err)
		}
		_ = conn.WriteMessage(websocket.TextMessage, []byte("hi"))
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "hi" {
			t.Fatalf("echo %d: %q %v", i, msg, err)
		}
		conn.Close()
	}
	waitFor(t, "the dead target marked unhealthy by the handshakes' failures", 3*time.Second, func() bool {
		return healthOf(t, g, dead) == "UNHEALTHY"
	})
}
