package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// killable is an upstream that can be stopped and started again on the same port.
type killable struct {
	addr string
	srv  *http.Server
	name string
}

func newKillable(t *testing.T, name string) *killable {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &killable{addr: l.Addr().String(), name: name}
	k.serve(t, l)
	t.Cleanup(func() { k.srv.Close() })
	return k
}

func (k *killable) serve(t *testing.T, l net.Listener) {
	k.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", k.name)
	})}
	go func() { _ = k.srv.Serve(l) }()
}

func (k *killable) kill() { _ = k.srv.Close() }

func (k *killable) revive(t *testing.T) {
	t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", k.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	k.serve(t, l)
}

func healthOf(t *testing.T, g *gateway, target string) string {
	t.Helper()
	resp, body := do(t, client(), mustReq(t, "GET", g.Admin+"/upstreams/pool/health", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Data []struct{ Target, Health string }
	}
	_ = json.Unmarshal(body, &out)
	for _, d := range out.Data {
		if d.Target == target {
			return d.Health
		}
	}
	return ""
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestActiveHealthChecks: a killed target leaves the rotation through active probes within
// the configured interval, no request fails meanwhile (connection refusals are retried), and
// it comes back when it answers again.
func TestActiveHealthChecks(t *testing.T) {
	a, b := newKillable(t, "a"), newKillable(t, "b")
	cfg := sprintf(`_format_version: "3.0"
services:
- {name: s, host: pool, routes: [{name: r, paths: [/]}]}
upstreams:
- name: pool
  healthchecks:
    active:
      type: http
      http_path: /health
      timeout: 0.5
      healthy: {interval: 0.1, successes: 2}
      unhealthy: {interval: 0.1, tcp_failures: 2, http_failures: 2}
  targets: [{target: "%s"}, {target: "%s"}]
`, a.addr, b.addr)
	g := startGateway(t, cfg)
	c := client()
	if h := healthOf(t, g, b.addr); h != "HEALTHY" {
		t.Fatalf("b starts %q", h)
	}
	b.kill()
	waitFor(t, "killed target marked unhealthy", 3*time.Second, func() bool { return healthOf(t, g, b.addr) == "UNHEALTHY" })
	for i := 0; i < 20; i++ {
		resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "a" {
			t.Fatalf("request %d: %d from %q while b is down", i, resp.StatusCode, resp.Header.Get("X-Upstream"))
		}
	}
	b.revive(t)
	waitFor(t, "revived target healthy again", 3*time.Second, func() bool { return healthOf(t, g, b.addr) == "HEALTHY" })
	seen := map[string]bool{}
	for i := 0; i < 10; i++ {
		resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		seen[resp.Header.Get("X-Upstream")] = true
	}
	if !seen["b"] {
		t.Error("revived target not used again")
	}
}

// TestPassiveHealthChecksAndManual: passive failures take a target out; with no target left
// the gateway answers 503 at once; the admin API puts it back by hand.
func TestPassiveHealthChecksAndManual(t *testing.T) {
	bad := startEchoStatus(t, 500)
	cfg := sprintf(`_format_version: "3.0"
services:
- {name: s, host: pool, retries: 0, routes: [{name: r, paths: [/]}]}
upstreams:
- name: pool
  healthchecks:
    passive:
      unhealthy: {http_failures: 3}
  targets: [{target: "%s"}]
`, bad)
	g := startGateway(t, cfg)
	c := client()
	for i := 0; i < 3; i++ {
		resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
		if resp.StatusCode != 500 {
			t.Fatalf("try %d: %d", i, resp.StatusCode)
		}
	}
	if h := healthOf(t, g, bad); h != "UNHEALTHY" {
		t.Fatalf("after 3 passive failures: %q", h)
	}
	start := time.Now()
	resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
	if resp.StatusCode != 503 || !strings.Contains(string(body), "failure to get a peer") || time.Since(start) > time.Second {
		t.Fatalf("no healthy target: %d %s after %v", resp.StatusCode, body, time.Since(start))
	}
	resp, _ = do(t, c, mustReq(t, "PUT", g.Admin+"/upstreams/pool/targets/"+bad+"/healthy", nil))
	if resp.StatusCode != 204 {
		t.Fatalf("PUT healthy: %d", resp.StatusCode)
	}
	resp, _ = do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
	if resp.StatusCode != 500 {
		t.Errorf("after PUT healthy the target serves again: %d", resp.StatusCode)
	}
}
