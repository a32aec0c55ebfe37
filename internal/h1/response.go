package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"tollgate/internal/edge"
)

// ResponseWriter writes one response. The codec owns the framing: it writes
// Content-Length or Transfer-Encoding and Connection itself, and drops those
// fields when a handler adds them.
type ResponseWriter struct {
	cn          *conn
	req         *Request
	hdr         []byte // field lines added so far
	status      int
	wroteHeader bool
	noBody      bool  // HEAD, 1xx, 204, 304: the body is not sent
	chunked     bool  // the body goes out chunked
	remain      int64 // Content-Length bytes still due, -1 when not framed by length
	close       bool  // the connection closes after this response
	hijacked    bool
	failed      error // the first write error
	// lr bounds ReadFrom to the Content-Length still due; a field, so
	// handing it to bufio as an io.Reader does not allocate
	lr io.LimitedReader
}

func (w *ResponseWriter) start(cn *conn, r *Request) {
	*w = ResponseWriter{cn: cn, req: r, hdr: w.hdr[:0], remain: -1}
}

var _ io.ReaderFrom = (*ResponseWriter)(nil)

// Errors of the writer.
var (
	ErrBodyTooLong   = errors.New("h1: response body longer than its Content-Length")
	ErrAfterHeader   = errors.New("h1: response head already written")
	ErrBadHeaderName = errors.New("h1: response header name is not a token")
)

// AddHeader adds a response field. A name that is not a token is refused; CR,
// LF and other controls in a value are replaced by spaces, so no field can
// split the response (fasthttp does the same). Content-Length,
// Transfer-Encoding and Connection are the codec's and are dropped.
func (w *ResponseWriter) AddHeader(name, value []byte) error {
	if w.wroteHeader {
		return ErrAfterHeader
	}
	if !edge.ValidToken(name) {
		return ErrBadHeaderName
	}
	if framingField(name) {
		return nil
	}
	w.hdr = append(w.hdr, name...)
	w.hdr = append(w.hdr, ':', ' ')
	at := len(w.hdr)
	w.hdr = append(w.hdr, value...)
	if !edge.ValidValue(value) { // eight bytes at a time: most values have nothing to clean
		for i, c := range w.hdr[at:] {
			if (c < ' ' && c != '\t') || c == 0x7f {
				w.hdr[at+i] = ' '
			}
		}
	}
	w.hdr = append(w.hdr, '\r', '\n')
	return nil
}

// AddHeaderTrusted is AddHeader for a field the caller vouches for: a token for a name and a
// value without control bytes other than HTAB, as h1.Header holds them (read by the strict
// reader, made by the gateway, or cleaned when a plugin set it). It skips AddHeader's two
// scans, which cost more than the copy; framing fields are still dropped.
func (w *ResponseWriter) AddHeaderTrusted(name, value []byte) error {
	if w.wroteHeader {
		return ErrAfterHeader
	}
	if framingField(name) {
		return nil
	}
	w.hdr = append(w.hdr, name...)
	w.hdr = append(w.hdr, ':', ' ')
	w.hdr = append(w.hdr, value...)
	w.hdr = append(w.hdr, '\r', '\n')
	return nil
}

// AddHeaderString is AddHeader for strings.
func (w *ResponseWriter) AddHeaderString(name, value string) error {
	return w.AddHeader(s2b(name), s2b(value))
}

// SetClose asks for the connection to close after this response.
func (w *ResponseWriter) SetClose() { w.close = true }

// WriteHeader sends the status line and fields. contentLength is the body's
// length, or -1 when unknown: the body then goes out chunked to an HTTP/1.1
// client and until the connection closes to an HTTP/1.0 one. For HEAD the
// length is announced and no body sent. Status 1xx other than 101 is not
// for handlers: 100 Continue is the codec's.
func (w *ResponseWriter) WriteHeader(status int, contentLength int64) error {
	if w.wroteHeader {
		return ErrAfterHeader
	}
	w.wroteHeader = true
	w.status = status
	h := &w.req.Head
	isHead := string(h.Method) == "HEAD"
	bodiless := status < 200 || status == 204 || status == 304
	w.noBody = isHead || bodiless
	if w.cn.s.closing.Load() {
		w.close = true // Shutdown began: this is the connection's last response
	}
	if status == 101 {
		w.close = false // the connection is handed over, not closed
	}

	// The head is built with appends in the write buffer's free space and handed to it with
	// one Write, which copies it onto itself: in the proxy's profile the dozen bufio calls
	// that wrote it piece by piece cost more than that copy. When it does not fit behind
	// pipelined answers still buffered, those go out first; a head larger than the whole
	// buffer is built in memory of its own, the one allocation it costs.
	bw := w.cn.bw
	need := len(w.hdr) + maxHeadFraming
	if bw.Available() < need && bw.Buffered() > 0 {
		_ = bw.Flush() // an error stays in bw, and the Write below returns it
	}
	b := bw.AvailableBuffer()
	if cap(b) < need {
		b = make([]byte, 0, need)
	}
	if status >= 0 && status < len(statusLines) && statusLines[status] != "" {
		b = append(b, statusLines[status]...)
	} else {
		b = appendStatusLine(b, status)
	}
	b = append(b, w.hdr...)
	switch {
	case bodiless:
		// RFC 9110 §8.6: no Content-Length in 1xx and 204; a 304 may
		// carry one, but its value would describe another response
	case contentLength >= 0:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, contentLength, 10)
		b = append(b, '\r', '\n')
		if !isHead {
			w.remain = contentLength
		}
	case isHead:
		// length unknown: announce nothing
	case h.HTTP11:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
		w.chunked = true
	default:
		w.close = true // HTTP/1.0: the body ends with the connection
	}
	switch {
	case status == 101:
		b = append(b, "Connection: upgrade\r\n"...)
	case w.close || h.Close:
		b = append(b, "Connection: close\r\n"...)
	case !h.HTTP11:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, '\r', '\n')
	_, err := bw.Write(b)
	return w.fail(err)
}

