package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"tollgate/internal/config"
	"tollgate/internal/plugin"
	"tollgate/plugins/all"
)

// testBackend holds a real configuration loaded by config.Load, as the server does.
type testBackend struct {
	reg *plugin.Registry

	mu  sync.Mutex
	cfg *config.Config

	// When entered is set, LoadBytes signals it and waits for release: a load in progress.
	entered, release chan struct{}
}

func (b *testBackend) Config() *config.Config {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg
}

func (b *testBackend) LoadBytes(data []byte) error {
	if b.entered != nil {
		b.entered <- struct{}{}
		<-b.release
	}
	cfg, err := config.Load("POST /config", data, b.reg)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.cfg = cfg
	b.mu.Unlock()
	return nil
}

func (b *testBackend) Status() map[string]any {
	return map[string]any{
		"configuration_hash": b.Config().Hash,
		"server":             map[string]any{"connections_active": 3},
	}
}

func registry() *plugin.Registry { return plugin.NewRegistry(all.Specs()) }

func fixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/kong.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// newTestHandler serves testdata/kong.yaml with the clock stopped at the load instant.
func newTestHandler(t *testing.T) (*handler, *testBackend) {
	t.Helper()
	reg := registry()
	cfg, err := config.Load("kong.yaml", fixture(t), reg)
	if err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	b := &testBackend{reg: reg, cfg: cfg}
	h := New(Options{Backend: b, Version: "0.1.0", NodeID: "node-1", Hostname: "gw-1", Registry: reg}).(*handler)
	h.now = func() time.Time { return cfg.LoadedAt }
	return h, b
}

type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func do(t *testing.T, h http.Handler, method, target string, body io.Reader, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if res.raw != "" {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, target, err, res.raw)
		}
		if ct := rec.Header().Get("Content-Type"); ct != jsonContentType {
			t.Errorf("%s %s: Content-Type %q", method, target, ct)
		}
	}
	return res
}

func get(t *testing.T, h http.Handler, target string) response {
	t.Helper()
	return do(t, h, http.MethodGet, target, nil)
}

