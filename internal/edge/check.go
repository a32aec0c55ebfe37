package edge

import (
	"bytes"
	"encoding/binary"

	"github.com/valyala/fasthttp"
)

// Check inspects the request head as fasthttp received it and returns the
// verdict, plus the header names to drop under the "drop" underscore policy
// (apply them with Drops.Apply before anything reads the headers).
//
// It reads h.RawHeaders(), which fasthttp keeps byte for byte as received
// (bare LFs, folds and name case included; only the request line is not
// kept), so it sees what fasthttp's parsed view has already smoothed over.
// h must come from fasthttp's server or RequestHeader.Read: a header built in
// code has no raw bytes, and one with a Host but no raw bytes is refused
// (500) rather than waved through unchecked.
//
// Check does not allocate.
func (p *Policy) Check(h *fasthttp.RequestHeader) (Verdict, Drops) {
	raw := h.RawHeaders()
	if len(raw) == 0 && len(h.Host()) != 0 {
		return refuse(500, ReasonNotWire), Drops{}
	}
	return p.checkHead(h.Method(), h.RequestURI(), h.Protocol(), raw)
}

// head is what one pass over the header block learns.
type head struct {
	hosts      int
	host       []byte
	cls        int
	cl         int64 // the Content-Length value, when cls == 1 and it is valid
	tes        int
	chunked    int  // "chunked" codings seen, over all Transfer-Encoding fields
	lastChunk  bool // the last coding seen was chunked
	teUnknown  bool // a coding other than chunked was seen
	teMalform  bool // an empty coding or chunked with parameters
	underscore int
	fields     int // field lines seen, for the count limit

	// Connection options and the fields that go with them, for the
	// gateway's own codec (ParseRequest); Check leaves them to fasthttp.
	connClose     bool // Connection lists "close"
	connKeepAlive bool // Connection lists "keep-alive"
	connUpgrade   bool // Connection lists "upgrade"
	upgrades      int  // Upgrade fields
	expect100     bool // Expect: 100-continue
	expectOther   bool // an Expect field with another expectation
}

// checkHead runs the checks on the parts of a head. It is apart from Check so
// tests and the fuzz target can hand it heads fasthttp would never build
// (duplicate Content-Length, say): each rule is kept even where fasthttp
// already refuses, so an upgrade that loosens fasthttp does not loosen us.
func (p *Policy) checkHead(method, uri, proto, raw []byte) (Verdict, Drops) {
	if v := p.checkLine(method, uri, proto, len(raw)); !v.OK() {
		return v, Drops{}
	}
	var hd head
	if v := p.scanFields(raw, &hd); !v.OK() {
		return v, Drops{}
	}
	return p.finish(method, uri, string(proto) == "HTTP/1.1", raw, &hd)
}

// checkLine holds the request line to the rules that need no header field:
// the version, the head's size so far (rawLen bytes of fields) and the
// method's syntax.
func (p *Policy) checkLine(method, uri, proto []byte, rawLen int) Verdict {
	if string(proto) != "HTTP/1.1" && string(proto) != "HTTP/1.0" {
		// fasthttp takes any HTTP/x.y and treats it as 1.0; Envoy and nginx
		// answer 505 (RFC 9110 §15.6.6).
		return refuse(505, ReasonVersion)
	}
	if len(method)+len(uri)+len(proto)+4+rawLen > p.maxHeaderBytes() {
		return refuse(431, ReasonHeadTooLarge)
	}
	if !validMethod(method) {
		return refuse(400, ReasonBadMethod)
	}
	return Verdict{}
}

