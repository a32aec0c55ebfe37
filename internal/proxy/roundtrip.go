package proxy

import (
	"bufio"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/h1"
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
// The request is written by the gateway (upReq.writeRequest) and the response read by its
// own strict reader (h1.ReadResponseHead, h1.ResponseBody). fasthttp still keeps the pool:
// HostClient.AcquireConn with its buffers, without its Do, whose per-request bookkeeping for
// a streamed body cost four allocations (bench/profiles/README.md), whose retries belong to
// the gateway here, and whose response parse is more lenient than the edge rules.
//
// timeout (the service's try_timeout, 0 for none) bounds the whole try, response body
// included, as Request.SetTimeout does in the library; it counts from start, when the try
// began (the caller's UpstreamStart: the clock is read once per try, not twice).
func roundTrip(hc *fasthttp.HostClient, req outRequest, resp *upResp, held *heldConn, timeout time.Duration, start time.Time) error {
	resp.reset()
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
	br := hc.AcquireReader(conn)
	head := &held.head
	if err := h1.ReadResponseHead(br, head); err != nil {
		hc.ReleaseReader(br)
		hc.CloseConn(cc)
		return transportError(err)
	}
	// the fields point into br's buffer until its next read: copied now, before the body
	// is read; the reader held them to the edge rules
	resp.status, resp.cl = head.Status, head.ContentLength
	resp.h.AddFields(head.Fields)
	held.body.Reset(br, head, req.isHead())
	held.hc, held.cc, held.br, held.closeConn = hc, cc, br, head.Close
	if held.body.Size() == 0 {
		held.release() // nothing to stream: the connection goes back at once
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

// heldConn is an upstream connection lent to a streamed response body, with the response's
// head and body readers, which keep their memory from request to request. Reads go through
// it so it knows whether the body ended cleanly: only then may the connection serve
// another request.
type heldConn struct {
	hc        *fasthttp.HostClient
	cc        pooledConn
	br        *bufio.Reader
	closeConn bool
	failed    bool
	head      h1.ResponseHead
	body      h1.ResponseBody
}

func (h *heldConn) Read(p []byte) (int, error) {
	n, err := h.body.Read(p)
	if err != nil && err != io.EOF {
		h.failed = true
	}
	return n, err
}

// active reports a connection lent to a response body.
func (h *heldConn) active() bool { return h.hc != nil }

// size is the held body's length: >= 0 known, -1 chunked, -2 until the connection closes.
func (h *heldConn) size() int64 { return h.body.Size() }

// release ends the body stream and gives the connection back: to the pool when the body was
// read to its end (framed by length or chunks) and both sides keep the connection alive, else
// it is closed (the rest of an unread body would be read as the next response). Safe to
// call more than once.
func (h *heldConn) release() {
	if h.hc == nil {
		return
	}
	h.hc.ReleaseReader(h.br)
	if h.closeConn || h.failed || !h.body.Done() {
		releaseAs(h.hc, h.cc, (*fasthttp.HostClient).CloseConn)
	} else {
		releaseAs(h.hc, h.cc, (*fasthttp.HostClient).ReleaseConn)
	}
	h.hc, h.cc, h.br, h.closeConn, h.failed = nil, nil, nil, false, false
}
