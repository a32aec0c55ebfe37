package config

import (
	"os"
	"strings"
	"testing"
)

// TestUnbuiltFeaturesRefused: what the model parses but this build cannot serve yet is
// refused by Load with "not supported yet", naming the field, never loaded and ignored.
func TestUnbuiltFeaturesRefused(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{name: "every algorithm loads", src: `_format_version: "3.0"
upstreams:
- name: a
  algorithm: least-connections
- name: b
  hash_on: ip
- name: c
  algorithm: latency
- name: d
  algorithm: random
- name: e
  algorithm: ip-hash
`},
		{name: "active and passive checks", src: `_format_version: "3.0"
upstreams:
- name: u
  healthchecks:
    active:
      healthy: {interval: 5}
    passive:
      unhealthy: {http_failures: 3}
`, want: []string{
			`kong.yml:6: upstream "u": healthchecks.active.healthy.interval: active health checks are not supported yet in tollgate (interval must be 0)`,
			`kong.yml:8: upstream "u": healthchecks.passive.unhealthy.http_failures: passive health checks are not supported yet in tollgate (must be 0)`,
		}},
		{name: "inert settings load", src: `_format_version: "3.0"
upstreams:
- name: u
  algorithm: round-robin
  healthchecks:
    active:
      healthy: {interval: 0, successes: 3}
      http_path: /health
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("kong.yml", []byte(tc.src), testPlugins())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if len(tc.want) == 0 && err != nil {
				t.Fatalf("unexpected error:\n%s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("errors lack %q:\n%s", w, got)
				}
			}
		})
	}
	data, err := os.ReadFile("testdata/seed001-healthchecks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load("seed001-healthchecks.yaml", data, testPlugins()); err == nil || !strings.Contains(err.Error(), "health checks are not supported yet") {
		t.Errorf("the seed's health-checked upstream must be refused until health checks exist: %v", err)
	}
}
