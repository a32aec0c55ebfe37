package router

import (
	"errors"
	"strings"
	"testing"
)

// hdr is a HeaderLookup over lower-case names, one slice element per header line.
type hdr map[string][]string

func (h hdr) HeaderValue(name string, n int) ([]byte, bool) {
	vs := h[name]
	if n < len(vs) {
		return []byte(vs[n]), true
	}
	return nil, false
}

// treq is a request in test-friendly form.
type treq struct {
	method, host, path, sni string
	port                    int
	https                   bool
	headers                 hdr
}

func (r treq) request() *Request {
	req := &Request{
		Method: []byte(r.method),
		Host:   []byte(r.host),
		Port:   r.port,
		Path:   []byte(r.path),
		SNI:    []byte(r.sni),
		HTTPS:  r.https,
	}
	if req.Port == 0 {
		req.Port = 80
	}
	if r.method == "" {
		req.Method = []byte("GET")
	}
	if r.path == "" {
		req.Path = []byte("/")
	}
	if r.headers != nil {
		req.Header = r.headers
	}
	return req
}

// Split IDs of route splitA, computed independently with Python's uuid.uuid5.
const (
	splitA   = "aaaaaaaa-0000-4000-8000-000000000001"
	splitA1  = "0ae951e9-2960-54a3-be1e-c8451c9e6597" // "<splitA>#1"
	splitA2  = "43825431-c2cb-5f3e-9e59-ed995683a101" // "<splitA>#2"
	lowerID  = "05000000-0000-4000-8000-000000000000" // < splitA1
	higherID = "10000000-0000-4000-8000-000000000000" // > splitA1
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		routes []Route
		quirk  bool
		req    treq
		want   string // route ID; "" for no match
		prefix string // Match.Prefix when a route matched
	}{
		// §3.3 paths
		{
			name:   "prefix matches equal path",
			routes: []Route{{ID: "a", Paths: []string{"/foo"}}},
			req:    treq{path: "/foo"}, want: "a", prefix: "/foo",
		},
		{
			name:   "prefix is not segment aware",
			routes: []Route{{ID: "a", Paths: []string{"/foo"}}},
			req:    treq{path: "/foobar"}, want: "a", prefix: "/foo",
		},
		{
			name:   "prefix matches with trailing slash in request",
			routes: []Route{{ID: "a", Paths: []string{"/foo"}}},
			req:    treq{path: "/foo/"}, want: "a", prefix: "/foo",
		},
		{
			name:   "prefix with trailing slash does not match shorter path",
			routes: []Route{{ID: "a", Paths: []string{"/foo/"}}},
			req:    treq{path: "/foo"}, want: "",
		},
		{
			name:   "paths are case sensitive",
			routes: []Route{{ID: "a", Paths: []string{"/Foo"}}},
			req:    treq{path: "/foo"}, want: "",
		},
		{
			name:   "no route matches",
			routes: []Route{{ID: "a", Paths: []string{"/a"}}, {ID: "b", Paths: []string{"/b"}}},
			req:    treq{path: "/c"}, want: "",
		},
		{
			name:   "paths OR within a route",
			routes: []Route{{ID: "a", Paths: []string{"/one", "/two"}}},
			req:    treq{path: "/two/x"}, want: "a", prefix: "/two",
		},
		{
			name:   "root prefix matches everything",
			routes: []Route{{ID: "a", Paths: []string{"/"}}},
			req:    treq{path: "/anything/at/all"}, want: "a", prefix: "/",
		},
		{
			name:   "regex anchored at start matches",
			routes: []Route{{ID: "a", Paths: []string{`~/v\d+`}}},
			req:    treq{path: "/v2/x"}, want: "a", prefix: "/v2",
		},
		{
			name:   "regex does not match in the middle",
			routes: []Route{{ID: "a", Paths: []string{`~/v\d+`}}},
			req:    treq{path: "/api/v2"}, want: "",
		},
		{
			name:   "regex with $ is exact",
			routes: []Route{{ID: "a", Paths: []string{`~/users/\d+$`}}},
			req:    treq{path: "/users/12/orders"}, want: "",
		},
		{
			name:   "regex with $ matches whole path",
			routes: []Route{{ID: "a", Paths: []string{`~/users/\d+$`}}},
			req:    treq{path: "/users/12"}, want: "a", prefix: "/users/12",
		},
		{
			name:   "regex is case sensitive",
			routes: []Route{{ID: "a", Paths: []string{`~/abc`}}},
			req:    treq{path: "/ABC"}, want: "",
		},
		{
			name:   "regex alternation is anchored on every branch",
			routes: []Route{{ID: "a", Paths: []string{`~/a|/b`}}},
			req:    treq{path: "/x/b"}, want: "",
		},
		{
			name:   "regex without literal prefix",
			routes: []Route{{ID: "a", Paths: []string{`~/*(x|y)z`}}},
			req:    treq{path: "/yz"}, want: "a", prefix: "/yz",
		},
		{
			name:   "case-insensitive regex flag",
			routes: []Route{{ID: "a", Paths: []string{`~/(?i)abc`}}},
			req:    treq{path: "/ABC"}, want: "a", prefix: "/ABC",
		},

		// §3.3 methods
		{
			name:   "method mismatch",
			routes: []Route{{ID: "a", Methods: []string{"GET"}}},
			req:    treq{method: "POST"}, want: "",
		},
		{
			name:   "methods OR",
			routes: []Route{{ID: "a", Methods: []string{"GET", "POST"}}},
			req:    treq{method: "POST"}, want: "a",
		},
		{
			name:   "methods are exact, not case folded",
			routes: []Route{{ID: "a", Methods: []string{"GET"}}},
			req:    treq{method: "get"}, want: "",
		},
		{
			name:   "fields are ANDed",
			routes: []Route{{ID: "a", Methods: []string{"GET"}, Paths: []string{"/x"}}},
			req:    treq{method: "GET", path: "/y"}, want: "",
		},

		// §3.3 hosts
		{
			name:   "exact host",
			routes: []Route{{ID: "a", Hosts: []string{"example.com"}}},
			req:    treq{host: "example.com"}, want: "a",
		},
		{
			name:   "host is compared case-insensitively (documented deviation)",
			routes: []Route{{ID: "a", Hosts: []string{"Example.com"}}},
			req:    treq{host: "EXAMPLE.COM"}, want: "a",
		},
		{
			name:   "host mismatch",
			routes: []Route{{ID: "a", Hosts: []string{"example.com"}}},
			req:    treq{host: "example.org"}, want: "",
		},
		{
			name:   "missing host header",
			routes: []Route{{ID: "a", Hosts: []string{"example.com"}}},
			req:    treq{}, want: "",
		},
		{
			name:   "host header port ignored by portless entry",
			routes: []Route{{ID: "a", Hosts: []string{"example.com"}}},
			req:    treq{host: "example.com:8080"}, want: "a",
		},
		{
			name:   "hosts OR",
			routes: []Route{{ID: "a", Hosts: []string{"a.test", "b.test"}}},
			req:    treq{host: "b.test"}, want: "a",
		},
		{
			name:   "host entry port matches Host port",
			routes: []Route{{ID: "a", Hosts: []string{"example.com:8080"}}},
			req:    treq{host: "example.com:8080"}, want: "a",
		},
		{
			name:   "host entry port differs from Host port",
			routes: []Route{{ID: "a", Hosts: []string{"example.com:8080"}}},
			req:    treq{host: "example.com:9090", port: 8080}, want: "",
		},
		{
			name:   "host entry port uses listener port when Host has none",
			routes: []Route{{ID: "a", Hosts: []string{"example.com:8080"}}},
			req:    treq{host: "example.com", port: 8080}, want: "a",
		},
		{
			name:   "host entry port differs from listener port",
			routes: []Route{{ID: "a", Hosts: []string{"example.com:8080"}}},
			req:    treq{host: "example.com", port: 80}, want: "",
		},
		{
			name:   "Host with non-numeric rest is not split",
			routes: []Route{{ID: "a", Hosts: []string{"[::1]"}}},
			req:    treq{host: "[::1]:8080"}, want: "",
		},
		{
			name:   "bracketed IPv6 compares literally, as in Kong",
			routes: []Route{{ID: "a", Hosts: []string{"[::1]:8080"}}},
			req:    treq{host: "[::1]:8080"}, want: "a",
		},
		{
			name:   "leading wildcard matches one label",
			routes: []Route{{ID: "a", Hosts: []string{"*.example.com"}}},
			req:    treq{host: "api.example.com"}, want: "a",
		},
		{
			name:   "leading wildcard matches several labels",
			routes: []Route{{ID: "a", Hosts: []string{"*.example.com"}}},
			req:    treq{host: "a.b.example.com"}, want: "a",
		},
		{
			name:   "leading wildcard does not match bare domain",
			routes: []Route{{ID: "a", Hosts: []string{"*.example.com"}}},
			req:    treq{host: "example.com"}, want: "",
		},
		{
			name:   "leading wildcard needs the dot",
			routes: []Route{{ID: "a", Hosts: []string{"*.example.com"}}},
			req:    treq{host: "badexample.com"}, want: "",
		},
		{
			name:   "trailing wildcard",
			routes: []Route{{ID: "a", Hosts: []string{"example.*"}}},
			req:    treq{host: "example.org"}, want: "a",
		},
		{
			name:   "trailing wildcard needs the dot",
			routes: []Route{{ID: "a", Hosts: []string{"example.*"}}},
			req:    treq{host: "examples.org"}, want: "",
		},
		{
			name:   "wildcard with port, port matches",
			routes: []Route{{ID: "a", Hosts: []string{"*.example.com:8443"}}},
			req:    treq{host: "a.example.com:8443"}, want: "a",
		},
		{
			name:   "wildcard with port, listener port differs",
			routes: []Route{{ID: "a", Hosts: []string{"*.example.com:8443"}}},
			req:    treq{host: "a.example.com", port: 443}, want: "",
		},

		// §3.3 headers
		{
			name:   "header value compared lower-cased",
			routes: []Route{{ID: "a", Headers: map[string][]string{"X-Version": {"V1"}}}},
			req:    treq{headers: hdr{"x-version": {"v1"}}}, want: "a",
		},
		{
			name:   "header request value upper-case",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-version": {"v1"}}}},
			req:    treq{headers: hdr{"x-version": {"V1"}}}, want: "a",
		},
		{
			name:   "header value mismatch",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-version": {"v1"}}}},
			req:    treq{headers: hdr{"x-version": {"v2"}}}, want: "",
		},
		{
			name:   "header missing",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-version": {"v1"}}}},
			req:    treq{}, want: "",
		},
		{
			name:   "header values OR",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-version": {"v1", "v2"}}}},
			req:    treq{headers: hdr{"x-version": {"v2"}}}, want: "a",
		},
		{
			name:   "header names AND, one missing",
			routes: []Route{{ID: "a", Headers: map[string][]string{"a": {"1"}, "b": {"2"}}}},
			req:    treq{headers: hdr{"a": {"1"}}}, want: "",
		},
		{
			name:   "header names AND, all present",
			routes: []Route{{ID: "a", Headers: map[string][]string{"a": {"1"}, "b": {"2"}}}},
			req:    treq{headers: hdr{"a": {"1"}, "b": {"2"}}}, want: "a",
		},
		{
			name:   "any line of a repeated header",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-tag": {"v1"}}}},
			req:    treq{headers: hdr{"x-tag": {"foo", "v1"}}}, want: "a",
		},
		{
			name:   "comma-separated line is not split",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-tag": {"a"}}}},
			req:    treq{headers: hdr{"x-tag": {"a, b"}}}, want: "",
		},
		{
			name:   "header regex on lower-cased value",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-version": {`~*^v\d+$`}}}},
			req:    treq{headers: hdr{"x-version": {"V12"}}}, want: "a",
		},
		{
			name:   "header regex is unanchored",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-version": {"~*beta"}}}},
			req:    treq{headers: hdr{"x-version": {"x-BETA-1"}}}, want: "a",
		},
		{
			name:   "header regex no match",
			routes: []Route{{ID: "a", Headers: map[string][]string{"x-version": {`~*^v\d+$`}}}},
			req:    treq{headers: hdr{"x-version": {"v1x"}}}, want: "",
		},
		{
			name:   "header name underscore equals dash",
			routes: []Route{{ID: "a", Headers: map[string][]string{"X_Version": {"v1"}}}},
			req:    treq{headers: hdr{"x-version": {"v1"}}}, want: "a",
		},

		// §3.3 snis
		{
			name:   "sni matches on https",
			routes: []Route{{ID: "a", SNIs: []string{"example.com"}}},
			req:    treq{https: true, sni: "example.com"}, want: "a",
		},
		{
			name:   "sni mismatch on https",
			routes: []Route{{ID: "a", SNIs: []string{"example.com"}}},
			req:    treq{https: true, sni: "other.com"}, want: "",
		},
		{
			name:   "sni ignored on plain http",
			routes: []Route{{ID: "a", SNIs: []string{"example.com"}}},
			req:    treq{sni: "other.com"}, want: "a",
		},
		{
			name:   "sni trailing dot is not used for routing",
			routes: []Route{{ID: "a", SNIs: []string{"example.com."}}},
			req:    treq{https: true, sni: "example.com"}, want: "a",
		},
		{
			name: "snis count in W even on plain http",
			routes: []Route{
				{ID: "a", Paths: []string{"/x"}, SNIs: []string{"s.test"}},
				{ID: "b", Paths: []string{"/x/y"}},
			},
			req: treq{path: "/x/y"}, want: "a", prefix: "/x",
		},

		// §3.4 priority, intended comparator
		{
			name: "W: more fields win",
			routes: []Route{
				{ID: "b", Paths: []string{"/x"}},
				{ID: "a", Paths: []string{"/x"}, Methods: []string{"GET"}},
			},
			req: treq{path: "/x"}, want: "a", prefix: "/x",
		},
		{
			name: "W beats prefix length",
			routes: []Route{
				{ID: "b", Paths: []string{"/abc/def"}},
				{ID: "a", Paths: []string{"/abc"}, Methods: []string{"GET"}},
			},
			req: treq{path: "/abc/def"}, want: "a", prefix: "/abc",
		},
		{
			name: "plain hosts beat wildcard hosts at equal W",
			routes: []Route{
				{ID: "b", Hosts: []string{"*.test"}, Paths: []string{"/long"}},
				{ID: "a", Hosts: []string{"a.test"}, Paths: []string{"/"}},
			},
			req: treq{host: "a.test", path: "/long"}, want: "a", prefix: "/",
		},
		{
			name: "plain hosts beat no hosts at equal W",
			routes: []Route{
				{ID: "b", Paths: []string{"/x"}},
				{ID: "a", Hosts: []string{"a.test"}},
			},
			req: treq{host: "a.test", path: "/x"}, want: "a",
		},
		{
			name: "one wildcard makes hosts non-plain",
			routes: []Route{
				{ID: "b", Hosts: []string{"a.test", "*.a.test"}, Paths: []string{"/x"}},
				{ID: "a", Headers: map[string][]string{"h": {"1"}}, Paths: []string{"/"}},
			},
			req: treq{host: "a.test", path: "/x", headers: hdr{"h": {"1"}}}, want: "a", prefix: "/",
		},
		{
			name: "more header names win",
			routes: []Route{
				{ID: "b", Headers: map[string][]string{"a": {"1"}}, Paths: []string{"/x/y"}},
				{ID: "a", Headers: map[string][]string{"a": {"1"}, "b": {"2"}}, Paths: []string{"/x"}},
			},
			req: treq{path: "/x/y", headers: hdr{"a": {"1"}, "b": {"2"}}}, want: "a", prefix: "/x",
		},
		{
			name: "regex beats prefix",
			routes: []Route{
				{ID: "b", Paths: []string{"/abc"}},
				{ID: "a", Paths: []string{"~/ab"}},
			},
			req: treq{path: "/abc"}, want: "a", prefix: "/ab",
		},
		{
			name: "higher regex_priority wins",
			routes: []Route{
				{ID: "b", Paths: []string{`~/x/\d+`}, RegexPriority: 1},
				{ID: "a", Paths: []string{`~/x`}, RegexPriority: 5},
			},
			req: treq{path: "/x/1"}, want: "a", prefix: "/x",
		},
		{
			name: "negative regex_priority loses",
			routes: []Route{
				{ID: "b", Paths: []string{`~/x`}, RegexPriority: -1},
				{ID: "a", Paths: []string{`~/x`}},
			},
			req: treq{path: "/x"}, want: "a", prefix: "/x",
		},
		{
			name: "regex_priority is ignored for prefix routes",
			routes: []Route{
				{ID: "b", Paths: []string{"/a"}, RegexPriority: 10},
				{ID: "a", Paths: []string{"/a/b"}},
			},
			req: treq{path: "/a/b"}, want: "a", prefix: "/a/b",
		},
		{
			name: "longer prefix wins",
			routes: []Route{
				{ID: "b", Paths: []string{"/a"}},
				{ID: "a", Paths: []string{"/ab"}},
			},
			req: treq{path: "/abc"}, want: "a", prefix: "/ab",
		},
		{
			name: "tie broken by greatest ID",
			routes: []Route{
				{ID: "aaaaaaaa-0000-0000-0000-000000000000", Paths: []string{"/x"}},
				{ID: "bbbbbbbb-0000-0000-0000-000000000000", Paths: []string{"/x"}},
			},
			req: treq{path: "/x"}, want: "bbbbbbbb-0000-0000-0000-000000000000", prefix: "/x",
		},
		{
			name: "tie uses string order: letters after digits",
			routes: []Route{
				{ID: "a0000000-0000-0000-0000-000000000000", Hosts: []string{"h.test"}},
				{ID: "90000000-0000-0000-0000-000000000000", Hosts: []string{"h.test"}},
			},
			req: treq{host: "h.test"}, want: "a0000000-0000-0000-0000-000000000000",
		},
		{
			name: "split: short group of a multi-length route loses to a longer prefix",
			routes: []Route{
				{ID: "b", Paths: []string{"/x", "/yyyyyyyy"}},
				{ID: "a", Paths: []string{"/xx"}},
			},
			req: treq{path: "/xx1"}, want: "a", prefix: "/xx",
		},
		{
			name: "split: long group still wins its own paths",
			routes: []Route{
				{ID: "b", Paths: []string{"/x", "/yyyyyyyy"}},
				{ID: "a", Paths: []string{"/yyy"}},
			},
			req: treq{path: "/yyyyyyyy/z"}, want: "b", prefix: "/yyyyyyyy",
		},
		{
			name: "split: regex group of a mixed route outranks prefixes",
			routes: []Route{
				{ID: "a", Paths: []string{"/foo", `~/bar\d`}},
				{ID: "b", Paths: []string{"/bar1"}},
			},
			req: treq{path: "/bar1"}, want: "a", prefix: "/bar1",
		},
		{
			name: "split: prefix group of a mixed route loses to another regex route",
			routes: []Route{
				{ID: "b", Paths: []string{"/foo", `~/bar\d`}},
				{ID: "a", Paths: []string{`~/fo`}},
			},
			req: treq{path: "/foo"}, want: "a", prefix: "/fo",
		},
		{
			name: "split: tie uses the split's uuid5, which wins over a lower ID",
			routes: []Route{
				{ID: splitA, Paths: []string{"/ab", "/c"}},
				{ID: lowerID, Paths: []string{"/ab"}},
			},
			req: treq{path: "/ab"}, want: splitA, prefix: "/ab",
		},
		{
			name: "split: tie uses the split's uuid5, not the route ID",
			routes: []Route{
				{ID: splitA, Paths: []string{"/ab", "/c"}},
				{ID: higherID, Paths: []string{"/ab"}},
			},
			req: treq{path: "/ab"}, want: higherID, prefix: "/ab",
		},
		{
			name: "single-group route keeps its own ID for ties",
			routes: []Route{
				{ID: splitA, Paths: []string{"/ab", "/cd"}},
				{ID: higherID, Paths: []string{"/ab"}},
			},
			req: treq{path: "/ab"}, want: splitA, prefix: "/ab",
		},
		{
			name: "first matching regex of a route gives the prefix",
			routes: []Route{
				{ID: "a", Paths: []string{`~/a/\d+`, `~/a/1`}},
			},
			req: treq{path: "/a/123"}, want: "a", prefix: "/a/123",
		},
		{
			name: "path-less route loses to a path route at equal W",
			routes: []Route{
				{ID: "b", Methods: []string{"GET"}},
				{ID: "a", Paths: []string{"/"}},
			},
			req: treq{path: "/x"}, want: "a", prefix: "/",
		},
		{
			name: "route without matchers is left out",
			routes: []Route{
				{ID: "z"},
				{ID: "a", Paths: []string{"/a"}},
			},
			req: treq{path: "/b"}, want: "",
		},

		// §3.4 Kong 3.9 quirk (x86-64)
		{
			name: "intended: more fields beat hosts-only",
			routes: []Route{
				{ID: "a", Hosts: []string{"a.test"}},
				{ID: "b", Paths: []string{"/x"}, Methods: []string{"GET"}},
			},
			req: treq{host: "a.test", path: "/x"}, want: "b", prefix: "/x",
		},
		{
			name:  "quirk: plain hosts-only route beats more fields",
			quirk: true,
			routes: []Route{
				{ID: "a", Hosts: []string{"a.test"}},
				{ID: "b", Paths: []string{"/x"}, Methods: []string{"GET"}},
			},
			req: treq{host: "a.test", path: "/x"}, want: "a",
		},
		{
			name: "intended: W beats regex",
			routes: []Route{
				{ID: "a", Paths: []string{"~/x"}},
				{ID: "b", Paths: []string{"/x"}, Methods: []string{"GET"}, Headers: map[string][]string{"h": {"1"}}},
			},
			req: treq{path: "/x", headers: hdr{"h": {"1"}}}, want: "b", prefix: "/x",
		},
		{
			name:  "quirk: regex beats non-regex non-plain route regardless of W",
			quirk: true,
			routes: []Route{
				{ID: "a", Paths: []string{"~/x"}},
				{ID: "b", Paths: []string{"/x"}, Methods: []string{"GET"}, Headers: map[string][]string{"h": {"1"}}},
			},
			req: treq{path: "/x", headers: hdr{"h": {"1"}}}, want: "a", prefix: "/x",
		},
		{
			name:  "quirk: plain hosts beat regex",
			quirk: true,
			routes: []Route{
				{ID: "a", Hosts: []string{"a.test"}},
				{ID: "b", Paths: []string{"~/x"}, Methods: []string{"GET"}},
			},
			req: treq{host: "a.test", path: "/x"}, want: "a",
		},
		{
			name: "intended: longer prefix wins at W=4",
			routes: []Route{
				{ID: "b", Methods: []string{"GET"}, Hosts: []string{"*.t"}, Headers: map[string][]string{"h": {"1"}}, Paths: []string{"/a"}},
				{ID: "a", Methods: []string{"GET"}, Hosts: []string{"*.t"}, Headers: map[string][]string{"h": {"1"}}, Paths: []string{"/a/longer"}},
			},
			req: treq{host: "x.t", path: "/a/longer", headers: hdr{"h": {"1"}}}, want: "a", prefix: "/a/longer",
		},
		{
			name:  "quirk: W>=4 overflows to 2^63 and ties on ID",
			quirk: true,
			routes: []Route{
				{ID: "b", Methods: []string{"GET"}, Hosts: []string{"*.t"}, Headers: map[string][]string{"h": {"1"}}, Paths: []string{"/a"}},
				{ID: "a", Methods: []string{"GET"}, Hosts: []string{"*.t"}, Headers: map[string][]string{"h": {"1"}}, Paths: []string{"/a/longer"}},
			},
			req: treq{host: "x.t", path: "/a/longer", headers: hdr{"h": {"1"}}}, want: "b", prefix: "/a",
		},
		{
			name:  "quirk: W>=4 overflow beats plain hosts",
			quirk: true,
			routes: []Route{
				{ID: "a", Methods: []string{"GET"}, Hosts: []string{"*.t"}, Headers: map[string][]string{"h": {"1"}}, Paths: []string{"/a"}},
				{ID: "b", Hosts: []string{"x.t"}, Methods: []string{"GET"}, Paths: []string{"/a/b"}, SNIs: []string{"x.t"}},
			},
			req: treq{host: "x.t", path: "/a/b", headers: hdr{"h": {"1"}}}, want: "a", prefix: "/a",
		},
		{
			name: "intended: header count before regex_priority",
			routes: []Route{
				{ID: "a", Paths: []string{"~/x"}, Methods: []string{"GET"}, RegexPriority: 3},
				{ID: "b", Paths: []string{"~/x"}, Headers: map[string][]string{"h": {"1"}}},
			},
			req: treq{path: "/x", headers: hdr{"h": {"1"}}}, want: "b", prefix: "/x",
		},
		{
			name:  "quirk: regex_priority collides with header count bits",
			quirk: true,
			routes: []Route{
				{ID: "a", Paths: []string{"~/x"}, Methods: []string{"GET"}, RegexPriority: 3},
				{ID: "b", Paths: []string{"~/x"}, Headers: map[string][]string{"h": {"1"}}},
			},
			req: treq{path: "/x", headers: hdr{"h": {"1"}}}, want: "a", prefix: "/x",
		},
		{
			name:  "quirk: negative regex_priority wraps to a huge value",
			quirk: true,
			routes: []Route{
				{ID: "a", Paths: []string{"~/x"}, RegexPriority: -1},
				{ID: "b", Paths: []string{"~/x"}, Methods: []string{"GET"}},
			},
			req: treq{path: "/x"}, want: "a", prefix: "/x",
		},
		{
			name:  "quirk: below W=4 prefix length still decides",
			quirk: true,
			routes: []Route{
				{ID: "b", Paths: []string{"/a"}},
				{ID: "a", Paths: []string{"/a/b"}},
			},
			req: treq{path: "/a/b"}, want: "a", prefix: "/a/b",
		},
		{
			name:  "quirk: ties still broken by greatest ID",
			quirk: true,
			routes: []Route{
				{ID: "a", Hosts: []string{"h.test"}},
				{ID: "b", Hosts: []string{"h.test"}},
			},
			req: treq{host: "h.test"}, want: "b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := New(tt.routes, Options{KongPriorityQuirk: tt.quirk})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			var m Match
			ok := tbl.Match(tt.req.request(), &m)
			got := ""
			if ok {
				got = m.Route.ID
			}
			if got != tt.want {
				t.Fatalf("matched %q, want %q", got, tt.want)
			}
			if ok != (m.Route != nil) {
				t.Fatalf("Match returned %v with Route %v", ok, m.Route)
			}
			if ok && string(m.Prefix) != tt.prefix {
				t.Errorf("prefix %q, want %q", m.Prefix, tt.prefix)
			}
			// The index must agree with a linear scan in rank order.
			if v := tbl.matchLinear(tt.req.request()); (v == nil) != !ok || (v != nil && v.c.route != m.Route) {
				t.Errorf("linear scan disagrees: %v", v)
			}
		})
	}
}