// finish applies the rules that need the whole header block: framing, Host,
// the target against Host, and the underscore policy. raw is the field
// block Drops points into.
func (p *Policy) finish(method, uri []byte, http11 bool, raw []byte, hd *head) (Verdict, Drops) {
	// Framing, RFC 9112 §6.1 and §6.3.
	switch {
	case hd.cls > 1:
		return refuse(400, ReasonDupCL), Drops{}
	case hd.tes > 0 && hd.cls > 0:
		return refuse(400, ReasonCLAndTE), Drops{}
	case hd.tes > 0 && !http11:
		return refuse(400, ReasonTEHTTP10), Drops{}
	case hd.tes > 0 && (hd.teMalform || hd.chunked > 1 || (hd.chunked == 1 && !hd.lastChunk)):
		return refuse(400, ReasonTENotFinal), Drops{}
	case hd.tes > 0 && hd.teUnknown:
		return refuse(501, ReasonTEUnknown), Drops{}
	}

	// Host, RFC 9112 §3.2.
	switch {
	case hd.hosts > 1:
		return refuse(400, ReasonDupHost), Drops{}
	case hd.hosts == 0 && http11:
		return refuse(400, ReasonNoHost), Drops{}
	case hd.hosts == 1 && ((http11 && len(hd.host) == 0) || !validAuthority(hd.host)):
		return refuse(400, ReasonBadHost), Drops{}
	}
	if v := checkTarget(method, uri, hd, p.DecodeSlashes); !v.OK() {
		return v, Drops{}
	}

	if hd.underscore > 0 {
		switch p.underscore() {
		case UnderscoreReject:
			return refuse(400, ReasonUnderscore), Drops{}
		case UnderscoreDrop:
			return Verdict{}, Drops{raw: raw, n: hd.underscore}
		}
	}
	return Verdict{}, Drops{}
}

// scanFields walks the raw header block line by line. The block must end with
// an empty line; every line must end in CRLF.
func (p *Policy) scanFields(raw []byte, hd *head) Verdict {
	for pos := 0; pos < len(raw); {
		lf := bytes.IndexByte(raw[pos:], '\n')
		if lf < 0 {
			return refuse(400, ReasonTruncated)
		}
		lf += pos
		if lf == pos || raw[lf-1] != '\r' {
			// RFC 9112 §2.2 lets a recipient accept a bare LF; fasthttp
			// does. A peer that splits only on CRLF reads different fields.
			return refuse(400, ReasonBareLF)
		}
		line := raw[pos : lf-1]
		pos = lf + 1
		if len(line) == 0 {
			if pos != len(raw) {
				return refuse(400, ReasonTruncated)
			}
			return Verdict{}
		}
		if _, _, _, v := p.scanLine(line, hd); !v.OK() {
			return v
		}
	}
	if len(raw) != 0 {
		return refuse(400, ReasonTruncated)
	}
	return Verdict{}
}

// scanLine checks one non-empty field line (CRLF removed) against the rules
// that hold for each line on its own and the count limit, and returns the
// field's name, its value without surrounding whitespace and whether the
// name holds an underscore.
func (p *Policy) scanLine(line []byte, hd *head) (name, value []byte, underscore bool, v Verdict) {
	if line[0] == ' ' || line[0] == '\t' {
		// RFC 9112 §5.2: a server must reject obs-fold or replace it;
		// fasthttp joins it, a peer that does not sees another field.
		return nil, nil, false, refuse(400, ReasonObsFold)
	}
	hd.fields++
	if hd.fields > p.maxHeaderCount() {
		return nil, nil, false, refuse(431, ReasonTooManyHeaders)
	}
	return scanField(line, hd)
}

