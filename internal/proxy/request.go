package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/valyala/fasthttp"

	"tollgate/internal/edge"
	"tollgate/internal/h1"
	"tollgate/internal/plugin"
)

// inCommon holds what both front ends compute the same way: the canonical path, the client
// addresses after trusted-hop processing, and the listener's scheme and port.
type inCommon struct {
	path   []byte // canonical path
	scheme string
	// peer and fwd are kept as addresses and turned into strings only when a plugin asks:
	// the proxy itself appends them to headers without allocating.
	peer, fwd  netip.Addr
	listenPort int
}

func (c *inCommon) Path() string        { return b2s(c.path) }
func (c *inCommon) Scheme() string      { return c.scheme }
func (c *inCommon) ClientIP() string    { return addrString(c.peer) }
func (c *inCommon) ForwardedIP() string { return addrString(c.fwd) }

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
func (c *inCommon) ListenPort() int { return c.listenPort }

// fastIn is the client request carried by the HTTP/1.1 engine.
type fastIn struct {
	inCommon
	req *fasthttp.Request
}

var _ plugin.Request = (*fastIn)(nil)

func (r *fastIn) Method() string              { return b2s(r.req.Header.Method()) }
func (r *fastIn) RawPath() string             { return b2s(rawPathOf(r.req.Header.RequestURI())) }
func (r *fastIn) Query() string               { return b2s(rawQueryOf(r.req.Header.RequestURI())) }
func (r *fastIn) Host() string                { return b2s(r.req.Header.Host()) }
func (r *fastIn) ProtoMajor() int             { return 1 }
func (r *fastIn) Header() plugin.HeaderReader { return fastReqHeader{&r.req.Header} }

// stdIn is the client request carried by net/http (HTTP/2 and h2c).
type stdIn struct {
	inCommon
	req *http.Request
}

var _ plugin.Request = (*stdIn)(nil)

func (r *stdIn) Method() string              { return r.req.Method }
func (r *stdIn) RawPath() string             { return r.req.URL.EscapedPath() }
func (r *stdIn) Query() string               { return r.req.URL.RawQuery }
func (r *stdIn) Host() string                { return r.req.Host }
func (r *stdIn) ProtoMajor() int             { return r.req.ProtoMajor }
func (r *stdIn) Header() plugin.HeaderReader { return stdHeader{r.req.Header, r.req.ContentLength} }

// rawPathOf cuts a request target at '?' (and strips an absolute-form scheme://authority).
func rawPathOf(uri []byte) []byte {
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i >= 0 {
			rest := uri[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				return rest[j:]
			}
			return []byte("/")
		}
	}
	return uri
}

// rawQueryOf is the query string of a request target as sent, without '?': what the engine's
// URI parser yields (up to a fragment, none when a '#' comes before the '?'), taken from the
// raw target without parsing the whole URI, which would cost a parse per request.
func rawQueryOf(uri []byte) []byte {
	q := bytes.IndexByte(uri, '?')
	if q < 0 {
		return nil
	}
	f := bytes.IndexByte(uri, '#')
	switch {
	case f < 0:
		return uri[q+1:]
	case f < q:
		return nil
	default:
		return uri[q+1 : f]
	}
}

// maxBufferedBody bounds what a plugin may make the gateway buffer with UpstreamRequest.Body.
const maxBufferedBody = 64 << 20

// errBodyTooLarge is returned when a plugin buffers a body over maxBufferedBody.
var errBodyTooLarge = errors.New("request body too large to buffer")

// upReq is the upstream request being built, and its writer (ADR 0002 step 3: the request
// side of the upstream client is the gateway's own; the response is still read by fasthttp).
// Path, query and Host are kept apart so that plugins change them cheaply; they go into the
// request line and the Host field when the request is written.
type upReq struct {
	h      *h1.Header
	method string
	path   string
	query  string
	host   string

	body     io.Reader // streaming source, nil when there is none
	bodySize int       // -1 when unknown (chunked)
	buffered bool
	buf      []byte

	// set by forward for each try: the request target as written, and the Host sent
	uri      []byte
	sendHost string
	// head is the request head as last written, reused; lim and chunk serve the body copy
	head  []byte
	lim   io.LimitedReader
	chunk []byte
}

var _ plugin.UpstreamRequest = (*upReq)(nil)

func (u *upReq) Method() string        { return u.method }
func (u *upReq) SetMethod(m string)    { u.method = m }
func (u *upReq) Path() string          { return u.path }
func (u *upReq) SetPath(p string)      { u.path = p }
func (u *upReq) Query() string         { return u.query }
func (u *upReq) SetQuery(q string)     { u.query = q }
func (u *upReq) Host() string          { return u.host }
func (u *upReq) SetHost(h string)      { u.host = h }
func (u *upReq) Header() plugin.Header { return u.h }

// reset readies u for a request whose header is h and whose method the front end set.
func (u *upReq) reset(h *h1.Header) {
	*u = upReq{h: h, method: u.method, buf: u.buf[:0], head: u.head[:0], chunk: u.chunk, bodySize: -1}
}

// isHead reports a HEAD request, whose response has no body whatever its head says.
func (u *upReq) isHead() bool { return u.method == "HEAD" }

