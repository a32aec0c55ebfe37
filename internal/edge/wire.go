package edge

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// CheckRequest is what the HTTP/1.1 handler calls first: Check on the parsed
// head, then the wire verdict for this request from the connection (see
// NewListener). A connection not accepted through NewListener is refused
// with 500 unless p.AllowUnwired, so a wiring mistake shows up at once.
//
// fasthttp's MaxConnsPerIP wraps connections in a type of its own, which
// hides the *Conn; leave it unset and limit per IP in the listener.
func (p *Policy) CheckRequest(rc *fasthttp.RequestCtx) (Verdict, Drops) {
	v, d := p.Check(&rc.Request.Header)
	if !v.OK() {
		return v, Drops{}
	}
	c := connOf(rc.Conn())
	switch {
	case c != nil:
		if v = c.Verdict(rc.ConnRequestNum()); !v.OK() {
			return v, Drops{}
		}
	case !p.AllowUnwired:
		return refuse(500, ReasonUnwired), Drops{}
	}
	return v, d
}

// NewListener wraps ln so every accepted connection is a *Conn that watches
// the bytes fasthttp reads. Wrap outermost, directly under the fasthttp
// server, so the tracker sees exactly what fasthttp parses:
//
//	srv.Serve(edge.NewListener(sniffListener{Listener: ln}))
func NewListener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return NewConn(c), nil
}

// NewConn wraps one connection. A TLS connection (one with Handshake and
// ConnectionState, as *tls.Conn has) keeps those methods, so fasthttp still
// does the handshake, ALPN and RequestCtx.IsTLS through the wrapper.
func NewConn(c net.Conn) net.Conn {
	w := &Conn{Conn: c}
	if t, ok := c.(tlsConner); ok {
		return &tlsConn{Conn: w, tls: t}
	}
	return w
}

// Conn tracks request heads as they are read, to see what fasthttp reads
// but does not keep.
//
// Why it exists: fasthttp keeps the header block as received
// (RequestHeader.RawHeaders) but not the request line or its terminator, and
// it accepts a bare LF there ("GET / HTTP/1.1\nHost: a"), as it does a bare
// LF after the last chunk of a chunked body. Neither is visible to a handler.
// Conn runs a small state machine over every byte read (no copy, no
// buffering) that finds each head, checks its line endings, works out its
// body framing the way fasthttp does for the framings Check lets through
// (Content-Length, or exactly chunked), and skips the body (O(1) per
// Content-Length body or chunk) to find the next head. A fault is recorded
// against the number of the request it belongs to, fasthttp's
// RequestCtx.ConnRequestNum, and the tracker stops there: the request with
// that number and every later one on the connection is refused. A fault in a
// chunked body belongs to the request that carries it: when the bytes arrive
// before its handler runs (a request written in one go, as smuggling payloads
// are) it is refused before anything is forwarded; when they arrive later it
// is already being served, and every later request on the connection is
// refused.
type Conn struct {
	net.Conn
	mu sync.Mutex // net.Conn allows concurrent Reads; the tracker is one stream
	w  wire
	// base is how many requests the connection carried before the engine last
	// started serving it (see Rebase): the engine numbers requests per serve.
	base uint64
}

// NetConn returns the wrapped connection (as tls.Conn.NetConn does), for code that must reach
// the socket underneath, such as the server's lingering close.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Read reads from the connection and feeds the bytes to the tracker.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.w.feed(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// Verdict is what the wire showed up to and including request number reqNum
// (1-based, counted since the last Rebase). Status 0 means nothing was wrong.
func (c *Conn) Verdict(reqNum uint64) Verdict { return c.w.verdict(c.base + reqNum) }

// Rebase restarts request numbering for a connection the engine serves again
// from request number 1 (the server parks idle keep-alive connections and
// hands them back to the engine when a request arrives). Call it only between
// requests, with every head read so far served, and before the engine reads
// again.
func (c *Conn) Rebase() { c.base = c.w.done.Load() }

type tlsConner interface {
	Handshake() error
	ConnectionState() tls.ConnectionState
}

// tlsConn is a *Conn over a TLS connection. It is a separate type because
// fasthttp treats any conn with these two methods as TLS.
type tlsConn struct {
	*Conn
	tls tlsConner
}

