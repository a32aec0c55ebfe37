// Package proxy owns the order of a request's phases: canonical path, rewrite, routing,
// upstream request preparation, access, balancing, the upstream call, response phases and log.
// Two front ends feed it (fast.go: the HTTP/1.1 engine; std.go: net/http for HTTP/2 and h2c);
// plugins see neither engine, only the adapters in request.go and header.go.
package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/balancer"
	"tollgate/internal/circuit"
	"tollgate/internal/edge"
	"tollgate/internal/h1"
	"tollgate/internal/plugin"
	"tollgate/internal/router"
	"tollgate/internal/snapshot"
	"tollgate/internal/upstream"
)

// DefaultRequestIDHeader carries the request id upstream and to the client. It is the
// gateway's own name (as Kong uses X-Kong-Request-Id) so that it never collides with a
// header that users' plugins add, such as X-Request-ID.
const DefaultRequestIDHeader = "X-Tollgate-Request-Id"

// Options configure a Proxy.
type Options struct {
	Log     *slog.Logger
	Version string
	Trust   Trust
	// RequestIDHeader carries the request id upstream and back to the client. A value sent
	// by a trusted peer is kept; otherwise one is generated.
	RequestIDHeader string
	// RetryOnStatus lists upstream statuses that count as a failed try (nginx's
	// proxy_next_upstream http_502 ...): the request goes to another try when it is
	// idempotent and its body can be sent again. Empty by default, as in Kong, where only
	// connection errors and timeouts are retried.
	RetryOnStatus []int
	// ClientBodyTimeout bounds the wait between two reads of a client's request body (nginx's
	// client_body_timeout, 60 s); 0 disables it.
	ClientBodyTimeout time.Duration
	// ClientSendTimeout bounds each write to a client on an upgraded connection (nginx's
	// send_timeout); 0 disables it. The HTTP/1.1 engine applies it to responses itself.
	ClientSendTimeout time.Duration
	// MaxBodySize is the global request body limit in bytes (nginx's client_max_body_size;
	// 0 = none, Kong's default): 413 before any plugin runs when the length is announced,
	// and when a chunked body crosses it.
	MaxBodySize int64
	// Path is how request paths are normalised (escaped slashes, slash merging).
	Path router.PathOptions
	// Health receives the outcome of every try to an upstream entity's target (passive
	// health checks). Nil: not reported.
	Health     HealthReporter
	Holder     *snapshot.Holder
	Transports *Transports
}

// HealthReporter is fed the outcome of each proxied try (health.Checker implements it).
type HealthReporter interface {
	Report(upstream string, t *balancer.Target, status int, tcpFailure, timeout bool)
}

// Proxy is the request pipeline shared by both front ends.
type Proxy struct {
	opts   Options
	log    *slog.Logger
	via1   string
	via2   string
	server string
	// ridKey is the request id header's name in the engine's canonical form
	ridKey string
	// ridShared: ridKey is also a name the gateway removes or sets itself (fieldSet), so a
	// field of that name may be there even when the client or upstream sent none
	ridShared bool
	pool      sync.Pool
	dates     dateCache // Date fields of the codec front end's own answers

	// Inflight counts requests between the front end's entry and the end of their log phase.
	Inflight atomic.Int64
}

// New returns a proxy serving the snapshots of opts.Holder.
func New(opts Options) *Proxy {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.RequestIDHeader == "" {
		opts.RequestIDHeader = DefaultRequestIDHeader
	}
	if opts.Transports == nil {
		opts.Transports = NewTransports()
	}
	p := &Proxy{
		opts:   opts,
		log:    opts.Log,
		via1:   "1.1 tollgate/" + opts.Version,
		via2:   "2 tollgate/" + opts.Version,
		server: "tollgate/" + opts.Version,
		ridKey: string(fasthttp.AppendNormalizedHeaderKey(nil, opts.RequestIDHeader)),
	}
	p.ridShared = fieldBit([]byte(p.ridKey)) != 0
	p.pool.New = func() any { return &reqState{p: p} }
	return p
}

