package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"tollgate/internal/edge"
)

// This file is the client side of the codec (ADR 0002, step 3): reading an
// upstream's response. An upstream is trusted less than it seems: a response
// whose framing the gateway reads one way while a cache, a client or the next
// hop reads it another desynchronises the connection, and the next response
// on a pooled connection lands on another client's request (response
// splitting, RFC 9112 §11.1). So the head is held to the same rules as a
// request head (EDGE.md): CRLF only, no obs-fold, token names, no controls in
// values, one Content-Length as 1*DIGIT, Transfer-Encoding only as a lone
// "chunked" and never beside Content-Length, as Envoy, HAProxy and nginx
// hold it.

// ErrBadResponse is what a malformed response head or body matches
// (errors.Is); the error's text names the rule it broke, never the bytes.
// The connection cannot be trusted to frame another response after it.
var ErrBadResponse = errors.New("h1: malformed upstream response")

// badResponse is a refusal. Its reasons are constants, so a refusal costs no
// allocation either: an upstream sending garbage must not cost more than one
// sending a response.
type badResponse string

func (e badResponse) Error() string { return ErrBadResponse.Error() + ": " + string(e) }
func (e badResponse) Unwrap() error { return ErrBadResponse }

// Reasons for refusing a response.
const (
	errStatusLine     = badResponse("malformed status line")
	errVersion        = badResponse("unsupported HTTP version")
	errStatusCode     = badResponse("status code out of range")
	errReason         = badResponse("control character in reason phrase")
	errBareLF         = badResponse("bare LF line ending")
	errBareCR         = badResponse("bare CR")
	errHeadTooLarge   = badResponse("response head larger than the read buffer")
	errTooManyFields  = badResponse("too many header fields")
	errObsFold        = badResponse("obsolete line folding")
	errNoColon        = badResponse("field line without a colon")
	errEmptyName      = badResponse("empty field name")
	errSpaceName      = badResponse("whitespace before the colon")
	errBadName        = badResponse("invalid character in field name")
	errBadValue       = badResponse("invalid character in field value")
	errDupCL          = badResponse("duplicate Content-Length")
	errListCL         = badResponse("comma-separated Content-Length")
	errBadCL          = badResponse("invalid Content-Length")
	errDupTE          = badResponse("several Transfer-Encoding fields")
	errTEUnknown      = badResponse("transfer coding other than chunked")
	errCLAndTE        = badResponse("both Content-Length and Transfer-Encoding")
	errTEHTTP10       = badResponse("Transfer-Encoding in an HTTP/1.0 response")
	errCLNoBody       = badResponse("Content-Length in a 1xx response, or other than 0 in a 204")
	errTENoBody       = badResponse("Transfer-Encoding in a 1xx, 204 or 304 response")
	errTrailerFraming = badResponse("Trailer announces a framing field")
	errTooManyInterim = badResponse("too many interim responses")
	errChunked        = badResponse("malformed chunked body")
	errChunkOverhead  = badResponse("chunked body with too much non-data")
)

// maxInterim bounds the interim (1xx) responses skipped before the final
// one. Each is bounded by the buffer, but an upstream sending them without end
// would hold the request with every read on time. Real servers send one 100
// and one or two 103s; 102 Processing repeated for a long WebDAV operation is
// the only use for more. net/http bounds their bytes instead (the Transport's
// response header limit, 10 MiB by default, over all of them).
const maxInterim = 32

// ResponseHead is an upstream response head parsed in place: slices point
// into the bufio.Reader's buffer and are valid only until the next read from
// it. Reuse one per connection: ReadResponseHead resets it and keeps the
// capacity of Fields, so reading a head does not allocate.
type ResponseHead struct {
	Status int
	Reason []byte
	// HTTP11 is true for "HTTP/1.1", false for "HTTP/1.0".
	HTTP11 bool
	// Fields are the header fields in the order received, names as sent (no
	// normalisation), values without surrounding SP and HTAB. Framing and
	// hop-by-hop fields are among them: removing those is the proxy's job.
	Fields []edge.Field
	// Raw is the whole head as received, its blank line included: the bytes
	// Reason and Fields point into (Header.AddFieldsFrom copies it once).
	Raw []byte
	// ContentLength is the Content-Length value, -1 when there is none. On
	// a response to HEAD and on a 304 it describes the body a GET would
	// have had, not this one: ResponseBody frames the body, and its Size is
	// the body's length.
	ContentLength int64
	// Chunked says Transfer-Encoding is chunked.
	Chunked bool
	// Close says the connection ends after this response: "Connection:
	// close", or HTTP/1.0 without "Connection: keep-alive". A body read
	// until the connection closes (ResponseBody.Size -2) ends it too.
	Close bool
}