// scanField checks one field line (CRLF removed) and records what framing
// and routing depend on.
func scanField(line []byte, hd *head) (name, value []byte, underscore bool, v Verdict) {
	i := 0
	for ; i < len(line) && line[i] != ':'; i++ {
		c := line[i]
		if !isTchar(c) {
			// fasthttp lets a space through ("Transfer Encoding"), which
			// a peer may trim into a field it acts on.
			return nil, nil, false, refuse(400, ReasonBadName)
		}
		if c == '_' {
			underscore = true
		}
	}
	if i == len(line) {
		return nil, nil, false, refuse(400, ReasonBadName) // no colon
	}
	if i == 0 {
		return nil, nil, false, refuse(400, ReasonEmptyName)
	}
	name = line[:i]
	value = TrimOWS(line[i+1:])
	if !ValidValue(value) {
		// NUL, CR, LF and other controls: RFC 9110 §5.5.
		return nil, nil, false, refuse(400, ReasonBadValue)
	}
	if underscore {
		hd.underscore++
	}
	switch len(name) {
	case len("host"):
		if equalFold(name, "host") {
			hd.hosts++
			hd.host = value
		}
	case len("expect"):
		if equalFold(name, "expect") {
			if equalFold(value, "100-continue") {
				hd.expect100 = true
			} else {
				hd.expectOther = true
			}
		}
	case len("upgrade"):
		if equalFold(name, "upgrade") {
			hd.upgrades++
		}
	case len("connection"):
		if equalFold(name, "connection") {
			scanConnection(value, hd)
		}
	case len("content-length"):
		if equalFold(name, "content-length") {
			hd.cls++
			n, v := ParseContentLength(value)
			if !v.OK() {
				return nil, nil, false, v
			}
			hd.cl = n
		}
	case len("transfer-encoding"):
		if equalFold(name, "transfer-encoding") {
			hd.tes++
			scanCodings(value, hd)
		}
	}
	return name, value, underscore, Verdict{}
}

// scanConnection records the connection options the codec acts on; the list
// may span several Connection fields (RFC 9110 §7.6.1).
func scanConnection(v []byte, hd *head) {
	c, k, u := ConnectionOptions(v)
	hd.connClose = hd.connClose || c
	hd.connKeepAlive = hd.connKeepAlive || k
	hd.connUpgrade = hd.connUpgrade || u
}

// ConnectionOptions reads the options HTTP/1.1 acts on from one Connection
// field's list (RFC 9110 §7.6.1): close, keep-alive and upgrade, in any case.
func ConnectionOptions(v []byte) (closeOpt, keepAlive, upgrade bool) {
	for len(v) > 0 {
		opt := v
		if comma := bytes.IndexByte(v, ','); comma >= 0 {
			opt, v = v[:comma], v[comma+1:]
		} else {
			v = nil
		}
		opt = TrimOWS(opt)
		switch {
		case equalFold(opt, "close"):
			closeOpt = true
		case equalFold(opt, "keep-alive"):
			keepAlive = true
		case equalFold(opt, "upgrade"):
			upgrade = true
		}
	}
	return closeOpt, keepAlive, upgrade
}

// ParseContentLength reads a Content-Length value: 1*DIGIT only, at most 18
// digits so it cannot overflow. A list, even "5, 5" that RFC 9110 §8.6 lets a
// recipient collapse, is refused (ReasonListCL) as Envoy and HAProxy do; any
// other fault is ReasonBadCL.
func ParseContentLength(v []byte) (int64, Verdict) {
	if len(v) == 0 {
		return 0, refuse(400, ReasonBadCL)
	}
	if bytes.IndexByte(v, ',') >= 0 {
		return 0, refuse(400, ReasonListCL)
	}
	if len(v) > 18 {
		return 0, refuse(400, ReasonBadCL) // would overflow int64
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, refuse(400, ReasonBadCL)
		}
		n = n*10 + int64(c-'0')
	}
	return n, Verdict{}
}

// scanCodings records the transfer codings of one Transfer-Encoding field.
// Fields are a list that continues across lines (RFC 9110 §5.3), so
// "gzip" then "chunked" on two lines is "gzip, chunked".
func scanCodings(v []byte, hd *head) {
	for {
		elem := v
		comma := bytes.IndexByte(v, ',')
		if comma >= 0 {
			elem, v = v[:comma], v[comma+1:]
		}
		elem = TrimOWS(elem)
		coding, params := elem, false
		if semi := bytes.IndexByte(elem, ';'); semi >= 0 {
			coding, params = TrimOWS(elem[:semi]), true
		}
		switch {
		case len(coding) == 0:
			hd.teMalform = true
			hd.lastChunk = false
		case equalFold(coding, "chunked"):
			// chunked takes no parameters (RFC 9112 §7.1).
			hd.teMalform = hd.teMalform || params
			hd.chunked++
			hd.lastChunk = true
		default:
			hd.teUnknown = true
			hd.lastChunk = false
		}
		if comma < 0 {
			return
		}
	}
}

