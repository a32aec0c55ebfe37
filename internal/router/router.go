package router

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Route is one route as the router sees it, compiled from config by the caller. The slices and
// map are read at New and kept; they must not be modified afterwards.
type Route struct {
	// ID is the route's lower-case UUID string. Routes of equal priority are tried in
	// descending ID order, as Kong's ATC engine does (not created_at).
	ID string
	// Methods are matched exactly (Kong's schema only allows upper-case tokens).
	Methods []string
	// Hosts are "a.b", "*.b.c" (any number of labels before ".b.c", not "b.c" itself) or
	// "a.b.*", each with an optional ":port" that the request must also carry.
	Hosts []string
	// Paths are prefixes "/p" (plain byte prefix, not segment aware) or regexes "~/re"
	// (anchored at the start only).
	Paths []string
	// Headers maps a header name (any case, '-' or '_') to values: any value may match; a value
	// starting with "~*" is a regex searched in the lower-cased header value.
	Headers map[string][]string
	// SNIs are only evaluated for HTTPS requests; plain HTTP ignores them (Kong #6425). A
	// trailing dot is ignored as in Kong; unlike Kong, case is ignored too.
	SNIs []string
	// RegexPriority orders routes with regex paths that are otherwise equal; higher first.
	RegexPriority int
	// Value is the caller's payload, returned untouched in Match.Route.
	Value any
}

// Options changes how the Table orders routes.
type Options struct {
	// KongPriorityQuirk reproduces the priority Kong 3.9 actually computes on x86-64, whose
	// 32-bit shifts make e.g. a hosts-only route outrank a route with paths and methods
	// (KONG_COMPAT §3.4). Off by default: the documented order is used.
	KongPriorityQuirk bool
}

// RouteError is returned by New: it names the route and the field that could not be compiled,
// so that the config loader can point at the entity.
type RouteError struct {
	RouteID string
	Field   string // e.g. "paths[2]", "headers[x-version][0]"; indexes are 0-based
	Err     error
}

func (e *RouteError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("route %q: %v", e.RouteID, e.Err)
	}
	return fmt.Sprintf("route %q: %s: %v", e.RouteID, e.Field, e.Err)
}

func (e *RouteError) Unwrap() error { return e.Err }

// Table is the compiled, immutable router. The zero value matches nothing.
type Table struct {
	routes   []Route   // copy of the input, so that Match.Route cannot alias the caller's slice
	vroutes  []*vroute // in priority order: vroutes[i].rank == i
	root     node      // radix tree over prefix paths and regex literal prefixes
	pathless bucket    // routes without paths
}

// hostMatcher is one compiled entry of Route.Hosts.
type hostMatcher struct {
	kind hostKind
	text string // lower-case; ".b.c" for a suffix, "a.b." for a prefix
	port int    // -1: any port
}

type hostKind uint8

const (
	hostExact hostKind = iota
	hostSuffix
	hostPrefix
)

// headerMatcher is one compiled entry of Route.Headers.
type headerMatcher struct {
	name  string   // lower-case, '-' separated: the form HeaderLookup takes
	exact []string // lower-cased values
	regex []*regexp.Regexp
}

// compiled holds what a route's virtual routes share: the non-path matchers and the fields of
// the priority that do not depend on the path group.
type compiled struct {
	route    *Route
	methods  []string
	hosts    []hostMatcher
	hostKeys []string // lower-case hosts for the host index; nil if any is a wildcard or too long
	snis     []string
	headers  []headerMatcher

	weight     int  // W: number of non-empty fields among methods, hosts, headers, paths, snis
	plainHosts bool // hosts present and none has '*'
	headerN    int  // number of header names, capped at 255
}

// vroute is a route, or the part of a route holding one path group: Kong splits a route whose
// paths have several lengths (or mix regex and prefix paths) so that each part gets a priority
// that reflects the path that matched.
type vroute struct {
	c       *compiled
	id      string           // tie-break key: the route ID, or uuid5 of "<id>#<n>" for splits
	rank    int              // position in the total order; lower wins
	regexes []*regexp.Regexp // the regex group, in config order; nil for prefix/path-less
	plen    int              // length of the prefix paths of the group (all equal)
	prio    uint64           // Kong 3.9's computed priority (quirk mode only)
}

