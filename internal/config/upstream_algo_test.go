package config

import "testing"

// TestUpstreamAlgorithmsAndChecksLoad: every algorithm (Kong's and our extensions) and the
// health check tree load through the public Load, as the balancing and health work serve them.
func TestUpstreamAlgorithmsAndChecksLoad(t *testing.T) {
	cfg, err := Load("kong.yml", []byte(`_format_version: "3.0"
upstreams:
- {name: a, algorithm: least-connections}
- {name: b, hash_on: ip}
- {name: c, algorithm: latency}
- {name: d, algorithm: random}
- {name: e, algorithm: ip-hash, hash_on: header, hash_on_header: X-A}
- name: f
  healthchecks:
    active: {http_path: /health, healthy: {interval: 5, successes: 2}, unhealthy: {interval: 5, http_failures: 3}}
    passive: {unhealthy: {http_failures: 5, timeouts: 3}}
`), testPlugins())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ algo, hashOn string }{
		{"least-connections", "none"}, {"consistent-hashing", "ip"}, {"latency", "none"},
		{"random", "none"}, {"ip-hash", "none"}, {"round-robin", "none"},
	}
	for i, w := range want {
		u := cfg.Upstreams[i]
		if u.Algorithm != w.algo || u.HashOn != w.hashOn {
			t.Errorf("%s: algorithm %q hash_on %q, want %q %q", u.Name, u.Algorithm, u.HashOn, w.algo, w.hashOn)
		}
	}
	hc := cfg.Upstreams[5].Healthchecks
	if hc.Active.Healthy.Interval != 5 || hc.Active.Unhealthy.HTTPFailures != 3 || hc.Passive.Unhealthy.Timeouts != 3 || hc.Passive.Unhealthy.HTTPStatuses == nil {
		t.Errorf("healthchecks %+v", hc)
	}
}