// writeRequest writes the request to an upstream connection: the request line, Host, the
// fields, the framing the body needs, and the body. Framing is the gateway's: the client's
// Content-Length and Transfer-Encoding fields (the latter removed as hop-by-hop already) are
// not passed on, as the body may have been changed or may arrive chunked and leave with a
// length. A body of unknown length goes out chunked, one chunk per read of the client's
// body, flushed at once, so that a streaming upload is not held back in the buffer.
func (u *upReq) writeRequest(bw *bufio.Writer) error {
	b := append(u.head[:0], u.method...)
	b = append(b, ' ')
	b = append(b, u.uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, u.sendHost...)
	b = append(b, '\r', '\n')
	for i := range u.h.Len() {
		name, value := u.h.Field(i)
		if framingOrHost(name) || !u.h.Valid(i) {
			continue
		}
		b = append(b, name...)
		b = append(b, ':', ' ')
		b = append(b, value...)
		b = append(b, '\r', '\n')
	}
	size := -2 // no body
	switch {
	case u.buffered:
		size = len(u.buf)
	case u.body != nil:
		size = u.bodySize
	}
	switch {
	case size == -1:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	case size >= 0 && (size > 0 || bodyMethod(u.method)), size == -2 && bodyMethod(u.method):
		// RFC 9110 §8.6: a request whose method gives content a meaning carries a length,
		// 0 included
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(max(size, 0)), 10)
		b = append(b, '\r', '\n')
	}
	b = append(b, '\r', '\n')
	u.head = b
	if _, err := bw.Write(b); err != nil {
		return err
	}
	switch {
	case u.buffered:
		_, err := bw.Write(u.buf)
		return err
	case u.body == nil:
		return nil
	case size >= 0:
		// a LimitedReader kept in u: io.CopyN would allocate one per request
		u.lim = io.LimitedReader{R: u.body, N: int64(size)}
		n, err := io.Copy(bw, &u.lim)
		if err == nil && n < int64(size) {
			err = io.ErrUnexpectedEOF // the client's body ended short of its length
		}
		return err
	}
	return u.writeChunked(bw)
}

// writeChunked copies a body of unknown length as chunks, flushing each.
func (u *upReq) writeChunked(bw *bufio.Writer) error {
	if u.chunk == nil {
		u.chunk = make([]byte, 16<<10)
	}
	for {
		n, err := u.body.Read(u.chunk)
		if n > 0 {
			_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(n), 16))
			_, _ = bw.WriteString("\r\n")
			_, _ = bw.Write(u.chunk[:n])
			_, _ = bw.WriteString("\r\n")
			if ferr := bw.Flush(); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			_, werr := bw.WriteString("0\r\n\r\n")
			return werr
		}
		if err != nil {
			return err
		}
	}
}

// framingOrHost reports the fields the writer leaves out of the copied ones: Host, written
// first from the target's host, and the framing fields, written from the body.
func framingOrHost(name []byte) bool {
	switch len(name) {
	case 4:
		return edge.EqualFold(name, "host")
	case 14:
		return edge.EqualFold(name, "content-length")
	case 17:
		return edge.EqualFold(name, "transfer-encoding")
	}
	return false
}

// bodyMethod reports the methods that define a meaning for content (RFC 9110 §9.3), for
// which a request without a body still says Content-Length: 0.
func bodyMethod(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

// Body reads the whole body once; later calls return the same bytes.
func (u *upReq) Body() ([]byte, error) {
	if u.buffered {
		return u.buf, nil
	}
	u.buffered = true
	if u.body == nil {
		return u.buf[:0], nil
	}
	b, err := readAllLimit(u.buf[:0], u.body, maxBufferedBody)
	u.body = nil
	u.buf = b
	if err != nil {
		return nil, err
	}
	return u.buf, nil
}

// SetBody replaces the body; the Content-Length sent upstream follows it.
func (u *upReq) SetBody(b []byte) {
	u.buffered = true
	u.body = nil
	u.buf = append(u.buf[:0], b...)
}

func readAllLimit(dst []byte, r io.Reader, limit int) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return dst, errBodyTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, fmt.Errorf("read request body: %w", err)
		}
	}
}

// upResp is the response on its way to the client: read from the upstream by the gateway's
// own reader (h1.ReadResponseHead; its body streams from the connection st.held keeps), or
// made by the gateway (an error, a plugin's exit), with its body in body. It is the plugins'
// Ctx.Resp as it is.
type upResp struct {
	status int
	h      h1.Header
	// cl is the upstream's Content-Length (-1 without one), which the answer to a HEAD
	// request repeats
	cl int64
	// body is a body the gateway made (none when empty)
	body []byte
	// noRequestID: the upstream's head held no field named as the request id header (set by
	// forward, which walked it; false when not known)
	noRequestID bool
}

var _ plugin.Response = (*upResp)(nil)

func (r *upResp) Status() int           { return r.status }
func (r *upResp) SetStatus(code int)    { r.status = code }
func (r *upResp) Header() plugin.Header { return &r.h }

// reset empties r, keeping its memory.
func (r *upResp) reset() {
	r.status, r.cl = 0, -1
	r.noRequestID = false
	r.h.Reset()
	r.body = r.body[:0]
}

// setBody makes b, copied, the response's body.
func (r *upResp) setBody(b []byte) {
	r.body = append(r.body[:0], b...)
}

// appendHead appends the response's status line and fields as HTTP/1.1 writes them: the head
// of a 101 handed to the client as it is.
func (r *upResp) appendHead(dst []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(r.status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(r.status)...)
	dst = append(dst, '\r', '\n')
	dst = r.h.AppendTo(dst)
	return append(dst, '\r', '\n')
}

func itoa(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