// Reset clears h, keeping the capacity of Fields.
func (h *ResponseHead) Reset() {
	*h = ResponseHead{Fields: h.Fields[:0], ContentLength: -1}
}

// ReadResponseHead reads the next response head from br into h. Interim 1xx
// responses other than 101 (100 Continue, 102, 103 Early Hints) are read,
// held to the same rules, and skipped, as nginx and Kong drop them; a 101 is
// returned to the caller, and what follows it on the connection is the new
// protocol's.
//
// The whole head must fit in br's buffer (br.Size()): a larger head is an
// error, so br's size is the head limit. A malformed head is an error that
// matches ErrBadResponse. A connection that ends before the head's first
// byte returns io.EOF unchanged (nothing of a response came: the request may
// be retried if it is safe to); one that ends inside a head, or after an
// interim response, returns io.ErrUnexpectedEOF. Other errors of the
// underlying reader, timeouts included, are returned as they are.
//
// It does not allocate once h.Fields has grown.
func ReadResponseHead(br *bufio.Reader, h *ResponseHead) error {
	for interim := 0; ; interim++ {
		// Most heads arrive whole: parse what is buffered in one pass, and
		// take the result if it is a whole, acceptable head. Anything else
		// (too few bytes, a fault) goes the long way: find the head's end,
		// reading as needed, then parse it, so the outcome does not depend
		// on how the bytes arrived.
		if br.Buffered() == 0 {
			// the first read, which the long way would make too
			if _, err := br.Peek(1); err != nil {
				return endedEarly(err, interim == 0)
			}
		}
		buf, _ := br.Peek(br.Buffered())
		h.Reset()
		n, err := parseHeadLines(buf, h)
		if err != nil || n == 0 {
			if n, err = peekHead(br, interim == 0); err != nil {
				return err
			}
			buf, _ = br.Peek(n) // n bytes are buffered: this does not read
			h.Reset()
			if err := parseResponseHead(buf, h); err != nil {
				return err
			}
		}
		h.Raw = buf[:n]
		_, _ = br.Discard(n)
		if h.Status >= 200 || h.Status == 101 {
			return nil
		}
		if interim == maxInterim {
			return errTooManyInterim
		}
	}
}

// The only status-line starts there are, up to and including the SP.
const (
	prefix11 = "HTTP/1.1 "
	prefix10 = "HTTP/1.0 "
)

// peekHead fills br until it holds a whole head and returns the head's
// length, its blank line included; parseResponseHead checks the lines after.
// While the head is incomplete it also looks for a bare LF, to refuse it at
// once instead of waiting for a blank line that may not come. A bare LF
// before the blank line takes precedence over any other fault (see
// parseResponseHead), so the reason does not depend on how the bytes arrive.
// Positions are offsets from br's read position: a fill may slide the
// buffered bytes, never reorder them.
func peekHead(br *bufio.Reader, first bool) (int, error) {
	searched := 0     // bytes searched for the blank line's CRLFCRLF
	pos, line := 0, 0 // the next byte to check for a bare LF; where its line starts
	for {
		buf, _ := br.Peek(br.Buffered())
		// refuse what cannot become a status line without waiting for its
		// end, as a non-HTTP upstream may never send one; but wait for the
		// SP after "HTTP/2", so the reason does not depend on how the bytes
		// arrive (statusLineError)
		k := min(len(buf), len(prefix11))
		if !statusPrefix(buf[:k]) && (k == len(prefix11) || !versionShape(buf[:k])) {
			return 0, statusLineError(buf[:k])
		}
		// the status line is never empty (statusPrefix), so the first
		// CRLFCRLF ends the first empty line
		if end := bytes.Index(buf[searched:], s2b(crlfcrlf)); end >= 0 {
			return searched + end + len(crlfcrlf), nil
		}
		searched = max(len(buf)-len(crlfcrlf)+1, 0)
		for {
			lf := bytes.IndexByte(buf[pos:], '\n')
			if lf < 0 {
				pos = len(buf)
				break
			}
			lf += pos
			if lf == line || buf[lf-1] != '\r' {
				return 0, errBareLF
			}
			pos, line = lf+1, lf+1
		}
		if len(buf) >= br.Size() {
			return 0, errHeadTooLarge
		}
		// Peek(len+1) reads at least one more byte or returns why not
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return 0, endedEarly(err, first && len(buf) == 0)
		}
	}
}