func TestMatchCaptures(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		re        string
		wantPos   []string // "-" marks a group that did not participate
		wantNamed map[string]string
	}{
		{name: "no groups", re: `~/v\d+`, path: "/v1/x", wantPos: []string{"/v1"}},
		{name: "positional", re: `~/users/(\d+)/(\w+)`, path: "/users/7/orders/1", wantPos: []string{"/users/7/orders", "7", "orders"}},
		{name: "named", re: `~/users/(?<id>\d+)`, path: "/users/42", wantPos: []string{"/users/42", "42"}, wantNamed: map[string]string{"id": "42"}},
		{name: "P-named", re: `~/v(?P<version>\d)/`, path: "/v3/x", wantPos: []string{"/v3/", "3"}, wantNamed: map[string]string{"version": "3"}},
		{name: "non-participating group", re: `~/a(/b)?(/c)`, path: "/a/c", wantPos: []string{"/a/c", "-", "/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := New([]Route{{ID: "r", Paths: []string{tt.re}}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var m Match
			if !tbl.Match(treq{path: tt.path}.request(), &m) {
				t.Fatal("no match")
			}
			if m.Captures.Len() != len(tt.wantPos) {
				t.Fatalf("Len() = %d, want %d", m.Captures.Len(), len(tt.wantPos))
			}
			for i, want := range tt.wantPos {
				got, ok := m.Captures.Get(i)
				if want == "-" {
					if ok {
						t.Errorf("Get(%d) = %q, want absent", i, got)
					}
					continue
				}
				if !ok || got != want {
					t.Errorf("Get(%d) = %q, %v; want %q", i, got, ok, want)
				}
			}
			if _, ok := m.Captures.Get(len(tt.wantPos)); ok {
				t.Errorf("Get past the end succeeded")
			}
			for name, want := range tt.wantNamed {
				if got, ok := m.Captures.Named(name); !ok || got != want {
					t.Errorf("Named(%q) = %q, %v; want %q", name, got, ok, want)
				}
			}
			if _, ok := m.Captures.Named("nope"); ok {
				t.Errorf("Named(nope) succeeded")
			}
		})
	}
}

