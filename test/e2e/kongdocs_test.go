package e2e

import (
	"strings"
	"testing"
)

// kongDocsConfig is built from the route examples of Kong's proxy reference (hosts, paths,
// methods, wildcard hosts, headers, regex paths with regex_priority, strip_path, named
// captures), written as a kong.yml with its urls pointed at local servers.
const kongDocsConfig = `_format_version: "3.0"
_transform: true
services:
- name: foo-service
  url: {{up}}/foo-service
  routes:
  - name: example
    hosts: [example.com, foo-service.com]
    paths: [/foo, /bar]
    methods: [GET]
    strip_path: false
- name: wildcard
  url: {{up}}/wildcard
  routes:
  - name: wild-left
    hosts: ["*.example.org"]
  - name: wild-right
    hosts: ["service.*"]
- name: prefixes
  url: {{up}}/prefixes
  routes:
  - name: prefixes
    paths: [/service, /hello/world]
    strip_path: false
- name: regexes
  url: {{up}}/regexes
  routes:
  - name: regex-users
    paths: ['~/users/\d+/profile', /following]
    strip_path: false
- name: order
  url: {{up}}/order
  routes:
  - name: status
    paths: ['~/status/\d+']
    regex_priority: 0
    strip_path: false
  - name: version-status
    paths: ['~/version/\d+/status/\d+']
    regex_priority: 6
    strip_path: false
  - name: version
    paths: [/version]
    strip_path: false
  - name: version-any
    paths: [/version/any/]
    strip_path: false
- name: stripped
  url: {{up}}
  routes:
  - name: strip
    paths: [/service-strip]
    strip_path: true
- name: headers
  url: {{up}}/headers
  routes:
  - name: version-header
    headers:
      version: [v1, v2]
- name: captures
  url: {{up}}/captures
  routes:
  - name: named
    paths: ['~/version/(?<version>\d+)/users/(?<user>\S+)$']
    strip_path: false
    plugins:
    - name: request-transformer
      config:
        add:
          headers: ["X-Version:$(uri_captures.version)", "X-User:$(uri_captures.user)", "X-Whole:$(uri_captures[0])"]
`

func TestKongDocsRouting(t *testing.T) {
	up := startEcho(t, "up")
	g := startGateway(t, strings.ReplaceAll(kongDocsConfig, "{{up}}", up.URL))
	c := client()
	tests := []struct {
		name, method, host, path string
		headers                  map[string]string
		status                   int
		wantURI                  string
	}{
		// "a request must include all of the configured fields, and match at least one value of each"
		{name: "docs: GET /foo example.com", method: "GET", host: "example.com", path: "/foo", status: 200, wantURI: "/foo-service/foo"},
		{name: "docs: GET /bar foo-service.com", method: "GET", host: "foo-service.com", path: "/bar", status: 200, wantURI: "/foo-service/bar"},
		{name: "docs: GET /foo/hello/world", method: "GET", host: "example.com", path: "/foo/hello/world", status: 200, wantURI: "/foo-service/foo/hello/world"},
		{name: "docs: wrong path", method: "GET", host: "example.com", path: "/", status: 404},
		{name: "docs: wrong method", method: "POST", host: "example.com", path: "/foo", status: 404},
		{name: "docs: wrong host", method: "GET", host: "foo.com", path: "/foo", status: 404},
		{name: "docs: wildcard left a.example.org", method: "GET", host: "a.example.org", path: "/x", status: 200, wantURI: "/wildcard/x"},
		{name: "docs: wildcard left x.y.example.org", method: "GET", host: "x.y.example.org", path: "/x", status: 200, wantURI: "/wildcard/x"},
		{name: "docs: wildcard right service.net", method: "GET", host: "service.net", path: "/x", status: 200, wantURI: "/wildcard/x"},
		{name: "docs: prefix /service", method: "GET", path: "/service", status: 200, wantURI: "/prefixes/service"},
		{name: "docs: prefix /service/resource", method: "GET", path: "/service/resource", status: 200, wantURI: "/prefixes/service/resource"},
		{name: "docs: prefix /hello/world/resource", method: "GET", path: "/hello/world/resource", status: 200, wantURI: "/prefixes/hello/world/resource"},
		{name: "docs: regex /users/123/profile", method: "GET", path: "/users/123/profile", status: 200, wantURI: "/regexes/users/123/profile"},
		{name: "docs: regex route's plain /following", method: "GET", path: "/following", status: 200, wantURI: "/regexes/following"},
		{name: "order: regex_priority 6 first", method: "GET", path: "/version/1/status/2", status: 200, wantURI: "/order/version/1/status/2"},
		{name: "order: /status/5 regex", method: "GET", path: "/status/5", status: 200, wantURI: "/order/status/5"},
		{name: "order: /version prefix", method: "GET", path: "/version", status: 200, wantURI: "/order/version"},
		{name: "order: longest prefix /version/any/", method: "GET", path: "/version/any/thing", status: 200, wantURI: "/order/version/any/thing"},
		{name: "docs: strip_path", method: "GET", path: "/service-strip/path/to/resource", status: 200, wantURI: "/path/to/resource"},
		{name: "docs: header version v1", method: "GET", path: "/h", headers: map[string]string{"version": "v1"}, status: 200, wantURI: "/headers/h"},
		{name: "docs: header version v3", method: "GET", path: "/h", headers: map[string]string{"version": "v3"}, status: 404},
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
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.wantURI != "" {
				if e := decodeEcho(t, body); e.URI != tc.wantURI {
					t.Errorf("upstream URI %q, want %q", e.URI, tc.wantURI)
				}
			}
		})
	}
	t.Run("named captures feed uri_captures", func(t *testing.T) {
		resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/version/3/users/john", nil))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		e := decodeEcho(t, body)
		if e.header("X-Version") != "3" || e.header("X-User") != "john" || e.header("X-Whole") != "/version/3/users/john" {
			t.Errorf("captures: version=%q user=%q whole=%q", e.header("X-Version"), e.header("X-User"), e.header("X-Whole"))
		}
	})
}
