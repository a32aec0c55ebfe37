package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/edge"
)

// ServeFast is the HTTP/1.1 front end (the fasthttp engine, chosen by measurement: see
// docs/decisions/0001-http-engine.md). Request bodies arrive as streams
// (Server.StreamRequestBody) and responses leave as streams, so no body is buffered unless a
// plugin asks for it.
func (p *Proxy) ServeFast(rc *fasthttp.RequestCtx, scheme string, listenPort int) {
	st := p.acquire()
	st.fast = rc
	st.pc.Reset(rc, st.snap.MaxStates)
	if a, ok := rc.RemoteAddr().(*net.TCPAddr); ok {
		if ap, ok := netip.AddrFromSlice(a.IP); ok {
			st.peer = ap.Unmap()
		}
	} else {
		st.peer = netip.Addr{}
	}
	st.fin.req = &rc.Request
	st.pc.In = &st.fin
	h := &rc.Request.Header
	uri := h.RequestURI()
	st.hadQuery = bytes.IndexByte(uri, '?') >= 0
	if p.begin(st, uri, scheme, listenPort) {
		st.up.method = b2s(h.Method())
		for k, v := range h.All() {
			// held to the edge rules before the handler ran; fasthttp keeps them until it returns
			st.upH.AddTrustedNoCopy(k, v)
		}
		if cl := h.ContentLength(); cl != 0 {
			if bs := rc.RequestBodyStream(); bs != nil {
				st.slowBody = slowBodyReader{r: bs, rc: rc, timeout: p.opts.ClientBodyTimeout}
				st.bodySource, st.bodySize = &st.slowBody, cl
				if cl < 0 {
					st.bodySize = -1
				}
			} else if b := rc.Request.Body(); len(b) > 0 {
				st.reply.Reset(b)
				st.bodySource, st.bodySize = &st.reply, len(b)
			}
		}
		// Connection is looked up only for a request with an Upgrade field: without one,
		// isWebSocketUpgrade is false whatever Connection says
		st.upgrade = false
		if up := h.PeekCanonical(s2b("Upgrade")); len(up) > 0 {
			st.upgrade = isWebSocketUpgrade(h.PeekCanonical(s2b("Connection")), up) && h.IsGet()
		}
		p.serveSafe(st)
	}
	p.writeFast(rc, st)
}

// writeFast sends st.resp's head and hands the body to fasthttp as a stream; the stream's
// Close ends the request.
func (p *Proxy) writeFast(rc *fasthttp.RequestCtx, st *reqState) {
	p.head(st)
	if st.wsConn != nil && st.resp.status == fasthttp.StatusSwitchingProtocols {
		p.spliceFast(rc, st)
		return
	}
	out := &rc.Response
	out.Header.SetNoDefaultContentType(true)
	// the names go out as the upstream sent them, as on the codec and in nginx; normalising
	// each one cost the copy into the engine's header about as much as the rest of it
	out.Header.DisableNormalizing()
	out.SetStatusCode(st.resp.status)
	rh := &st.resp.h
	for i := range rh.Len() {
		k, v := rh.Field(i)
		if !rh.Valid(i) || edge.EqualFold(k, "content-length") {
			continue // framing is the engine's, set from the body below
		}
		out.Header.AddBytesKV(k, v)
	}
	src, size := st.body()
	if src == nil || rc.IsHead() {
		if rc.IsHead() {
			out.SkipBody = true
			out.Header.SetContentLength(int(max(st.resp.cl, -1)))
		}
		p.finish(st)
		return
	}
	if st.chain.HasBodyFilters() {
		size = -1
	}
	st.pipe.init(st, src)
	if size == -2 {
		// identity body until close: stream as chunked to the client
		size = -1
	}
	out.SetBodyStream(&st.pipe, size)
}

// isWebSocketUpgrade reports a WebSocket handshake (RFC 6455 §4.1).
func isWebSocketUpgrade(conn, upgrade []byte) bool {
	if !edge.EqualFold(upgrade, "websocket") {
		return false
	}
	for len(conn) > 0 {
		var tok []byte
		if i := bytes.IndexByte(conn, ','); i >= 0 {
			tok, conn = conn[:i], conn[i+1:]
		} else {
			tok, conn = conn, nil
		}
		if edge.EqualFold(bytes.TrimSpace(tok), "upgrade") {
			return true
		}
	}
	return false
}

// slowBodyReader bounds the wait between two reads of the client's body (nginx's
// client_body_timeout), so a client trickling its body cannot hold a connection and an upstream
// request forever. The deadline is pushed only when less than three quarters of it remain.
type slowBodyReader struct {
	r        io.Reader
	rc       *fasthttp.RequestCtx
	timeout  time.Duration
	deadline time.Time
	timedOut bool
	broken   bool
}

func (s *slowBodyReader) Read(p []byte) (int, error) {
	if s.timeout > 0 {
		now := time.Now()
		if s.deadline.Sub(now) < s.timeout*3/4 {
			s.deadline = now.Add(s.timeout)
			_ = s.rc.SetReadDeadline(s.deadline)
		}
	}
	n, err := s.r.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case isTimeout(err):
		s.timedOut = true
	default:
		// the client's body was malformed (the engine or the edge tracker refused it): the
		// request fails as the client's fault, not the upstream's
		s.broken = true
	}
	return n, err
}

// ParseError answers a request the HTTP/1.1 engine could not read (fasthttp's ErrorHandler),
// in the same JSON shape as every other gateway error: 431 when the header block does not
// fit, 413 for an oversized body, 408 for a read timeout, else 400. No plugin runs: there is
// no request to run them on.
func (p *Proxy) ParseError(rc *fasthttp.RequestCtx, err error) {
	status, msg := 400, msgBadRequest
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		status, msg = 431, "Request header or cookie too large"
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, msg = 413, msgPayloadTooBig
	case isTimeout(err):
		status, msg = 408, "Request timeout"
	}
	p.Refuse(rc, status, msg)
	p.log.Debug("malformed request", "status", status, "error", err)
}

// Refuse answers a request refused before the pipeline (malformed, or against the edge
// policy) with the gateway's JSON error and closes the connection: the bytes after a broken
// head cannot be trusted to frame the next request.
func (p *Proxy) Refuse(rc *fasthttp.RequestCtx, status int, msg string) {
	var st reqState
	id := st.newRequestID()
	body, ctype := appendErrorBody(nil, rc.Request.Header.Peek("Accept"), msg, id)
	rc.Response.Reset()
	rc.SetStatusCode(status)
	rc.SetContentType(ctype)
	rc.Response.Header.Set("Server", p.server)
	rc.Response.Header.Set(p.opts.RequestIDHeader, id)
	rc.Response.SetConnectionClose()
	rc.SetBody(body)
}
