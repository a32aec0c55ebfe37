package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// kongID computes a Kong declarative id independently of the loader: UUIDv5 of key in the
// namespace UUIDv5(ROOT, table).
func kongID(table, key string) string {
	ns := uuid.NewSHA1(uuid.MustParse("fd02801f-0957-4a15-a55a-c8d9606f30b5"), []byte(table))
	return uuid.NewSHA1(ns, []byte(key)).String()
}

var v4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestKongCheckValues pins the ids Kong's own test fixtures expect.
func TestKongCheckValues(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
services:
- name: my-service
  host: example.com
routes:
- name: my-route
  paths: [/]
consumers:
- username: my-user
`)
	for _, c := range []struct{ got, want string }{
		{cfg.Services[0].ID, "0855b320-0dd2-547d-891d-601e9b38647f"},
		{cfg.Routes[0].ID, "481a9539-f49c-51b6-b2e2-fe99ee68866c"},
		{cfg.Consumers[0].ID, "4b1b701d-de2b-5588-9aa2-3b97061d9f52"},
	} {
		if c.got != c.want {
			t.Errorf("id %s, want %s", c.got, c.want)
		}
	}
}

func TestDerivedIDs(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
services:
- name: svc
  host: h
  plugins:
  - name: rate-limiting
    config: {minute: 1}
  routes:
  - name: r
    paths: [/]
    plugins:
    - name: key-auth
- host: unnamed
  plugins:
  - name: prometheus
- id: 3F2504E0-4F89-41D3-9A0C-0305E82C3301
  host: given
  plugins:
  - name: prometheus
plugins:
- name: rate-limiting
  service: svc
  route: r
  consumer: alice
  config: {minute: 2}
- name: prometheus
  service: {id: 3f2504e0-4f89-41d3-9a0c-0305e82c3301}
  route: r
upstreams:
- name: up
  targets:
  - target: a:80
targets:
- target: b
  upstream: up
consumers:
- username: alice
  acls:
  - group: g
  basicauth_credentials:
  - username: ab
    password: p
  hmacauth_credentials:
  - username: ah
  keyauth_credentials:
  - key: secret
  jwt_secrets:
  - key: iss
  oauth2_credentials:
  - name: app
- custom_id: only-custom
`)
	svc := kongID("services", "svc")
	route := kongID("routes", "r")
	up := kongID("upstreams", "up")
	alice := kongID("consumers", "alice")
	byHost := func(h string) *Service {
		for _, s := range cfg.Services {
			if s.Host == h {
				return s
			}
		}
		t.Fatalf("no service %s", h)
		return nil
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: id %s, want %s", what, got, want)
		}
	}
	check("service", byHost("h").ID, svc)
	check("given id is lower-cased", byHost("given").ID, "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
	if !v4.MatchString(byHost("unnamed").ID) {
		t.Errorf("unnamed service id %s is not a random v4", byHost("unnamed").ID)
	}
	plugins := map[string]string{}
	for _, p := range cfg.Plugins {
		scope := ""
		if p.Service != nil {
			scope += "s=" + p.Service.Host
		}
		if p.Route != nil {
			scope += "r=" + p.Route.Name
		}
		if p.Consumer != nil {
			scope += "c=" + p.Consumer.Username
		}
		plugins[p.Name+" "+scope] = p.ID
	}
	check("nested plugin", plugins["rate-limiting s=h"], kongID("plugins", "plugins:*:rate-limiting::"+svc+":"))
	check("plugin in nested route", plugins["key-auth r=r"], kongID("plugins", "plugins:*:key-auth:"+route+"::"))
	check("plugin under given id", plugins["prometheus s=given"], kongID("plugins", "plugins:*:prometheus::3f2504e0-4f89-41d3-9a0c-0305e82c3301:"))
	check("top-level plugin (names as written)", plugins["rate-limiting s=hr=rc=alice"], kongID("plugins", "plugins:*:rate-limiting:r:svc:alice"))
	// Kong skips a cache-key component written as {id: ...}.
	check("top-level plugin with {id}", plugins["prometheus s=givenr=r"], kongID("plugins", "plugins:*:prometheus:r:"))
	if id := plugins["prometheus s=unnamed"]; !v4.MatchString(id) {
		t.Errorf("plugin under a random-id parent: id %s, want random v4", id)
	}
	check("nested target", cfg.Targets[0].ID, kongID("targets", "targets:*:"+up+":a:80"))
	check("top-level target", cfg.Targets[1].ID, kongID("targets", "targets:*:up:b"))
	check("acl", cfg.ACLs[0].ID, kongID("acls", "acls:*:"+alice+":g"))
	check("basic-auth", cfg.BasicAuthCredentials[0].ID, kongID("basicauth_credentials", "basicauth_credentials:*:ab"))
	check("hmac-auth", cfg.HMACAuthCredentials[0].ID, kongID("hmacauth_credentials", "hmacauth_credentials:*:ah"))
	for what, id := range map[string]string{
		"key-auth": cfg.KeyAuthCredentials[0].ID, "jwt": cfg.JWTSecrets[0].ID,
		"oauth2": cfg.OAuth2Credentials[0].ID, "custom_id-only consumer": cfg.Consumers[1].ID,
	} {
		if !v4.MatchString(id) {
			t.Errorf("%s: id %s, want random v4 (Kong does not derive it)", what, id)
		}
	}
}