// maxHeaderCount caps the header count in the priority, as Kong does (MAX_HEADER_COUNT).
const maxHeaderCount = 255

// splitNamespace is the UUID namespace Kong uses to name split routes
// (7f145bf9-0dce-4f91-98eb-debbce4b9f6b, kong/router/transform.lua).
const splitNamespace = "\x7f\x14\x5b\xf9\x0d\xce\x4f\x91\x98\xeb\xde\xbb\xce\x4b\x9f\x6b"

// New compiles routes into a Table. Paths are checked with ValidatePath, hosts for the
// wildcard forms Kong allows, header regexes compiled; the first problem is returned as a
// *RouteError. A route with no methods, hosts, headers, paths or snis (a stream route, say)
// can never be selected by an HTTP request and is left out rather than matching everything.
func New(routes []Route, opt Options) (*Table, error) {
	t := &Table{routes: slices.Clone(routes)}
	seen := make(map[string]bool, len(routes))
	for i := range t.routes {
		r := &t.routes[i]
		if r.ID == "" {
			return nil, &RouteError{RouteID: fmt.Sprintf("#%d", i), Field: "id", Err: errors.New("required")}
		}
		if seen[r.ID] {
			return nil, &RouteError{RouteID: r.ID, Field: "id", Err: errors.New("duplicate route id")}
		}
		seen[r.ID] = true
		c, err := compileRoute(r)
		if err != nil {
			return nil, err
		}
		if c.weight == 0 {
			continue
		}
		vs, err := splitRoute(c)
		if err != nil {
			return nil, err
		}
		t.vroutes = append(t.vroutes, vs...)
	}

	if opt.KongPriorityQuirk {
		for _, v := range t.vroutes {
			v.prio = quirkPriority(v)
		}
		slices.SortStableFunc(t.vroutes, compareQuirk)
	} else {
		slices.SortStableFunc(t.vroutes, compareIntended)
	}
	for i, v := range t.vroutes {
		v.rank = i
	}

	// Insert in rank order so that every candidate list is sorted by rank as built.
	for _, v := range t.vroutes {
		switch {
		case v.regexes != nil:
			for _, rx := range v.regexes {
				t.root.insert(regexLiteralPrefix(rx)).add(v)
			}
		case v.plen > 0:
			for _, p := range v.c.route.Paths {
				if !isRegexPath(p) && len(p) == v.plen {
					t.root.insert([]byte(p)).add(v)
				}
			}
		default:
			t.pathless.add(v)
		}
	}
	t.root.finish()
	t.pathless.finish()
	return t, nil
}

func isRegexPath(p string) bool { return strings.HasPrefix(p, "~") }

