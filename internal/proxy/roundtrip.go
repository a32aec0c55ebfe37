package proxy

import (
	"bufio"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// outRequest is a request the upstream client writes: the gateway's upReq, or in tests a
// fasthttp request.
type outRequest interface {
	writeRequest(bw *bufio.Writer) error
	isHead() bool
}

// roundTrip sends req on a pooled connection of hc and reads the response head into resp,
// leaving the body as a stream over the connection, which held keeps until held.release.
//
// The request is written by the gateway (upReq.writeRequest). The rest is fasthttp's own
// transport (HostClient.Do with StreamResponseBody) minus its per-request bookkeeping: for a streamed body the library wraps the stream and its connection in four
// fresh objects (two closures, a release closure and a wrapper; 4 of the plain path's 5
// allocations per request, see bench/profiles/README.md). Here that state lives in held,
// inside the pooled request state, and is released by the gateway when the response ends
// (finish), is replaced (an error reply) or dropped for a retry. What it leaves out of Do:
// the library's retries (the gateway owns retries) and its User-Agent default (off).
//
// timeout (the service's try_timeout, 0 for none) bounds the whole try, response body
// included, as Request.SetTimeout does in the library; it counts from start, when the try
// began (the caller's UpstreamStart: the clock is read once per try, not twice).
func roundTrip(hc *fasthttp.HostClient, req outRequest, resp *fasthttp.Response, held *heldConn, timeout time.Duration, start time.Time) error {
	resp.Reset()
	resp.StreamBody = true
	var deadline time.Time
	if timeout > 0 {
		deadline = start.Add(timeout)
	}
	cc, err := hc.AcquireConn(timeout, false)
	if err != nil {
		return err
	}
	conn := cc.Conn()
	if err := setHardDeadline(conn, deadline); err != nil {
		hc.CloseConn(cc)
		return err
	}
	bw := hc.AcquireWriter(conn)
	err = req.writeRequest(bw)
	if err == nil {
		err = bw.Flush()
	}
	hc.ReleaseWriter(bw)
	if err != nil {
		hc.CloseConn(cc)
		return transportError(err)
	}
	if req.isHead() {
		resp.SkipBody = true
	}
	br := hc.AcquireReader(conn)
	if err := resp.ReadLimitBody(br, 0); err != nil {
		hc.ReleaseReader(br)
		hc.CloseConn(cc)
		return transportError(err)
	}
	closeConn := resp.ConnectionClose()
	if resp.IsBodyStream() {
		*held = heldConn{
			hc: hc, cc: cc, br: br, body: resp.BodyStream(), closeConn: closeConn,
			fullyRead: resp.Header.ContentLength() == 0,
		}
		return nil
	}
	hc.ReleaseReader(br)
	if closeConn {
		hc.CloseConn(cc)
	} else {
		hc.ReleaseConn(cc)
	}
	return nil
}

// transportError maps errors the way HostClient.Do does, so the retry and status rules see
// the library's sentinel errors: a connection closed before the first response byte is
// ErrConnectionClosed, a timed-out write ErrTimeout.
func transportError(err error) error {
	if err == io.EOF {
		return fasthttp.ErrConnectionClosed
	}
	if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
		return fasthttp.ErrTimeout
	}
	return err
}

// setHardDeadline sets the try's deadline (zero: none) on an upstream connection. On the
// gateway's own connection type it costs nothing when there was and is no deadline, the
// common case, where the library would clear both deadlines on every request.
func setHardDeadline(conn net.Conn, t time.Time) error {
	if tc, ok := conn.(*timeoutConn); ok {
		if t.IsZero() && tc.hardRd.IsZero() && tc.hardWr.IsZero() {
			return nil
		}
	}
	return conn.SetDeadline(t)
}

// pooledConn is the library's pooled connection: its type is unexported, its methods are
// not. Held as this interface, it goes back to the pool through releaseAs/closeAs, whose
// type parameter is inferred from the HostClient method they are given.
type pooledConn interface {
	Conn() net.Conn
	CreatedTime() time.Time
}

func releaseAs[C pooledConn](hc *fasthttp.HostClient, c pooledConn, release func(*fasthttp.HostClient, C)) {
	release(hc, c.(C))
}

// heldConn is an upstream connection lent to a streamed response body. Reads go through it
// so it knows whether the body was read to its end: only then may the connection serve
// another request.
type heldConn struct {
	hc        *fasthttp.HostClient
	cc        pooledConn
	br        *bufio.Reader
	body      io.Reader
	closeConn bool
	fullyRead bool
	failed    bool
}

func (h *heldConn) Read(p []byte) (int, error) {
	n, err := h.body.Read(p)
	switch {
	case err == nil:
	case err == io.EOF:
		h.fullyRead = true
	default:
		h.failed = true
	}
	return n, err
}

// active reports a connection lent to resp's body.
func (h *heldConn) active() bool { return h.hc != nil }

// release ends resp's body stream and gives the connection back: to the pool when the body
// was read to its end and both sides keep the connection alive, else it is closed (the rest
// of an unread body would be read as the next response). Safe to call more than once.
func (h *heldConn) release(resp *fasthttp.Response) {
	if h.hc == nil {
		return
	}
	_ = resp.CloseBodyStream()
	h.hc.ReleaseReader(h.br)
	if h.closeConn || !h.fullyRead || h.failed || resp.ConnectionClose() {
		releaseAs(h.hc, h.cc, (*fasthttp.HostClient).CloseConn)
	} else {
		releaseAs(h.hc, h.cc, (*fasthttp.HostClient).ReleaseConn)
	}
	*h = heldConn{}
}