func TestServiceURL(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		url      string
		protocol string
		host     string
		port     int
		path     *string
	}{
		{"http://example.com", "http", "example.com", 80, nil},
		{"https://example.com", "https", "example.com", 443, nil},
		{"http://example.com/", "http", "example.com", 80, str("/")},
		{"https://example.com:8443/api/v1", "https", "example.com", 8443, str("/api/v1")},
		{"http://example.com:443", "http", "example.com", 443, nil},
		{"//example.com:443/x", "https", "example.com", 443, str("/x")},
		{"//example.com:80", "http", "example.com", 80, nil},
		{"//example.com", "http", "example.com", 80, nil},
		{"http://user:pw@example.com:81/p?q=1#frag", "http", "example.com", 81, str("/p")},
		{"http://10.0.0.1:8080/a;params", "http", "10.0.0.1", 8080, str("/a")},
		{"http://[::1]:8080/", "http", "::1", 8080, str("/")},
		{"https://[2001:db8::1]", "https", "2001:db8::1", 443, nil},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg := mustLoad(t, "_format_version: \"3.0\"\nservices:\n- name: s\n  url: \""+tt.url+"\"\n  port: 1\n  path: /ignored\n")
			s := cfg.Services[0]
			if s.Protocol != tt.protocol || s.Host != tt.host || s.Port != tt.port || !reflect.DeepEqual(s.Path, tt.path) {
				got := "<nil>"
				if s.Path != nil {
					got = *s.Path
				}
				t.Errorf("got %s %s %d %s", s.Protocol, s.Host, s.Port, got)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
services:
- name: s
  host: h
  routes:
  - name: r
    paths: [/]
    plugins:
    - name: cors
upstreams:
- name: u
  targets:
  - target: 10.0.0.1
  - target: "[::1]"
  - target: "[2001:db8::2]:9000"
consumers:
- username: c
  keyauth_credentials:
  - {}
  jwt_secrets:
  - {}
  hmacauth_credentials:
  - username: h
  oauth2_credentials:
  - name: app
`)
	s := cfg.Services[0]
	wantSvc := Service{
		Meta: Meta{ID: s.ID, CreatedAt: testNow.Unix(), UpdatedAt: testNow.Unix(), Line: 3},
		Name: "s", Protocol: "http", Host: "h", Port: 80, Retries: 5,
		ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000, Enabled: true,
		Routes: s.Routes,
	}
	if !reflect.DeepEqual(*s, wantSvc) {
		t.Errorf("service:\n got %+v\nwant %+v", *s, wantSvc)
	}
	r := cfg.Routes[0]
	wantRoute := Route{
		Meta: Meta{ID: r.ID, CreatedAt: testNow.Unix(), UpdatedAt: testNow.Unix(), Line: 6},
		Name: "r", Protocols: []string{"http", "https"}, Paths: []string{"/"},
		HTTPSRedirectStatusCode: 426, StripPath: true, PathHandling: "v0",
		RequestBuffering: true, ResponseBuffering: true, Service: s,
	}
	if !reflect.DeepEqual(*r, wantRoute) {
		t.Errorf("route:\n got %+v\nwant %+v", *r, wantRoute)
	}
	if len(s.Routes) != 1 || s.Routes[0] != r {
		t.Errorf("service.Routes = %v", s.Routes)
	}
	p := cfg.Plugins[0]
	if !p.Enabled || !reflect.DeepEqual(p.Protocols, []string{"grpc", "grpcs", "http", "https"}) ||
		p.Route != r || p.Service != nil || p.Consumer != nil || p.InstanceName != "" {
		t.Errorf("plugin defaults: %+v", *p)
	}
	if c, ok := p.Config.(*corsConf); !ok || c.Origins == nil {
		t.Errorf("plugin config %#v, want the fake's defaults", p.Config)
	}
	u := cfg.Upstreams[0]
	if u.Algorithm != "round-robin" || u.HashOn != "none" || u.HashFallback != "none" ||
		u.HashOnCookiePath != "/" || u.Slots != 10000 || u.UseSRVName || u.HostHeader != "" {
		t.Errorf("upstream defaults: %+v", *u)
	}
	if !reflect.DeepEqual(u.Healthchecks, defaultHealthchecks()) {
		t.Errorf("healthchecks %+v", u.Healthchecks)
	}
	want := []struct {
		target string
		host   string
		port   int
	}{
		{"10.0.0.1:8000", "10.0.0.1", 8000},
		{"[0000:0000:0000:0000:0000:0000:0000:0001]:8000", "0000:0000:0000:0000:0000:0000:0000:0001", 8000},
		{"[2001:0db8:0000:0000:0000:0000:0000:0002]:9000", "2001:0db8:0000:0000:0000:0000:0000:0002", 9000},
	}
	for i, tg := range cfg.Targets {
		if tg.Target != want[i].target || tg.Host != want[i].host || tg.Port != want[i].port || tg.Weight != 100 || tg.Upstream != u {
			t.Errorf("target %d: %+v", i, *tg)
		}
	}
	if len(u.Targets) != 3 {
		t.Errorf("upstream.Targets = %d", len(u.Targets))
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	c := cfg.Consumers[0]
	for what, v := range map[string]string{
		"key-auth key": cfg.KeyAuthCredentials[0].Key, "jwt key": cfg.JWTSecrets[0].Key,
		"jwt secret": cfg.JWTSecrets[0].Secret, "hmac secret": cfg.HMACAuthCredentials[0].Secret,
		"oauth2 client_id": cfg.OAuth2Credentials[0].ClientID, "oauth2 secret": cfg.OAuth2Credentials[0].ClientSecret,
	} {
		if !hex32.MatchString(v) {
			t.Errorf("%s = %q, want 32 generated hex characters", what, v)
		}
	}
	if cfg.JWTSecrets[0].Algorithm != "HS256" || cfg.OAuth2Credentials[0].ClientType != "confidential" ||
		cfg.KeyAuthCredentials[0].TTL != nil || cfg.KeyAuthCredentials[0].Consumer != c {
		t.Errorf("credential defaults: %+v %+v %+v", *cfg.JWTSecrets[0], *cfg.OAuth2Credentials[0], *cfg.KeyAuthCredentials[0])
	}
	if cfg.FormatVersion != "3.0" || !cfg.Transform || !cfg.LoadedAt.Equal(testNow) {
		t.Errorf("config: %s %v %v", cfg.FormatVersion, cfg.Transform, cfg.LoadedAt)
	}
}

func TestEntitiesAllFields(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
_transform: true
_comment: top
_ignore: [anything, {at: all}]
_info: {select_tags: [a]}
_konnect: {control_plane_name: cp}
certificates: []
services:
- name: s
  _comment: a service
  _ignore: [x]
  protocol: https
  host: api.example.com
  port: 8443
  path: /v1
  retries: 0
  connect_timeout: 1
  write_timeout: 2147483646
  read_timeout: 30000
  enabled: false
  tags: [a, b, a, "with space", ünï]
  created_at: 1600000000
  updated_at: 1600000001
  tls_verify: null
  ca_certificates: []
routes:
- name: r
  service: s
  protocols: [https, https]
  methods: [GET, POST, GET]
  hosts: ["*.example.com", "example.*", "a.example.com:8080", "10.0.0.1"]
  paths: [/a, "~/b/(?<id>\\d+)$"]
  headers: {X-Version: [v1, "~*^v[0-9]+$"]}
  https_redirect_status_code: 308
  regex_priority: -3
  strip_path: false
  preserve_host: true
  path_handling: v1
  request_buffering: false
  response_buffering: false
  snis: []
upstreams:
- name: u.internal
  id: 00000000-0000-4000-8000-000000000001
  algorithm: consistent-hashing
  hash_on: header
  hash_on_header: X-User
  hash_fallback: cookie
  hash_on_cookie: sid
  hash_on_cookie_path: /app
  slots: 100
  host_header: backend.internal:8080
  use_srv_name: true
  healthchecks:
    threshold: 50.5
    active:
      type: https
      timeout: 2.5
      concurrency: 5
      http_path: /health
      https_sni: backend.internal
      https_verify_certificate: false
      headers: {X-Probe: [probe]}
      healthy: {interval: 5, http_statuses: [200], successes: 2}
      unhealthy: {interval: 3, http_statuses: [500], tcp_failures: 1, timeouts: 2, http_failures: 3}
    passive:
      type: tcp
      healthy: {http_statuses: [200, 201], successes: 4}
      unhealthy: {http_statuses: [502], tcp_failures: 5, timeouts: 6, http_failures: 7}
targets:
- target: backend-1.internal:8080
  upstream: {id: 00000000-0000-4000-8000-000000000001}
  weight: 0
  tags: [t]
consumers:
- username: u
  custom_id: c-1
  tags: [vip]
plugins:
- name: rate-limiting
  instance_name: rl-global
  enabled: false
  protocols: [http]
  tags: [p]
  config: {minute: 5, policy: redis, redis_host: redis}
`)
	s := cfg.Services[0]
	if s.Protocol != "https" || s.Host != "api.example.com" || s.Port != 8443 || *s.Path != "/v1" || s.Retries != 0 ||
		s.ConnectTimeout != 1 || s.WriteTimeout != 2147483646 || s.ReadTimeout != 30000 || s.Enabled ||
		!reflect.DeepEqual(s.Tags, []string{"a", "b", "with space", "ünï"}) || s.CreatedAt != 1600000000 || s.UpdatedAt != 1600000001 {
		t.Errorf("service: %+v", *s)
	}
	r := cfg.Routes[0]
	want := Route{
		Meta: Meta{ID: r.ID, CreatedAt: testNow.Unix(), UpdatedAt: testNow.Unix(), Line: 27},
		Name: "r", Protocols: []string{"https"}, Methods: []string{"GET", "POST"},
		Hosts:                   []string{"*.example.com", "example.*", "a.example.com:8080", "10.0.0.1"},
		Paths:                   []string{"/a", `~/b/(?<id>\d+)$`},
		Headers:                 map[string][]string{"X-Version": {"v1", "~*^v[0-9]+$"}},
		HTTPSRedirectStatusCode: 308, RegexPriority: -3, PreserveHost: true, PathHandling: "v1",
		Service: s,
	}
	if !reflect.DeepEqual(*r, want) {
		t.Errorf("route:\n got %+v\nwant %+v", *r, want)
	}
	u := cfg.Upstreams[0]
	wantHC := Healthchecks{
		Threshold: 50.5,
		Active: ActiveHealthcheck{
			Type: "https", Timeout: 2.5, Concurrency: 5, HTTPPath: "/health", HTTPSSNI: "backend.internal",
			Headers:   map[string][]string{"X-Probe": {"probe"}},
			Healthy:   ActiveHealthy{Interval: 5, HTTPStatuses: []int{200}, Successes: 2},
			Unhealthy: ActiveUnhealthy{Interval: 3, HTTPStatuses: []int{500}, TCPFailures: 1, Timeouts: 2, HTTPFailures: 3},
		},
		Passive: PassiveHealthcheck{
			Type:      "tcp",
			Healthy:   PassiveHealthy{HTTPStatuses: []int{200, 201}, Successes: 4},
			Unhealthy: PassiveUnhealthy{HTTPStatuses: []int{502}, TCPFailures: 5, Timeouts: 6, HTTPFailures: 7},
		},
	}
	if u.Algorithm != "consistent-hashing" || u.HashOn != "header" || u.HashOnHeader != "X-User" ||
		u.HashFallback != "cookie" || u.HashOnCookie != "sid" || u.HashOnCookiePath != "/app" || u.Slots != 100 ||
		u.HostHeader != "backend.internal:8080" || !u.UseSRVName || !reflect.DeepEqual(u.Healthchecks, wantHC) {
		t.Errorf("upstream: %+v", *u)
	}
	if tg := cfg.Targets[0]; tg.Upstream != u || tg.Weight != 0 || tg.Target != "backend-1.internal:8080" || !reflect.DeepEqual(tg.Tags, []string{"t"}) {
		t.Errorf("target: %+v", *tg)
	}
	if c := cfg.Consumers[0]; c.Username != "u" || c.CustomID != "c-1" || !reflect.DeepEqual(c.Tags, []string{"vip"}) {
		t.Errorf("consumer: %+v", *c)
	}
	p := cfg.Plugins[0]
	if p.InstanceName != "rl-global" || p.Enabled || !reflect.DeepEqual(p.Protocols, []string{"http"}) || !reflect.DeepEqual(p.Tags, []string{"p"}) {
		t.Errorf("plugin: %+v", *p)
	}
}

