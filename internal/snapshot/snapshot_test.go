package snapshot

import (
	"fmt"
	"strings"
	"testing"

	"tollgate/internal/balancer"
	"tollgate/internal/config"
	"tollgate/internal/plugin"
)

// tag is a test plugin whose instances are told apart by their config.
type tagConfig struct {
	Tag string `json:"tag" yaml:"tag"`
}

type tag struct{ name string }

func (t *tag) Access(c *plugin.Ctx) error { return nil }

func registry() *plugin.Registry {
	return plugin.NewRegistry([]plugin.Spec{
		plugin.Define("tag", plugin.Options{Priority: 10}, func() *tagConfig { return &tagConfig{} },
			func(c *tagConfig, _ plugin.Env) (any, error) { return &tag{name: c.Tag}, nil }),
		plugin.Define("other", plugin.Options{Priority: 20}, func() *tagConfig { return &tagConfig{} },
			func(c *tagConfig, _ plugin.Env) (any, error) { return &tag{name: c.Tag}, nil }),
	})
}

func compile(t *testing.T, src string) *Snapshot {
	t.Helper()
	reg := registry()
	cfg, err := config.Load("kong.yml", []byte(src), reg)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	s, err := Compile(cfg, reg, Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s
}

func routeNamed(s *Snapshot, name string) *Route {
	for _, r := range s.Routes {
		if r.Config.Name == name {
			return r
		}
	}
	return nil
}

// chosen is the tag the slot named "tag" runs for consumer cid ("" = none).
func chosen(ch *plugin.Chain, cid string) string {
	for _, s := range ch.Slots {
		if s.Name != "tag" {
			continue
		}
		in := s.Default
		if cid != "" {
			if o, ok := s.ByConsumer[cid]; ok {
				in = o
			}
		}
		if in == nil {
			return "-"
		}
		return in.Handler.(*tag).name
	}
	return "-"
}

// TestPrecedence checks Kong's scope precedence (KONG_COMPAT §6.2), level by level: with
// every level configured the most specific wins, and removing the winner each time reveals
// the next one: route+service+consumer > route+consumer > service+consumer > route+service >
// consumer > route > service > global.
func TestPrecedence(t *testing.T) {
	levels := []struct{ name, scope string }{
		{"rsc", "route: r\n  service: s\n  consumer: bob"},
		{"rc", "route: r\n  consumer: bob"},
		{"sc", "service: s\n  consumer: bob"},
		{"rs", "route: r\n  service: s"},
		{"c", "consumer: bob"},
		{"r", "route: r"},
		{"s", "service: s"},
		{"g", ""},
	}
	for skip := 0; skip < len(levels); skip++ {
		var b strings.Builder
		b.WriteString("_format_version: \"3.0\"\nservices:\n- name: s\n  url: http://127.0.0.1:1\n  routes:\n  - name: r\n    paths: [/r]\n  - name: other-route\n    paths: [/o]\nconsumers:\n- username: bob\n- username: alice\nplugins:\n")
		for _, l := range levels[skip:] {
			fmt.Fprintf(&b, "- name: tag\n  config: {tag: %s}\n", l.name)
			if l.scope != "" {
				fmt.Fprintf(&b, "  %s\n", l.scope)
			}
		}
		s := compile(t, b.String())
		r := routeNamed(s, "r")
		bob := s.Config.Consumers[0].ID
		alice := s.Config.Consumers[1].ID
		want := levels[skip].name
		if got := chosen(r.Chain, bob); got != want {
			t.Errorf("levels from %s: bob gets %q, want %q", want, got, want)
		}
		// without a consumer (or for another one) only consumer-free levels count
		wantAnon := "-"
		for _, l := range levels[skip:] {
			if !strings.Contains(l.scope, "consumer") {
				wantAnon = l.name
				break
			}
		}
		if got := chosen(r.Chain, ""); got != wantAnon {
			t.Errorf("levels from %s: anonymous gets %q, want %q", want, got, wantAnon)
		}
		if got := chosen(r.Chain, alice); got != wantAnon {
			t.Errorf("levels from %s: alice gets %q, want %q", want, got, wantAnon)
		}
	}
}

func TestChainScopesAndOrder(t *testing.T) {
	s := compile(t, `_format_version: "3.0"
services:
- name: s1
  url: http://127.0.0.1:1
  routes: [{name: a, paths: [/a]}]
  plugins: [{name: tag, config: {tag: on-s1}}]
- name: s2
  url: http://127.0.0.1:1
  routes: [{name: b, paths: [/b]}]
plugins:
- name: other
  config: {tag: global-other}
- name: tag
  route: b
  enabled: false
  config: {tag: disabled}
`)
	a, b := routeNamed(s, "a"), routeNamed(s, "b")
	if got := chosen(a.Chain, ""); got != "on-s1" {
		t.Errorf("route a: %q", got)
	}
	if got := chosen(b.Chain, ""); got != "-" {
		t.Errorf("route b must not run s1's plugin nor the disabled one: %q", got)
	}
	// priority order: other (20) before tag (10)
	if names := []string{a.Chain.Slots[0].Name, a.Chain.Slots[1].Name}; names[0] != "other" || names[1] != "tag" {
		t.Errorf("order %v", names)
	}
	if len(s.Global.Slots) != 1 || s.Global.Slots[0].Name != "other" {
		t.Errorf("global chain: %+v", s.Global.Slots)
	}
}

func TestServicesAndHosts(t *testing.T) {
	s := compile(t, `_format_version: "3.0"
services:
- name: direct
  url: http://api.internal:8080/base
  read_timeout: 1500
  routes: [{name: d, paths: [/d]}]
- name: std-port
  url: https://secure.internal
  routes: [{name: sp, paths: [/sp]}]
- name: balanced
  host: pool
  routes: [{name: p, paths: [/p]}]
- name: balanced-hh
  host: pool-hh
  routes: [{name: h, paths: [/h]}]
- name: disabled-svc
  enabled: false
  url: http://x.internal
  routes: [{name: disabled-route, paths: [/off]}]
upstreams:
- name: pool
  targets: [{target: "10.0.0.1:81", weight: 10}, {target: "10.0.0.2"}]
- name: pool-hh
  host_header: api.example
  targets: [{target: "10.0.0.3:80"}]
`)
	tests := []struct {
		route, hostHeader, path string
		targetHost              bool
		targets                 []string
	}{
		{route: "d", hostHeader: "api.internal:8080", path: "/base", targets: []string{"api.internal:8080"}},
		{route: "sp", hostHeader: "secure.internal", path: "/", targets: []string{"secure.internal:443"}},
		{route: "p", hostHeader: "pool", path: "/", targetHost: true, targets: []string{"10.0.0.1:81", "10.0.0.2:8000"}},
		{route: "h", hostHeader: "api.example", path: "/", targets: []string{"10.0.0.3:80"}},
	}
	for _, tc := range tests {
		t.Run(tc.route, func(t *testing.T) {
			r := routeNamed(s, tc.route)
			if r == nil || r.Service == nil {
				t.Fatal("route or service missing")
			}
			svc := r.Service
			if svc.HostHeader != tc.hostHeader || svc.Path != tc.path || svc.TargetHost != tc.targetHost {
				t.Errorf("host %q path %q targetHost %v", svc.HostHeader, svc.Path, svc.TargetHost)
			}
			var addrs []string
			for _, tg := range svc.Balancer.Targets() {
				addrs = append(addrs, tg.Addr)
			}
			if fmt.Sprint(addrs) != fmt.Sprint(tc.targets) {
				t.Errorf("targets %v, want %v", addrs, tc.targets)
			}
		})
	}
	if got := routeNamed(s, "d").Service.ReadTimeout.Milliseconds(); got != 1500 {
		t.Errorf("read timeout %d ms", got)
	}
	if routeNamed(s, "disabled-route") != nil {
		t.Error("routes of a disabled service must be left out of the router")
	}
	p := routeNamed(s, "p").Service
	if got := p.HostFor(&balancer.Target{Host: "10.0.0.1", Port: 81}); got != "10.0.0.1:81" {
		t.Errorf("HostFor target = %q", got)
	}
	if got := p.HostFor(&balancer.Target{Host: "10.0.0.9", Port: 80}); got != "10.0.0.9" {
		t.Errorf("HostFor default port = %q", got)
	}
}

// TestServicesShareTheirUpstream: two services naming one upstream share its targets and
// picker (health flags and in-flight counts are the upstream's), while each keeps its own
// connection pools (they depend on the service's timeouts).
func TestServicesShareTheirUpstream(t *testing.T) {
	reg := registry()
	cfg, err := config.Load("kong.yml", []byte(`_format_version: "3.0"
services:
- {name: a, host: pool, read_timeout: 1000, routes: [{name: ra, paths: [/a]}]}
- {name: b, host: pool, read_timeout: 2000, routes: [{name: rb, paths: [/b]}]}
upstreams:
- name: pool
  targets: [{target: "10.0.0.1:80"}, {target: "10.0.0.2:80"}]
`), reg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(cfg, reg, Options{Transport: func(svc *Service, tg *balancer.Target) any {
		return fmt.Sprintf("%s/%d", svc.Config.Name, tg.Index)
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := routeNamed(s, "ra").Service, routeNamed(s, "rb").Service
	if a.Balancer != b.Balancer || len(s.Pools) != 1 || s.Pools[0].Balancer != a.Balancer {
		t.Fatal("services do not share the upstream's picker")
	}
	tg := a.Balancer.Targets()[1]
	if tg != b.Balancer.Targets()[1] {
		t.Fatal("targets are not shared")
	}
	if a.TransportFor(tg) != "a/1" || b.TransportFor(tg) != "b/1" {
		t.Errorf("pools %v %v", a.TransportFor(tg), b.TransportFor(tg))
	}
}