// reqState is everything one request needs, pooled so that a plain proxied request allocates
// (almost) nothing.
type reqState struct {
	p    *Proxy
	snap *snapshot.Snapshot
	pc   plugin.Ctx
	fin  fastIn
	sin  stdIn
	hin  h1In
	up   upReq
	// upH is the upstream request's header: the client's fields as each front end copies
	// them, then the gateway's and the plugins' changes
	upH h1.Header
	// resp is the response on its way to the client: filled by the upstream call, or by an
	// exit or error the gateway produced.
	resp  upResp
	match router.Match
	rreq  router.Request
	route *snapshot.Route
	chain *plugin.Chain // chain whose response phases run (route's, or global)
	pipe  bodyPipe
	reply bytes.Reader

	fast *fasthttp.RequestCtx // set by the fast front end
	h1w  *h1.ResponseWriter   // set by the codec front end (h1front.go)
	peer netip.Addr

	path     []byte // canonical path
	upPath   []byte
	uri      []byte
	scratch  []byte
	rid      [32]byte
	trusted  bool
	upgrade  bool
	hostAuto bool
	hostInit string
	gen      bool // the response was generated by the gateway
	target   *balancer.Target
	wsConn   *wsUpstream
	// the client's request body, handed to the upstream request
	bodySource io.Reader
	bodySize   int
	// hadQuery keeps a bare trailing '?' (Kong §4.2)
	hadQuery bool
	slowBody slowBodyReader
	// setCookie is the hash cookie to set on the response (consistent-hashing on a cookie
	// the client did not send yet)
	setCookie string
	// feedback is told when the picked target's request ends (least-connections, latency)
	feedback balancer.Feedback
	// limited enforces Options.MaxBodySize on a body of unknown length
	limited limitedBody
	// held is the upstream connection resp's body streams from, until it is released
	held heldConn
}

// clientFault tells that the upstream call failed because of the client's body: it stalled,
// was malformed or crossed the body limit.
func (st *reqState) clientFault() bool {
	return st.slowBody.timedOut || st.slowBody.broken || st.limited.tooLarge
}

// limitedBody fails with errBodyTooLarge once more than left bytes were read.
type limitedBody struct {
	r        io.Reader
	left     int64
	tooLarge bool
}

func (l *limitedBody) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	l.left -= int64(n)
	if l.left < 0 {
		l.tooLarge = true
		return 0, errBodyTooLarge
	}
	return n, err
}

func (p *Proxy) acquire() *reqState {
	p.Inflight.Add(1)
	st := p.pool.Get().(*reqState)
	st.snap = p.opts.Holder.Load()
	st.snap.Acquire()
	return st
}

// release returns st to the pool once the response is fully sent and logged.
func (p *Proxy) release(st *reqState) {
	st.snap.Release()
	st.held.release()
	st.resp.reset()
	st.upH.Reset()
	st.up.method = ""
	st.snap, st.route, st.chain, st.fast, st.target, st.wsConn = nil, nil, nil, nil, nil, nil
	st.h1w = nil
	st.fin, st.sin, st.hin = fastIn{}, stdIn{}, h1In{}
	st.upgrade, st.hostAuto, st.gen, st.trusted, st.hadQuery = false, false, false, false, false
	st.bodySource, st.bodySize = nil, 0
	st.setCookie, st.feedback = "", nil
	st.slowBody = slowBodyReader{}
	st.limited = limitedBody{}
	st.match = router.Match{Captures: st.match.Captures}
	st.pipe = bodyPipe{buf: st.pipe.buf}
	p.pool.Put(st)
	p.Inflight.Add(-1)
}

// appendClientValues appends the client's values of the header named (in canonical form),
// joined with ", ", without the allocations of plugin.Header's Values: behind a load
// balancer every request carries X-Forwarded-For.
func (st *reqState) appendClientValues(dst []byte, name string) []byte {
	n := 0
	add := func(v []byte) {
		if n > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, v...)
		n++
	}
	switch {
	case st.fin.req != nil:
		for _, v := range st.fin.req.Header.PeekAll(name) {
			add(v)
		}
	case st.sin.req != nil:
		for _, v := range st.sin.req.Header[name] {
			add(s2b(v))
		}
	case st.hin.head != nil:
		for _, f := range st.hin.head.Fields {
			if edge.EqualFold(f.Name, name) {
				add(f.Value)
			}
		}
	}
	return dst
}

// newRequestID returns 32 lower-case hex characters (Kong's request id shape), random.
func (st *reqState) newRequestID() string {
	a, b := rand.Uint64(), rand.Uint64()
	binary.LittleEndian.PutUint64(st.rid[0:], hexDigits(uint32(a)))
	binary.LittleEndian.PutUint64(st.rid[8:], hexDigits(uint32(a>>32)))
	binary.LittleEndian.PutUint64(st.rid[16:], hexDigits(uint32(b)))
	binary.LittleEndian.PutUint64(st.rid[24:], hexDigits(uint32(b>>32)))
	return string(st.rid[:])
}

// hexDigits returns v's eight hex digits, lower-case, as the bytes of a little-endian word:
// the lowest nibble's digit first, the reverse of how v is written, which a random id does
// not mind. The nibbles are spread one a byte and turned into digits a word at a time, in
// about a tenth of the instructions of a table read per byte.
func hexDigits(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x | x<<4) & 0x0f0f0f0f0f0f0f0f // byte k holds nibble k
	// '0' + n, and 'a'-'0'-10 = 39 more where n > 9 (n+6 carries into bit 4); no byte overflows
	over := (x + 0x0606060606060606) >> 4 & 0x0101010101010101
	return x + 0x3030303030303030 + over*39
}

