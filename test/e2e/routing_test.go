package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRoutingDimensions routes on every dimension through the real binary: path prefix,
// regex with captures, host (plain and wildcard), header (plain and ~* regex), method, and
// Kong's priority rules between overlapping routes.
func TestRoutingDimensions(t *testing.T) {
	names := []string{"prefix", "longer", "regex", "host", "wildhost", "header", "headerre", "method-get", "method-post", "fallback"}
	ups := map[string]string{}
	cfg := "_format_version: \"3.0\"\nservices:\n"
	for _, n := range names {
		srv := startEcho(t, n)
		ups[n] = srv.URL
		cfg += sprintf("  - name: %s\n    url: %s\n", n, srv.URL)
	}
	cfg += `routes:
  - {name: prefix, service: prefix, paths: [/api], strip_path: false}
  - {name: longer, service: longer, paths: [/api/v2], strip_path: false}
  - {name: regex, service: regex, paths: ["~/items/(?<id>\\d+)$"], strip_path: false}
  - {name: host, service: host, hosts: [api.example.test], paths: [/api]}
  - {name: wildhost, service: wildhost, hosts: ["*.wild.test"], paths: [/]}
  - {name: header, service: header, paths: [/hdr], headers: {x-version: [v2]}}
  - {name: headerre, service: headerre, paths: [/hdr], headers: {x-version: ["~*^beta-\\d+$"]}}
  - {name: method-get, service: method-get, paths: [/orders], methods: [GET]}
  - {name: method-post, service: method-post, paths: [/orders], methods: [POST]}
  - {name: fallback, service: fallback, paths: [/]}
`
	g := startGateway(t, cfg)
	c := client()
	tests := []struct {
		name, method, path, host string
		headers                  map[string]string
		want                     string
		wantURI                  string
	}{
		{name: "prefix", method: "GET", path: "/api/users", want: "prefix", wantURI: "/api/users"},
		{name: "prefix is not segment aware", method: "GET", path: "/apix", want: "prefix"},
		{name: "longer prefix wins", method: "GET", path: "/api/v2/x", want: "longer"},
		{name: "regex", method: "GET", path: "/items/42", want: "regex", wantURI: "/items/42"},
		{name: "regex anchored at start only needs $", method: "GET", path: "/items/42/more", want: "fallback"},
		{name: "host beats path-only", method: "GET", path: "/api/x", host: "api.example.test", want: "host", wantURI: "/x"},
		{name: "host compare ignores case", method: "GET", path: "/api/x", host: "API.Example.TEST", want: "host"},
		{name: "host with port", method: "GET", path: "/api/x", host: "api.example.test:8000", want: "host"},
		{name: "wildcard host", method: "GET", path: "/anything", host: "a.b.wild.test", want: "wildhost"},
		{name: "wildcard not bare domain", method: "GET", path: "/anything", host: "wild.test", want: "fallback"},
		{name: "header exact", method: "GET", path: "/hdr", headers: map[string]string{"X-Version": "V2"}, want: "header"},
		{name: "header regex", method: "GET", path: "/hdr", headers: map[string]string{"X-Version": "beta-7"}, want: "headerre"},
		{name: "header mismatch falls back", method: "GET", path: "/hdr", headers: map[string]string{"X-Version": "v3"}, want: "fallback"},
		{name: "method GET", method: "GET", path: "/orders", want: "method-get"},
		{name: "method POST", method: "POST", path: "/orders", want: "method-post"},
		{name: "method other", method: "DELETE", path: "/orders", want: "fallback"},
		{name: "dot segments normalised", method: "GET", path: "/x/../api/v2/y", want: "longer"},
		{name: "encoded unreserved decoded", method: "GET", path: "/%61pi/v2/z", want: "longer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := mustReq(t, tc.method, g.Proxy+tc.path, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, body := do(t, c, req)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			e := decodeEcho(t, body)
			if e.Name != tc.want {
				t.Errorf("routed to %q, want %q", e.Name, tc.want)
			}
			if tc.wantURI != "" && e.URI != tc.wantURI {
				t.Errorf("upstream URI %q, want %q", e.URI, tc.wantURI)
			}
		})
	}
}

// TestNoRouteAndErrors checks the gateway's own answers: 404 with Kong's message and a request
// id, content negotiation, and that the proxy never leaks internals.
func TestNoRouteAndErrors(t *testing.T) {
	srv := startEcho(t, "one")
	g := startGateway(t, sprintf(`_format_version: "3.0"
services:
  - name: one
    url: %s
    routes: [{name: one, paths: [/one]}]
`, srv.URL))
	c := client()
	resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/nope", nil))
	if resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("404 body not JSON: %s", body)
	}
	if m["message"] != "no Route matched with those values" || len(m["request_id"]) != 32 {
		t.Errorf("404 body = %s", body)
	}
	if got := resp.Header.Get("X-Tollgate-Request-Id"); got != m["request_id"] {
		t.Errorf("X-Tollgate-Request-Id %q, body request_id %q", got, m["request_id"])
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content-type %q", ct)
	}
	req := mustReq(t, "GET", g.Proxy+"/nope", nil)
	req.Header.Set("Accept", "text/plain")
	resp, body = do(t, c, req)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), "request_id: ") {
		t.Errorf("text/plain negotiation: %s %q", resp.Header.Get("Content-Type"), body)
	}
}
