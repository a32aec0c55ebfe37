package router

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{
		"/", "/a/./b/../c", "/a/%2e%2e/b", "/a%2fb", "//a///b//", "/a/b/..", "/%7e%41",
		"/a?x=1", "/a%zz", "/a%", "/%25%32%66", "/..a/.b/", "/a b/%C3%A9", "/.%2E/", "*", "",
		"/public/..%2Fadmin", "/public\\..\\admin", "/a%5c..%5cb", "/public/%2e%2e%2fadmin",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// decode mode: no encoded slash or backslash survives, and the result is canonical
		if out, err := NormalizePathWith(nil, raw, PathOptions{Slashes: SlashesDecode}); err == nil {
			if bytes.Contains(out, []byte("%2F")) || bytes.IndexByte(out, '\\') >= 0 || bytes.Contains(out, []byte("//")) {
				t.Fatalf("decode: %q -> %q", raw, out)
			}
			for _, seg := range bytes.Split(out[1:], []byte("/")) {
				if string(seg) == "." || string(seg) == ".." {
					t.Fatalf("decode: %q -> %q: has a dot segment", raw, out)
				}
			}
			if again, err := NormalizePathWith(nil, out, PathOptions{Slashes: SlashesDecode}); err != nil || !bytes.Equal(again, out) {
				t.Fatalf("decode not idempotent: %q -> %q -> %q", raw, out, again)
			}
		}
		if _, err := NormalizePathWith(nil, raw, PathOptions{Slashes: SlashesReject}); errors.Is(err, ErrSlashRefused) {
			if !bytes.Contains(bytes.ToUpper(raw), []byte("%2F")) && !bytes.Contains(bytes.ToUpper(raw), []byte("%5C")) && bytes.IndexByte(raw, '\\') < 0 {
				t.Fatalf("reject refused %q with no slash to refuse", raw)
			}
		}
		out, err := NormalizePath(nil, raw)
		if err != nil {
			if !errors.Is(err, ErrBadEscape) && !errors.Is(err, ErrNotAbsolute) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(out) == 0 || out[0] != '/' {
			t.Fatalf("%q -> %q: does not start with '/'", raw, out)
		}
		if bytes.Contains(out, []byte("//")) {
			t.Fatalf("%q -> %q: has //", raw, out)
		}
		if bytes.IndexByte(out, '?') >= 0 {
			t.Fatalf("%q -> %q: has '?'", raw, out)
		}
		for _, seg := range bytes.Split(out[1:], []byte("/")) {
			if string(seg) == "." || string(seg) == ".." {
				t.Fatalf("%q -> %q: has a dot segment", raw, out)
			}
		}
		for i := 0; i < len(out); i++ {
			if out[i] != '%' {
				continue
			}
			if i+2 >= len(out) || !isUpperHex(out[i+1]) || !isUpperHex(out[i+2]) {
				t.Fatalf("%q -> %q: bad escape at %d", raw, out, i)
			}
			if v, _ := unhexPair(out[i+1], out[i+2]); !reserved[v] {
				t.Fatalf("%q -> %q: escape of an unreserved byte at %d", raw, out, i)
			}
		}
		again, err := NormalizePath(nil, out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, out, again, err)
		}
		esc := EscapeUpstreamPath(nil, out)
		for _, c := range esc {
			if !upstreamSafe[c] {
				t.Fatalf("escape of %q left %q", out, c)
			}
		}
		back, err := NormalizePath(nil, esc)
		if err != nil || !bytes.Equal(back, out) {
			t.Fatalf("escape does not round-trip: %q -> %q -> %q (%v)", out, esc, back, err)
		}
	})
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhexPair(a, b byte) (byte, bool) {
	hi, ok1 := unhex(a)
	lo, ok2 := unhex(b)
	return hi<<4 | lo, ok1 && ok2
}

