package router

import (
	"bytes"
	"regexp"
)

// HeaderLookup gives the router the request headers without building a map per request.
// name is lower-case with '-' separators; n is the 0-based index among repeated header lines.
// A line "a, b" is one value: Kong does not split it for routing.
type HeaderLookup interface {
	HeaderValue(name string, n int) (value []byte, ok bool)
}

// Request is what the router looks at. Every slice is only read during Match.
type Request struct {
	Method []byte
	// Host is the raw Host header. It is split at the first ':' when the rest is numeric
	// (Kong's split_host_port); the host part is compared case-insensitively, a deviation from
	// Kong that RFC 9110 §4.2.3 asks for.
	Host []byte
	// Port is the listener port, used for "host:port" route entries when Host has no port.
	Port int
	// Path is the request path already passed through NormalizePath, without query.
	Path []byte
	SNI  []byte
	// HTTPS enables route snis; Kong ignores them for plain HTTP.
	HTTPS  bool
	Header HeaderLookup // nil: the request has no headers
}

// Match is the result of Table.Match. It is owned by the caller and may be reused across
// requests; Match overwrites every field.
type Match struct {
	Route *Route
	// Prefix is the part of Request.Path that matched, what strip_path removes (pass it to
	// UpstreamPath): the prefix text, or the whole regex match. Empty when the route matched
	// without a path. It aliases Request.Path.
	Prefix []byte
	// Captures are the regex path's groups; empty for prefix and path-less routes.
	Captures Captures
}

// Captures are the groups of the regex path that matched, as Kong exposes them to plugins in
// uri_captures: [0] is the whole match, [1..] the groups, and named groups by name too (so a
// request-transformer template can read $(uri_captures[1]) or $(uri_captures.version)).
// The zero value holds no captures. It owns a copy of the path, so it stays valid after the
// request buffer is reused.
type Captures struct {
	src   string
	idx   []int    // pairs of offsets into src; -1 for groups that did not participate
	names []string // from Regexp.SubexpNames: names[i] names group i, "" if unnamed
}

// Len returns the number of positional captures including [0]; 0 when there are none.
func (c Captures) Len() int { return len(c.idx) / 2 }

// Get returns capture i; ok is false when there is no such group or it did not participate,
// the cases in which Kong leaves uri_captures[i] nil.
func (c Captures) Get(i int) (string, bool) {
	if i < 0 || 2*i+1 >= len(c.idx) || c.idx[2*i] < 0 {
		return "", false
	}
	return c.src[c.idx[2*i]:c.idx[2*i+1]], true
}

// Named returns the capture of the group named name.
func (c Captures) Named(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	for i, n := range c.names {
		if n == name {
			return c.Get(i)
		}
	}
	return "", false
}

// query is what one Match looks at, derived once from the Request; it lives on Match's stack.
type query struct {
	req     *Request
	host    []byte // host part of the Host header, original case
	hostKey []byte // host lower-cased, for the host indexes; nil when too long to lower
	port    int    // Host's port, else Request.Port
}

// result is the best candidate found so far. It is kept apart from query because escape
// analysis does not tell fields apart: with the regex offsets (which end up in Match) in the
// same struct, query's stack buffer for hostKey would be moved to the heap.
type result struct {
	best   int // rank of the best candidate; candidates ranked at or after it are skipped
	win    *vroute
	depth  int   // prefix length for a prefix route
	regexN int   // which regex of the group matched
	idx    []int // its submatch offsets
}

// init splits the Host header at the first ':' when the rest is numeric.
func (q *query) init(req *Request) {
	q.req, q.host, q.port = req, req.Host, req.Port
	if i := bytes.IndexByte(q.host, ':'); i >= 0 {
		if port, ok := parsePort(q.host[i+1:]); ok {
			q.host, q.port = q.host[:i], port
		}
	}
	q.hostKey = q.host
}

// hostBufLen bounds the lower-casing buffer; a DNS name has at most 253 bytes.
const hostBufLen = 256

// Match finds the route Kong would select for req and fills m. It reports false, leaving m
// zeroed, when no route matches. Prefix, host, method and header-exact matches allocate
// nothing; a regex path match allocates its captures.
func (t *Table) Match(req *Request, m *Match) bool {
	*m = Match{}
	if len(t.vroutes) == 0 {
		return false
	}
	var q query
	q.init(req)
	r := result{best: len(t.vroutes)}
	if hasUpper(q.host) {
		// Lower-cased here rather than in init: a buffer handed to a method would escape.
		var buf [hostBufLen]byte
		q.hostKey = nil
		if len(q.host) <= len(buf) {
			n := copy(buf[:], q.host)
			lowerInPlace(buf[:n])
			q.hostKey = buf[:n]
		}
	}

	// Walk the radix tree along the path: every node passed stands for a prefix of the path.
	path := req.Path
	n, depth := &t.root, 0
	for {
		if n.b != nil {
			n.b.scan(&q, &r, depth)
			if r.best == 0 {
				break
			}
		}
		if depth >= len(path) {
			break
		}
		i := bytes.IndexByte(n.first, path[depth])
		if i < 0 {
			break
		}
		c := n.kids[i]
		if !bytes.HasPrefix(path[depth:], c.label) {
			break
		}
		depth += len(c.label)
		n = c
	}
	if r.best > 0 {
		t.pathless.scan(&q, &r, 0)
	}
	if r.win == nil {
		return false
	}

	v := r.win
	m.Route = v.c.route
	switch {
	case v.regexes != nil:
		m.Prefix = path[r.idx[0]:r.idx[1]]
		m.Captures = Captures{src: string(path), idx: r.idx, names: v.regexes[r.regexN].SubexpNames()}
	case v.plen > 0:
		m.Prefix = path[:r.depth]
	}
	return true
}