// path walks a decoded JSON value: keys for objects, decimal indexes for arrays.
func path(v any, keys ...string) any {
	for _, k := range keys {
		switch t := v.(type) {
		case map[string]any:
			v = t[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func keysOf(m any) []string {
	obj, _ := m.(map[string]any)
	out := make([]string, 0, len(obj))
	for k := range obj {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// Kong 3.9's field lists: every one must be present, unset ones null.
var fields = map[string][]string{
	"service": sorted("id", "created_at", "updated_at", "name", "retries", "protocol", "host", "port", "path",
		"connect_timeout", "write_timeout", "read_timeout", "tags", "client_certificate", "tls_verify",
		"tls_verify_depth", "ca_certificates", "enabled"),
	"route": sorted("id", "created_at", "updated_at", "name", "protocols", "methods", "hosts", "paths", "headers",
		"https_redirect_status_code", "regex_priority", "strip_path", "path_handling", "preserve_host",
		"request_buffering", "response_buffering", "snis", "sources", "destinations", "tags", "service"),
	"upstream": sorted("id", "created_at", "updated_at", "name", "algorithm", "hash_on", "hash_fallback",
		"hash_on_header", "hash_fallback_header", "hash_on_cookie", "hash_on_cookie_path", "hash_on_query_arg",
		"hash_fallback_query_arg", "hash_on_uri_capture", "hash_fallback_uri_capture", "slots", "healthchecks",
		"tags", "host_header", "client_certificate", "use_srv_name"),
	"target":   sorted("id", "created_at", "updated_at", "upstream", "target", "weight", "tags"),
	"consumer": sorted("id", "created_at", "updated_at", "username", "custom_id", "tags"),
	"plugin": sorted("id", "name", "instance_name", "created_at", "updated_at", "route", "service", "consumer",
		"config", "protocols", "enabled", "tags"),
	"keyauth":     sorted("id", "created_at", "consumer", "key", "tags"),
	"keyauth-ttl": sorted("id", "created_at", "consumer", "key", "ttl", "tags"),
	"basicauth":   sorted("id", "created_at", "consumer", "username", "password", "tags"),
	"jwt":         sorted("id", "created_at", "consumer", "key", "secret", "rsa_public_key", "algorithm", "tags"),
	"acl":         sorted("id", "created_at", "consumer", "group", "tags"),
	"hmacauth":    sorted("id", "created_at", "consumer", "username", "secret", "tags"),
	"oauth2": sorted("id", "created_at", "consumer", "name", "client_id", "client_secret", "hash_secret",
		"redirect_uris", "client_type", "tags"),
}

// ids of the fixture's entities, as the config derived them.
type fixtureIDs struct {
	orders, users, ordersAPI, orphan, upstream, alice, bob, svcPlugin, globalPlugin, alicePlugin, maintenance string
	target1, target2                                                                                          string
}

func ids(cfg *config.Config) fixtureIDs {
	var f fixtureIDs
	for _, s := range cfg.Services {
		switch s.Name {
		case "orders":
			f.orders = s.ID
		case "users":
			f.users = s.ID
		}
	}
	for _, r := range cfg.Routes {
		switch r.Name {
		case "orders-api":
			f.ordersAPI = r.ID
		case "orphan":
			f.orphan = r.ID
		}
	}
	f.upstream = cfg.Upstreams[0].ID
	f.target1, f.target2 = cfg.Targets[0].ID, cfg.Targets[1].ID
	for _, c := range cfg.Consumers {
		switch c.Username {
		case "alice":
			f.alice = c.ID
		case "bob":
			f.bob = c.ID
		}
	}
	for _, p := range cfg.Plugins {
		switch {
		case p.InstanceName == "maintenance":
			f.maintenance = p.ID
		case p.Service != nil:
			f.svcPlugin = p.ID
		case p.Consumer != nil:
			f.alicePlugin = p.ID
		default:
			f.globalPlugin = p.ID
		}
	}
	return f
}

func TestRoot(t *testing.T) {
	h, _ := newTestHandler(t)
	res := get(t, h, "/")
	if res.status != 200 {
		t.Fatalf("status %d", res.status)
	}
	for k, want := range map[string]any{
		"tagline": "Welcome to tollgate", "version": "0.1.0", "edition": "community",
		"hostname": "gw-1", "node_id": "node-1",
	} {
		if res.body[k] != want {
			t.Errorf("%s = %v, want %v", k, res.body[k], want)
		}
	}
	if got := path(res.body, "configuration", "database"); got != "off" {
		t.Errorf("configuration.database = %v", got)
	}
	cid := path(res.body, "plugins", "available_on_server", "correlation-id")
	if path(cid, "priority") != float64(plugin.KongPriorities["correlation-id"]) || path(cid, "version") != "0.1.0" {
		t.Errorf("available_on_server.correlation-id = %v", cid)
	}
	if len(keysOf(path(res.body, "plugins", "available_on_server"))) != len(registry().Names()) {
		t.Errorf("available_on_server = %v", keysOf(path(res.body, "plugins", "available_on_server")))
	}
	enabled, _ := json.Marshal(path(res.body, "plugins", "enabled_in_cluster"))
	if string(enabled) != `["correlation-id","request-termination"]` {
		t.Errorf("enabled_in_cluster = %s", enabled)
	}
}

func TestStatus(t *testing.T) {
	h, b := newTestHandler(t)
	res := get(t, h, "/status")
	if res.status != 200 {
		t.Fatalf("status %d", res.status)
	}
	if res.body["configuration_hash"] != b.cfg.Hash {
		t.Errorf("configuration_hash = %v", res.body["configuration_hash"])
	}
	want := sorted(serverKeys...)
	if got := keysOf(res.body["server"]); !slices.Equal(got, want) {
		t.Errorf("server keys = %v", got)
	}
	if path(res.body, "server", "connections_active") != float64(3) || path(res.body, "server", "total_requests") != float64(0) {
		t.Errorf("server = %v", res.body["server"])
	}
	if _, ok := res.body["database"]; ok {
		t.Error("DB-less /status has no database")
	}
}

// TestReads covers every read endpoint: status, the entity's field list, lookups by id and by
// endpoint key, nested and foreign-key paths, and list sizes.
func TestReads(t *testing.T) {
	h, b := newTestHandler(t)
	f := ids(b.cfg)
	tests := []struct {
		name   string
		path   string
		status int
		fields string // entity field list to compare with (item answers)
		n      int    // number of items (list answers); -1 = not a list
		check  func(t *testing.T, body map[string]any)
	}{
		{name: "service by name", path: "/services/orders", status: 200, fields: "service", n: -1, check: func(t *testing.T, b map[string]any) {
			want := map[string]any{"id": f.orders, "name": "orders", "host": "orders.internal", "port": float64(8080),
				"path": "/v1", "protocol": "http", "retries": float64(5), "enabled": true, "client_certificate": nil,
				"tls_verify": nil, "ca_certificates": nil}
			for k, v := range want {
				if b[k] != v {
					t.Errorf("%s = %v, want %v", k, b[k], v)
				}
			}
		}},
		{name: "service by id", path: "/services/" + f.orders, status: 200, fields: "service", n: -1},
		{name: "service by upper-case id", path: "/services/" + strings.ToUpper(f.orders), status: 200, fields: "service", n: -1},
		{name: "service without path", path: "/services/users", status: 200, fields: "service", n: -1, check: func(t *testing.T, b map[string]any) {
			if v, ok := b["path"]; !ok || v != nil {
				t.Errorf("path = %v, want null", v)
			}
		}},
		{name: "services", path: "/services", status: 200, n: 5},
		{name: "missing service", path: "/services/nope", status: 404, n: -1},
		{name: "missing service id", path: "/services/00000000-0000-4000-8000-000000000000", status: 404, n: -1},
		{name: "routes", path: "/routes", status: 200, n: 3},
		{name: "route", path: "/routes/orders-api", status: 200, fields: "route", n: -1, check: func(t *testing.T, b map[string]any) {
			if path(b, "service", "id") != f.orders || len(keysOf(b["service"])) != 1 {
				t.Errorf("service = %v, want {id: %s}", b["service"], f.orders)
			}
			if b["name"] != "orders-api" || b["hosts"] != nil || b["headers"] != nil || b["strip_path"] != true {
				t.Errorf("route = %v", b)
			}
		}},
		{name: "route without service", path: "/routes/orphan", status: 200, fields: "route", n: -1, check: func(t *testing.T, b map[string]any) {
			if v, ok := b["service"]; !ok || v != nil {
				t.Errorf("service = %v, want null", v)
			}
		}},
		{name: "route's service", path: "/routes/orders-api/service", status: 200, fields: "service", n: -1, check: func(t *testing.T, b map[string]any) {
			if b["id"] != f.orders {
				t.Errorf("id = %v", b["id"])
			}
		}},
		{name: "service of a route without one", path: "/routes/orphan/service", status: 404, n: -1},
		{name: "service's routes", path: "/services/orders/routes", status: 200, n: 1},
		{name: "service's route", path: "/services/orders/routes/orders-api", status: 200, fields: "route", n: -1},
		{name: "service's route by id", path: "/services/" + f.orders + "/routes/" + f.ordersAPI, status: 200, fields: "route", n: -1},
		{name: "another service's route", path: "/services/users/routes/orders-api", status: 404, n: -1},
		{name: "routes of a missing service", path: "/services/nope/routes", status: 404, n: -1},
		{name: "service's plugins", path: "/services/orders/plugins", status: 200, n: 1},
		{name: "service's plugin", path: "/services/orders/plugins/" + f.svcPlugin, status: 200, fields: "plugin", n: -1},
		{name: "route's plugins", path: "/routes/orders-api/plugins", status: 200, n: 1},
		{name: "route's plugin by instance name", path: "/routes/orders-api/plugins/maintenance", status: 200, fields: "plugin", n: -1},
		{name: "another route's plugin", path: "/routes/orphan/plugins/maintenance", status: 404, n: -1},
		{name: "plugins", path: "/plugins", status: 200, n: 4},
		{name: "plugin by instance name", path: "/plugins/maintenance", status: 200, fields: "plugin", n: -1, check: func(t *testing.T, b map[string]any) {
			if path(b, "route", "id") != f.ordersAPI || b["service"] != nil || b["consumer"] != nil {
				t.Errorf("scope = %v %v %v", b["route"], b["service"], b["consumer"])
			}
			if path(b, "config", "status_code") != float64(503) || path(b, "config", "message") != "down for maintenance" {
				t.Errorf("config = %v", b["config"])
			}
			if v, ok := path(b, "config").(map[string]any)["body"]; !ok || v != nil {
				t.Errorf("config.body = %v, want null", v)
			}
			if b["enabled"] != true || b["instance_name"] != "maintenance" {
				t.Errorf("plugin = %v", b)
			}
		}},
		{name: "global plugin", path: "/plugins/" + f.globalPlugin, status: 200, fields: "plugin", n: -1, check: func(t *testing.T, b map[string]any) {
			if v, ok := b["instance_name"]; !ok || v != nil {
				t.Errorf("instance_name = %v, want null", v)
			}
			if path(b, "config", "header_name") != "Kong-Request-ID" {
				t.Errorf("config = %v", b["config"])
			}
		}},
		{name: "plugin's route", path: "/plugins/maintenance/route", status: 200, fields: "route", n: -1},
		{name: "plugin's missing consumer", path: "/plugins/maintenance/consumer", status: 404, n: -1},
		{name: "plugin's consumer", path: "/plugins/" + f.alicePlugin + "/consumer", status: 200, fields: "consumer", n: -1},
		{name: "plugin's service", path: "/plugins/" + f.svcPlugin + "/service", status: 200, fields: "service", n: -1},
		{name: "enabled plugins", path: "/plugins/enabled", status: 200, n: -1, check: func(t *testing.T, b map[string]any) {
			got, _ := json.Marshal(b["enabled_plugins"])
			want, _ := json.Marshal(registry().Names())
			if string(got) != string(want) {
				t.Errorf("enabled_plugins = %s, want %s", got, want)
			}
		}},
		{name: "upstreams", path: "/upstreams", status: 200, n: 1},
		{name: "upstream", path: "/upstreams/orders.internal", status: 200, fields: "upstream", n: -1, check: func(t *testing.T, b map[string]any) {
			if path(b, "healthchecks", "active", "https_sni") != nil || path(b, "healthchecks", "active", "http_path") != "/" {
				t.Errorf("healthchecks = %v", b["healthchecks"])
			}
			if b["hash_on_header"] != nil || b["algorithm"] != "round-robin" || b["slots"] != float64(10000) {
				t.Errorf("upstream = %v", b)
			}
		}},
		{name: "targets", path: "/upstreams/orders.internal/targets", status: 200, n: 2},
		{name: "all targets", path: "/upstreams/" + f.upstream + "/targets/all", status: 200, n: 2},
		{name: "target by string", path: "/upstreams/orders.internal/targets/10.0.0.1:8080", status: 200, fields: "target", n: -1, check: func(t *testing.T, b map[string]any) {
			if b["id"] != f.target1 || b["weight"] != float64(50) || path(b, "upstream", "id") != f.upstream {
				t.Errorf("target = %v", b)
			}
			// Targets carry float timestamps with milliseconds.
			want := float64(b2cfg(h).LoadedAt.UnixMilli()) / 1000
			if b["created_at"] != want {
				t.Errorf("created_at = %v, want %v", b["created_at"], want)
			}
		}},
		{name: "target by string without default port", path: "/upstreams/orders.internal/targets/10.0.0.2", status: 200, fields: "target", n: -1, check: func(t *testing.T, b map[string]any) {
			if b["id"] != f.target2 || b["target"] != "10.0.0.2:8000" {
				t.Errorf("target = %v", b)
			}
		}},
		{name: "target by id", path: "/upstreams/orders.internal/targets/" + f.target2, status: 200, fields: "target", n: -1},
		{name: "missing target", path: "/upstreams/orders.internal/targets/10.0.0.3", status: 404, n: -1},
		{name: "targets are disabled at top level", path: "/targets", status: 404, n: -1},
		{name: "targets of a missing upstream", path: "/upstreams/nope/targets", status: 404, n: -1},
		{name: "consumers", path: "/consumers", status: 200, n: 2},
		{name: "consumer", path: "/consumers/alice", status: 200, fields: "consumer", n: -1, check: func(t *testing.T, b map[string]any) {
			if b["custom_id"] != "cust-alice" || b["id"] != f.alice {
				t.Errorf("consumer = %v", b)
			}
		}},
		{name: "consumer without custom_id", path: "/consumers/bob", status: 200, fields: "consumer", n: -1, check: func(t *testing.T, b map[string]any) {
			if v, ok := b["custom_id"]; !ok || v != nil {
				t.Errorf("custom_id = %v, want null", v)
			}
		}},
		{name: "consumer by custom_id is not a key", path: "/consumers/cust-alice", status: 404, n: -1},
		{name: "consumers by custom_id", path: "/consumers?custom_id=cust-alice", status: 200, n: 1, check: func(t *testing.T, b map[string]any) {
			if path(b, "data", "0", "id") != f.alice || b["next"] != nil {
				t.Errorf("body = %v", b)
			}
			if _, ok := b["offset"]; ok {
				t.Error("custom_id answer has no offset")
			}
		}},
		{name: "consumers by unknown custom_id", path: "/consumers?custom_id=nope", status: 200, n: 0},
		{name: "consumer's plugins", path: "/consumers/alice/plugins", status: 200, n: 1},
		{name: "key-auths", path: "/key-auths", status: 200, n: 2},
		{name: "key-auth by key", path: "/key-auths/alice-key", status: 200, fields: "keyauth", n: -1, check: func(t *testing.T, b map[string]any) {
			if path(b, "consumer", "id") != f.alice || b["key"] != "alice-key" {
				t.Errorf("key-auth = %v", b)
			}
		}},
		{name: "key-auth with ttl", path: "/key-auths/bob-key", status: 200, fields: "keyauth-ttl", n: -1, check: func(t *testing.T, b map[string]any) {
			if b["ttl"] != float64(3600) {
				t.Errorf("ttl = %v", b["ttl"])
			}
		}},
		{name: "key-auth's consumer", path: "/key-auths/alice-key/consumer", status: 200, fields: "consumer", n: -1},
		{name: "consumer's key-auths", path: "/consumers/alice/key-auth", status: 200, n: 1},
		{name: "consumer's key-auth", path: "/consumers/alice/key-auth/alice-key", status: 200, fields: "keyauth", n: -1},
		{name: "another consumer's key-auth", path: "/consumers/bob/key-auth/alice-key", status: 404, n: -1},
		{name: "basic-auths", path: "/basic-auths", status: 200, n: 1},
		{name: "basic-auth", path: "/consumers/alice/basic-auth/alice-basic", status: 200, fields: "basicauth", n: -1, check: func(t *testing.T, b map[string]any) {
			// Kong's write transformation: hex(sha1(password .. consumer id)).
			if p, _ := b["password"].(string); len(p) != 40 || p == "secret" {
				t.Errorf("password = %v, want the sha1 hex", b["password"])
			}
		}},
		{name: "basic-auth top level", path: "/basic-auths/alice-basic", status: 200, fields: "basicauth", n: -1},
		{name: "jwts", path: "/consumers/alice/jwt", status: 200, n: 1},
		{name: "jwt", path: "/jwts/alice-iss", status: 200, fields: "jwt", n: -1, check: func(t *testing.T, b map[string]any) {
			if b["algorithm"] != "HS256" || b["rsa_public_key"] != nil {
				t.Errorf("jwt = %v", b)
			}
		}},
		{name: "hmac-auth", path: "/consumers/alice/hmac-auth/alice-hmac", status: 200, fields: "hmacauth", n: -1},
		{name: "hmac-auths", path: "/hmac-auths", status: 200, n: 1},
		{name: "acls", path: "/acls", status: 200, n: 2},
		{name: "consumer's acls", path: "/consumers/bob/acls", status: 200, n: 1},
		{name: "acl by group", path: "/consumers/alice/acls/admins", status: 200, fields: "acl", n: -1, check: func(t *testing.T, b map[string]any) {
			if path(b, "consumer", "id") != f.alice {
				t.Errorf("acl = %v", b)
			}
		}},
		{name: "acl's consumer", path: "/acls/" + b.cfg.ACLs[1].ID + "/consumer", status: 200, fields: "consumer", n: -1},
		{name: "acl by group needs its consumer", path: "/acls/admins", status: 400, n: -1, check: func(t *testing.T, b map[string]any) {
			if b["code"] != float64(1) || b["name"] != "invalid primary key" {
				t.Errorf("body = %v", b)
			}
		}},
		{name: "oauth2", path: "/oauth2", status: 200, n: 1},
		{name: "oauth2 by client_id", path: "/consumers/alice/oauth2/alice-client", status: 200, fields: "oauth2", n: -1},
		{name: "certificates are empty", path: "/certificates", status: 200, n: 0},
		{name: "no certificate", path: "/certificates/" + f.orders, status: 404, n: -1},
		{name: "tags", path: "/tags", status: 200, n: 8},
		{name: "one tag", path: "/tags/team-a", status: 200, n: 4, check: func(t *testing.T, b map[string]any) {
			row := path(b, "data", "0")
			if got := keysOf(row); !slices.Equal(got, []string{"entity_id", "entity_name", "tag"}) || path(row, "tag") != "team-a" {
				t.Errorf("row = %v", row)
			}
		}},
		{name: "unknown path", path: "/nope", status: 404, n: -1},
		{name: "unknown sub path", path: "/services/orders/nope", status: 404, n: -1},
		{name: "trailing slash", path: "/services/", status: 200, n: 5},
		{name: "trailing slash on an item", path: "/services/orders/", status: 200, fields: "service", n: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, h, tt.path)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.status == 404 && res.raw != `{"message":"Not found"}` {
				t.Errorf("404 body %s", res.raw)
			}
			if tt.fields != "" {
				if got := keysOf(res.body); !slices.Equal(got, fields[tt.fields]) {
					t.Errorf("fields %v\nwant %v", got, fields[tt.fields])
				}
			}
			if tt.n >= 0 {
				data, ok := res.body["data"].([]any)
				if !ok || len(data) != tt.n {
					t.Errorf("data has %d items, want %d: %s", len(data), tt.n, res.raw)
				}
				if tt.n == 0 && !strings.Contains(res.raw, `"data":[]`) {
					t.Errorf("empty list is not []: %s", res.raw)
				}
			}
			if tt.check != nil {
				tt.check(t, res.body)
			}
		})
	}
}

func b2cfg(h *handler) *config.Config { return h.opts.Backend.Config() }

func TestMethods(t *testing.T) {
	h, b := newTestHandler(t)
	f := ids(b.cfg)
	notAllowed := `{"message":"Method not allowed"}`
	unsupportedBody := func(op, table, by string) string {
		if by != "" {
			by = " by '" + by + "'"
		}
		return `{"code":12,"name":"operation unsupported","message":"cannot ` + op + ` '` + table + `' entities` + by + ` when not using a database"}`
	}
	tests := []struct {
		method, path string
		status       int
		body         string // exact body; "" = none
	}{
		{"POST", "/services", 405, unsupportedBody("create", "services", "")},
		{"PUT", "/services", 405, notAllowed},
		{"PATCH", "/services", 405, notAllowed},
		{"DELETE", "/services", 405, notAllowed},
		{"PUT", "/services/orders", 405, unsupportedBody("create or update", "services", "name")},
		{"PUT", "/services/" + f.orders, 405, unsupportedBody("create or update", "services", "")},
		{"PATCH", "/services/orders", 405, unsupportedBody("update", "services", "name")},
		{"PATCH", "/services/" + f.orders, 405, unsupportedBody("update", "services", "")},
		{"PATCH", "/services/nope", 404, `{"message":"Not found"}`},
		{"DELETE", "/services/" + f.orders, 405, unsupportedBody("remove", "services", "")},
		{"DELETE", "/services/orders", 405, unsupportedBody("remove", "services", "name")},
		{"DELETE", "/services/nope", 204, ""},
		{"POST", "/services/orders", 405, notAllowed},
		{"POST", "/routes", 405, unsupportedBody("create", "routes", "")},
		{"POST", "/services/orders/routes", 405, unsupportedBody("create", "routes", "")},
		{"POST", "/services/nope/routes", 404, `{"message":"Not found"}`},
		{"PATCH", "/services/orders/routes/orders-api", 405, unsupportedBody("update", "routes", "name")},
		{"PATCH", "/services/users/routes/orders-api", 404, `{"message":"Not found"}`},
		{"DELETE", "/services/orders/routes/" + f.ordersAPI, 405, unsupportedBody("remove", "routes", "")},
		{"PUT", "/services/orders/routes/new-route", 405, unsupportedBody("create or update", "routes", "name")},
		{"PUT", "/routes/orders-api/service", 405, unsupportedBody("create or update", "services", "")},
		{"PATCH", "/routes/orders-api/service", 405, unsupportedBody("update", "services", "")},
		{"PATCH", "/routes/orphan/service", 404, `{"message":"Not found"}`},
		{"DELETE", "/routes/orders-api/service", 405, notAllowed},
		{"DELETE", "/routes/orphan/service", 404, `{"message":"Not found"}`},
		{"POST", "/routes/orders-api/service", 405, notAllowed},
		{"POST", "/plugins", 405, unsupportedBody("create", "plugins", "")},
		{"PATCH", "/plugins/maintenance", 405, unsupportedBody("update", "plugins", "instance_name")},
		{"POST", "/plugins/enabled", 405, notAllowed},
		{"POST", "/consumers", 405, unsupportedBody("create", "consumers", "")},
		{"POST", "/consumers/alice/key-auth", 405, unsupportedBody("create", "keyauth_credentials", "")},
		{"DELETE", "/consumers/alice/key-auth/alice-key", 405, unsupportedBody("remove", "keyauth_credentials", "key")},
		{"POST", "/consumers/alice/acls", 405, unsupportedBody("create", "acls", "")},
		{"DELETE", "/consumers/alice/acls/admins", 405, unsupportedBody("remove", "acls", "")},
		{"PATCH", "/consumers/alice/acls/nope", 404, `{"message":"Not found"}`},
		{"POST", "/key-auths", 405, unsupportedBody("create", "keyauth_credentials", "")},
		{"POST", "/upstreams/orders.internal/targets", 405, unsupportedBody("create", "targets", "")},
		{"POST", "/upstreams/nope/targets", 404, `{"message":"Not found"}`},
		{"DELETE", "/upstreams/orders.internal/targets/10.0.0.2", 405, unsupportedBody("remove", "targets", "")},
		{"PATCH", "/upstreams/orders.internal/targets/10.9.9.9", 404, `{"message":"Not found"}`},
		{"PUT", "/upstreams/orders.internal/targets/10.0.0.2:8000", 405, unsupportedBody("create or update", "targets", "")},
		{"POST", "/upstreams/orders.internal/targets/all", 405, notAllowed},
		{"POST", "/certificates", 405, unsupportedBody("create", "certificates", "")},
		{"DELETE", "/status", 405, notAllowed},
		{"POST", "/", 405, notAllowed},
		{"PUT", "/config", 405, notAllowed},
		{"POST", "/tags", 405, notAllowed},
		{"OPTIONS", "/services", 204, ""},
		{"HEAD", "/services", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.method == "HEAD" || tt.body == "" {
				if rec.Body.Len() != 0 && tt.method != "HEAD" {
					t.Errorf("body %q, want none", rec.Body)
				}
				return
			}
			if rec.Body.String() != tt.body {
				t.Errorf("body %s\nwant %s", rec.Body, tt.body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != jsonContentType {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	t.Run("OPTIONS lists the methods", func(t *testing.T) {
		res := do(t, h, "OPTIONS", "/services/orders", nil)
		if got := res.header.Get("Allow"); got != "GET, HEAD, PUT, PATCH, DELETE, OPTIONS" {
			t.Errorf("Allow = %q", got)
		}
	})
}

func TestPagination(t *testing.T) {
	h, b := newTestHandler(t)
	var want []string
	for _, s := range b.cfg.Services {
		want = append(want, s.ID)
	}
	sort.Strings(want) // Kong's DB-less store lists by primary key

	t.Run("pages", func(t *testing.T) {
		var got []string
		next := "/services?size=2"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatal("too many pages")
			}
			res := get(t, h, next)
			if res.status != 200 {
				t.Fatalf("%s: status %d %s", next, res.status, res.raw)
			}
			data := res.body["data"].([]any)
			for _, d := range data {
				got = append(got, path(d, "id").(string))
			}
			switch n, _ := res.body["next"].(string); {
			case len(got) < len(want):
				if len(data) != 2 {
					t.Errorf("%s: %d items", next, len(data))
				}
				off, _ := res.body["offset"].(string)
				if off == "" || n != "/services?offset="+url.QueryEscape(off)+"&size=2" {
					t.Fatalf("offset %q next %q", off, n)
				}
				next = n
			default:
				if v, ok := res.body["next"]; !ok || v != nil {
					t.Errorf("last page next = %v, want null", v)
				}
				if _, ok := res.body["offset"]; ok {
					t.Error("last page has an offset")
				}
				next = ""
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("ids %v\nwant %v", got, want)
		}
	})
	t.Run("default size has no size in next", func(t *testing.T) {
		res := get(t, h, "/services")
		if res.body["next"] != nil || len(res.body["data"].([]any)) != 5 {
			t.Errorf("body %s", res.raw)
		}
	})
	t.Run("next keeps tags", func(t *testing.T) {
		res := get(t, h, "/services?tags=prod&size=1")
		n, _ := res.body["next"].(string)
		if !strings.HasPrefix(n, "/services?offset=") || !strings.HasSuffix(n, "&tags=prod&size=1") {
			t.Errorf("next %q", n)
		}
		res = get(t, h, n)
		if len(res.body["data"].([]any)) != 1 || res.body["next"] != nil {
			t.Errorf("second page %s", res.raw)
		}
	})
	t.Run("nested next", func(t *testing.T) {
		res := get(t, h, "/upstreams/orders.internal/targets?size=1")
		n, _ := res.body["next"].(string)
		if !strings.HasPrefix(n, "/upstreams/orders.internal/targets?offset=") || strings.Contains(n, "size") {
			t.Errorf("next %q", n)
		}
		res2 := get(t, h, n)
		if len(res2.body["data"].([]any)) != 1 || path(res2.body, "data", "0", "id") == path(res.body, "data", "0", "id") {
			t.Errorf("second page %s", res2.raw)
		}
	})
	t.Run("tags next", func(t *testing.T) {
		res := get(t, h, "/tags?size=4")
		n, _ := res.body["next"].(string)
		if !strings.HasPrefix(n, "/tags?offset=") || !strings.HasSuffix(n, "&size=4") {
			t.Errorf("next %q", n)
		}
	})
	errs := []struct {
		query string
		body  string
	}{
		{"size=0", `{"code":9,"name":"invalid size","message":"size must be an integer between 1 and 1000"}`},
		{"size=1001", `{"code":9,"name":"invalid size","message":"size must be an integer between 1 and 1000"}`},
		{"size=1.5", `{"code":9,"name":"invalid size","message":"size must be an integer between 1 and 1000"}`},
		{"size=abc", `{"code":9,"name":"invalid size","message":"size must be a number"}`},
		{"offset=%21%21", `{"code":7,"name":"invalid offset","message":"'!!' is not a valid offset: bad base64 encoding"}`},
		{"tags=a,b/c", `{"code":11,"name":"invalid options","message":"invalid option (tags: invalid filter syntax)","options":{"tags":"invalid filter syntax"}}`},
		{"tags=a,b,c,d,e,f", `{"code":11,"name":"invalid options","message":"invalid option (tags: cannot query more than 5 tags)","options":{"tags":"cannot query more than 5 tags"}}`},
	}
	for _, tt := range errs {
		t.Run(tt.query, func(t *testing.T) {
			res := get(t, h, "/services?"+tt.query)
			if res.status != 400 || res.raw != tt.body {
				t.Errorf("status %d body %s\nwant 400 %s", res.status, res.raw, tt.body)
			}
		})
	}
	t.Run("size 1000", func(t *testing.T) {
		if res := get(t, h, "/services?size=1000"); res.status != 200 {
			t.Errorf("status %d", res.status)
		}
	})
}

func TestTagsFilter(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		path string
		want []string // names
	}{
		{"/services?tags=team-a", []string{"orders", "s3"}},
		{"/services?tags=team-a,prod", []string{"orders"}},
		{"/services?tags=team-a/team-b", []string{"orders", "s3", "users"}},
		{"/services?tags=nope", nil},
		{"/routes?tags=team-a", []string{"orders-api"}},
		{"/consumers?tags=vip", []string{"alice"}},
		{"/services/orders/routes?tags=nope", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := get(t, h, tt.path)
			if res.status != 200 {
				t.Fatalf("status %d %s", res.status, res.raw)
			}
			var got []string
			for _, d := range res.body["data"].([]any) {
				n, _ := path(d, "name").(string)
				if n == "" {
					n, _ = path(d, "username").(string)
				}
				got = append(got, n)
			}
			sort.Strings(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeyAuthTTL(t *testing.T) {
	h, b := newTestHandler(t)
	h.now = func() time.Time { return b.cfg.LoadedAt.Add(time.Hour - 10*time.Second) }
	if res := get(t, h, "/key-auths/bob-key"); res.body["ttl"] != float64(10) {
		t.Errorf("ttl = %v, want 10", res.body["ttl"])
	}
	h.now = func() time.Time { return b.cfg.LoadedAt.Add(time.Hour) }
	if res := get(t, h, "/key-auths/bob-key"); res.status != 404 {
		t.Errorf("expired credential: status %d", res.status)
	}
	if res := get(t, h, "/consumers/bob/key-auth"); len(res.body["data"].([]any)) != 0 {
		t.Errorf("expired credential listed: %s", res.raw)
	}
	if res := get(t, h, "/key-auths/alice-key"); res.status != 200 {
		t.Errorf("credential without ttl: status %d", res.status)
	}
}

const newConfigYAML = `_format_version: "3.0"
services:
- name: fresh
  host: fresh.internal
  routes:
  - name: fresh-route
    paths: [/fresh]
`

const newConfigJSON = `{"_format_version":"3.0","services":[{"name":"fresh","host":"fresh.internal","routes":[{"name":"fresh-route","paths":["/fresh"]}]}]}`

func multipartBody(t *testing.T, file bool) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var w io.Writer
	var err error
	if file {
		w, err = mw.CreateFormFile("config", "kong.yml")
	} else {
		w, err = mw.CreateFormField("config")
	}
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, newConfigYAML)
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestPostConfig(t *testing.T) {
	jsonField, _ := json.Marshal(map[string]string{"config": newConfigYAML})
	tests := []struct {
		name        string
		body        func(t *testing.T) (io.Reader, string)
		contentType string
	}{
		{"raw yaml", func(*testing.T) (io.Reader, string) { return strings.NewReader(newConfigYAML), "text/yaml" }, ""},
		{"raw yaml without content type", func(*testing.T) (io.Reader, string) { return strings.NewReader(newConfigYAML), "" }, ""},
		{"raw yaml sent as a form (curl --data-binary)", func(*testing.T) (io.Reader, string) {
			return strings.NewReader(newConfigYAML), "application/x-www-form-urlencoded"
		}, ""},
		{"json config", func(*testing.T) (io.Reader, string) { return strings.NewReader(newConfigJSON), "application/json" }, ""},
		{"json config field", func(*testing.T) (io.Reader, string) { return bytes.NewReader(jsonField), "application/json" }, ""},
		{"json config field as an object", func(*testing.T) (io.Reader, string) {
			return strings.NewReader(`{"config":` + newConfigJSON + `}`), "application/json"
		}, ""},
		{"form config field", func(*testing.T) (io.Reader, string) {
			return strings.NewReader(url.Values{"config": {newConfigYAML}}.Encode()), "application/x-www-form-urlencoded"
		}, ""},
		{"multipart config file", func(t *testing.T) (io.Reader, string) { return multipartBody(t, true) }, ""},
		{"multipart config field", func(t *testing.T) (io.Reader, string) { return multipartBody(t, false) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, b := newTestHandler(t)
			body, ct := tt.body(t)
			res := do(t, h, "POST", "/config", body, "Content-Type", ct)
			if res.status != 201 {
				t.Fatalf("status %d %s", res.status, res.raw)
			}
			cfg := b.Config()
			if len(cfg.Services) != 1 || cfg.Services[0].Name != "fresh" {
				t.Fatalf("config not swapped: %+v", cfg.Services)
			}
			// 201 with the entities flattened: collection, then id.
			if got := keysOf(res.body); !slices.Equal(got, []string{"routes", "services"}) {
				t.Errorf("collections %v", got)
			}
			svc := path(res.body, "services", cfg.Services[0].ID)
			if path(svc, "name") != "fresh" || len(keysOf(svc)) != len(fields["service"]) {
				t.Errorf("service %v", svc)
			}
			if path(res.body, "routes", cfg.Routes[0].ID, "service", "id") != cfg.Services[0].ID {
				t.Errorf("routes %v", res.body["routes"])
			}
			// Reads now answer from the new config.
			if res := get(t, h, "/services/fresh"); res.status != 200 {
				t.Errorf("GET new service: %d", res.status)
			}
			if res := get(t, h, "/services/orders"); res.status != 404 {
				t.Errorf("GET old service: %d", res.status)
			}
		})
	}
}

const invalidYAML = `_format_version: "3.0"
services:
- name: bad
  host: bad.internal
  port: 99999
  routes:
  - name: r
    paths: [/ok, "no-slash"]
`

func TestPostConfigErrors(t *testing.T) {
	t.Run("invalid keeps the old config", func(t *testing.T) {
		h, b := newTestHandler(t)
		old := b.Config()
		res := do(t, h, "POST", "/config", strings.NewReader(invalidYAML))
		if res.status != 400 {
			t.Fatalf("status %d %s", res.status, res.raw)
		}
		if res.body["code"] != float64(14) || res.body["name"] != "invalid declarative configuration" {
			t.Errorf("body %s", res.raw)
		}
		if msg, _ := res.body["message"].(string); !strings.HasPrefix(msg, "declarative config is invalid: ") {
			t.Errorf("message %q", msg)
		}
		// fields mirror the input's nesting: arrays by index.
		if _, ok := path(res.body, "fields", "services", "0", "port").(string); !ok {
			t.Errorf("fields %v", res.body["fields"])
		}
		if path(res.body, "fields", "services", "0", "routes", "0", "paths") == nil {
			t.Errorf("fields %v", res.body["fields"])
		}
		if _, ok := res.body["flattened_errors"]; ok {
			t.Error("flattened_errors without flatten_errors")
		}
		if b.Config() != old {
			t.Error("config swapped")
		}
		if res := get(t, h, "/services/orders"); res.status != 200 {
			t.Errorf("old config no longer served: %d", res.status)
		}
	})
	for _, v := range []string{"1", "true", "on", "yes"} {
		t.Run("flatten_errors="+v, func(t *testing.T) {
			h, _ := newTestHandler(t)
			res := do(t, h, "POST", "/config?flatten_errors="+v, strings.NewReader(invalidYAML))
			fe, _ := res.body["flattened_errors"].([]any)
			if res.status != 400 || len(fe) == 0 {
				t.Fatalf("status %d %s", res.status, res.raw)
			}
			types := map[any]bool{}
			for _, e := range fe {
				types[path(e, "entity_type")] = true
				if errs, _ := path(e, "errors").([]any); len(errs) == 0 {
					t.Errorf("entry without errors: %v", e)
				}
			}
			if !types["service"] || !types["route"] {
				t.Errorf("entity types %v", types)
			}
			if path(fe[0], "entity_name") != "bad" {
				t.Errorf("first entry %v", fe[0])
			}
		})
	}
	t.Run("flatten_errors in a json body", func(t *testing.T) {
		h, _ := newTestHandler(t)
		body, _ := json.Marshal(map[string]any{"config": invalidYAML, "flatten_errors": true})
		res := do(t, h, "POST", "/config", bytes.NewReader(body), "Content-Type", "application/json")
		if _, ok := res.body["flattened_errors"]; res.status != 400 || !ok {
			t.Errorf("status %d %s", res.status, res.raw)
		}
	})
	t.Run("parse error", func(t *testing.T) {
		h, _ := newTestHandler(t)
		res := do(t, h, "POST", "/config", strings.NewReader("_format_version: [\n"))
		if res.status != 400 || res.body["code"] != float64(14) {
			t.Fatalf("status %d %s", res.status, res.raw)
		}
		if e, _ := path(res.body, "fields", "error").(string); !strings.HasPrefix(e, "failed parsing declarative configuration") {
			t.Errorf("fields %v", res.body["fields"])
		}
	})
	empty := []struct {
		name, body, contentType string
	}{
		{"no body", "", ""},
		{"blank body", " \n\t", "text/yaml"},
		{"empty config field", `{"config":""}`, "application/json"},
		{"empty form field", "config=", "application/x-www-form-urlencoded"},
	}
	for _, tt := range empty {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t)
			res := do(t, h, "POST", "/config", strings.NewReader(tt.body), "Content-Type", tt.contentType)
			if res.status != 400 || res.raw != `{"message":"expected a declarative configuration"}` {
				t.Errorf("status %d %s", res.status, res.raw)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		h, _ := newTestHandler(t)
		h.maxBody = 1024
		big := strings.Repeat("#", 1025)
		res := do(t, h, "POST", "/config", strings.NewReader(big))
		if res.status != 413 {
			t.Errorf("status %d %s", res.status, res.raw)
		}
	})
}

func TestPostConfigCheckHash(t *testing.T) {
	h, b := newTestHandler(t)
	// The running config's own text: 304, nothing loaded.
	res := do(t, h, "POST", "/config?check_hash=1", bytes.NewReader(fixture(t)))
	if res.status != 304 || res.raw != "" {
		t.Fatalf("status %d %s", res.status, res.raw)
	}
	// Without check_hash the same text loads again.
	old := b.Config()
	if res := do(t, h, "POST", "/config", bytes.NewReader(fixture(t))); res.status != 201 {
		t.Fatalf("status %d", res.status)
	}
	if b.Config() == old {
		t.Error("not reloaded")
	}
	// A different text loads; sending it again with check_hash is a 304; in a config field too.
	if res := do(t, h, "POST", "/config?check_hash=1", strings.NewReader(newConfigYAML)); res.status != 201 {
		t.Fatalf("status %d", res.status)
	}
	if res := do(t, h, "POST", "/config?check_hash=1", strings.NewReader(newConfigYAML)); res.status != 304 {
		t.Errorf("status %d", res.status)
	}
	form := url.Values{"config": {newConfigYAML}, "check_hash": {"1"}}.Encode()
	if res := do(t, h, "POST", "/config", strings.NewReader(form), "Content-Type", "application/x-www-form-urlencoded"); res.status != 304 {
		t.Errorf("form: status %d", res.status)
	}
}

func TestPostConfigBusy(t *testing.T) {
	h, b := newTestHandler(t)
	b.entered, b.release = make(chan struct{}), make(chan struct{})
	first := make(chan response, 1)
	go func() {
		req := httptest.NewRequest("POST", "/config", strings.NewReader(newConfigYAML))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		first <- response{status: rec.Code, raw: rec.Body.String()}
	}()
	<-b.entered // the first load is running
	res := do(t, h, "POST", "/config", strings.NewReader(newConfigYAML))
	if res.status != 429 || res.raw != `{"message":"Currently loading previous configuration"}` {
		t.Errorf("status %d %s", res.status, res.raw)
	}
	if got := res.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q", got)
	}
	// Reads are not blocked by a load.
	if res := get(t, h, "/services/orders"); res.status != 200 {
		t.Errorf("read during load: %d", res.status)
	}
	close(b.release)
	if r := <-first; r.status != 201 {
		t.Errorf("first load: %d %s", r.status, r.raw)
	}
	b.entered = nil
	if res := do(t, h, "POST", "/config", strings.NewReader(newConfigYAML)); res.status != 201 {
		t.Errorf("after the load: %d", res.status)
	}
}

// failingBackend refuses every load with an error that is not config.Errors (a compile
// failure).
type failingBackend struct{ testBackend }

func (b *failingBackend) LoadBytes([]byte) error { return errors.New("compile config: plugin x: bad") }

func TestPostConfigCompileError(t *testing.T) {
	reg := registry()
	b := &failingBackend{testBackend{reg: reg, cfg: config.Empty()}}
	h := New(Options{Backend: b, Registry: reg})
	res := do(t, h, "POST", "/config", strings.NewReader(newConfigYAML))
	if res.status != 400 || res.body["code"] != float64(14) || !strings.Contains(res.raw, "plugin x: bad") {
		t.Errorf("status %d %s", res.status, res.raw)
	}
}

func TestGetConfigRoundTrip(t *testing.T) {
	h, b := newTestHandler(t)
	res := get(t, h, "/config")
	if res.status != 200 || len(res.body) != 1 {
		t.Fatalf("status %d %s", res.status, res.raw)
	}
	text, _ := res.body["config"].(string)
	if !strings.HasPrefix(text, "_format_version: \"3.0\"\n_transform: false\n") {
		t.Errorf("export starts %q", text[:min(len(text), 60)])
	}
	orig := b.cfg
	back, err := config.Load("export.yaml", []byte(text), registry())
	if err != nil {
		t.Fatalf("export does not load: %v\n%s", err, text)
	}
	// Same entities: every collection renders identically (timestamps included: the export
	// carries them), and exporting again gives the same text.
	render := func(cfg *config.Config) map[string]string {
		ix := buildIndex(cfg)
		v := viewer{cfg: cfg, now: cfg.LoadedAt, export: true}
		out := map[string]string{}
		for _, k := range allKinds {
			for _, rw := range ix.all(k, cfg.LoadedAt) {
				j, err := marshalJSON(v.render(rw))
				if err != nil {
					t.Fatal(err)
				}
				out[k.table+"/"+rw.id] = string(j)
			}
		}
		return out
	}
	want, got := render(orig), render(back)
	if len(want) != 25 {
		t.Errorf("fixture has %d entities", len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s\n got %s\nwant %s", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d entities back, want %d", len(got), len(want))
	}
	again, err := exportYAML(buildIndex(back), back.LoadedAt)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != text {
		t.Errorf("second export differs:\n%s\n---\n%s", again, text)
	}
	if back.Transform || back.BasicAuthCredentials[0].Password != orig.BasicAuthCredentials[0].Password {
		t.Error("basic-auth password re-hashed on reload")
	}
}

func TestGetConfigEmpty(t *testing.T) {
	b := &testBackend{reg: registry(), cfg: config.Empty()}
	h := New(Options{Backend: b})
	res := get(t, h, "/config")
	if res.status != 200 || res.body["config"] != "_format_version: \"3.0\"\n_transform: false\n" {
		t.Errorf("status %d %s", res.status, res.raw)
	}
	if res := get(t, h, "/services"); res.raw != `{"data":[],"next":null}` {
		t.Errorf("empty list %s", res.raw)
	}
	if res := get(t, h, "/"); path(res.body, "plugins", "enabled_in_cluster") == nil {
		t.Errorf("enabled_in_cluster is null: %s", res.raw)
	}
}

// TestIndexFollowsConfig checks that reads see a config swapped by another path (a file
// reload), not only by POST /config.
func TestIndexFollowsConfig(t *testing.T) {
	h, b := newTestHandler(t)
	if res := get(t, h, "/services/fresh"); res.status != 404 {
		t.Fatalf("status %d", res.status)
	}
	cfg, err := config.Load("new.yaml", []byte(newConfigYAML), b.reg)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.cfg = cfg
	b.mu.Unlock()
	if res := get(t, h, "/services/fresh"); res.status != 200 {
		t.Errorf("status %d", res.status)
	}
}