func FuzzUpstreamPath(f *testing.F) {
	f.Add("", "/r/a", 2, true)
	f.Add("/s", "/rx", 2, true)
	f.Add("/s/", "/r/", 3, true)
	f.Add("/s/", "/r", 0, false)
	f.Add("/", "/", 1, true)
	f.Add("/s", "/r../x", 2, true)
	f.Fuzz(func(t *testing.T, service, rawReq string, k int, strip bool) {
		if service != "" && (service[0] != '/' || strings.Contains(service, "//")) {
			return // Kong's schema rejects such service paths
		}
		req, err := NormalizePath(nil, []byte(rawReq))
		if err != nil {
			return
		}
		if k < 0 {
			k = -k
		}
		prefix := req[:k%(len(req)+1)]
		out := UpstreamPath(nil, service, req, prefix, strip)
		if len(out) == 0 || out[0] != '/' {
			t.Fatalf("%q %q %q %v -> %q: does not start with '/'", service, req, prefix, strip, out)
		}
		if bytes.Contains(out, []byte("//")) {
			t.Fatalf("%q %q %q %v -> %q: has //", service, req, prefix, strip, out)
		}
		base := strings.TrimSuffix(service, "/")
		if !strings.HasPrefix(string(out), base) {
			t.Fatalf("%q %q %q %v -> %q: lost the service path", service, req, prefix, strip, out)
		}
		noStrip := UpstreamPath(nil, service, req, nil, false)
		if !bytes.HasSuffix(noStrip, req[1:]) {
			t.Fatalf("%q %q -> %q: no-strip lost the request path", service, req, noStrip)
		}
		// Stripping nothing (no path matched) forwards the same path as not stripping.
		if got := UpstreamPath(nil, service, req, nil, true); !bytes.Equal(got, noStrip) {
			t.Fatalf("%q %q: strip without prefix %q != no-strip %q", service, req, got, noStrip)
		}
		if strip && len(prefix) > 0 && !bytes.HasSuffix(out, sanitizeRest(req[len(prefix):])) {
			t.Fatalf("%q %q %q -> %q: rest not kept", service, req, prefix, out)
		}
	})
}

// fuzzRoutes covers every matcher kind; FuzzMatch checks the index against a linear scan.
func fuzzRoutes() []Route {
	return []Route{
		{ID: "p1", Paths: []string{"/a"}},
		{ID: "p2", Paths: []string{"/a/b", "/c"}},
		{ID: "p3", Paths: []string{"/a/b/"}, Methods: []string{"GET"}},
		{ID: "p4", Paths: []string{"/"}, Hosts: []string{"h.test"}},
		{ID: "p5", Paths: []string{"/ab"}, Hosts: []string{"*.test"}},
		{ID: "p6", Paths: []string{"/a"}, Hosts: []string{"h.*:8080"}},
		{ID: "r1", Paths: []string{`~/a/(\d+)`, "/zz"}, RegexPriority: 2},
		{ID: "r2", Paths: []string{`~/(?<x>[a-c]+)$`}},
		{ID: "r3", Paths: []string{`~/a/1`}, Headers: map[string][]string{"x-h": {"~*^v[0-9]$"}}},
		{ID: "r4", Paths: []string{`~/*(x|y)`}, RegexPriority: -3},
		{ID: "h1", Hosts: []string{"h.test", "H2.test:443"}},
		{ID: "h2", Headers: map[string][]string{"x-h": {"v1", "v2"}}, Methods: []string{"POST"}},
		{ID: "s1", SNIs: []string{"h.test"}, Paths: []string{"/a/b"}},
		{ID: "m1", Methods: []string{"GET", "PUT"}},
		// Enough plain-host routes on "/" for the bucket to get a host index.
		{ID: "i0", Hosts: []string{"i0.test"}, Paths: []string{"/"}},
		{ID: "i1", Hosts: []string{"i1.test"}, Paths: []string{"/"}},
		{ID: "i2", Hosts: []string{"i2.test"}, Paths: []string{"/"}},
		{ID: "i3", Hosts: []string{"i3.test"}, Paths: []string{"/"}},
		{ID: "i4", Hosts: []string{"i4.test", "i5.test"}, Paths: []string{"/"}},
		{ID: "i6", Hosts: []string{"i6.test:80"}, Paths: []string{"/"}},
		{ID: "i7", Hosts: []string{"I7.test"}, Paths: []string{"/"}, Methods: []string{"GET"}},
		{ID: "i8", Hosts: []string{"*.test"}, Paths: []string{"/"}},
	}
}