// scanList tries the candidates of one list, which is sorted by rank: the first one that
// matches is the best of the list, and nothing at or after the current best can win.
func scanList(q *query, r *result, list []*vroute, depth int) {
	for _, v := range list {
		if v.rank >= r.best {
			return
		}
		if !v.c.matchFields(q) {
			continue
		}
		if v.regexes != nil {
			// One execution with submatches rather than Match then FindSubmatchIndex for the
			// winner: regex routes are usually tried because they are about to win.
			k, idx := findRegex(v.regexes, q.req.Path)
			if k < 0 {
				continue
			}
			r.regexN, r.idx = k, idx
		}
		r.best, r.win, r.depth = v.rank, v, depth
		return
	}
}

// findRegex returns the index of the first regex that matches path and its submatch
// offsets, as Kong's ATC evaluates a route's "||" of path predicates left to right; -1 if
// none matches.
func findRegex(rxs []*regexp.Regexp, path []byte) (int, []int) {
	for i, rx := range rxs {
		if idx := rx.FindSubmatchIndex(path); idx != nil {
			return i, idx
		}
	}
	return -1, nil
}

// matchFields evaluates every field but paths (the index already matched the path, except
// the regex itself).
func (c *compiled) matchFields(q *query) bool {
	req := q.req
	if len(c.methods) > 0 && !matchMethod(c.methods, req.Method) {
		return false
	}
	if len(c.hosts) > 0 && !c.matchHost(q) {
		return false
	}
	if len(c.snis) > 0 && req.HTTPS && !matchSNI(c.snis, req.SNI) {
		return false
	}
	if len(c.headers) > 0 && !matchHeaders(c.headers, req.Header) {
		return false
	}
	return true
}

func matchMethod(methods []string, m []byte) bool {
	for _, want := range methods {
		if string(m) == want {
			return true
		}
	}
	return false
}

func (c *compiled) matchHost(q *query) bool {
	h := q.host
	for i := range c.hosts {
		hm := &c.hosts[i]
		if hm.port >= 0 && hm.port != q.port {
			continue
		}
		switch hm.kind {
		case hostExact:
			if equalFoldLower(h, hm.text) {
				return true
			}
		case hostSuffix:
			if len(h) > len(hm.text) && equalFoldLower(h[len(h)-len(hm.text):], hm.text) {
				return true
			}
		case hostPrefix:
			if len(h) > len(hm.text) && equalFoldLower(h[:len(hm.text)], hm.text) {
				return true
			}
		}
	}
	return false
}

func matchSNI(snis []string, sni []byte) bool {
	for _, s := range snis {
		if equalFoldLower(sni, s) {
			return true
		}
	}
	return false
}

// matchHeaders: every header name must match (AND), through any of its values (OR), on any of
// the request's lines for that name.
func matchHeaders(hms []headerMatcher, hl HeaderLookup) bool {
	if hl == nil {
		return false
	}
	for i := range hms {
		if !matchHeader(&hms[i], hl) {
			return false
		}
	}
	return true
}

func matchHeader(hm *headerMatcher, hl HeaderLookup) bool {
	for n := 0; ; n++ {
		v, ok := hl.HeaderValue(hm.name, n)
		if !ok {
			return false
		}
		for _, want := range hm.exact {
			if equalFoldLower(v, want) {
				return true
			}
		}
		if len(hm.regex) == 0 {
			continue
		}
		lv := v
		if hasUpper(v) {
			// Kong matches the lower-cased value; this copy is the one allocation of a header
			// regex match, and only when the value has upper-case letters.
			lv = bytes.Clone(v)
			lowerInPlace(lv)
		}
		for _, rx := range hm.regex {
			if rx.Match(lv) {
				return true
			}
		}
	}
}

// parsePort reads an all-digit port. ok is false when s is empty or not all digits (then the
// ':' is part of the host, as in Kong); an over-long number gives port -1 so that it matches
// no "host:port" entry.
func parsePort(s []byte) (port int, ok bool) {
	if len(s) == 0 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if port >= 0 {
			port = port*10 + int(c-'0')
			if port > 1<<20 {
				port = -1
			}
		}
	}
	return port, true
}

// equalFoldLower reports whether b equals the lower-case ASCII string s ignoring ASCII case
// in b.
func equalFoldLower(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func hasUpper(b []byte) bool {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

func lowerInPlace(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}