// checkTarget holds the request target against Host. In absolute form the
// target's authority wins over Host (RFC 9112 §3.2.2), so a gateway routing
// on Host and forwarding the target would be split; we refuse the mismatch.
func checkTarget(method, uri []byte, hd *head, decode bool) Verdict {
	if len(uri) == 0 {
		return refuse(400, ReasonBadTarget)
	}
	if uri[0] == '/' {
		return checkPath(uri, decode)
	}
	if len(uri) == 1 && uri[0] == '*' {
		// asterisk form is OPTIONS's alone (RFC 9112 §3.2.4); fasthttp refuses it for other
		// methods, and the codec's parser must too
		if string(method) != "OPTIONS" {
			return refuse(400, ReasonBadTarget)
		}
		return Verdict{}
	}
	if string(method) == "CONNECT" {
		// Authority form (RFC 9112 §3.2.3): no scheme, no default port.
		if !validAuthority(uri) || bytes.IndexByte(uri, '@') >= 0 {
			return refuse(400, ReasonBadTarget)
		}
		if hd.hosts == 1 && !equalFoldBytes(uri, hd.host) {
			return refuse(400, ReasonHostMismatch)
		}
		return Verdict{}
	}
	sep := bytes.Index(uri, []byte("://"))
	if sep <= 0 {
		return refuse(400, ReasonBadTarget)
	}
	scheme := uri[:sep]
	var defPort string
	switch {
	case equalFold(scheme, "http"):
		defPort = "80"
	case equalFold(scheme, "https"):
		defPort = "443"
	default:
		return refuse(400, ReasonBadTarget)
	}
	auth := uri[sep+3:]
	if end := bytes.IndexAny(auth, "/?#"); end >= 0 {
		if v := checkPath(auth[end:], decode); !v.OK() {
			return v
		}
		auth = auth[:end]
	}
	if bytes.IndexByte(auth, '@') >= 0 {
		// RFC 9110 §4.2.4: treat userinfo in an http(s) URI as an error.
		return refuse(400, ReasonUserinfo)
	}
	if len(auth) == 0 || !validAuthority(auth) {
		return refuse(400, ReasonBadTarget)
	}
	if hd.hosts == 1 && !sameAuthority(auth, hd.host, defPort) {
		return refuse(400, ReasonHostMismatch)
	}
	return Verdict{}
}

// CheckMethodTarget applies the request-line rules of Check that do not
// depend on HTTP/1.1 framing (method syntax, origin-form target) to a request
// Check never sees: HTTP/2's :method and :path, which x/net/http2 validates
// less strictly. A target not in origin form is refused.
func (p *Policy) CheckMethodTarget(method, target []byte) Verdict {
	if !validMethod(method) {
		return refuse(400, ReasonBadMethod)
	}
	if len(target) == 0 || target[0] != '/' {
		return refuse(400, ReasonBadTarget)
	}
	return checkPath(target, p.DecodeSlashes)
}