func TestMatchResetsReusedMatch(t *testing.T) {
	tbl, err := New([]Route{
		{ID: "rx", Paths: []string{`~/r/(\d+)`}},
		{ID: "h", Hosts: []string{"h.test"}},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m Match
	if !tbl.Match(treq{path: "/r/1"}.request(), &m) || m.Captures.Len() != 2 {
		t.Fatalf("regex match: %+v", m)
	}
	if !tbl.Match(treq{host: "h.test", path: "/x"}.request(), &m) || m.Route.ID != "h" {
		t.Fatalf("host match: %+v", m)
	}
	if m.Prefix != nil || m.Captures.Len() != 0 {
		t.Errorf("stale prefix or captures: %+v", m)
	}
	if tbl.Match(treq{path: "/none"}.request(), &m) || m.Route != nil {
		t.Errorf("no-match left %+v", m)
	}
}

// TestHostIndex exercises buckets large enough to get a host map, mixed with wildcard and
// host-less routes whose ranks interleave with the indexed ones.
func TestHostIndex(t *testing.T) {
	var routes []Route
	for i := range 40 {
		routes = append(routes, Route{ID: "h" + itoa(i), Hosts: []string{"h" + itoa(i) + ".test"}, Paths: []string{"/"}})
	}
	routes = append(routes,
		Route{ID: "wild", Hosts: []string{"*.test"}, Paths: []string{"/"}, Methods: []string{"GET"}},
		Route{ID: "port", Hosts: []string{"h3.test:8080"}, Paths: []string{"/"}},
		Route{ID: "plain", Paths: []string{"/"}},
		Route{ID: "hostonly", Hosts: []string{"H5.test"}},
	)
	tbl, err := New(routes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  treq
		want string
	}{
		{name: "indexed host", req: treq{method: "POST", host: "h7.test", path: "/x"}, want: "h7"},
		{name: "indexed host upper-case", req: treq{method: "POST", host: "H7.TEST", path: "/x"}, want: "h7"},
		{name: "wildcard with higher W wins", req: treq{method: "GET", host: "h7.test", path: "/x"}, want: "wild"},
		{name: "port entry, ID tie-break", req: treq{method: "POST", host: "h3.test:8080", path: "/"}, want: "port"},
		{name: "port entry needs the port", req: treq{method: "POST", host: "h3.test:9", path: "/"}, want: "h3"},
		{name: "unknown host falls to host-less", req: treq{method: "POST", host: "zz.test", path: "/"}, want: "plain"},
		{name: "path-less host route", req: treq{method: "POST", host: "h5.test", path: "/"}, want: "h5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Match
			got := ""
			if tbl.Match(tt.req.request(), &m) {
				got = m.Route.ID
			}
			if got != tt.want {
				t.Errorf("matched %q, want %q", got, tt.want)
			}
			if v := tbl.matchLinear(tt.req.request()); v == nil || v.c.route.ID != tt.want {
				t.Errorf("linear scan disagrees: %v", v)
			}
		})
	}
	if tbl.root.kids[0].b.byHost == nil {
		t.Errorf("bucket for / has no host index")
	}
}

func TestHostIndexLongHosts(t *testing.T) {
	long := strings.Repeat("a", hostBufLen) + ".test"
	var routes []Route
	for i := range 20 {
		routes = append(routes, Route{ID: "h" + itoa(i), Hosts: []string{"h" + itoa(i) + ".test"}})
	}
	routes = append(routes, Route{ID: "long", Hosts: []string{long}})
	tbl, err := New(routes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		host string
		want string
	}{
		{name: "long host lower-case", host: long, want: "long"},
		{name: "long host upper-case cannot use the index", host: strings.ToUpper(long), want: "long"},
		{name: "short host upper-case", host: "H19.TEST", want: "h19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Match
			if !tbl.Match(treq{host: tt.host}.request(), &m) || m.Route.ID != tt.want {
				t.Errorf("got %+v, want %s", m.Route, tt.want)
			}
		})
	}
}