// fwdIP is the client address after trusted real-IP recovery.
func (st *reqState) fwdIP() netip.Addr {
	switch {
	case st.fast != nil:
		return st.fin.fwd
	case st.h1w != nil:
		return st.hin.fwd
	}
	return st.sin.fwd
}

// HeaderValue lets the router read request headers without allocating.
func (st *reqState) HeaderValue(name string, n int) ([]byte, bool) {
	if st.fast != nil {
		h := &st.fast.Request.Header
		if n == 0 {
			v := h.Peek(name)
			return v, v != nil
		}
		i := 0
		for k, v := range h.All() {
			if headerNameEq(k, name) {
				if i == n {
					return v, true
				}
				i++
			}
		}
		return nil, false
	}
	if st.h1w != nil {
		i := 0
		for _, f := range st.hin.head.Fields {
			// the first value as the fasthttp engine's Peek finds it (case-insensitive),
			// later ones as its walk does ('-' and '_' alike)
			if (n == 0 && edge.EqualFold(f.Name, name)) || (n > 0 && headerNameEq(f.Name, name)) {
				if i == n {
					return f.Value, true
				}
				i++
			}
		}
		return nil, false
	}
	vs := st.sin.req.Header.Values(name)
	if n < len(vs) {
		return s2b(vs[n]), true
	}
	return nil, false
}

// headerNameEq compares a header name case-insensitively, '-' and '_' alike (Kong matches
// route headers through nginx variables, where both become '_').
func headerNameEq(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := 0; i < len(k); i++ {
		a, b := k[i], name[i]
		if a == b {
			continue
		}
		if a|0x20 == b|0x20 && a|0x20 >= 'a' && a|0x20 <= 'z' {
			continue
		}
		if (a == '-' || a == '_') && (b == '-' || b == '_') {
			continue
		}
		return false
	}
	return true
}

// begin fills what both front ends share once the client request is readable: canonical
// path, addresses, trust, request id. It reports false when the request was answered (400).
func (p *Proxy) begin(st *reqState, rawURI []byte, scheme string, listenPort int) bool {
	c := &st.pc
	c.Start = time.Now()
	c.Log = p.log
	st.trusted = st.peer.IsValid() && p.opts.Trust.Trusted(st.peer)
	in := c.In.Header()
	fwd := st.peer
	if st.trusted {
		fwd = p.opts.Trust.realIP(st.peer, in.Peek)
	}
	common := inCommon{scheme: scheme, listenPort: listenPort, peer: st.peer, fwd: fwd}
	if st.trusted {
		if v := in.Peek(p.opts.RequestIDHeader); len(v) > 0 {
			c.RequestID = string(v)
		}
	}
	if c.RequestID == "" {
		c.RequestID = st.newRequestID()
	}
	var err error
	st.path, err = router.NormalizePathWith(st.path[:0], rawPathOf(rawURI), p.opts.Path)
	common.path = st.path
	switch {
	case st.fast != nil:
		st.fin.inCommon = common
	case st.h1w != nil:
		st.hin.inCommon = common
	default:
		st.sin.inCommon = common
	}
	if err != nil || len(st.path) == 0 || st.path[0] != '/' {
		st.chain = st.snap.Global
		p.fail(st, 400, msgBadRequest)
		return false
	}
	return true
}

// serveSafe is serve with a panic anywhere below (a plugin, most likely) caught: it is
// logged with the request id and answered 500; the connection and its pools live on.
func (p *Proxy) serveSafe(st *reqState) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("panic while serving a request", "request_id", st.pc.RequestID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			st.wsConn = nil
			p.fail(st, 500, msgInternal)
		}
	}()
	p.serve(st)
}