// appendStatusLine appends "HTTP/1.1 NNN Reason\r\n"; the reason is empty for a code
// net/http does not name.
func appendStatusLine(b []byte, status int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	return append(b, '\r', '\n')
}

// statusLines holds the status line of every code net/http names, made once and only read
// after: one copy per response where building it cost a number formatting and a look-up.
var statusLines = func() (t [600]string) {
	for code := range t {
		if http.StatusText(code) != "" {
			t[code] = string(appendStatusLine(nil, code))
		}
	}
	return t
}()

// maxHeadFraming bounds what WriteHeader adds to the fields: the status line (the longest
// reason phrase is 31 bytes), a Content-Length of 19 digits or Transfer-Encoding, a
// Connection field and the blank line.
const maxHeadFraming = len("HTTP/1.1 000 ") + 31 + 2 + len("Content-Length: \r\n") + 19 +
	len("Connection: keep-alive\r\n") + 2

// Write sends body bytes, writing a 200 head with an unknown length first if
// none was written.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if err := w.WriteHeader(200, -1); err != nil {
			return 0, err
		}
	}
	if w.failed != nil {
		return 0, w.failed
	}
	if w.noBody || len(p) == 0 {
		return len(p), nil
	}
	bw := w.cn.bw
	switch {
	case w.chunked:
		_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
		_, _ = bw.WriteString("\r\n")
		_, _ = bw.Write(p)
		_, err := bw.WriteString("\r\n")
		return len(p), w.fail(err)
	case w.remain >= 0:
		if int64(len(p)) > w.remain {
			return 0, ErrBodyTooLong
		}
		w.remain -= int64(len(p))
	}
	n, err := bw.Write(p)
	return n, w.fail(err)
}

// ReadFrom copies a body from r until EOF, or, when the response has a
// Content-Length, at most the bytes still due. With a Content-Length it
// spares io.Copy its intermediate buffer: bytes are read straight into the
// connection's write buffer. Without one (chunked, or until the connection
// closes for HTTP/1.0), each read is sent and flushed as it comes, so a
// stream (server-sent events) reaches the client part by part.
func (w *ResponseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		if err := w.WriteHeader(200, -1); err != nil {
			return 0, err
		}
	}
	if w.failed != nil {
		return 0, w.failed
	}
	switch {
	case w.noBody:
		return io.Copy(io.Discard, r)
	case w.remain >= 0:
		w.lr = io.LimitedReader{R: r, N: w.remain}
		n, err := w.cn.bw.ReadFrom(&w.lr)
		w.lr.R = nil
		w.remain -= n
		return n, w.fail(err)
	}
	// length unknown: each read is one chunk (or, on HTTP/1.0, one write)
	var total int64
	buf := w.cn.scratch()
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
			if ferr := w.Flush(); ferr != nil {
				return total, ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Flush sends what is buffered: for a streamed response (server-sent events)
// the client sees each part as it comes.
func (w *ResponseWriter) Flush() error {
	if w.failed != nil {
		return w.failed
	}
	return w.fail(w.cn.bw.Flush())
}

// Hijack hands the connection over, for a protocol switch (101): what is
// buffered is flushed, and rest holds the bytes the client already sent
// past this request's head. The codec does not touch the connection after;
// the caller closes it.
func (w *ResponseWriter) Hijack() (c net.Conn, rest []byte, err error) {
	if err := w.Flush(); err != nil {
		return nil, nil, err
	}
	cn := w.cn
	w.hijacked = true
	if !cn.out.deadline.IsZero() {
		// WriteTimeout is the codec's: the new protocol's writes (a WebSocket tunnel's,
		// minutes later) must not meet the deadline the 101's flush set
		cn.out.deadline = time.Time{}
		_ = cn.c.SetWriteDeadline(time.Time{})
	}
	cn.s.state(cn.c, StateHijacked)
	rest = append([]byte(nil), cn.buf[cn.r:cn.w]...)
	cn.r = cn.w
	return cn.c, rest, nil
}

// continue100 sends 100 Continue, unless the response has begun.
func (w *ResponseWriter) continue100() error {
	if w.wroteHeader {
		return nil
	}
	_, _ = w.cn.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	return w.fail(w.cn.bw.Flush())
}

// finish ends the response: a 200 with an empty body if nothing was
// written, the last chunk of a chunked body. A body shorter than its
// Content-Length cannot be mended: the connection closes, which tells the
// client the response is cut.
func (w *ResponseWriter) finish() error {
	if !w.wroteHeader {
		if err := w.WriteHeader(200, 0); err != nil {
			return err
		}
	}
	if w.failed != nil {
		return w.failed
	}
	switch {
	case w.chunked:
		_, err := w.cn.bw.WriteString("0\r\n\r\n")
		return w.fail(err)
	case w.remain > 0:
		w.close = true
	}
	return nil
}

func (w *ResponseWriter) fail(err error) error {
	if err != nil && w.failed == nil {
		w.failed = err
		w.close = true
	}
	return w.failed
}

// Status is the status written, 0 before WriteHeader.
func (w *ResponseWriter) Status() int { return w.status }

// framingField reports the fields the codec writes itself.
func framingField(name []byte) bool {
	switch len(name) {
	case len("connection"):
		return edge.EqualFold(name, "connection")
	case len("content-length"):
		return edge.EqualFold(name, "content-length")
	case len("transfer-encoding"):
		return edge.EqualFold(name, "transfer-encoding")
	}
	return false
}