// validMethod allows a token without lower-case letters. Methods are
// case-sensitive (RFC 9110 §9.1), so "get" is not GET: nginx refuses any
// method byte outside A-Z, '_' and '-' with 400, and a peer that upper-cases
// methods would run a different one than the gateway routed.
func validMethod(m []byte) bool {
	if len(m) == 0 {
		return false
	}
	for _, c := range m {
		if !isTchar(c) || ('a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// checkPath holds an origin-form target, or the path and query of an
// absolute-form one, to the rules that keep the gateway and the upstream on
// one reading of the path (the router normalises it: internal/router
// NormalizePath):
//
//   - no control bytes, SP or DEL (RFC 9112 §3.2; fasthttp already refuses
//     most, the rule stays here so an upgrade cannot loosen it);
//   - no '#': a fragment is not part of a request target (RFC 9112 §3.2,
//     RFC 3986 §3.5), and fasthttp's upstream client cuts it while the router
//     matches on it. Envoy refuses it the same way;
//   - no raw '\' in the path: not a URI character; IIS, Tomcat on Windows and
//     URL parsers following WHATWG read it as '/', the router does not;
//   - no dot segment that only exists once an encoded slash or backslash
//     (%2F, %5C) is decoded, or that carries parameters ("..;x"): the router
//     keeps %2F encoded and does not know ';' (Kong's rule), so it sees one
//     segment where an upstream that decodes %2F (or, like Tomcat and Jetty,
//     strips path parameters) sees ".." and climbs out of the route's prefix
//     (CVE-2019-9901, CVE-2021-29492 class). Plain %2F stays allowed.
//
// With decode (Policy.DecodeSlashes) the router turns backslashes and encoded
// slashes into '/' itself, so only the parameter rule applies to dot segments.
func checkPath(t []byte, decode bool) Verdict {
	path := true
	for _, c := range t {
		switch {
		case c <= ' ' || c == 0x7f:
			return refuse(400, ReasonBadTarget)
		case c == '#':
			return refuse(400, ReasonFragment)
		case c == '?':
			path = false
		case c == '\\' && path && !decode:
			return refuse(400, ReasonBackslash)
		}
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		t = t[:q]
	}
	if !hiddenDotSegment(t, decode) {
		return Verdict{}
	}
	return refuse(400, ReasonDotSegment)
}

// hiddenDotSegment reports a "." or ".." segment (with %2E for '.') that is
// bounded by an encoded separator (%2F or %5C) on either side (unless decode:
// the router then reads those as '/'), or that has path parameters after it
// (";..."). Segments between plain slashes are the router's to resolve.
func hiddenDotSegment(p []byte, decode bool) bool {
	encBefore := false
	for i := 0; i <= len(p); {
		// one segment: p[i:j], ended by '/', an encoded separator or the end
		j, sepLen, enc := i, 0, false
		for ; j < len(p); j++ {
			if p[j] == '/' {
				sepLen = 1
				break
			}
			if isEncodedSep(p[j:]) {
				sepLen, enc = 3, true
				break
			}
		}
		if dots, params := dotSegment(p[i:j]); dots && (params || (!decode && (enc || encBefore))) {
			return true
		}
		if j == len(p) {
			return false
		}
		encBefore = enc
		i = j + sepLen
	}
	return false
}

func isEncodedSep(b []byte) bool {
	if len(b) < 3 || b[0] != '%' {
		return false
	}
	switch {
	case b[1] == '2' && (b[2] == 'f' || b[2] == 'F'):
		return true
	case b[1] == '5' && (b[2] == 'c' || b[2] == 'C'):
		return true
	}
	return false
}

// dotSegment reports whether seg, with %2E decoded and anything from ';' on
// cut, is "." or "..", and whether it had parameters.
func dotSegment(seg []byte) (dots, params bool) {
	if semi := bytes.IndexByte(seg, ';'); semi >= 0 {
		seg, params = seg[:semi], true
	}
	n := 0
	for i := 0; i < len(seg); n++ {
		switch {
		case seg[i] == '.':
			i++
		case len(seg)-i >= 3 && seg[i] == '%' && seg[i+1] == '2' && (seg[i+2] == 'e' || seg[i+2] == 'E'):
			i += 3
		default:
			return false, params
		}
	}
	return n == 1 || n == 2, params
}

// sameAuthority compares two authorities case-insensitively, taking a missing
// or empty port as the scheme's default.
func sameAuthority(a, b []byte, defPort string) bool {
	ah, ap := splitPort(a)
	bh, bp := splitPort(b)
	if !equalFoldBytes(ah, bh) {
		return false
	}
	switch {
	case len(ap) == 0 && len(bp) == 0:
		return true
	case len(ap) == 0:
		return string(bp) == defPort
	case len(bp) == 0:
		return string(ap) == defPort
	}
	return string(ap) == string(bp)
}

// splitPort splits "host:port" and "[v6]:port"; a colon inside brackets is
// not a port separator.
func splitPort(a []byte) (host, port []byte) {
	i := bytes.LastIndexByte(a, ':')
	if i < 0 || bytes.LastIndexByte(a, ']') > i {
		return a, nil
	}
	return a[:i], a[i+1:]
}

// validAuthority allows the characters of an RFC 3986 authority without
// userinfo: unreserved, pct-encoded, sub-delims, ':' and the IP-literal
// brackets. A port, when present, must be digits. ':' and brackets belong to an
// IP literal only ("[::1]"): "x:80:81" has two ports to choose from, and
// fasthttp refuses it, so the codec's parser must too.
//
// One pass over a table, counting what the rules need, where a pass per rule
// (the characters, splitPort's two searches, ContainsAny) cost about 19
// instructions per byte of every request's Host (profile of the proxy).
func validAuthority(a []byte) bool {
	colons, opens, closes := 0, 0, 0
	lastColon, lastClose := -1, -1
	// the run of plain bytes that starts most authorities (a name, an IPv4 address) in a
	// loop of its own: the compiler keeps it to a few instructions a byte, where the one
	// below, with its counters live, shuffles registers on every byte
	start := 0
	for start < len(a) && authChars[a[start]] == authYes {
		start++
	}
	for i := start; i < len(a); i++ {
		k := authChars[a[i]]
		if k == authYes {
			continue // one comparison, where the switch below makes several
		}
		switch k {
		case authNo:
			return false
		case authColon:
			colons++
			lastColon = i
		case authOpen:
			opens++
		case authClose:
			closes++
			lastClose = i
		}
	}
	// splitPort: the port follows the last colon, unless a bracket closes after it
	host := a
	hostColons := colons
	if lastColon >= 0 && lastClose < lastColon {
		for _, c := range a[lastColon+1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
		host = a[:lastColon]
		hostColons--
	}
	// the port holds digits only, so every bracket is in host
	if len(host) > 0 && host[0] == '[' {
		return len(host) > 2 && host[len(host)-1] == ']' && opens == 1 && closes == 1
	}
	return hostColons == 0 && opens == 0 && closes == 0
}

// authChars classes each byte for validAuthority.
var authChars = func() (t [256]uint8) {
	for c := range 128 {
		if isAuthorityChar(byte(c)) {
			t[c] = authYes
		}
	}
	t[':'], t['['], t[']'] = authColon, authOpen, authClose
	return t
}()

const (
	authNo uint8 = iota
	authYes
	authColon
	authOpen
	authClose
)

// Drops names the header fields Check wants removed. It points into the raw
// header block, so it is only good until the handler returns; the zero value
// drops nothing.
type Drops struct {
	raw []byte
	n   int
}

// Len is how many fields will be dropped.
func (d Drops) Len() int { return d.n }

// Apply removes the fields from h. fasthttp re-serialises requests from the
// parsed fields, never from RawHeaders, so a removed field is not forwarded.
func (d Drops) Apply(h *fasthttp.RequestHeader) {
	if d.n == 0 {
		return
	}
	d.each(func(name []byte) { h.DelBytes(name) })
}

// AppendNames appends the names to drop to dst, for logging.
func (d Drops) AppendNames(dst []string) []string {
	d.each(func(name []byte) { dst = append(dst, string(name)) })
	return dst
}

func (d Drops) each(f func(name []byte)) {
	for raw := d.raw; len(raw) > 0; {
		line := raw
		if lf := bytes.IndexByte(raw, '\n'); lf >= 0 {
			line, raw = raw[:lf], raw[lf+1:]
		} else {
			raw = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon > 0 && bytes.IndexByte(line[:colon], '_') >= 0 {
			f(line[:colon])
		}
	}
}

// Byte classes as bitmaps over 0..127, built from constants so they are
// tables without package state.
const (
	digits = uint64(1)<<10 - 1
	alpha  = uint64(1)<<26 - 1

	// tchar, RFC 9110 §5.6.2: "!#$%&'*+-.^_`|~" DIGIT ALPHA.
	tcharLo = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' | 1<<'*' | 1<<'+' |
		1<<'-' | 1<<'.' | digits<<'0'
	tcharHi = alpha<<('A'-64) | alpha<<('a'-64) | 1<<('^'-64) | 1<<('_'-64) | 1<<('`'-64) |
		1<<('|'-64) | 1<<('~'-64)

	// authority without userinfo, RFC 3986 §3.2: unreserved, '%', sub-delims, ':', '[', ']'.
	authLo = 1<<'-' | 1<<'.' | digits<<'0' | 1<<'%' | 1<<'!' | 1<<'$' | 1<<'&' | 1<<'\'' |
		1<<'(' | 1<<')' | 1<<'*' | 1<<'+' | 1<<',' | 1<<';' | 1<<'=' | 1<<':'
	authHi = alpha<<('A'-64) | alpha<<('a'-64) | 1<<('_'-64) | 1<<('~'-64) | 1<<('['-64) | 1<<(']'-64)
)

// ValidToken reports whether b is a token (RFC 9110 §5.6.2), the syntax of a field name:
// the rule the request heads are held to, for the fields the gateway writes itself.
func ValidToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTchar(c) {
			return false
		}
	}
	return true
}

func isTchar(c byte) bool { return tchars[c] }

// tchars is the token set as a table, filled once from tcharLo and tcharHi and only read
// after: one load per byte, about twice as fast as the two shifts and branches of the bit
// sets on field names (measured on 4–17 byte names), and names are checked on every field
// the gateway writes or parses.
var tchars = func() (t [256]bool) {
	for c := range 128 {
		if c < 64 {
			t[c] = tcharLo>>c&1 == 1
		} else {
			t[c] = tcharHi>>(c-64)&1 == 1
		}
	}
	return t
}()

func isAuthorityChar(c byte) bool {
	if c < 64 {
		return authLo>>c&1 == 1
	}
	return c < 128 && authHi>>(c-64)&1 == 1
}

// ValidValue reports whether v holds only HTAB, SP, VCHAR and obs-text: a field
// value the edge rules accept, and one the gateway may write as it is.
// Values are most of a head, so it tests eight bytes at a time and looks at
// single bytes only in a word holding a control (HTAB included) or DEL; the
// word test has no false negatives.
func ValidValue(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := binary.LittleEndian.Uint64(v[i:])
		below := (x - 0x20*ones) &^ x & highs // a byte < 0x20
		d := x ^ 0x7f*ones
		del := (d - ones) &^ d & highs // a byte == 0x7f
		if below|del == 0 {
			continue
		}
		for _, c := range v[i : i+8] {
			if !isFieldVchar(c) {
				return false
			}
		}
	}
	for _, c := range v[i:] {
		if !isFieldVchar(c) {
			return false
		}
	}
	return true
}

// isFieldVchar allows HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5).
func isFieldVchar(c byte) bool {
	return c == '\t' || (c >= ' ' && c != 0x7f)
}

// TrimOWS removes the optional whitespace (SP, HTAB) around a field value or
// list element (RFC 9110 §5.6.3).
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold compares b with an all-lowercase ASCII s.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// EqualFold reports whether b and s are the same ASCII text ignoring ASCII
// case only. bytes.EqualFold also folds non-ASCII runes ("K", U+212A, to
// 'k'), and a peer that read "chun\u212aed" as chunked would frame bodies
// where no other peer does.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if c, d := b[i], s[i]; c != d && lower(c) != lower(d) {
			return false
		}
	}
	return true
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