// compileRoute checks and compiles everything except the paths' grouping.
func compileRoute(r *Route) (*compiled, error) {
	fail := func(field string, err error) error {
		return &RouteError{RouteID: r.ID, Field: field, Err: err}
	}
	c := &compiled{route: r}

	for i, m := range r.Methods {
		if m == "" {
			return nil, fail(fmt.Sprintf("methods[%d]", i), errors.New("empty method"))
		}
	}
	c.methods = r.Methods

	plain := len(r.Hosts) > 0
	for i, h := range r.Hosts {
		hm, err := compileHost(h)
		if err != nil {
			return nil, fail(fmt.Sprintf("hosts[%d]", i), err)
		}
		c.hosts = append(c.hosts, hm)
		if hm.kind != hostExact {
			plain = false
		}
	}
	c.plainHosts = plain
	if plain {
		for _, hm := range c.hosts {
			if len(hm.text) > hostBufLen {
				// Match cannot lower-case such a request host for the index; scan instead.
				c.hostKeys = nil
				break
			}
			if !slices.Contains(c.hostKeys, hm.text) {
				c.hostKeys = append(c.hostKeys, hm.text)
			}
		}
	}

	for i, s := range r.SNIs {
		if s == "" {
			return nil, fail(fmt.Sprintf("snis[%d]", i), errors.New("empty sni"))
		}
		// Kong: "last dot in FQDNs must not be used for routing".
		if len(s) > 1 && s[len(s)-1] == '.' {
			s = s[:len(s)-1]
		}
		c.snis = append(c.snis, asciiLower(s))
	}

	names := make([]string, 0, len(r.Headers))
	for name := range r.Headers {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic errors and evaluation order
	for _, name := range names {
		hm := headerMatcher{name: strings.ReplaceAll(asciiLower(name), "_", "-")}
		field := fmt.Sprintf("headers[%s]", name)
		if name == "" {
			return nil, fail(field, errors.New("empty header name"))
		}
		if hm.name == "host" {
			return nil, fail(field, errors.New("cannot contain 'host' header, which must be specified in the 'hosts' attribute"))
		}
		values := r.Headers[name]
		if len(values) == 0 {
			return nil, fail(field, errors.New("at least one value is required"))
		}
		for j, v := range values {
			// Kong lower-cases the regex text too (transform.lua: escape_str(value:lower())),
			// so "~*\D" is "\d" there as here.
			if rest, ok := strings.CutPrefix(v, "~*"); ok {
				rx, err := regexp.Compile(asciiLower(rest))
				if err != nil {
					return nil, fail(fmt.Sprintf("%s[%d]", field, j), fmt.Errorf("invalid regex: '%s' (%v)", rest, err))
				}
				hm.regex = append(hm.regex, rx)
				continue
			}
			hm.exact = append(hm.exact, asciiLower(v))
		}
		c.headers = append(c.headers, hm)
	}
	c.headerN = min(len(c.headers), maxHeaderCount)

	for _, n := range []int{len(r.Methods), len(r.Hosts), len(r.Headers), len(r.Paths), len(r.SNIs)} {
		if n > 0 {
			c.weight++
		}
	}
	return c, nil
}

// compileHost parses one Route.Hosts entry. The port is split at the first ':' only when the
// rest is numeric, like Kong's split_host_port, so "[::1]" stays one literal host.
func compileHost(h string) (hostMatcher, error) {
	hm := hostMatcher{port: -1}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		if port, ok := parsePort([]byte(h[i+1:])); ok {
			if port < 0 || port > 65535 {
				return hm, fmt.Errorf("invalid port number in %q", h)
			}
			h, hm.port = h[:i], port
		}
	}
	if h == "" {
		return hm, errors.New("empty host")
	}
	h = asciiLower(h)
	switch n := strings.Count(h, "*"); {
	case n == 0:
		hm.kind, hm.text = hostExact, h
	case n == 1 && len(h) > 2 && strings.HasPrefix(h, "*."):
		hm.kind, hm.text = hostSuffix, h[1:]
	case n == 1 && len(h) > 2 && strings.HasSuffix(h, ".*"):
		hm.kind, hm.text = hostPrefix, h[:len(h)-1]
	default:
		return hm, fmt.Errorf("invalid wildcard placement in %q: only a whole leftmost or rightmost label may be '*'", h)
	}
	return hm, nil
}

