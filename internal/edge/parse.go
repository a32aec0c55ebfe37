package edge

import "bytes"

// Field is one header field of a parsed request head. Both slices point into
// the buffer handed to ParseRequest; Value has no surrounding whitespace.
type Field struct {
	Name, Value []byte
}

// RequestHead is a request head parsed in place by Policy.ParseRequest: every
// slice in it points into the caller's buffer and is good for as long as
// those bytes are. It is the first part of the gateway's own HTTP/1.1 codec
// (docs/decisions/0002-http1-engine-revisited.md): the head is parsed once,
// with every rule of Check applied in the same pass, instead of fasthttp's
// parse followed by Check's and the wire tracker's scans of the same bytes.
//
// Reuse one RequestHead per connection and Reset it between requests: Fields
// keeps its capacity, so a parse does not allocate.
type RequestHead struct {
	Method, Target, Proto []byte
	// Fields are the header fields in the order received. Under the "drop"
	// underscore policy the fields whose name holds '_' are left out.
	Fields []Field
	// Host is the Host field's value; HasHost says there was one (HTTP/1.0
	// may omit it, and its value may then be empty).
	Host    []byte
	HasHost bool
	// ContentLength is the body's length from Content-Length, -1 when the
	// request has none. A request with neither Content-Length nor Chunked
	// has no body (RFC 9112 §6.3).
	ContentLength int64
	// Chunked says the body is chunked: Transfer-Encoding is "chunked".
	Chunked bool
	// HTTP11 is false for HTTP/1.0.
	HTTP11 bool
	// Close says the connection ends after this exchange: Connection:
	// close, or HTTP/1.0 without Connection: keep-alive.
	Close bool
	// Upgrade says the client asks for a protocol switch: an Upgrade field
	// with "upgrade" among the Connection options (RFC 9110 §7.8).
	Upgrade bool
	// Expect100 says the client waits for 100 Continue before its body;
	// ExpectOther that it sent an expectation the gateway does not know,
	// which RFC 9110 §10.1.1 lets a server answer 417.
	Expect100, ExpectOther bool

	hd     head
	drops  Drops
	start  int // where the request line begins (after leading empty lines)
	fields int // where the field block begins
	next   int // the next line to parse
	line   bool

	// Where the parts are, as offsets into buf: a head parsed over several
	// calls may have moved between them (bufio.Reader slides its unread
	// bytes to the front when it fills), so slices are only taken from the
	// buffer of the call that completes the head.
	method, target, proto, host span
	spans                       []fieldSpan
}

type span struct{ from, to int }

func (s span) of(buf []byte) []byte { return buf[s.from:s.to:s.to] }

type fieldSpan struct{ name, value span }

// spanOf locates sub, a slice of line, given where line starts in buf. Both
// share line's array, whose capacity shrinks by exactly sub's offset.
func spanOf(lineStart int, line, sub []byte) span {
	from := lineStart + cap(line) - cap(sub)
	return span{from, from + len(sub)}
}

// Reset clears h for the next request, keeping the capacity of Fields.
func (h *RequestHead) Reset() {
	*h = RequestHead{Fields: h.Fields[:0], spans: h.spans[:0]}
}

// Drops names the fields left out of Fields under the "drop" underscore
// policy, for logging. Like Fields it points into the parsed buffer.
func (h *RequestHead) Drops() Drops { return h.drops }