func TestUpstreamReferences(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
upstreams:
- name: u
  id: 00000000-0000-4000-8000-000000000001
targets:
- target: a:1
  upstream: {id: 00000000-0000-4000-8000-000000000001}
- target: b:1
  upstream: 00000000-0000-4000-8000-000000000001
- target: c:1
  upstream: u
`)
	for _, tg := range cfg.Targets {
		if tg.Upstream != cfg.Upstreams[0] {
			t.Errorf("target %s not resolved", tg.Target)
		}
	}
}

func TestUpstreamCoupling(t *testing.T) {
	tests := []struct {
		fields        string
		algorithm, on string
	}{
		{"", "round-robin", "none"},
		{"hash_on: ip", "consistent-hashing", "ip"},
		{"algorithm: round-robin\n  hash_on: consumer", "consistent-hashing", "consumer"},
		{"algorithm: consistent-hashing", "consistent-hashing", "none"},
		{"algorithm: consistent-hashing\n  hash_on: none", "round-robin", "none"},
		{"algorithm: least-connections", "least-connections", "none"},
		{"algorithm: least-connections\n  hash_on: path", "least-connections", "none"},
		{"algorithm: latency\n  hash_on: none", "latency", "none"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.fields, "\n  ", ", "), func(t *testing.T) {
			cfg := mustLoad(t, "_format_version: \"3.0\"\nupstreams:\n- name: u\n  "+tt.fields+"\n")
			u := cfg.Upstreams[0]
			if u.Algorithm != tt.algorithm || u.HashOn != tt.on {
				t.Errorf("got algorithm %s hash_on %s", u.Algorithm, u.HashOn)
			}
		})
	}
}

func TestNestingAndReferences(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
services:
- name: s1
  host: h1
  routes:
  - name: r1
    paths: [/1]
    service: s1
    plugins:
    - name: request-transformer
      consumer: bob
  plugins:
  - name: prometheus
- name: s2
  id: 00000000-0000-4000-8000-000000000002
  host: h2
routes:
- name: r2
  paths: [/2]
  service: {id: 00000000-0000-4000-8000-000000000002}
- name: r3
  paths: [/3]
  service: 00000000-0000-4000-8000-000000000002
- name: r4
  paths: [/4]
consumers:
- username: bob
  id: 00000000-0000-4000-8000-00000000000b
  plugins:
  - name: rate-limiting
    config: {minute: 1}
  acls:
  - group: g
    consumer: bob
plugins:
- name: request-transformer
- name: rate-limiting
  route: r2
  consumer: {id: 00000000-0000-4000-8000-00000000000B}
  config: {minute: 9}
acls:
- group: h
  consumer: bob
`)
	if len(cfg.Routes) != 4 {
		t.Fatalf("routes: %d", len(cfg.Routes))
	}
	names := func(rs []*Route) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(cfg.Routes); got != "r1,r2,r3,r4" {
		t.Errorf("route order %s", got)
	}
	s1, s2 := cfg.Services[0], cfg.Services[1]
	if cfg.Routes[0].Service != s1 || cfg.Routes[1].Service != s2 || cfg.Routes[2].Service != s2 || cfg.Routes[3].Service != nil {
		t.Errorf("route services not resolved")
	}
	if names(s2.Routes) != "r2,r3" || names(s1.Routes) != "r1" {
		t.Errorf("service routes: %s / %s", names(s1.Routes), names(s2.Routes))
	}
	bob := cfg.Consumers[0]
	type scope struct {
		route    *Route
		service  *Service
		consumer *Consumer
	}
	got := map[string]scope{}
	for _, p := range cfg.Plugins {
		got[p.Name+"@"+itoa(p.Line)] = scope{p.Route, p.Service, p.Consumer}
	}
	want := map[string]scope{
		"request-transformer@10": {cfg.Routes[0], nil, bob},
		"prometheus@13":          {nil, s1, nil},
		"rate-limiting@30":       {nil, nil, bob},
		"request-transformer@36": {nil, nil, nil},
		"rate-limiting@37":       {cfg.Routes[1], nil, bob},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plugin scopes:\n got %+v\nwant %+v", got, want)
	}
	if len(cfg.ACLs) != 2 || cfg.ACLs[0].Consumer != bob || cfg.ACLs[1].Consumer != bob {
		t.Errorf("acls: %+v", cfg.ACLs)
	}
}

