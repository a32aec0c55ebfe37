package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/valyala/fasthttp"

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

// upReq is the upstream request being built. It wraps a fasthttp request (the upstream client
// is the HTTP/1.1 engine for both front ends) and keeps path, query and Host apart so that
// plugins change them cheaply; they are written into the request line when it is sent.
type upReq struct {
	req   *fasthttp.Request
	path  string
	query string
	host  string

	body     io.Reader // streaming source, nil when there is none
	bodySize int       // -1 when unknown (chunked)
	buffered bool
	buf      []byte
}

var _ plugin.UpstreamRequest = (*upReq)(nil)

func (u *upReq) Method() string            { return b2s(u.req.Header.Method()) }
func (u *upReq) SetMethod(m string)        { u.req.Header.SetMethod(m) }
func (u *upReq) Path() string              { return u.path }
func (u *upReq) SetPath(p string)          { u.path = p }
func (u *upReq) Query() string             { return u.query }
func (u *upReq) SetQuery(q string)         { u.query = q }
func (u *upReq) Host() string              { return u.host }
func (u *upReq) SetHost(h string)          { u.host = h }
func (u *upReq) Header() plugin.Header     { return fastReqHeader{&u.req.Header} }
func (u *upReq) reset(r *fasthttp.Request) { *u = upReq{req: r, buf: u.buf[:0], bodySize: -1} }

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

// fastResp adapts the response on its way to the client.
type fastResp struct{ r *fasthttp.Response }

var _ plugin.Response = (*fastResp)(nil)

func (a *fastResp) Status() int           { return a.r.StatusCode() }
func (a *fastResp) SetStatus(code int)    { a.r.SetStatusCode(code) }
func (a *fastResp) Header() plugin.Header { return fastRespHeader{&a.r.Header} }

func itoa(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