// serve runs the phases up to the point where st.resp holds the response head.
func (p *Proxy) serve(st *reqState) {
	c := &st.pc
	snap := st.snap
	st.chain = snap.Global
	if lim := p.opts.MaxBodySize; lim > 0 && st.bodySource != nil {
		// the global body limit (nginx's client_max_body_size): an announced length over
		// it is refused before any plugin runs; a chunked body is cut when it crosses it
		if int64(st.bodySize) > lim {
			if st.fast != nil {
				st.fast.SetConnectionClose() // the body stays unread
			}
			if st.h1w != nil {
				st.h1w.SetClose()
			}
			p.fail(st, 413, msgPayloadTooBig)
			return
		}
		st.limited = limitedBody{r: st.bodySource, left: lim}
		st.bodySource = &st.limited
	}
	if err := snap.Global.Rewrite(c); err != nil {
		p.stopped(st, err)
		return
	}
	in := c.In
	st.rreq = router.Request{
		Method: s2b(in.Method()),
		Host:   s2b(in.Host()),
		Port:   in.ListenPort(),
		Path:   st.path,
		HTTPS:  in.Scheme() == "https",
		Header: st,
	}
	if !snap.Router.Match(&st.rreq, &st.match) {
		p.fail(st, 404, msgNoRoute)
		return
	}
	rt := st.match.Route.Value.(*snapshot.Route)
	st.route, st.chain = rt, rt.Chain
	c.Route = rt.Config
	c.Captures = &st.match.Captures
	if rt.Service != nil {
		c.Service = rt.Service.Config
	}
	if rt.HTTPSOnly && !p.forwardedHTTPS(st) {
		p.httpsRequired(st)
		return
	}
	p.prepareUpstream(st, rt)
	if err := rt.Chain.Access(c); err != nil {
		p.stopped(st, err)
		return
	}
	if rt.Service == nil {
		p.fail(st, 503, msgNoService)
		return
	}
	if st.upgrade {
		p.dialUpgrade(st)
		return
	}
	p.forward(st)
}

func (p *Proxy) forwardedHTTPS(st *reqState) bool {
	in := st.pc.In
	if in.Scheme() == "https" {
		return true
	}
	if st.trusted {
		return edge.EqualFold(in.Header().Peek("X-Forwarded-Proto"), "https")
	}
	return false
}

// httpsRequired answers a plain-http request on an https-only route (Kong §3.7): 426, or the
// route's redirect status with a Location on https.
func (p *Proxy) httpsRequired(st *reqState) {
	code := st.route.Config.HTTPSRedirectStatusCode
	if code == 0 || code == 426 {
		p.fail(st, 426, msgHTTPSRequired)
		st.resp.h.Set("Connection", "Upgrade")
		st.resp.h.Set("Upgrade", "TLS/1.2, HTTP/1.1")
		return
	}
	in := st.pc.In
	host := in.Host()
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	loc := "https://" + host + in.RawPath()
	if q := in.Query(); q != "" {
		loc += "?" + q
	}
	p.genReply(st, &plugin.Reply{Status: code, Headers: [][2]string{{"Location", loc}}})
}

// prepareUpstream fills the upstream request before the access phase (Kong's access.before):
// path per the service/route table, query as sent, Host, and the forwarding headers.
func (p *Proxy) prepareUpstream(st *reqState, rt *snapshot.Route) {
	c := &st.pc
	in := c.In
	st.up.reset(&st.upH)
	if st.bodySource != nil {
		st.up.body, st.up.bodySize = st.bodySource, st.bodySize
	}
	c.Up = &st.up
	svcPath := "/"
	if rt.Service != nil {
		svcPath = rt.Service.Path
	}
	strip := rt.Config.StripPath && len(st.match.Prefix) > 0
	st.upPath = router.UpstreamPath(st.upPath[:0], svcPath, st.path, st.match.Prefix, strip)
	st.up.path = b2s(st.upPath)
	st.up.query = in.Query()
	switch {
	case rt.Config.PreserveHost:
		st.up.host = in.Host()
	case rt.Service != nil:
		st.up.host = rt.Service.HostHeader
		st.hostAuto = rt.Service.TargetHost
	default:
		st.up.host = in.Host()
	}
	st.hostInit = st.up.host

	h := &st.upH
	fs := upstreamFields(h, p.ridKey)
	st.scratch = sanitizeUpstream(h, st.upgrade, fs, st.scratch)
	trusted := st.trusted
	ih := in.Header()
	// X-Forwarded-For is always appended to (Kong §4.4), the other X-Forwarded-* are only
	// believed from trusted peers. Every header the gateway sets replaces all the client's
	// fields of that name (setOnly): a second field would otherwise reach the upstream beside
	// the gateway's, and an upstream reading the last one would believe the client.
	//
	// fs was taken before anything was removed, when the upstream header still held every
	// field of the client's (each front end builds it from all of them): a name it lacks, the
	// client did not send, and its values need not be looked for (on the fasthttp and
	// net/http front ends the look-up normalises the name, which costs more than the rest).
	//
	// The values the gateway makes are built in the header's arena (Tail), not copied there.
	xff := h.Tail()
	if fs&fXForwardedFor != 0 {
		xff = st.appendClientValues(xff, "X-Forwarded-For")
	}
	if len(xff) > 0 {
		xff = append(xff, ", "...)
	}
	at := len(xff)
	xff = st.fwdIP().AppendTo(xff)
	setBuilt(h, "X-Forwarded-For", xff, fs&fXForwardedFor != 0)
	// the client address, formatted once: X-Real-Ip's value is the end of X-Forwarded-For's,
	// whose bytes stay where they were built (setBuilt)
	ip := xff[at:]
	if !trusted || len(ih.Peek("X-Forwarded-Proto")) == 0 {
		setOnlyString(h, "X-Forwarded-Proto", in.Scheme(), fs&fXForwardedProto != 0)
	}
	if !trusted || len(ih.Peek("X-Forwarded-Host")) == 0 {
		setBuilt(h, "X-Forwarded-Host", hostOnlyLower(h.Tail(), in.Host()), fs&fXForwardedHost != 0)
	}
	if !trusted || len(ih.Peek("X-Forwarded-Port")) == 0 {
		setBuilt(h, "X-Forwarded-Port", itoa(h.Tail(), in.ListenPort()), fs&fXForwardedPort != 0)
	}
	if !trusted || len(ih.Peek("X-Forwarded-Path")) == 0 {
		// the client's target, which stays where it is until the request is answered, as
		// the client's fields the header refers to do
		setOnlyString(h, "X-Forwarded-Path", in.RawPath(), fs&fXForwardedPath != 0)
	}
	if !trusted || len(ih.Peek("X-Forwarded-Prefix")) == 0 {
		if strip && !(len(st.match.Prefix) == 1 && st.match.Prefix[0] == '/') {
			setOnly(h, "X-Forwarded-Prefix", st.match.Prefix, fs&fXForwardedPrefix != 0)
		} else if fs&fXForwardedPrefix != 0 {
			h.Del("X-Forwarded-Prefix")
		}
	}
	setOnlyString(h, "X-Real-Ip", b2s(ip), fs&fXRealIP != 0) // in the arena: it stays
	st.scratch = st.scratch[:0]
	if fs&fVia != 0 {
		if st.scratch = st.appendClientValues(st.scratch, "Via"); len(st.scratch) > 0 {
			st.scratch = append(st.scratch, ", "...)
		}
	}
	st.scratch = p.setVia(h, st.scratch, in.ProtoMajor(), fs&fVia != 0)
	setOnlyString(h, p.ridKey, c.RequestID, fs&fRequestID != 0 || p.ridShared)
}