func TestCredentials(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	src := `_format_version: "3.0"
consumers:
- username: alice
  basicauth_credentials:
  - username: alice
    password: s3cret
  jwt_secrets:
  - key: https://issuer.example.com
    algorithm: ES256
    rsa_public_key: |
` + indent(pub, "      ") + `  keyauth_credentials:
  - key: k
    ttl: 3600
    tags: [t]
  oauth2_credentials:
  - name: app
    client_id: cid
    client_secret: cs
    redirect_uris: [https://app.example.com/cb]
    client_type: public
    hash_secret: false
`
	cfg := mustLoad(t, src)
	alice := cfg.Consumers[0]
	sum := sha1.Sum([]byte("s3cret" + alice.ID))
	if got := cfg.BasicAuthCredentials[0].Password; got != hex.EncodeToString(sum[:]) {
		t.Errorf("password %s, want sha1(password .. consumer_id)", got)
	}
	if j := cfg.JWTSecrets[0]; j.Algorithm != "ES256" || j.RSAPublicKey != pub || j.Key != "https://issuer.example.com" {
		t.Errorf("jwt: %+v", *j)
	}
	if k := cfg.KeyAuthCredentials[0]; k.Key != "k" || k.TTL == nil || *k.TTL != 3600 || k.Consumer != alice {
		t.Errorf("key-auth: %+v", *k)
	}
	if o := cfg.OAuth2Credentials[0]; o.ClientID != "cid" || o.ClientSecret != "cs" || o.ClientType != "public" ||
		!reflect.DeepEqual(o.RedirectURIs, []string{"https://app.example.com/cb"}) {
		t.Errorf("oauth2: %+v", *o)
	}

	noTransform := mustLoad(t, strings.Replace(src, "_format_version: \"3.0\"\n", "_format_version: \"3.0\"\n_transform: false\n", 1))
	if noTransform.Transform || noTransform.BasicAuthCredentials[0].Password != "s3cret" {
		t.Errorf("_transform false: password %q", noTransform.BasicAuthCredentials[0].Password)
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

func TestJSONInput(t *testing.T) {
	json := "{\n\t\"_format_version\": \"3.0\",\n\t\"services\": [{\"name\": \"my-service\", \"url\": \"https://example.com/api\",\n\t\t\"routes\": [{\"name\": \"my-route\", \"paths\": [\"/\"], \"strip_path\": false, \"regex_priority\": 1.0}]}],\n\t\"consumers\": [{\"username\": \"my-user\", \"tags\": []}]\n}\n"
	cfg := mustLoad(t, json)
	if cfg.Services[0].ID != "0855b320-0dd2-547d-891d-601e9b38647f" || cfg.Routes[0].StripPath || cfg.Routes[0].RegexPriority != 1 ||
		cfg.Services[0].Port != 443 || cfg.Consumers[0].ID != "4b1b701d-de2b-5588-9aa2-3b97061d9f52" {
		t.Errorf("json config: %+v %+v", *cfg.Services[0], *cfg.Routes[0])
	}
	// Errors in JSON carry lines too.
	sameLines(t, errLines(t, "{\"_format_version\": \"3.0\",\n \"services\": [\n  {\"name\": \"a\", \"host\": \"h\", \"port\": \"80\"}]}"), []string{
		`kong.yml:3: service "a": port: expected an integer`,
	})
	sameLines(t, errLines(t, "{\"_format_version\": \"3.0\",\n \"services\": [\n"), []string{
		`kong.yml:2: did not find expected node content`,
	})
}

func TestLegacyFormatMigration(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "2.1"
routes:
- name: r
  paths: [/plain, /a/./b/../c, /x%2e%41, "/users/\\d+", "/v%2E1/(.*)", "/%7euser/$"]
`)
	want := []string{"/plain", "/a/c", "/x.A", `~/users/\d+`, `~/v\.1/(.*)`, "~/~user/$"}
	if !reflect.DeepEqual(cfg.Routes[0].Paths, want) {
		t.Errorf("paths %q, want %q", cfg.Routes[0].Paths, want)
	}
	if cfg.FormatVersion != "2.1" {
		t.Errorf("format %s", cfg.FormatVersion)
	}
}

func TestSeeds(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := load(filepath.Base(f), data, testPlugins(), testNow, mrand.NewChaCha8([32]byte{}))
			if err != nil {
				t.Fatalf("load:\n%v", err)
			}
			for _, r := range cfg.Routes {
				if r.Service == nil {
					t.Errorf("route %s has no service", r.Name)
				}
			}
			for _, p := range cfg.Plugins {
				if p.Config == nil {
					t.Errorf("plugin %s has no config", p.Name)
				}
			}
			if cfg.Hash != hashOf(data) {
				t.Errorf("hash %s", cfg.Hash)
			}
		})
	}

	cfg := mustLoadFile(t, "testdata/seed001-kong.yaml")
	s := cfg.Services[0]
	if s.Host != "users.internal" || s.Port != 8080 || s.ConnectTimeout != 5000 || s.ReadTimeout != 30000 || s.WriteTimeout != 60000 {
		t.Errorf("seed001 service: %+v", *s)
	}
	if r := cfg.Routes[0]; r.StripPath || !reflect.DeepEqual(r.Methods, []string{"GET", "POST", "PUT"}) {
		t.Errorf("seed001 route: %+v", *r)
	}
	rl := cfg.Plugins[1].Config.(*rateLimitConf)
	if cfg.Plugins[1].Name != "rate-limiting" || *rl.Minute != 60 || rl.Policy != "redis" || rl.RedisHost != "redis" || rl.RedisPort != 6379 {
		t.Errorf("seed001 rate-limiting: %+v", *rl)
	}

	hc := mustLoadFile(t, "testdata/seed001-healthchecks.yaml")
	u := hc.Upstreams[0]
	if len(u.Targets) != 2 || u.Targets[0].Target != "users-1:8080" || u.Healthchecks.Active.HTTPPath != "/health" ||
		u.Healthchecks.Active.Healthy.Interval != 5 || u.Healthchecks.Active.Unhealthy.HTTPFailures != 3 ||
		u.Healthchecks.Passive.Unhealthy.Timeouts != 3 || u.Healthchecks.Active.Timeout != 1 ||
		!reflect.DeepEqual(u.Healthchecks.Passive.Unhealthy.HTTPStatuses, []int{429, 500, 503}) {
		t.Errorf("seed001 upstream: %+v", u.Healthchecks)
	}

	rt := mustLoadFile(t, "testdata/seed000-routing.yaml")
	if h := rt.Routes[1].Headers; !reflect.DeepEqual(h, map[string][]string{"X-Region": {"us-east", "us-west"}}) {
		t.Errorf("seed000 headers: %v", h)
	}
}

func mustLoadFile(t *testing.T, name string) *Config {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return mustLoad(t, string(data))
}

func hashOf(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func TestHash(t *testing.T) {
	if h := Hash(nil); h != "00000000000000000000000000000000" {
		t.Errorf("empty hash %s", h)
	}
	if h := Hash([]byte("x")); h != "9dd4e461268c8034f5c8564e155c67a6" {
		t.Errorf("hash %s", h)
	}
	if e := Empty(); e.Hash != Hash(nil) || e.FormatVersion != "3.0" || !e.Transform {
		t.Errorf("Empty() = %+v", e)
	}
}

func TestDuplicateTagsAndSetsAreDeduplicated(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
routes:
- name: r
  methods: [GET, GET]
  protocols: [http, http]
  tags: [x, x]
`)
	r := cfg.Routes[0]
	if !reflect.DeepEqual(r.Methods, []string{"GET"}) || !reflect.DeepEqual(r.Protocols, []string{"http"}) || !reflect.DeepEqual(r.Tags, []string{"x"}) {
		t.Errorf("sets not deduplicated: %+v", *r)
	}
}

func TestNilPluginSchemas(t *testing.T) {
	_, err := Load("kong.yml", []byte("_format_version: \"3.0\"\nplugins:\n- name: cors\n"), nil)
	if err == nil || err.Error() != `kong.yml:3: plugin "cors": name: plugin 'cors' not enabled; add it to the 'plugins' configuration property` {
		t.Errorf("err = %v", err)
	}
}

func TestTopLevelCredentials(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
consumers:
- username: alice
- custom_id: bob-1
  id: 00000000-0000-4000-8000-0000000000b0
keyauth_credentials:
- {consumer: alice, key: k}
basicauth_credentials:
- {consumer: alice, username: a, password: p}
jwt_secrets:
- {consumer: {id: 00000000-0000-4000-8000-0000000000b0}, key: iss, secret: s, _comment: jwt}
acls:
- {consumer: alice, group: admins, tags: [t]}
hmacauth_credentials:
- {consumer: 00000000-0000-4000-8000-0000000000b0, username: h, secret: hs}
oauth2_credentials:
- {consumer: alice, name: app}
`)
	alice, bob := cfg.Consumers[0], cfg.Consumers[1]
	if cfg.KeyAuthCredentials[0].Consumer != alice || cfg.BasicAuthCredentials[0].Consumer != alice ||
		cfg.JWTSecrets[0].Consumer != bob || cfg.ACLs[0].Consumer != alice ||
		cfg.HMACAuthCredentials[0].Consumer != bob || cfg.OAuth2Credentials[0].Consumer != alice {
		t.Error("credential consumers not resolved")
	}
	if cfg.ACLs[0].ID != kongID("acls", "acls:*:alice:admins") {
		t.Errorf("top-level acl id %s: the consumer component is the name as written", cfg.ACLs[0].ID)
	}
	if s := cfg.HMACAuthCredentials[0]; s.Secret != "hs" || s.Username != "h" {
		t.Errorf("hmac: %+v", *s)
	}
}

// TestYAML11Booleans: Kong's YAML parser reads unquoted yes/no/on/off as booleans.
func TestYAML11Booleans(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
routes:
- name: r
  paths: [/]
  strip_path: no
  preserve_host: On
  request_buffering: OFF
  response_buffering: YES
  tags: ["yes", y, n]
`)
	r := cfg.Routes[0]
	if r.StripPath || !r.PreserveHost || r.RequestBuffering || !r.ResponseBuffering || !reflect.DeepEqual(r.Tags, []string{"yes", "y", "n"}) {
		t.Errorf("route: %+v", *r)
	}
}

func TestAnchorsUnderIgnore(t *testing.T) {
	cfg := mustLoad(t, `_format_version: "3.0"
_ignore:
- &svc {host: backend.internal, port: 8080, retries: 1}
- &paths [/a, /b]
services:
- <<: *svc
  name: one
  routes:
  - {name: r1, paths: *paths}
- <<: *svc
  name: two
  port: 9090
`)
	one, two := cfg.Services[0], cfg.Services[1]
	if one.Host != "backend.internal" || one.Port != 8080 || one.Retries != 1 || two.Port != 9090 || two.Retries != 1 ||
		!reflect.DeepEqual(cfg.Routes[0].Paths, []string{"/a", "/b"}) {
		t.Errorf("anchors: %+v %+v %+v", *one, *two, *cfg.Routes[0])
	}
}