// endedEarly is the error for a read that failed before a head was whole:
// io.EOF as is when nothing of a response came yet, io.ErrUnexpectedEOF
// inside one, and the reader's own errors as they are.
func endedEarly(err error, nothingYet bool) error {
	if err == io.EOF && !nothingYet {
		return io.ErrUnexpectedEOF
	}
	return err
}

const crlfcrlf = "\r\n\r\n"

// statusPrefix reports whether b is the start of "HTTP/1.1 " or "HTTP/1.0 ".
func statusPrefix(b []byte) bool {
	return string(b) == prefix11[:len(b)] || string(b) == prefix10[:len(b)]
}

// statusLineError says why b, the first bytes of a line that statusPrefix
// refused, is not a status line.
func statusLineError(b []byte) error {
	if len(b) == len(prefix11) && versionShape(b) {
		// "HTTP/1.2 ", "HTTP/2.0 ": an upstream speaking another version
		// is refused, as Envoy and nginx do
		return errVersion
	}
	return errStatusLine
}

// versionShape reports whether b is a start of HTTP-version SP (RFC 9112
// §2.3), "HTTP/" DIGIT "." DIGIT SP, whatever the digits.
func versionShape(b []byte) bool {
	const shape = "HTTP/0.0 "
	for i, c := range b {
		switch {
		case i >= len(shape):
			return false
		case shape[i] == '0':
			if !isDigit(c) {
				return false
			}
		case c != shape[i]:
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseResponseHead parses buf, one whole head ending in CRLFCRLF
// (peekHead), into h. A bare LF anywhere in the head is the reason it gives
// for refusing it, whatever else is wrong, as peekHead may have seen it
// before the rest of the head arrived.
func parseResponseHead(buf []byte, h *ResponseHead) error {
	n, err := parseHeadLines(buf, h)
	switch {
	case err != nil && err != errBareLF && hasBareLF(buf):
		return errBareLF
	case err == nil && n != len(buf):
		panic("h1: response head parsed to another end than found") // a bug here, not in the response
	}
	return err
}

func hasBareLF(buf []byte) bool {
	for i, c := range buf {
		if c == '\n' && (i == 0 || buf[i-1] != '\r') {
			return true
		}
	}
	return false
}

// parseHeadLines parses the head at the start of buf into h and returns
// its length, or 0 when buf ends before the head does.
func parseHeadLines(buf []byte, h *ResponseHead) (int, error) {
	lf := bytes.IndexByte(buf, '\n')
	switch {
	case lf < 0:
		return 0, nil
	case lf == 0 || buf[lf-1] != '\r':
		// RFC 9112 §2.2 lets a recipient take a bare LF as a line end; a
		// peer that splits only on CRLF reads other fields.
		return 0, errBareLF
	}
	if err := parseStatusLine(buf[:lf-1], h); err != nil {
		return 0, err
	}
	var (
		cls, tes            int  // Content-Length and Transfer-Encoding fields
		closeOpt, keepAlive bool // Connection options
		trailerFraming      bool // a Trailer field names a framing field
	)
	pos := lf + 1
	for {
		lf = bytes.IndexByte(buf[pos:], '\n')
		if lf < 0 {
			return 0, nil
		}
		lf += pos
		if lf == pos || buf[lf-1] != '\r' {
			return 0, errBareLF
		}
		line := buf[pos : lf-1]
		pos = lf + 1
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 9112 §5.2: obs-fold; net/http joins the lines, a peer
			// that does not sees another field.
			return 0, errObsFold
		}
		if len(h.Fields) == edge.DefaultMaxHeaderCount {
			return 0, errTooManyFields // Envoy's max_headers_count
		}
		name, value, err := splitField(line)
		if err != nil {
			if bytes.IndexByte(line, '\r') >= 0 {
				return 0, errBareCR // a more useful reason than the rule it broke
			}
			return 0, err
		}
		h.Fields = append(h.Fields, edge.Field{Name: name, Value: value})
		switch len(name) {
		case len("content-length"):
			if edge.EqualFold(name, "content-length") {
				// nginx refuses even identical duplicates; net/http and
				// RFC 9110 §8.6 would merge them
				if cls++; cls > 1 {
					return 0, errDupCL
				}
				n, err := parseContentLength(value)
				if err != nil {
					return 0, err
				}
				h.ContentLength = n
			}
		case len("transfer-encoding"):
			if edge.EqualFold(name, "transfer-encoding") {
				if tes++; tes > 1 {
					return 0, errDupTE
				}
				// "chunked" alone, as net/http and nginx take it: any other
				// coding, a list or parameters leave the end of the body to
				// the connection's close, which a peer may not agree on
				if !edge.EqualFold(value, "chunked") {
					return 0, errTEUnknown
				}
				h.Chunked = true
			}
		case len("connection"):
			if edge.EqualFold(name, "connection") {
				c, k, _ := edge.ConnectionOptions(value)
				closeOpt, keepAlive = closeOpt || c, keepAlive || k
			}
		case len("trailer"):
			if edge.EqualFold(name, "trailer") {
				trailerFraming = trailerFraming || announcesFraming(value)
			}
		}
	}
	h.Close = closeOpt || (!h.HTTP11 && !keepAlive)

	// Framing, RFC 9112 §6.1 to §6.3.
	switch {
	case tes > 0 && cls > 0:
		// §6.3: "ought to be handled as an error"; net/http drops the
		// Content-Length and reads chunks, a peer that does not reads
		// the next response somewhere else
		return 0, errCLAndTE
	case tes > 0 && !h.HTTP11:
		// §6.1: a server must not send Transfer-Encoding to HTTP/1.0, and
		// net/http ignores it there and reads until close
		return 0, errTEHTTP10
	case tes > 0 && (h.Status < 200 || h.Status == 204 || h.Status == 304):
		return 0, errTENoBody
	case cls > 0 && (h.Status < 200 || h.Status == 204 && h.ContentLength != 0):
		// RFC 9110 §8.6: a server must not send it. "Content-Length: 0"
		// on a 204 is common (several frameworks send it) and frames
		// nothing, so it passes; any other length on a 204 or 1xx claims a
		// body that is not there. On a 304 it is the length a GET would
		// have had, so it is only checked for syntax.
		return 0, errCLNoBody
	case h.Chunked && trailerFraming:
		// RFC 9110 §6.5.1: trailers cannot carry framing; net/http
		// refuses the announcement, so a gateway that passed it would hand
		// its clients a response their own stack refuses
		return 0, errTrailerFraming
	}
	return pos, nil
}

// parseStatusLine parses "HTTP-version SP 3DIGIT [SP reason]" (RFC 9112
// §4), CRLF removed. Only HTTP/1.1 and HTTP/1.0 are taken, with one SP after
// each part: net/http takes any number of spaces and any three characters
// Atoi reads ("+99").
func parseStatusLine(line []byte, h *ResponseHead) error {
	if len(line) < len(prefix11)+3 || !statusPrefix(line[:len(prefix11)]) {
		// peekHead, on the long way, has said what is wrong with a prefix:
		// here the code is short, or this is the first pass
		return errStatusLine
	}
	h.HTTP11 = line[7] == '1'
	code := line[len(prefix11) : len(prefix11)+3]
	if !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return errStatusLine
	}
	if code[0] < '1' || code[0] > '5' {
		return errStatusCode // RFC 9110 §15: 100 to 599
	}
	h.Status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	rest := line[len(prefix11)+3:]
	if len(rest) == 0 {
		// RFC 9112 §4 wants an SP before even an empty reason; servers
		// leave it out, and nginx and net/http take the line without it
		return nil
	}
	if rest[0] != ' ' {
		return errStatusLine
	}
	reason := rest[1:]
	if !edge.ValidValue(reason) {
		if bytes.IndexByte(reason, '\r') >= 0 {
			return errBareCR
		}
		return errReason
	}
	h.Reason = reason[:len(reason):len(reason)]
	return nil
}

// splitField splits a field line (CRLF removed, not folded) into its name,
// a token (RFC 9110 §5.1), and its value without surrounding SP and HTAB,
// which may hold SP, HTAB, VCHAR and obs-text (§5.5). The slices are capped
// so appending to one cannot overwrite the next.
func splitField(line []byte) (name, value []byte, err error) {
	colon := bytes.IndexByte(line, ':')
	switch {
	case colon < 0:
		return nil, nil, errNoColon
	case colon == 0:
		return nil, nil, errEmptyName
	case line[colon-1] == ' ' || line[colon-1] == '\t':
		// RFC 9112 §5.1 requires a 400 for a request; net/http takes
		// "Name : v" as a field named "Name " that a peer may trim
		return nil, nil, errSpaceName
	}
	name = line[:colon:colon]
	if !edge.ValidToken(name) {
		return nil, nil, errBadName
	}
	value = edge.TrimOWS(line[colon+1:])
	if !edge.ValidValue(value) {
		return nil, nil, errBadValue
	}
	return name, value[:len(value):len(value)], nil
}

// parseContentLength is edge.ParseContentLength with the reader's errors.
func parseContentLength(v []byte) (int64, error) {
	n, verdict := edge.ParseContentLength(v)
	switch {
	case verdict.OK():
		return n, nil
	case verdict.Reason == edge.ReasonListCL:
		return 0, errListCL
	}
	return 0, errBadCL
}

// announcesFraming reports whether a Trailer field's list names
// Content-Length, Transfer-Encoding or Trailer, the names net/http refuses
// there (transfer.go, fixTrailer).
func announcesFraming(v []byte) bool {
	for len(v) > 0 {
		name := v
		if comma := bytes.IndexByte(v, ','); comma >= 0 {
			name, v = v[:comma], v[comma+1:]
		} else {
			v = nil
		}
		name = edge.TrimOWS(name)
		if edge.EqualFold(name, "content-length") || edge.EqualFold(name, "transfer-encoding") || edge.EqualFold(name, "trailer") {
			return true
		}
	}
	return false
}

// ResponseBody reads a response body as its head frames it. Its zero value
// is unusable until Reset; reuse one per connection.
type ResponseBody struct {
	br       *bufio.Reader
	mode     bodyMode
	size     int64 // what Size reports
	remain   int64 // bodyLength: bytes still to read
	eof      bool  // the body ended where its framing says
	reusable bool  // the framing leaves the connection at the next response
	err      error // a failure no later read can mend: malformed or truncated
	chunked  edge.ChunkedBody
	overhead chunkOverhead
}

type bodyMode uint8

const (
	bodyUnset bodyMode = iota
	bodyNone
	bodyLength
	bodyChunked
	bodyUntilClose
)

var errBodyUnset = errors.New("h1: ResponseBody read before Reset")

// Reset frames the body of the response h read from br, for a request whose
// method was HEAD when head is true (RFC 9112 §6.3): no body for HEAD, 1xx,
// 204 and 304 (whatever Content-Length says); a Content-Length body; a
// chunked body, decoded, its trailer fields read and dropped (the proxy
// re-frames bodies and does not forward trailers); otherwise the body runs
// until the connection closes.
func (b *ResponseBody) Reset(br *bufio.Reader, h *ResponseHead, head bool) {
	*b = ResponseBody{br: br}
	switch {
	case head || h.Status < 200 || h.Status == 204 || h.Status == 304:
		b.mode, b.eof = bodyNone, true
		// after a 101 the connection speaks another protocol
		b.reusable = h.Status != 101
	case h.Chunked:
		b.mode, b.size, b.reusable = bodyChunked, -1, true
	case h.ContentLength >= 0:
		b.mode, b.size, b.remain, b.reusable = bodyLength, h.ContentLength, h.ContentLength, true
		b.eof = h.ContentLength == 0
	default:
		b.mode, b.size = bodyUntilClose, -2
	}
}

// Size is the body's length: >= 0 when known (Content-Length, or no body),
// -1 for a chunked body, -2 for a body that runs until the connection closes.
func (b *ResponseBody) Size() int64 { return b.size }

// Done reports that the body was read to its end cleanly and was framed by
// its length or its chunks, so the connection is at the next response: it may
// carry another request unless the head said Close. It is never true for a
// body that ran until the connection closed, nor after a 101.
func (b *ResponseBody) Done() bool { return b.eof && b.reusable }

// Read reads the body; io.EOF at its end, possibly with the last bytes. It
// never reads past the body through br: the next response on the connection
// starts right after it. A malformed chunked body is an error that matches
// ErrBadResponse; a connection that ends inside a framed body is
// io.ErrUnexpectedEOF. Other errors of the underlying reader (timeouts) are
// returned as they are and leave the body where it was, so a read after a
// new deadline goes on.
func (b *ResponseBody) Read(p []byte) (int, error) {
	switch {
	case b.err != nil:
		return 0, b.err
	case b.eof:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	switch b.mode {
	case bodyLength:
		return b.readLength(p)
	case bodyChunked:
		return b.readChunked(p)
	case bodyUntilClose:
		n, err := b.br.Read(p)
		if err == io.EOF {
			b.eof = true
		}
		return n, err
	}
	return 0, errBodyUnset
}

func (b *ResponseBody) readLength(p []byte) (int, error) {
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	// with nothing buffered and a p at least as large as its buffer, br
	// reads straight into p, which stops at the body's end
	n, err := b.br.Read(p)
	b.remain -= int64(n)
	switch {
	case b.remain == 0:
		b.eof = true
		return n, io.EOF
	case n > 0:
		return n, nil
	case err == io.EOF:
		b.err = io.ErrUnexpectedEOF
		return 0, b.err
	}
	return 0, err
}

func (b *ResponseBody) readChunked(p []byte) (int, error) {
	br := b.br
	for {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				if err == io.EOF {
					b.err = io.ErrUnexpectedEOF
					return 0, b.err
				}
				return 0, err
			}
		}
		// never more than p holds: decoded data is a slice of src, and the
		// decoder counts it as read
		src, _ := br.Peek(min(br.Buffered(), len(p)))
		data, used, done, v := b.chunked.Next(src)
		n := copy(p, data)
		_, _ = br.Discard(used)
		if !v.OK() {
			b.err = errChunked
			return 0, b.err
		}
		if !b.overhead.add(used-len(data), len(data), done) {
			b.err = errChunkOverhead
			return 0, b.err
		}
		if done {
			b.eof = true
			return n, io.EOF
		}
		if n > 0 {
			return n, nil
		}
	}
}