func (c *tlsConn) Handshake() error                     { return c.tls.Handshake() }
func (c *tlsConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

func connOf(c net.Conn) *Conn {
	switch c := c.(type) {
	case *Conn:
		return c
	case *tlsConn:
		return c.Conn
	}
	return nil
}

// maxWireHead bounds one head, or one trailer section, on the wire. It is
// above any sane fasthttp ReadBufferSize and Envoy's 60 KiB; past it the
// stream is not HTTP the tracker can follow (a hijacked WebSocket, say), so
// it stops instead of scanning on.
const maxWireHead = 64 << 10

// maxChunkLine bounds a chunk-size line, extensions included, as Go's
// net/http does (4 KiB, internal/chunked.go maxLineLength). fasthttp skips
// extensions of any length, so a client could make the gateway read
// megabytes of them for a 1-byte chunk (CVE-2023-39326 class).
const maxChunkLine = 4 << 10

type wireState uint8

const (
	stHead        wireState = iota // request line, fields, blank line
	stBody                         // Content-Length body, w.remain bytes left
	stChunkSize                    // hex digits of a chunk size
	stChunkExt                     // after the size: OWS, ";ext", up to CR
	stChunkSizeLF                  // CR seen after the size line
	stChunkData                    // chunk data, w.remain bytes left
	stChunkDataCR                  // CRLF after chunk data
	stChunkDataLF
	stTrailer // trailer fields after the last chunk, up to the blank line
	stStopped // a fault was recorded; the rest of the stream is ignored
)

// Fault codes, stored in the low byte of wire.bad.
const (
	faultBareLF uint8 = iota + 1
	faultBareCR
	faultTooLarge
	faultObsFold
	faultFraming
	faultChunk
)

func faultVerdict(code uint8) Verdict {
	switch code {
	case faultBareLF:
		return refuse(400, ReasonWireBareLF)
	case faultBareCR:
		return refuse(400, ReasonWireBareCR)
	case faultTooLarge:
		return refuse(431, ReasonWireHeadTooLarge)
	case faultObsFold:
		return refuse(400, ReasonObsFold)
	case faultFraming:
		return refuse(400, ReasonWireFraming)
	}
	return refuse(400, ReasonWireChunk)
}

const (
	candCL = 1 << iota
	candTE
)

const (
	kindOther = iota
	kindCL
	kindTE
)

// Value phases while reading a Content-Length or Transfer-Encoding value.
const (
	vLead  = iota // leading OWS
	vToken        // digits, or letters of "chunked"
	vTrail        // trailing OWS
	vBad
)

// wire is the tracker. Only feed writes it; done and bad are atomics because
// the handler goroutine reads them.
type wire struct {
	done atomic.Uint64 // heads completely received
	bad  atomic.Uint64 // head number<<8 | fault code; 0 = none
	track
}

// track is the per-head scanning state; its zero value is "at the start of
// a head", so a new head starts with w.track = track{}.
type track struct {
	st    wireState
	n     int  // bytes of the current head or trailer section
	line  int  // bytes of the current line, CR excluded
	lines int  // complete lines of the current head, request line included
	cr    bool // the previous byte was CR

	// the field line being read
	inValue bool
	cand    uint8 // names still matching: candCL, candTE
	ni      int   // name bytes seen
	kind    uint8
	vphase  uint8
	vi      int   // digits, or bytes of "chunked", matched
	num     int64 // Content-Length value

	// framing of the current head
	cls, tes     int
	cl           int64
	clBad, teBad bool

	// body
	remain     int64
	size       int64
	sizeDigits int
	extOWS     bool
	inExt      bool
	chunkLine  int  // bytes of the current chunk-size line
	trValue    bool // in the value of a trailer field
}

func (w *wire) verdict(reqNum uint64) Verdict {
	if b := w.bad.Load(); b != 0 && b>>8 <= reqNum {
		return faultVerdict(uint8(b))
	}
	if w.done.Load() < reqNum {
		// fasthttp finished a head the tracker has not: the two disagree
		// on where a body ended, which is what smuggling needs.
		return refuse(400, ReasonWireDesync)
	}
	return Verdict{}
}

// fail records a fault in the head being read (request done+1).
func (w *wire) fail(code uint8) {
	w.bad.Store((w.done.Load()+1)<<8 | uint64(code))
	w.st = stStopped
}

// failBody records a fault in the body of the last head read (request done),
// the request that carries it.
func (w *wire) failBody(code uint8) {
	w.bad.Store(w.done.Load()<<8 | uint64(code))
	w.st = stStopped
}

func (w *wire) feed(b []byte) {
	for i := 0; i < len(b); {
		switch w.st {
		case stStopped:
			return
		case stBody, stChunkData:
			k := min(int64(len(b)-i), w.remain)
			i += int(k)
			w.remain -= k
			if w.remain == 0 {
				if w.st == stBody {
					w.startHead()
				} else {
					w.st = stChunkDataCR
				}
			}
		case stHead:
			if w.plain() {
				// Most head bytes need nothing but a look for the line
				// end: take them in a tight loop.
				k := lineEnd(b[i:])
				w.n += k
				w.line += k
				i += k
				if w.n > maxWireHead {
					w.fail(faultTooLarge)
					return
				}
				if i == len(b) {
					return
				}
			}
			w.headByte(b[i])
			i++
		default:
			w.step(b[i])
			i++
		}
	}
}

// plain reports whether the next head bytes, up to the line end, carry
// nothing the tracker acts on: the rest of the request line, or the value of
// a field that is not Content-Length or Transfer-Encoding.
func (w *wire) plain() bool {
	return !w.cr && w.line > 0 && (w.lines == 0 || (w.inValue && (w.kind == kindOther || w.vphase == vBad)))
}

func lineEnd(b []byte) int {
	for i, c := range b {
		if c == '\r' || c == '\n' {
			return i
		}
	}
	return len(b)
}

func (w *wire) startHead() { w.track = track{} }

func (w *wire) step(c byte) {
	switch w.st {
	case stHead:
		w.headByte(c)
	case stChunkSize:
		w.chunkLine++
		if v := unhex(c); v >= 0 {
			// fasthttp reads at most 15 hex digits on 64-bit.
			if w.sizeDigits == 15 {
				w.failBody(faultChunk)
				return
			}
			w.size = w.size<<4 | int64(v)
			w.sizeDigits++
			return
		}
		if w.sizeDigits == 0 {
			w.failBody(faultChunk)
			return
		}
		w.st = stChunkExt
		w.chunkExtByte(c)
	case stChunkExt:
		w.chunkLine++
		if w.chunkLine > maxChunkLine {
			w.failBody(faultChunk)
			return
		}
		w.chunkExtByte(c)
	case stChunkSizeLF:
		if c != '\n' {
			w.failBody(faultChunk)
			return
		}
		if w.size == 0 {
			w.st, w.n, w.line, w.trValue = stTrailer, 0, 0, false
			return
		}
		w.st, w.remain = stChunkData, w.size
	case stChunkDataCR:
		if c != '\r' {
			w.failBody(faultChunk)
			return
		}
		w.st = stChunkDataLF
	case stChunkDataLF:
		if c != '\n' {
			w.failBody(faultChunk)
			return
		}
		w.startChunk()
	case stTrailer:
		w.trailerByte(c)
	}
}

// chunkExtByte follows fasthttp's parseChunkSize: OWS after the size, or a
// ';' right after the digits starting an extension, then anything but
// controls up to CRLF.
func (w *wire) chunkExtByte(c byte) {
	switch {
	case c == '\r':
		w.st = stChunkSizeLF
	case w.inExt:
		if (c < ' ' && c != '\t') || c == 0x7f {
			w.failBody(faultChunk)
		}
	case c == ' ' || c == '\t':
		w.extOWS = true
	case c == ';' && !w.extOWS:
		w.inExt = true
	default:
		w.failBody(faultChunk)
	}
}

// startChunk resets the chunk-size line state.
func (w *wire) startChunk() {
	w.st, w.size, w.sizeDigits, w.extOWS, w.inExt, w.chunkLine = stChunkSize, 0, 0, false, false, 0
}

// trailerByte reads the trailer section. Its fields are held to the rules
// Check applies to header fields (RFC 9112 §7.1.2): a token name, a colon,
// a value without controls, no folding. fasthttp accepts a space inside a
// trailer name; a peer may not, and a trailer section the two split
// differently is a desync like any other.
func (w *wire) trailerByte(c byte) {
	w.n++
	if w.n > maxWireHead {
		w.failBody(faultChunk)
		return
	}
	if w.cr {
		w.cr = false
		if c != '\n' {
			w.failBody(faultChunk)
			return
		}
		if w.line == 0 {
			w.startHead()
			return
		}
		if !w.trValue {
			w.failBody(faultChunk) // no colon
			return
		}
		w.line, w.trValue = 0, false
		return
	}
	switch {
	case c == '\r':
		w.cr = true
		return
	case c == '\n':
		w.failBody(faultChunk)
		return
	case w.trValue:
		if (c < ' ' && c != '\t') || c == 0x7f {
			w.failBody(faultChunk)
			return
		}
	case c == ':':
		if w.line == 0 {
			w.failBody(faultChunk) // empty name
			return
		}
		w.trValue = true
	case !isTchar(c):
		// includes SP and HTAB, so obs-fold and "Name : v" are refused
		w.failBody(faultChunk)
		return
	}
	w.line++
}

func (w *wire) headByte(c byte) {
	w.n++
	if w.n > maxWireHead {
		w.fail(faultTooLarge)
		return
	}
	if w.cr {
		w.cr = false
		if c != '\n' {
			w.fail(faultBareCR)
			return
		}
		w.endLine()
		return
	}
	switch c {
	case '\r':
		w.cr = true
		return
	case '\n':
		w.fail(faultBareLF)
		return
	}
	if w.lines == 0 {
		w.line++ // the request line; fasthttp checks its syntax
		return
	}
	if w.line == 0 {
		if c == ' ' || c == '\t' {
			w.fail(faultObsFold)
			return
		}
		w.inValue, w.cand, w.ni, w.kind, w.vphase, w.vi, w.num = false, candCL|candTE, 0, kindOther, vLead, 0, 0
	}
	w.line++
	w.fieldByte(c)
}

func (w *wire) endLine() {
	switch {
	case w.line == 0 && w.lines == 0:
		// An empty line before the request line: RFC 9112 §2.2 lets a
		// server ignore it, and fasthttp does.
		return
	case w.line == 0:
		w.endHead()
		return
	case w.lines > 0:
		w.endField()
	}
	w.lines++
	w.line = 0
}

const (
	nameCL = "content-length"
	nameTE = "transfer-encoding"
)

func (w *wire) fieldByte(c byte) {
	if !w.inValue {
		if c == ':' {
			w.inValue = true
			switch {
			case w.cand&candCL != 0 && w.ni == len(nameCL):
				w.kind = kindCL
			case w.cand&candTE != 0 && w.ni == len(nameTE):
				w.kind = kindTE
			}
			return
		}
		lc := lower(c)
		if w.cand&candCL != 0 && (w.ni >= len(nameCL) || nameCL[w.ni] != lc) {
			w.cand &^= candCL
		}
		if w.cand&candTE != 0 && (w.ni >= len(nameTE) || nameTE[w.ni] != lc) {
			w.cand &^= candTE
		}
		w.ni++
		return
	}
	if w.kind == kindOther || w.vphase == vBad {
		return
	}
	if c == ' ' || c == '\t' {
		if w.vphase == vToken {
			w.vphase = vTrail
		}
		return
	}
	if w.vphase == vTrail {
		w.vphase = vBad
		return
	}
	switch w.kind {
	case kindCL:
		if c < '0' || c > '9' || w.vi == 18 {
			w.vphase = vBad
			return
		}
		w.num = w.num*10 + int64(c-'0')
	case kindTE:
		if w.vi == len("chunked") || lower(c) != "chunked"[w.vi] {
			w.vphase = vBad
			return
		}
	}
	w.vphase = vToken
	w.vi++
}

func (w *wire) endField() {
	switch w.kind {
	case kindCL:
		w.cls++
		if w.vphase == vLead || w.vphase == vBad {
			w.clBad = true
		}
		w.cl = w.num
	case kindTE:
		w.tes++
		if w.vphase == vLead || w.vphase == vBad || w.vi != len("chunked") {
			w.teBad = true
		}
	}
}

// endHead decides the body framing the way fasthttp does for the heads Check
// accepts; anything else (both headers, repeats, a coding but chunked) is
// refused by fasthttp or Check and closes the connection, so the tracker
// stops rather than guess.
func (w *wire) endHead() {
	if w.cls > 1 || w.tes > 1 || w.clBad || w.teBad || (w.cls > 0 && w.tes > 0) {
		w.fail(faultFraming)
		return
	}
	head := w.done.Load() + 1
	switch {
	case w.tes == 1:
		w.startChunk()
	case w.cl > 0:
		w.st, w.remain = stBody, w.cl
	default:
		w.startHead()
	}
	w.done.Store(head)
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