// setOnly sets the header named key to v, replacing every field of that name when there is
// one: there, from upstreamFields, taken in prepareUpstream before any field was set, when
// the upstream header held the client's fields only. Since then it lost fields
// (sanitizeUpstream) and gained the gateway's own, one name each, so a name that was not
// there has no field to replace, and appending saves the walk that looks for one.
//
// The names are the gateway's and the values are made of the client's checked values and
// the gateway's own, so they go in as trusted, unscanned.
func setOnly(h *h1.Header, key string, v []byte, there bool) {
	if there {
		h.SetTrusted(key, v)
		return
	}
	h.AddTrusted(key, v) // no field of that name to look for
}

// setBuilt is setOnly for a value built on h.Tail(). v's bytes stay as they are until h is
// reset: in the arena, where the add keeps them and a Set's copy lands on them, or, when
// building outgrew the arena, in memory of v's own that nothing else writes.
func setBuilt(h *h1.Header, key string, v []byte, there bool) {
	if there {
		h.SetTrusted(key, v)
		return
	}
	h.AddTrustedBuilt(key, v)
}

// setVia sets Via (RFC 9110 §7.6.3): prior, the earlier hops' values each followed by ", "
// (empty when there are none), then the gateway's own entry for the client's protocol; there
// as setOnly takes it. It returns prior's buffer for reuse.
func (p *Proxy) setVia(h *h1.Header, prior []byte, protoMajor int, there bool) []byte {
	via := p.via1
	if protoMajor == 2 {
		via = p.via2
	}
	if len(prior) == 0 {
		setOnlyString(h, "Via", via, there) // the gateway's own, fixed at start
		return prior
	}
	prior = append(prior, via...)
	setOnly(h, "Via", prior, there)
	return prior
}

// setOnlyString is setOnly for a value whose bytes stay as they are until the request is
// answered (a string, the client's target in the read buffer, the header's arena), which
// the header refers to instead of copying when it appends it.
func setOnlyString(h *h1.Header, key, v string, there bool) {
	if there {
		h.SetTrusted(key, s2b(v))
		return
	}
	h.AddTrustedNoCopy(s2b(key), s2b(v))
}

func escapePath(dst []byte, p string) []byte { return router.EscapeUpstreamPath(dst, s2b(p)) }

// hostOnlyLower is Host without its port, lower-cased (nginx's $host).
func hostOnlyLower(dst []byte, host string) []byte {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			host = host[:i+1]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	// copied in one append, then lowered in place: an append per byte cost twice as much
	at := len(dst)
	dst = append(dst, host...)
	for i := at; i < len(dst); i++ {
		if b := dst[i]; 'A' <= b && b <= 'Z' {
			dst[i] = b + 'a' - 'A'
		}
	}
	return dst
}