// chunkOverhead follows net/http's bound on what a chunked body spends on
// anything but data (internal/chunked.go, beginChunk): per chunk, the size
// line and the CRLF after the data, less 16 bytes and twice the chunk's
// data, summed and floored at zero, must stay within 16 KiB. Without it an
// upstream could send 4 KiB of chunk extensions per byte of data
// (CVE-2023-39326), and the gateway would pass on a body net/http refuses.
//
// edge.ChunkedBody hands over data, not chunks, so chunks are told apart by
// the overhead between data runs: chunk k's share is everything from the
// end of chunk k-1's data to the start of its own, which is two bytes more
// than net/http counts, and the last chunk's includes the trailer section.
// The bound thus refuses whatever net/http refuses, possibly a chunk later,
// but before the body ends.
type chunkOverhead struct {
	pending int64 // overhead since the last data
	over    int64 // the current chunk's overhead (before its data)
	data    int64 // the current chunk's data so far
	excess  int64
	inChunk bool
}

const maxChunkExcess = 16 << 10

// add takes one call of ChunkedBody.Next: ov bytes of overhead, then n
// bytes of data, or the body's end. It reports false when the body spent too
// much on overhead.
func (c *chunkOverhead) add(ov, n int, done bool) bool {
	c.pending += int64(ov)
	if n > 0 && c.pending > 0 {
		// data after overhead: a new chunk begins; settle the last one
		if c.inChunk && !c.settle(c.over, c.data) {
			return false
		}
		c.over, c.data, c.pending, c.inChunk = c.pending, 0, 0, true
	}
	c.data += int64(n)
	if done {
		if c.inChunk && !c.settle(c.over, c.data) {
			return false
		}
		return c.settle(c.pending, 0)
	}
	return true
}

func (c *chunkOverhead) settle(over, data int64) bool {
	c.excess = max(c.excess+over-16-2*data, 0)
	return c.excess <= maxChunkExcess
}
