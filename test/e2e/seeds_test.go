package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The seed documents' Kong configs, with their upstream URLs pointed at local servers.

// seedRouting is the routing example of the first seed document, plus its transformer pair
// as global plugins. The document writes the response-transformer's `remove` key twice (once
// for headers, once for json); YAML forbids duplicate keys, so the two are merged here, which
// is what the document means.
const seedRouting = `_format_version: "3.0"
services:
- name: user-service
  url: {{users}}
  routes:
  - name: users-route
    paths:
    - /api/v1/users
    methods:
    - GET
    - POST
    strip_path: true
- name: order-service
  url: {{orders}}
  routes:
  - name: orders-route
    paths:
    - /api/v1/orders
    headers:
      X-Region:
      - us-east
      - us-west
plugins:
- name: request-transformer
  config:
    add:
      headers:
      - "X-Request-ID:$(uuid)"
      - "X-Forwarded-Host:$(headers.host)"
    remove:
      headers:
      - Cookie
    rename:
      headers:
      - "Authorization:X-Original-Auth"
- name: response-transformer
  config:
    remove:
      headers:
      - X-Powered-By
      - Server
      - X-Internal-Trace
      json:
      - internal_id
      - debug_info
    add:
      headers:
      - "X-Response-Time:$(latency)"
`

// seedTransformers is the second seed document's request/response transformer pair.
const seedTransformers = `_format_version: "3.0"
services:
- name: api
  url: {{users}}
  routes:
  - name: api
    paths: [/api]
  plugins:
  - name: request-transformer
    config:
      add:
        headers:
          - "X-Request-Source: api-gateway"
          - "X-Forwarded-Proto: https"
        querystring:
          - "version: v2"
      remove:
        headers:
          - "X-Internal-Debug"
      rename:
        headers:
          - "X-Custom-Auth: Authorization"
      replace:
        body:
          - "user_name: username"
  - name: response-transformer
    config:
      remove:
        headers:
          - "X-Powered-By"
          - "Server"
        json:
          - "internal_id"
          - "debug_info"
`

// seedRejected are seed configs whose plugins come with later work: each must be rejected
// with an error naming the plugin as not available yet, never silently ignored.
var seedRejected = map[string]struct{ cfg, plugin string }{
	"jwt+acl": {`_format_version: "3.0"
services:
- name: orders-service
  url: http://orders:8080
  routes:
  - name: orders-route
    paths:
    - /api/v1/orders
    plugins:
    - name: jwt
      config:
        claims_to_verify:
        - exp
        header_names:
        - Authorization
    - name: acl
      config:
        allow:
        - orders-read
        - orders-write
`, "jwt"},
	"kong.yml with jwt, rate-limiting, prometheus, cors": {`_format_version: "3.0"
services:
- name: user-service
  url: http://users.internal:8080
  connect_timeout: 5000
  read_timeout: 30000
  routes:
  - name: users-api
    paths:
    - /api/v1/users
    methods:
    - GET
    - POST
    - PUT
    strip_path: false
  plugins:
  - name: jwt
  - name: rate-limiting
    config:
      minute: 60
      policy: redis
      redis_host: redis
  - name: prometheus
  - name: cors
    config:
      origins:
      - "https://app.example.com"
      methods:
      - GET
      - POST
      headers:
      - Authorization
      - Content-Type
`, "rate-limiting"},
}

func fill(cfg string, urls map[string]string) string {
	for k, v := range urls {
		cfg = strings.ReplaceAll(cfg, "{{"+k+"}}", v)
	}
	return cfg
}