// FuzzMatch checks the index against a linear scan for arbitrary requests, over a fixed table
// plus one route whose paths (comma-separated) and hosts come from the fuzzer.
func FuzzMatch(f *testing.F) {
	f.Add("GET", "h.test", "/a/b/c", "v1", false, "", "", "")
	f.Add("POST", "H.TEST:8080", "/a/12", "V2", true, "h.test", "/a/1", "")
	f.Add("PUT", "x.test", "/abc", "", false, "", `~/ab(c)?,/abc`, "x.test")
	f.Add("GET", "h.org:8080", "/a", "v3", true, "x", "/a,/a/b,~/(a|b)", "*.org")
	f.Add("DELETE", "", "/yx", "", false, "", `~/y\w`, "")
	f.Add("GET", "I3.TEST", "/q", "", false, "", "/", "i3.test:80")
	fixed := make([]*Table, 2)
	for i, quirk := range []bool{false, true} {
		tbl, err := New(fuzzRoutes(), Options{KongPriorityQuirk: quirk})
		if err != nil {
			f.Fatal(err)
		}
		fixed[i] = tbl
	}
	f.Fuzz(func(t *testing.T, method, host, path, hval string, https bool, sni, routePaths, routeHosts string) {
		req := &Request{
			Method: []byte(method), Host: []byte(host), Port: 80, Path: []byte(path),
			SNI: []byte(sni), HTTPS: https, Header: hdr{"x-h": {hval}},
		}
		tables := fixed
		if routePaths != "" || routeHosts != "" {
			extra := Route{ID: "f", RegexPriority: len(routePaths) % 4}
			if routePaths != "" {
				extra.Paths = strings.Split(routePaths, ",")
			}
			if routeHosts != "" {
				extra.Hosts = strings.Split(routeHosts, ",")
			}
			tables = nil
			for _, quirk := range []bool{false, true} {
				tbl, err := New(append(fuzzRoutes(), extra), Options{KongPriorityQuirk: quirk})
				if err != nil {
					return // not a valid route; New's checks are tested elsewhere
				}
				tables = append(tables, tbl)
			}
		}
		for _, tbl := range tables {
			var m Match
			ok := tbl.Match(req, &m)
			ref := tbl.matchLinear(req)
			if ok != (ref != nil) || (ok && m.Route != ref.c.route) {
				t.Fatalf("index says %v %v, linear scan %v", ok, m.Route, ref)
			}
			if !ok {
				continue
			}
			if !bytes.HasPrefix(req.Path, m.Prefix) {
				t.Fatalf("prefix %q not a prefix of %q", m.Prefix, req.Path)
			}
			switch {
			case ref.regexes != nil:
				if whole, _ := m.Captures.Get(0); whole != string(m.Prefix) {
					t.Fatalf("capture 0 %q != prefix %q", whole, m.Prefix)
				}
			case ref.plen > 0:
				if len(m.Prefix) != ref.plen || m.Captures.Len() != 0 {
					t.Fatalf("prefix %q for plen %d", m.Prefix, ref.plen)
				}
			default:
				if len(m.Prefix) != 0 {
					t.Fatalf("path-less match with prefix %q", m.Prefix)
				}
			}
			for i := -1; i <= m.Captures.Len(); i++ {
				m.Captures.Get(i)
			}
		}
	})
}