// stopped handles a phase that did not continue: an exit, or a plugin error (500, its text
// logged with the request id, never sent).
func (p *Proxy) stopped(st *reqState, err error) {
	if errors.Is(err, plugin.ErrExit) && st.pc.Reply() != nil {
		p.genReply(st, st.pc.Reply())
		return
	}
	if errors.Is(err, errBodyTooLarge) {
		p.fail(st, 413, msgPayloadTooBig)
		return
	}
	p.log.Error("plugin failed", "request_id", st.pc.RequestID, "error", err)
	p.fail(st, 500, msgInternal)
}

// fail answers with a gateway error in Kong's shape.
func (p *Proxy) fail(st *reqState, status int, msg string) {
	p.genReply(st, &plugin.Reply{Status: status, Error: true, Message: msg})
}

// genReply turns a reply into the response head and body (kong.response.exit / error).
func (p *Proxy) genReply(st *reqState, r *plugin.Reply) {
	st.gen = true
	resp := &st.resp
	st.held.release()
	resp.reset()
	resp.status = r.Status
	body := r.Body
	ctype := r.ContentType
	if r.Error {
		msg := r.Message
		if msg == "" {
			msg = defaultMessage(r.Status)
		}
		var accept []byte
		if st.pc.In != nil {
			accept = st.pc.In.Header().Peek("Accept")
		}
		st.scratch, ctype = appendErrorBody(st.scratch[:0], accept, msg, st.pc.RequestID)
		body = st.scratch
	}
	if ctype != "" {
		resp.h.Set("Content-Type", ctype)
	}
	for _, kv := range r.Headers {
		resp.h.Add(kv[0], kv[1])
	}
	if r.Status == 204 || r.Status == 304 {
		body = nil
	}
	resp.setBody(body)
	resp.h.Set("Server", p.server)
	st.scratch = itoa(st.scratch[:0], int(time.Since(st.pc.Start).Milliseconds()))
	resp.h.SetTrusted("X-Tollgate-Response-Latency", st.scratch)
}

// dateClock returns the instant an answer's Date field states: when the upstream's head
// arrived, the time RFC 9110 §6.6.1 asks a proxy to record for a response that came without
// one, and a reading the request already made; else, for an answer the gateway made itself
// (perhaps after a long failed wait, so Start may be far behind), the clock read now.
func (st *reqState) dateClock() time.Time {
	if t := st.pc.UpstreamFirstByte; !t.IsZero() {
		return t
	}
	return time.Now()
}