// TestMatchConcurrent lets -race check that Match shares nothing mutable.
func TestMatchConcurrent(t *testing.T) {
	tbl, err := New(fuzzRoutes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for g := range 4 {
		go func() {
			ok := true
			for i := range 200 {
				var m Match
				path := []string{"/a/12", "/abc", "/a/b/", "/zz"}[(g+i)%4]
				ok = ok && tbl.Match(treq{host: "h.test", path: path}.request(), &m)
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("a request did not match")
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name      string
		routes    []Route
		wantID    string
		wantField string
		wantErr   string
	}{
		{name: "missing id", routes: []Route{{Paths: []string{"/"}}}, wantID: "#0", wantField: "id", wantErr: "required"},
		{name: "duplicate id", routes: []Route{{ID: "a", Paths: []string{"/"}}, {ID: "a", Paths: []string{"/b"}}}, wantID: "a", wantField: "id", wantErr: "duplicate"},
		{name: "bad regex path", routes: []Route{{ID: "a", Paths: []string{"/ok", "~/(x"}}}, wantID: "a", wantField: "paths[1]", wantErr: "invalid regex"},
		{name: "non-normalized path", routes: []Route{{ID: "a", Paths: []string{"/a/../b"}}}, wantID: "a", wantField: "paths[0]", wantErr: "non-normalized path"},
		{name: "relative path", routes: []Route{{ID: "a", Paths: []string{"a"}}}, wantID: "a", wantField: "paths[0]", wantErr: "should start with"},
		{name: "wildcard in the middle", routes: []Route{{ID: "a", Hosts: []string{"a.*.com"}}}, wantID: "a", wantField: "hosts[0]", wantErr: "wildcard"},
		{name: "two wildcards", routes: []Route{{ID: "a", Hosts: []string{"ok.test", "*.a.*"}}}, wantID: "a", wantField: "hosts[1]", wantErr: "wildcard"},
		{name: "port out of range", routes: []Route{{ID: "a", Hosts: []string{"a.test:70000"}}}, wantID: "a", wantField: "hosts[0]", wantErr: "port"},
		{name: "empty host", routes: []Route{{ID: "a", Hosts: []string{":80"}}}, wantID: "a", wantField: "hosts[0]", wantErr: "empty host"},
		{name: "host header", routes: []Route{{ID: "a", Headers: map[string][]string{"Host": {"x"}}}}, wantID: "a", wantField: "headers[Host]", wantErr: "cannot contain 'host'"},
		{name: "header without values", routes: []Route{{ID: "a", Headers: map[string][]string{"x": {}}}}, wantID: "a", wantField: "headers[x]", wantErr: "at least one value"},
		{name: "bad header regex", routes: []Route{{ID: "a", Headers: map[string][]string{"x": {"ok", "~*(x"}}}}, wantID: "a", wantField: "headers[x][1]", wantErr: "invalid regex"},
		{name: "empty method", routes: []Route{{ID: "a", Methods: []string{""}}}, wantID: "a", wantField: "methods[0]", wantErr: "empty method"},
		{name: "empty sni", routes: []Route{{ID: "a", SNIs: []string{""}}}, wantID: "a", wantField: "snis[0]", wantErr: "empty sni"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.routes, Options{})
			var re *RouteError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RouteError", err)
			}
			if re.RouteID != tt.wantID || re.Field != tt.wantField || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %q (id %q, field %q); want id %q, field %q, text containing %q",
					err, re.RouteID, re.Field, tt.wantID, tt.wantField, tt.wantErr)
			}
		})
	}
}