func TestSeedRoutingAndTransformers(t *testing.T) {
	users := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Powered-By", "php")
		w.Header().Set("Server", "apache")
		w.Header().Set("X-Internal-Trace", "t-1")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"svc": "users", "uri": r.RequestURI, "internal_id": 7, "debug_info": "x", "name": "Ada",
			"headers": r.Header, "host": r.Host,
		})
	}))
	t.Cleanup(users.Close)
	orders := startEcho(t, "orders")
	g := startGateway(t, fill(seedRouting, map[string]string{"users": users.URL, "orders": orders.URL}))
	c := client()

	req := mustReq(t, "GET", g.Proxy+"/api/v1/users/42", nil)
	req.Host = "shop.example"
	req.Header.Set("Authorization", "Bearer abc")
	req.Header.Set("Cookie", "session=1")
	resp, body := do(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("users: %d %s", resp.StatusCode, body)
	}
	var got struct {
		URI      string              `json:"uri"`
		Headers  map[string][]string `json:"headers"`
		Internal *int                `json:"internal_id"`
		Debug    *string             `json:"debug_info"`
		Name     string              `json:"name"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if got.URI != "/42" {
		t.Errorf("strip_path: upstream URI %q, want /42", got.URI)
	}
	h := http.Header(got.Headers)
	if len(h.Get("X-Request-Id")) != 36 {
		t.Errorf("X-Request-ID:$(uuid) gave %q", h.Get("X-Request-Id"))
	}
	if h.Get("X-Forwarded-Host") != "shop.example" {
		t.Errorf("X-Forwarded-Host:$(headers.host) gave %q", h.Get("X-Forwarded-Host"))
	}
	if h.Get("Cookie") != "" || h.Get("Authorization") != "" || h.Get("X-Original-Auth") != "Bearer abc" {
		t.Errorf("remove Cookie / rename Authorization: %v", h)
	}
	if got.Internal != nil || got.Debug != nil || got.Name != "Ada" {
		t.Errorf("response json not filtered: %s", body)
	}
	for _, hd := range []string{"X-Powered-By", "X-Internal-Trace"} {
		if resp.Header.Get(hd) != "" {
			t.Errorf("%s not removed", hd)
		}
	}
	if resp.Header.Get("Server") == "apache" {
		t.Errorf("upstream Server header not removed")
	}
	if !strings.HasSuffix(resp.Header.Get("X-Response-Time"), "ms") {
		t.Errorf("X-Response-Time %q", resp.Header.Get("X-Response-Time"))
	}

	// POST allowed, DELETE is not a method of users-route
	resp, _ = do(t, c, mustReq(t, "POST", g.Proxy+"/api/v1/users", strings.NewReader("{}")))
	if resp.StatusCode != 200 {
		t.Errorf("POST users: %d", resp.StatusCode)
	}
	resp, _ = do(t, c, mustReq(t, "DELETE", g.Proxy+"/api/v1/users", nil))
	if resp.StatusCode != 404 {
		t.Errorf("DELETE users: %d, want 404", resp.StatusCode)
	}
	// orders-route needs X-Region us-east or us-west
	for region, want := range map[string]int{"us-east": 200, "US-WEST": 200, "eu-west": 404, "": 404} {
		req := mustReq(t, "GET", g.Proxy+"/api/v1/orders", nil)
		if region != "" {
			req.Header.Set("X-Region", region)
		}
		resp, _ := do(t, c, req)
		if resp.StatusCode != want {
			t.Errorf("orders X-Region=%q: %d, want %d", region, resp.StatusCode, want)
		}
	}
}

func TestSeedTransformerPair(t *testing.T) {
	var seen *http.Request
	var seenBody string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen, seenBody = r, string(b)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Powered-By", "x")
		_, _ = w.Write([]byte(`{"id":1,"internal_id":9,"debug_info":{"a":1}}`))
	}))
	t.Cleanup(up.Close)
	g := startGateway(t, fill(seedTransformers, map[string]string{"users": up.URL}))
	req := mustReq(t, "POST", g.Proxy+"/api/users?x=1", strings.NewReader(`{"user_name":"ada","keep":true}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Internal-Debug", "1")
	req.Header.Set("X-Custom-Auth", "token-1")
	resp, body := do(t, client(), req)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if seen.Header.Get("X-Request-Source") != "api-gateway" || seen.Header.Get("X-Internal-Debug") != "" ||
		seen.Header.Get("Authorization") != "token-1" || seen.URL.Query().Get("version") != "v2" {
		t.Errorf("upstream request: %v %v", seen.Header, seen.URL)
	}
	var in map[string]any
	if err := json.Unmarshal([]byte(seenBody), &in); err != nil || in["user_name"] != "username" || in["keep"] != true {
		t.Errorf("replace body user_name: %q", seenBody)
	}
	if string(body) == "" || strings.Contains(string(body), "internal_id") || strings.Contains(string(body), "debug_info") || resp.Header.Get("X-Powered-By") != "" {
		t.Errorf("response not transformed: %v %s", resp.Header, body)
	}
}

func TestSeedConfigsWithLaterPluginsAreRejected(t *testing.T) {
	for name, tc := range seedRejected {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "kong.yml")
			writeFile(t, file, tc.cfg)
			out, err := exec.Command(binary, "validate", "--config", file).CombinedOutput()
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			if !strings.Contains(string(out), `plugin "`+tc.plugin+`"`) || !strings.Contains(string(out), "not available yet") {
				t.Errorf("error does not name %s as not available yet:\n%s", tc.plugin, out)
			}
			// and the gateway refuses to start on it rather than serving without the plugin
			cmd := exec.Command(binary, "run", "--config", file, "--proxy-listen", "127.0.0.1:0", "--admin-listen", "")
			out, err = cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "not available yet") {
				t.Errorf("run on a config with unavailable plugins: err=%v\n%s", err, out)
			}
		})
	}
}

// TestSeedUploadLimits: the seed's request-size-limiting config (10 MB, length required) as
// written, in front of a local upload service.
func TestSeedUploadLimits(t *testing.T) {
	up := startEchoWith(t, func(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	g := startGateway(t, fill(`_format_version: "3.0"
services:
- name: upload-service
  url: {{up}}
  routes: [{name: upload, paths: [/upload]}]
  plugins:
  - name: request-size-limiting
    config:
      allowed_payload_size: 10
      require_content_length: true
`, map[string]string{"up": up}))
	c := client()
	tests := []struct {
		name   string
		size   int
		length bool
		status int
	}{
		{"1 MB with length", 1 << 20, true, 200},
		{"exactly 10 MB", 10 << 20, true, 200},
		{"10 MB + 1 byte", 10<<20 + 1, true, 413},
		{"no length at all", 0, false, 411},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req *http.Request
			if tc.length {
				req = mustReq(t, "POST", g.Proxy+"/upload", strings.NewReader(strings.Repeat("x", tc.size)))
			} else {
				req = mustReq(t, "GET", g.Proxy+"/upload", nil)
			}
			resp, body := do(t, c, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 413 && !strings.Contains(string(body), "Request size limit exceeded") {
				t.Errorf("body %s", body)
			}
		})
	}
}