// forward picks a target and calls it, retrying on connection failures where that is safe.
func (p *Proxy) forward(st *reqState) {
	c := &st.pc
	svc := st.route.Service
	req := &st.up
	// The request line's target goes out exactly as built here: escaped path, and '?' plus
	// the query, also a bare trailing '?' (Kong §4.2).
	st.uri = appendEscapedURI(st.uri[:0], st.up.path, st.up.query, st.hadQuery)
	req.uri = st.uri
	idempotent := isIdempotent(req.method)
	// a streamed body is consumed by the first try; a buffered one (or none) can be resent
	resendable := st.up.body == nil
	key := p.hashKey(st, svc)
	fb, _ := svc.Balancer.(balancer.Feedback)
	svc.Budget.Enter()
	defer svc.Budget.Leave()
	var (
		err     error
		done    tried
		retried bool // holds a retry budget slot
		waited  time.Duration
		end     time.Time // when the last try ended
	)
	if d := svc.UpstreamDown; d != nil && d.Load() {
		// under healthchecks.threshold the upstream as a whole is down (Kong: "Balancer is
		// unhealthy"): fail at once rather than crowd the targets that are left
		err = balancer.ErrNoTarget
	}
	var svcTicket circuit.Ticket
	if sb := svc.Breaker; sb != nil && err == nil {
		var ok bool
		if svcTicket, ok = sb.Allow(); !ok {
			// the service's circuit is open: fail fast, the upstream gets room to recover
			p.log.Debug("service circuit open", "request_id", c.RequestID, "service", sb.Name())
			p.fail(st, 503, msgUnavailable)
			return
		}
	}
	// an upstream under its threshold, or an open service circuit, makes no try at all
	for try, skip := 0, err != nil; !skip; try++ {
		var (
			t     *balancer.Target
			tk    circuit.Ticket
			fails *snapshot.Failures
		)
		t, tk, fails, err = pickAllowed(svc, key, &done, try)
		if err != nil {
			break
		}
		done.add(t)
		st.target = t
		host := st.up.host
		if st.hostAuto && host == st.hostInit {
			host = svc.HostFor(t)
		}
		req.sendHost = host
		pool := svc.TransportFor(t).(*upstream.Pool)
		c.UpstreamStart = time.Now()
		err = roundTrip(pool, req, &st.resp, &st.held, svc.TryTimeout, c.UpstreamStart)
		end = time.Now() // the response head arrived, or the try failed
		took := end.Sub(c.UpstreamStart)
		waited += took
		if err != nil && st.clientFault() {
			// the client's body failed (stalled, malformed, too large): the target did
			// nothing wrong, so neither its health nor its circuit hear of it, and a
			// client that sends bad bodies cannot eject healthy targets
			if fails != nil {
				tk.Done(true)
			}
			if retried {
				svc.Budget.RetryDone()
			}
			if fb != nil {
				fb.Done(t, took, false)
			}
			break
		}
		p.report(svc, t, st.resp.status, err)
		if fails != nil {
			tk.Done(err == nil && !fails.Has(st.resp.status))
		}
		if retried {
			svc.Budget.RetryDone()
			retried = false
		}
		var again bool
		if err == nil {
			// nginx's proxy_next_upstream http_502/http_503 (an opt-in extension): drop this
			// answer and try again, only for requests that are safe to repeat and whose body
			// (if any) is buffered, so it can be sent again.
			again = idempotent && resendable && p.retryStatus(st.resp.status)
			if !again {
				// the pick ends with the response body (finish): least-connections counts it
				// in flight until then
				st.feedback = fb
				break
			}
		} else {
			again = retryable(err, idempotent, resendable)
		}
		if fb != nil {
			fb.Done(t, took, true)
		}
		if !again || try >= svc.Retries {
			break
		}
		if !svc.Budget.TryRetry() {
			p.log.Warn("retry budget exhausted", "request_id", c.RequestID, "service", svc.Config.Name, "target", t.Addr)
			break
		}
		retried = true
		if err == nil {
			p.log.Debug("retrying upstream on status", "request_id", c.RequestID, "target", t.Addr, "status", st.resp.status)
			st.held.release()
		} else {
			p.log.Debug("retrying upstream", "request_id", c.RequestID, "target", t.Addr, "error", err)
		}
	}
	if svc.Breaker != nil {
		// the service's outcome is the request's, after retries; a client that stopped
		// sending or sent too much is not the upstream's failure
		svcTicket.Done((err == nil && !svc.BreakerFailures.Has(st.resp.status)) || st.clientFault())
	}
	if err != nil {
		status, msg := upstreamStatus(err)
		switch {
		case st.slowBody.timedOut:
			// the client stopped sending its body, not the upstream its answer
			status, msg = 408, "Request timeout"
		case st.limited.tooLarge:
			status, msg = 413, msgPayloadTooBig
			if st.fast != nil {
				st.fast.SetConnectionClose()
			}
		case st.slowBody.broken:
			// a body that turned malformed after forwarding began: the client's fault
			status, msg = 400, msgBadRequest
			if st.fast != nil {
				st.fast.SetConnectionClose()
			}
		}
		if st.target != nil {
			p.log.Warn("upstream call failed", "request_id", c.RequestID, "target", st.target.Addr, "status", status, "waited_ms", waited.Milliseconds(), "error", err)
		}
		p.fail(st, status, msg)
		if st.target != nil {
			// how long the client waited on the upstream, over every try
			st.scratch = itoa(st.scratch[:0], int(waited.Milliseconds()))
			st.resp.h.SetTrusted("X-Tollgate-Upstream-Latency", st.scratch)
		}
		return
	}
	c.UpstreamFirstByte = end
	h := &st.resp.h
	// one walk finds which of the names below the upstream sent; a name it did not send is
	// appended without a search for fields to replace (setOnly)
	fs := upstreamFields(h, p.ridKey)
	st.scratch = sanitizeResponse(h, fs, st.scratch)
	// every Via field the upstream sent, in order, then ours; the names and values the
	// gateway adds here are its own or the reader's checked ones
	st.scratch = st.scratch[:0]
	if fs&fVia != 0 {
		for i := range h.Len() {
			if name, v := h.Field(i); edge.EqualFold(name, "via") {
				st.scratch = append(append(st.scratch, v...), ", "...)
			}
		}
	}
	st.scratch = p.setVia(h, st.scratch, c.In.ProtoMajor(), fs&fVia != 0)
	if fs&fServer == 0 {
		h.AddTrustedNoCopy(s2b("Server"), s2b(p.server))
	} else if len(h.Peek("Server")) == 0 {
		h.SetTrusted("Server", s2b(p.server))
	}
	setBuilt(h, "X-Tollgate-Upstream-Latency", itoa(h.Tail(), int(c.UpstreamFirstByte.Sub(c.UpstreamStart).Milliseconds())), fs&fUpstreamLatency != 0)
	setBuilt(h, "X-Tollgate-Proxy-Latency", itoa(h.Tail(), int(c.UpstreamStart.Sub(c.Start).Milliseconds())), fs&fProxyLatency != 0)
	// what head may rely on, while no plugin has had the header
	st.resp.noRequestID = fs&fRequestID == 0 && !p.ridShared
}