// splitRoute turns a route into its virtual routes: one per path group (all regex paths; the
// prefix paths of each length), in order of first appearance as Kong numbers them. A route
// with a single group keeps its ID; split parts are named uuid5(ns, "<id>#<n>") like Kong's,
// which matters because those names break priority ties.
func splitRoute(c *compiled) ([]*vroute, error) {
	r := c.route
	if len(r.Paths) == 0 {
		return []*vroute{{c: c, id: r.ID}}, nil
	}
	type group struct {
		regex bool
		plen  int
		rxs   []*regexp.Regexp
	}
	var groups []*group
	find := func(regex bool, plen int) *group {
		for _, g := range groups {
			if g.regex == regex && (regex || g.plen == plen) {
				return g
			}
		}
		g := &group{regex: regex, plen: plen}
		groups = append(groups, g)
		return g
	}
	for i, p := range r.Paths {
		if err := ValidatePath(p); err != nil {
			return nil, &RouteError{RouteID: r.ID, Field: fmt.Sprintf("paths[%d]", i), Err: err}
		}
		if isRegexPath(p) {
			rx, err := CompileRegex(p[1:])
			if err != nil {
				return nil, &RouteError{RouteID: r.ID, Field: fmt.Sprintf("paths[%d]", i), Err: err}
			}
			g := find(true, 0)
			g.rxs = append(g.rxs, rx)
			continue
		}
		find(false, len(p))
	}
	out := make([]*vroute, len(groups))
	for n, g := range groups {
		v := &vroute{c: c, id: r.ID, regexes: g.rxs, plen: g.plen}
		if len(groups) > 1 {
			v.id = splitID(r.ID, n+1)
		}
		out[n] = v
	}
	return out, nil
}

// splitID is RFC 4122 UUIDv5 (SHA-1) in Kong's split namespace, the same value
// resty.jit-uuid's factory_v5 produces.
func splitID(id string, n int) string {
	h := sha1.New()
	h.Write([]byte(splitNamespace + id + "#" + strconv.Itoa(n)))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return string(s[:])
}

// compareIntended is the documented order (KONG_COMPAT §3.4 1–6, then ID descending):
// negative when a must be tried before b.
func compareIntended(a, b *vroute) int {
	if a.c.weight != b.c.weight {
		return b.c.weight - a.c.weight
	}
	if a.c.plainHosts != b.c.plainHosts {
		if a.c.plainHosts {
			return -1
		}
		return 1
	}
	if a.c.headerN != b.c.headerN {
		return b.c.headerN - a.c.headerN
	}
	ar, br := a.regexes != nil, b.regexes != nil
	if ar != br {
		if ar {
			return -1
		}
		return 1
	}
	if ar && a.c.route.RegexPriority != b.c.route.RegexPriority {
		if a.c.route.RegexPriority > b.c.route.RegexPriority {
			return -1
		}
		return 1
	}
	if a.plen != b.plen {
		return b.plen - a.plen
	}
	return strings.Compare(b.id, a.id)
}

// compareQuirk orders by Kong 3.9's computed 64-bit priority, then ID descending.
func compareQuirk(a, b *vroute) int {
	if a.prio != b.prio {
		if a.prio > b.prio {
			return -1
		}
		return 1
	}
	return strings.Compare(b.id, a.id)
}

// quirkPriority reproduces get_priority() in Kong 3.9's kong/router/transform.lua as LuaJIT
// runs it on x86-64. lshift_uint64 meant to shift a uint64 but shifts a plain number, so
// bit.lshift works on 32 bits with the count mod 32: W<<61 is W<<29 and H<<52 is H<<20.
// bit.bor then stays 32-bit (a signed int32) unless one operand is a 64-bit cdata, which only
// the plain-host (1<<60) and regex (1<<51) bits are; in that case the 32-bit operands are
// zero-extended. A negative int32 handed to the FFI as uint64 becomes 2^63 on x86-64.
func quirkPriority(v *vroute) uint64 {
	c := v.c
	regex := v.regexes != nil
	low := uint32(c.weight)<<29 | uint32(c.headerN)<<20 | uint32(v.plen)&0x7FFFF
	if regex {
		low |= uint32(c.route.RegexPriority) << 19
	}
	if !c.plainHosts && !regex {
		if int32(low) < 0 {
			return 1 << 63
		}
		return uint64(low)
	}
	p := uint64(low)
	if c.plainHosts {
		p |= 1 << 60
	}
	if regex {
		p |= 1 << 51
	}
	return p
}

// asciiLower lower-cases ASCII letters only, like Lua's string.lower that Kong applies to
// header values and regexes; other bytes are compared as they are.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
