package router

import (
	"fmt"
	"testing"
)

// benchID gives distinct, sortable UUID-shaped IDs.
func benchID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }

func BenchmarkMatch(b *testing.B) {
	type bench struct {
		name   string
		routes func(n int) []Route
		req    func(n int) *Request
	}
	prefixRoutes := func(n int) []Route {
		rs := make([]Route, n)
		for i := range rs {
			rs[i] = Route{ID: benchID(i), Paths: []string{fmt.Sprintf("/svc%d/items", i)}}
		}
		return rs
	}
	benches := []bench{
		{
			name:   "prefix",
			routes: prefixRoutes,
			req: func(n int) *Request {
				return &Request{Method: []byte("GET"), Host: []byte("api.test"), Port: 80,
					Path: []byte(fmt.Sprintf("/svc%d/items/42", n/2))}
			},
		},
		{
			name:   "miss",
			routes: prefixRoutes,
			req: func(n int) *Request {
				return &Request{Method: []byte("GET"), Host: []byte("api.test"), Port: 80,
					Path: []byte("/svc/none")}
			},
		},
		{
			// Host-routed configs: every route on "/" with its own host and a method.
			name: "host",
			routes: func(n int) []Route {
				rs := make([]Route, n)
				for i := range rs {
					rs[i] = Route{ID: benchID(i), Hosts: []string{fmt.Sprintf("t%d.example.com", i)},
						Paths: []string{"/"}, Methods: []string{"GET", "POST"}}
				}
				return rs
			},
			req: func(n int) *Request {
				return &Request{Method: []byte("POST"), Host: []byte(fmt.Sprintf("T%d.Example.com:8080", n/2)),
					Port: 80, Path: []byte("/orders")}
			},
		},
		{
			name: "header",
			routes: func(n int) []Route {
				rs := prefixRoutes(n)
				for i := range rs {
					rs[i].Headers = map[string][]string{"x-version": {"v1", "v2"}}
				}
				return rs
			},
			req: func(n int) *Request {
				return &Request{Method: []byte("GET"), Port: 80, Path: []byte(fmt.Sprintf("/svc%d/items", n/2)),
					Header: byteHdr{"x-version": {[]byte("V2")}}}
			},
		},
		{
			name: "regex",
			routes: func(n int) []Route {
				rs := make([]Route, n)
				for i := range rs {
					rs[i] = Route{ID: benchID(i), Paths: []string{fmt.Sprintf(`~/svc%d/items/(?<id>\d+)$`, i)}}
				}
				return rs
			},
			req: func(n int) *Request {
				return &Request{Method: []byte("GET"), Port: 80, Path: []byte(fmt.Sprintf("/svc%d/items/42", n/2))}
			},
		},
	}
	for _, bb := range benches {
		for _, n := range []int{10, 1000, 10000} {
			b.Run(fmt.Sprintf("%s/%d", bb.name, n), func(b *testing.B) {
				tbl, err := New(bb.routes(n), Options{})
				if err != nil {
					b.Fatal(err)
				}
				req := bb.req(n)
				wantMatch := bb.name != "miss"
				b.ReportAllocs()
				var m Match
				for b.Loop() {
					if tbl.Match(req, &m) != wantMatch {
						b.Fatal("unexpected result")
					}
				}
			})
		}
	}
}

// byteHdr is a HeaderLookup that, like the proxy's adapters, hands out stored bytes without
// converting (hdr converts strings, which would be counted against Match).
type byteHdr map[string][][]byte

func (h byteHdr) HeaderValue(name string, n int) ([]byte, bool) {
	vs := h[name]
	if n < len(vs) {
		return vs[n], true
	}
	return nil, false
}

func BenchmarkNormalizePath(b *testing.B) {
	raw := []byte("/api/v1/users/%7ejohn/./orders/../items?limit=10")
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = NormalizePath(buf[:0], raw); err != nil {
			b.Fatal(err)
		}
	}
}