func TestSplitID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		n    int
		want string
	}{
		{name: "first group", id: splitA, n: 1, want: splitA1},
		{name: "second group", id: splitA, n: 2, want: splitA2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitID(tt.id, tt.n); got != tt.want {
				t.Errorf("splitID = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestQuirkPriority(t *testing.T) {
	tests := []struct {
		name  string
		route Route
		want  uint64
	}{
		{name: "paths only", route: Route{ID: "a", Paths: []string{"/abc"}}, want: 1<<29 | 4},
		{name: "three fields and headers", route: Route{ID: "a", Paths: []string{"/a"}, Methods: []string{"GET"}, Headers: map[string][]string{"x": {"1"}, "y": {"2"}}}, want: 3<<29 | 2<<20 | 2},
		{name: "W=4 goes negative: 2^63", route: Route{ID: "a", Paths: []string{"/a"}, Methods: []string{"GET"}, Hosts: []string{"*.x"}, SNIs: []string{"s"}}, want: 1 << 63},
		{name: "plain hosts", route: Route{ID: "a", Hosts: []string{"a.test"}}, want: 1<<60 | 1<<29},
		{name: "plain hosts W=5 stays zero-extended", route: Route{ID: "a", Paths: []string{"/a"}, Methods: []string{"GET"}, Hosts: []string{"a"}, SNIs: []string{"s"}, Headers: map[string][]string{"x": {"1"}}}, want: 1<<60 | 5<<29 | 1<<20 | 2},
		{name: "regex", route: Route{ID: "a", Paths: []string{"~/a"}, RegexPriority: 2}, want: 1<<51 | 1<<29 | 2<<19},
		{name: "regex negative priority", route: Route{ID: "a", Paths: []string{"~/a"}, RegexPriority: -1}, want: 1<<51 | 0xFFF80000},
		{name: "regex priority 4096 spills into W bits", route: Route{ID: "a", Paths: []string{"~/a"}, RegexPriority: 4096}, want: 1<<51 | 1<<31 | 1<<29},
		{name: "regex priority 8192 wraps to 0", route: Route{ID: "a", Paths: []string{"~/a"}, RegexPriority: 8192}, want: 1<<51 | 1<<29},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := New([]Route{tt.route}, Options{KongPriorityQuirk: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := tbl.vroutes[0].prio; got != tt.want {
				t.Errorf("priority %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestEmptyTable(t *testing.T) {
	var tbl Table
	var m Match
	if tbl.Match(treq{path: "/"}.request(), &m) {
		t.Error("zero Table matched")
	}
	nt, err := New(nil, Options{})
	if err != nil || nt.Match(treq{path: "/"}.request(), &m) {
		t.Errorf("empty Table: %v", err)
	}
}

// matchLinear is the reference the index is checked against: Kong's own algorithm, every
// (split) route in priority order, first full match wins.
func (t *Table) matchLinear(req *Request) *vroute {
	var q query
	q.init(req)
	for _, v := range t.vroutes {
		if !v.c.matchFields(&q) {
			continue
		}
		switch {
		case v.regexes != nil:
			if k, _ := findRegex(v.regexes, req.Path); k < 0 {
				continue
			}
		case v.plen > 0:
			ok := false
			for _, p := range v.c.route.Paths {
				if !isRegexPath(p) && len(p) == v.plen && strings.HasPrefix(string(req.Path), p) {
					ok = true
				}
			}
			if !ok {
				continue
			}
		}
		return v
	}
	return nil
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestMatchAllocs pins the zero-allocation promise of Match for everything but regex paths;
// a change that moves the host buffer or the Match result to the heap fails here.
func TestMatchAllocs(t *testing.T) {
	var routes []Route
	for i := range 50 {
		routes = append(routes, Route{ID: "p" + itoa(i), Paths: []string{"/svc" + itoa(i) + "/items"}})
		routes = append(routes, Route{ID: "h" + itoa(i), Hosts: []string{"h" + itoa(i) + ".test"}, Paths: []string{"/"}, Methods: []string{"GET"}})
	}
	routes = append(routes,
		Route{ID: "hdr", Paths: []string{"/hdr"}, Headers: map[string][]string{"x-version": {"v1", "v2"}}},
		Route{ID: "wild", Hosts: []string{"*.wild.test:8080"}},
	)
	tbl, err := New(routes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{name: "prefix", req: Request{Method: []byte("GET"), Path: []byte("/svc7/items/1")}, want: "p7"},
		{name: "host upper-case with port", req: Request{Method: []byte("GET"), Host: []byte("H9.Test:8080"), Path: []byte("/x")}, want: "h9"},
		{name: "wildcard host", req: Request{Method: []byte("PUT"), Host: []byte("a.WILD.test:8080"), Path: []byte("/x")}, want: "wild"},
		{name: "header exact", req: Request{Method: []byte("GET"), Path: []byte("/hdr"), Header: byteHdr{"x-version": {[]byte("V2")}}}, want: "hdr"},
		{name: "miss", req: Request{Method: []byte("GET"), Path: []byte("/none")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Match
			got := ""
			if tbl.Match(&tt.req, &m) {
				got = m.Route.ID
			}
			if got != tt.want {
				t.Fatalf("matched %q, want %q", got, tt.want)
			}
			if n := testing.AllocsPerRun(100, func() { tbl.Match(&tt.req, &m) }); n != 0 {
				t.Errorf("%v allocations per Match", n)
			}
		})
	}
}
