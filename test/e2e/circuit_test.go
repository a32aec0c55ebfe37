package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// switchStatus is an upstream whose answer status can be changed while it runs.
func switchStatus(t *testing.T, name string, status int) (*httptest.Server, *atomic.Int32, *atomic.Int64) {
	var code atomic.Int32
	var hits atomic.Int64
	code.Store(int32(status))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("X-Upstream", name)
		w.WriteHeader(int(code.Load()))
	}))
	t.Cleanup(srv.Close)
	return srv, &code, &hits
}

type breakerRow struct {
	Name                string `json:"name"`
	State               string `json:"state"`
	Reason              string `json:"reason"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
}

func breakers(t *testing.T, g *gateway) map[string]breakerRow {
	t.Helper()
	resp, body := do(t, client(), mustReq(t, "GET", g.Admin+"/circuit-breakers", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /circuit-breakers: %d %s", resp.StatusCode, body)
	}
	var out struct{ Data []breakerRow }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	m := map[string]breakerRow{}
	for _, b := range out.Data {
		m[b.Name] = b
	}
	return m
}

// TestServiceCircuitBreaker: consecutive failures open the service's circuit; while open,
// requests fail fast with 503 and never reach the upstream; after open_timeout one probe goes
// through: a failure opens it again, a success closes it. The admin API and the log show it.
func TestServiceCircuitBreaker(t *testing.T) {
	srv, code, hits := switchStatus(t, "svc", 500)
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: orders
  url: %s
  circuit_breaker: {consecutive_failures: 3, open_timeout: 1}
  routes: [{name: r, paths: [/]}]
`, srv.URL)
	g := startGateway(t, cfg)
	c := client()
	get := func() int {
		resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		return resp.StatusCode
	}
	for i := 0; i < 3; i++ {
		if s := get(); s != 500 {
			t.Fatalf("request %d: %d, want the upstream's 500", i, s)
		}
	}
	before := hits.Load()
	for i := 0; i < 5; i++ {
		start := time.Now()
		if s := get(); s != 503 {
			t.Fatalf("open circuit: %d, want 503", s)
		}
		if time.Since(start) > 500*time.Millisecond {
			t.Fatal("an open circuit must fail fast")
		}
	}
	if hits.Load() != before {
		t.Fatalf("the upstream got %d requests while the circuit was open", hits.Load()-before)
	}
	if b := breakers(t, g)["service:orders"]; b.State != "open" || !strings.Contains(b.Reason, "3") {
		t.Fatalf("admin shows %+v", b)
	}
	if !g.waitLog("circuit breaker state changed", `"breaker":"service:orders"`, `"to":"open"`) {
		t.Fatal("no log line for the circuit opening")
	}
	// half-open probe fails: open again
	time.Sleep(1100 * time.Millisecond)
	if s := get(); s != 500 {
		t.Fatalf("half-open probe: %d, want it to reach the upstream", s)
	}
	if s := get(); s != 503 {
		t.Fatalf("after a failed probe: %d, want 503 (open again)", s)
	}
	// the upstream recovers: the next probe closes the circuit
	code.Store(200)
	time.Sleep(1100 * time.Millisecond)
	for i := 0; i < 5; i++ {
		if s := get(); s != 200 {
			t.Fatalf("after recovery, request %d: %d", i, s)
		}
	}
	if b := breakers(t, g)["service:orders"]; b.State != "closed" {
		t.Fatalf("admin shows %+v after recovery", b)
	}
	if !g.waitLog("circuit breaker state changed", `"breaker":"service:orders"`, `"to":"closed"`) {
		t.Fatal("no log line for the circuit closing")
	}
}

// TestTargetCircuitBreaker: per-target breakers take a failing target out of the rotation
// (the others take its share), probe it after open_timeout, and let it back once it answers;
// POST /circuit-breakers/{name}/reset closes one by hand.
func TestTargetCircuitBreaker(t *testing.T) {
	bad, badCode, badHits := switchStatus(t, "bad", 502)
	good, _, _ := switchStatus(t, "good", 200)
	badAddr := strings.TrimPrefix(bad.URL, "http://")
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: s
  host: pool
  routes: [{name: r, paths: [/]}]
upstreams:
- name: pool
  circuit_breaker: {consecutive_failures: 2, open_timeout: 1}
  targets:
  - {target: "%s"}
  - {target: "%s"}
`, badAddr, strings.TrimPrefix(good.URL, "http://"))
	g := startGateway(t, cfg)
	c := client()
	for i := 0; i < 6; i++ {
		do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
	}
	name := "upstream:pool/" + badAddr
	if b := breakers(t, g)[name]; b.State != "open" {
		t.Fatalf("breaker of the failing target: %+v", b)
	}
	before := badHits.Load()
	for i := 0; i < 20; i++ {
		resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "good" {
			t.Fatalf("with the bad target's circuit open: %d %s", resp.StatusCode, body)
		}
	}
	if badHits.Load() != before {
		t.Fatalf("the open target got %d requests", badHits.Load()-before)
	}
	badCode.Store(200)
	time.Sleep(1100 * time.Millisecond)
	got := map[string]int{}
	for i := 0; i < 20; i++ {
		resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		got[resp.Header.Get("X-Upstream")]++
	}
	if got["bad"] < 5 {
		t.Fatalf("the recovered target is not back in the rotation: %v", got)
	}
	// reset by hand
	badCode.Store(502)
	for i := 0; i < 6; i++ {
		do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
	}
	if b := breakers(t, g)[name]; b.State != "open" {
		t.Fatalf("breaker should be open again: %+v", b)
	}
	resp, body := do(t, c, mustReq(t, "POST", g.Admin+"/circuit-breakers/"+url.PathEscape(name)+"/reset", nil))
	if resp.StatusCode != 204 {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	if b := breakers(t, g)[name]; b.State != "closed" {
		t.Fatalf("after reset: %+v", b)
	}
	if resp, _ := do(t, c, mustReq(t, "POST", g.Admin+"/circuit-breakers/nope/reset", nil)); resp.StatusCode != 404 {
		t.Fatalf("reset of an unknown breaker: %d", resp.StatusCode)
	}
}