// report feeds the passive health checks with one try's outcome.
func (p *Proxy) report(svc *snapshot.Service, t *balancer.Target, status int, err error) {
	if p.opts.Health == nil || svc.Upstream == nil {
		return
	}
	switch {
	case err == nil:
		p.opts.Health.Report(svc.Upstream.Name, t, status, false, false)
	case isTimeout(err):
		p.opts.Health.Report(svc.Upstream.Name, t, 0, false, true)
	default:
		p.opts.Health.Report(svc.Upstream.Name, t, 0, true, false)
	}
}

func (p *Proxy) retryStatus(code int) bool {
	for _, s := range p.opts.RetryOnStatus {
		if s == code {
			return true
		}
	}
	return false
}

func isIdempotent(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// head runs the header phase and the headers every response carries. After it, st.resp's
// head is final and the front end sends it.
func (p *Proxy) head(st *reqState) {
	c := &st.pc
	c.Resp = &st.resp
	if err := p.headerFilter(st); err != nil {
		p.log.Error("header filter failed", "request_id", c.RequestID, "error", err)
		p.fail(st, 500, msgInternal)
	}
	if st.resp.noRequestID && !st.chain.HasHeaderFilters() {
		// the upstream sent no field of that name and no plugin could add one
		st.resp.h.AddTrustedNoCopy(s2b(p.ridKey), s2b(c.RequestID))
	} else {
		st.resp.h.SetTrusted(p.ridKey, s2b(c.RequestID))
	}
	if st.setCookie != "" {
		st.resp.h.Add("Set-Cookie", st.setCookie)
	}
	if st.chain.HasBodyFilters() {
		// filters may change the body's length
		st.resp.h.Del("Content-Length")
	}
}

// headerFilter runs the header phase, turning a panic into an error.
func (p *Proxy) headerFilter(st *reqState) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in header filter: %v", r)
		}
	}()
	return st.chain.HeaderFilter(&st.pc)
}

// body returns the response body as a reader and its size (>= 0 known, -1 chunked, -2 until
// the upstream closes), or nil when the response has none.
func (st *reqState) body() (io.Reader, int) {
	if st.held.active() {
		return &st.held, int(st.held.size())
	}
	if len(st.resp.body) == 0 {
		return nil, 0
	}
	st.reply.Reset(st.resp.body)
	return &st.reply, len(st.resp.body)
}

// finish runs the log phase and releases st. Called exactly once per request, after the last
// byte was handed to the client (or the client went away).
func (p *Proxy) finish(st *reqState) {
	st.pc.Resp = &st.resp
	func() {
		defer func() {
			if r := recover(); r != nil {
				p.log.Error("panic in log phase", "request_id", st.pc.RequestID, "panic", fmt.Sprint(r))
			}
		}()
		st.chain.Log(&st.pc)
	}()
	st.held.release()
	if st.feedback != nil {
		st.feedback.Done(st.target, time.Since(st.pc.UpstreamStart), false)
	}
	p.release(st)
}

// bodyPipe streams the response body to the client through the body filters. Its Close
// ends the request (log phase, release).
type bodyPipe struct {
	st      *reqState
	src     io.Reader
	filter  bool
	pending []byte
	buf     []byte
	eof     bool
	closed  bool
}

func (b *bodyPipe) init(st *reqState, src io.Reader) {
	b.st, b.src, b.filter = st, src, st.chain.HasBodyFilters()
	b.pending, b.eof, b.closed = nil, false, false
	if b.filter && b.buf == nil {
		b.buf = make([]byte, 32<<10)
	}
}

func (b *bodyPipe) Read(p []byte) (int, error) {
	if !b.filter {
		if b.src == nil {
			return 0, io.EOF
		}
		return b.src.Read(p)
	}
	for len(b.pending) == 0 {
		if b.eof {
			return 0, io.EOF
		}
		var n int
		var err error
		if b.src != nil {
			n, err = b.src.Read(b.buf)
		} else {
			err = io.EOF
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		last := err == io.EOF
		out, ferr := b.filterChunk(b.buf[:n], last)
		if ferr != nil {
			return 0, ferr
		}
		b.pending = out
		b.eof = last
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

func (b *bodyPipe) filterChunk(chunk []byte, last bool) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in body filter: %v", r)
			b.st.p.log.Error("panic in body filter", "request_id", b.st.pc.RequestID, "panic", fmt.Sprint(r))
		}
	}()
	return b.st.chain.BodyFilter(&b.st.pc, chunk, last)
}

// Close ends the request once; fasthttp calls it after writing the body stream.
func (b *bodyPipe) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.st.p.finish(b.st)
	return nil
}
