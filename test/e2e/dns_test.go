package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"tollgate/internal/discovery/dnstest"
)

// namedUpstream serves its name on ip:port (ip a loopback address; port 0 = any).
func namedUpstream(t *testing.T, name, ip string, port int) int {
	t.Helper()
	return serveOn(t, &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", name)
		w.Header().Set("X-Host", r.Host)
	})}, ip, port)
}

func upstreamsSeen(t *testing.T, g *gateway, n int) map[string]int {
	t.Helper()
	c := client()
	got := map[string]int{}
	for i := 0; i < n; i++ {
		resp, err := c.Get(g.Proxy + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			got[strconv.Itoa(resp.StatusCode)]++
			continue
		}
		got[resp.Header.Get("X-Upstream")]++
	}
	return got
}

// TestDNSTargetsFollowChanges: a target given as a name is resolved through a real DNS server
// on loopback and re-resolved when its TTL runs out, without a reload: an address change moves
// the traffic, a name that stops resolving leaves the rotation (503, DNS_ERROR in the admin
// API) and comes back when it resolves again. The Host header is the target's name.
func TestDNSTargetsFollowChanges(t *testing.T) {
	port := namedUpstream(t, "a", "127.0.0.1", 0)
	namedUpstream(t, "b", "127.0.0.2", port)
	dns := dnstest.Start(t)
	dns.Set("api.test.", "api.test. 1 IN A 127.0.0.1")
	cfg := fmt.Sprintf(`_format_version: "3.0"
services:
- name: s
  host: pool
  routes: [{name: r, paths: [/]}]
upstreams:
- name: pool
  targets: [{target: "api.test:%d"}]
`, port)
	g := startGateway(t, cfg, "--dns-resolver", dns.Addr(), "--dns-hostsfile", "/dev/null", "--dns-not-found-ttl", "1s")
	c := client()
	resp, _ := do(t, c, mustReq(t, "GET", g.Proxy+"/x", nil))
	if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "a" {
		t.Fatalf("first request: %d from %q", resp.StatusCode, resp.Header.Get("X-Upstream"))
	}
	if h := resp.Header.Get("X-Host"); h != fmt.Sprintf("api.test:%d", port) {
		t.Errorf("Host upstream %q, want the target's name", h)
	}

	dns.Set("api.test.", "api.test. 1 IN A 127.0.0.2")
	waitFor(t, "traffic moved to the new address", 6*time.Second, func() bool { return upstreamsSeen(t, g, 5)["b"] == 5 })

	dns.Set("api.test.") // NXDOMAIN
	waitFor(t, "the unresolvable target left the rotation", 6*time.Second, func() bool { return upstreamsSeen(t, g, 3)["503"] == 3 })
	resp, body := do(t, c, mustReq(t, "GET", g.Admin+"/upstreams/pool/health", nil))
	var h struct {
		Data []struct{ Target, Health string }
	}
	_ = json.Unmarshal(body, &h)
	if resp.StatusCode != 200 || len(h.Data) != 1 || h.Data[0].Health != "DNS_ERROR" {
		t.Fatalf("health while unresolvable: %s", body)
	}

	dns.Set("api.test.", "api.test. 1 IN A 127.0.0.1", "api.test. 1 IN A 127.0.0.2")
	waitFor(t, "the name resolves again, to both addresses", 6*time.Second, func() bool {
		got := upstreamsSeen(t, g, 10)
		return got["a"] > 0 && got["b"] > 0 && got["a"]+got["b"] == 10
	})
	_, body = do(t, c, mustReq(t, "GET", g.Admin+"/upstreams/pool/health", nil))
	var h2 struct {
		Data []struct {
			Health string
			Data   struct {
				Addresses []struct {
					IP     string
					Health string
				}
			}
		}
	}
	_ = json.Unmarshal(body, &h2)
	if len(h2.Data) != 1 || len(h2.Data[0].Data.Addresses) != 2 {
		t.Fatalf("health with two addresses: %s", body)
	}
	if !g.waitLog("target addresses changed", `"name":"api.test"`) {
		t.Error("no log line for the address change")
	}
}

// TestDNSSRVTargets: an SRV name gives its targets' ports and weights.
func TestDNSSRVTargets(t *testing.T) {
	pa := namedUpstream(t, "a", "127.0.0.1", 0)
	pb := namedUpstream(t, "b", "127.0.0.1", 0)
	dns := dnstest.Start(t)
	dns.Set("a.test.", "a.test. 30 IN A 127.0.0.1")
	dns.Set("b.test.", "b.test. 30 IN A 127.0.0.1")
	dns.Set("_http._tcp.svc.test.",
		fmt.Sprintf("_http._tcp.svc.test. 30 IN SRV 10 30 %d a.test.", pa),
		fmt.Sprintf("_http._tcp.svc.test. 30 IN SRV 10 10 %d b.test.", pb))
	cfg := `_format_version: "3.0"
services:
- name: s
  host: pool
  routes: [{name: r, paths: [/]}]
upstreams:
- name: pool
  targets: [{target: "_http._tcp.svc.test:80"}]
`
	g := startGateway(t, cfg, "--dns-resolver", dns.Addr(), "--dns-hostsfile", "/dev/null")
	got := upstreamsSeen(t, g, 400)
	if got["a"]+got["b"] != 400 {
		t.Fatalf("answers %v", got)
	}
	if r := float64(got["a"]) / 400; r < 0.70 || r > 0.80 {
		t.Fatalf("SRV weights 30/10: a got %.2f of the traffic, want 0.75 (%v)", r, got)
	}
}

// serveOn serves srv on ip:port (port 0 = any) and returns the port.
func serveOn(t *testing.T, srv *http.Server, ip string, port int) int {
	t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 20; i++ {
		if l, err = net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port))); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Skipf("listen on %s:%d: %v", ip, port, err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}