// ParseRequest parses the request head at the start of buf into h and holds
// it to every rule Check applies, in one pass over the bytes.
//
//   - n > 0, v.OK(): the head is complete and acceptable; it takes buf[:n]
//     (empty lines before the request line included), and the body, if any,
//     starts at buf[n].
//   - n == 0, v.OK(): the head is not complete. Read more, append it to the
//     same buffer and call again with the same h: the lines already parsed
//     are not parsed again, so a head trickling in a byte at a time costs
//     no more than one arriving whole.
//   - !v.OK(): answer v.Status and close the connection (v.Close is always
//     true). A head that outgrows MaxHeaderBytes is refused before it is
//     complete, and so is a bare LF, as soon as it arrives.
//
// buf must hold the bytes of earlier calls unchanged at the same offsets
// from its start; it may have moved in memory. Every slice in h points into
// the buf of the call that completed the head. ParseRequest does not
// allocate once h has held a head with as many fields.
func (p *Policy) ParseRequest(buf []byte, h *RequestHead) (n int, v Verdict) {
	limit := p.maxHeaderBytes()
	pos := h.next
	if !h.line {
		// RFC 9112 §2.2: a server should ignore at least one empty line
		// before a request line; a bare LF there is refused like anywhere.
		for pos+1 < len(buf) && buf[pos] == '\r' && buf[pos+1] == '\n' && pos < limit {
			pos += 2
		}
		h.start, h.next = pos, pos
	}
	for {
		lf := bytes.IndexByte(buf[pos:], '\n')
		if lf < 0 {
			if len(buf)-h.start > limit {
				return 0, refuse(431, ReasonHeadTooLarge)
			}
			return 0, Verdict{}
		}
		lf += pos
		if lf-h.start+1 > limit {
			return 0, refuse(431, ReasonHeadTooLarge)
		}
		if lf == pos || buf[lf-1] != '\r' {
			// RFC 9112 §2.2 lets a recipient accept a bare LF; a peer that
			// splits only on CRLF would read other lines.
			return 0, refuse(400, ReasonBareLF)
		}
		lineStart := pos
		line := buf[pos : lf-1]
		pos = lf + 1
		h.next = pos
		if !h.line {
			if v := p.requestLine(lineStart, line, h); !v.OK() {
				return 0, v
			}
			h.line, h.fields = true, pos
			continue
		}
		if len(line) == 0 {
			if v := p.complete(buf, pos, h); !v.OK() {
				return 0, v
			}
			return pos, Verdict{}
		}
		hosts := h.hd.hosts
		name, value, underscore, v := p.scanLine(line, &h.hd)
		if !v.OK() {
			return 0, v
		}
		if h.hd.hosts != hosts {
			h.host = spanOf(lineStart, line, value)
		}
		if underscore && p.underscore() == UnderscoreDrop {
			continue
		}
		h.spans = append(h.spans, fieldSpan{spanOf(lineStart, line, name), spanOf(lineStart, line, value)})
	}
}

// requestLine splits "method SP target SP version" (RFC 9112 §3), exactly one
// SP apart, and checks the parts that need no field.
func (p *Policy) requestLine(lineStart int, line []byte, h *RequestHead) Verdict {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return refuse(400, ReasonBadRequestLine)
	}
	method, rest := line[:sp], line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return refuse(400, ReasonBadRequestLine)
	}
	target, proto := rest[:sp], rest[sp+1:]
	if v := p.checkLine(method, target, proto, 0); !v.OK() {
		if v.Reason == ReasonVersion && !looksLikeVersion(proto) {
			// "GET / x" is a malformed line, not an unknown version.
			return refuse(400, ReasonBadRequestLine)
		}
		return v
	}
	h.method, h.target, h.proto = spanOf(lineStart, line, method), spanOf(lineStart, line, target), spanOf(lineStart, line, proto)
	h.HTTP11 = proto[len(proto)-1] == '1'
	return Verdict{}
}

// looksLikeVersion reports the shape HTTP-version has (RFC 9112 §2.3),
// "HTTP/" DIGIT "." DIGIT, whatever the digits.
func looksLikeVersion(b []byte) bool {
	return len(b) == 8 && string(b[:5]) == "HTTP/" &&
		'0' <= b[5] && b[5] <= '9' && b[6] == '.' && '0' <= b[7] && b[7] <= '9'
}

// complete takes the head's slices from buf, applies the whole-head rules
// and fills in what the body's framing and the connection's fate depend on;
// the head ends at buf[end].
func (p *Policy) complete(buf []byte, end int, h *RequestHead) Verdict {
	hd := &h.hd
	h.Method, h.Target, h.Proto = h.method.of(buf), h.target.of(buf), h.proto.of(buf)
	if hd.hosts > 0 {
		hd.host = h.host.of(buf)
	}
	for _, fs := range h.spans {
		h.Fields = append(h.Fields, Field{Name: fs.name.of(buf), Value: fs.value.of(buf)})
	}
	v, drops := p.finish(h.Method, h.Target, h.HTTP11, buf[h.fields:end], hd)
	if !v.OK() {
		return v
	}
	h.drops = drops
	h.Host, h.HasHost = hd.host, hd.hosts == 1
	h.ContentLength = -1
	if hd.cls == 1 {
		h.ContentLength = hd.cl
	}
	h.Chunked = hd.chunked == 1
	h.Close = hd.connClose || (!h.HTTP11 && !hd.connKeepAlive)
	// RFC 9110 §7.8 and §10.1.1: Upgrade and 100-continue are ignored in
	// an HTTP/1.0 request.
	h.Upgrade = h.HTTP11 && hd.connUpgrade && hd.upgrades > 0
	h.Expect100 = h.HTTP11 && hd.expect100
	h.ExpectOther = h.HTTP11 && hd.expectOther
	return Verdict{}
}
