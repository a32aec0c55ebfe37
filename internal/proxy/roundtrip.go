package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"time"

	"tollgate/internal/h1"
	"tollgate/internal/upstream"
)

// outRequest is a request the upstream client writes: the gateway's upReq, or in tests a
// fasthttp request.
type outRequest interface {
	writeRequest(bw *bufio.Writer) error
	isHead() bool
}

// roundTrip sends req on a connection of pool and reads the response head into resp,
// leaving the body as a stream over the connection, which held keeps until held.release.
//
// The request is written by the gateway (upReq.writeRequest) and the response read by its
// own strict reader (h1.ReadResponseHead, h1.ResponseBody), on a connection of its own pool
// (internal/upstream).
//
// timeout (the service's try_timeout, 0 for none) bounds the whole try, response body
// included, and the wait for a connection; it counts from start, when the try began (the
// caller's UpstreamStart: the clock is read once per try, not twice).
func roundTrip(pool *upstream.Pool, req outRequest, resp *upResp, held *heldConn, timeout time.Duration, start time.Time) error {
	resp.reset()
	var deadline time.Time
	if timeout > 0 {
		deadline = start.Add(timeout)
	}
	cc, err := pool.Get(deadline)
	if err != nil {
		return err
	}
	if err := setHardDeadline(cc.Conn, deadline, start, cc.Straight()); err != nil {
		pool.Discard(cc)
		return err
	}
	err = req.writeRequest(cc.W)
	if err == nil {
		err = cc.W.Flush()
	}
	if err != nil {
		pool.Discard(cc)
		return transportError(err)
	}
	head := &held.head
	if err := h1.ReadResponseHead(cc.R, head); err != nil {
		pool.Discard(cc)
		return transportError(err)
	}
	// the fields point into the reader's buffer until its next read: copied now, before
	// the body is read; the reader held them to the edge rules
	resp.status, resp.cl = head.Status, head.ContentLength
	resp.h.AddFieldsFrom(head.Raw, head.Fields)
	held.body.Reset(cc.R, head, req.isHead())
	held.pool, held.cc, held.closeConn = pool, cc, head.Close
	if held.body.Size() == 0 {
		held.release() // nothing to stream: the connection goes back at once
	}
	return nil
}

// errUpstreamClosed is a connection that ended before the first byte of the response: on a
// kept-alive connection, most often the upstream closing it while it sat idle, so the retry
// rules treat it as a failure the request may have met after the upstream read it.
var errUpstreamClosed = errors.New("upstream closed the connection before responding")

// transportError sorts the errors of an exchange for the retry and status rules: a
// connection closed before the first response byte is errUpstreamClosed; timeouts stay
// net.Errors (isTimeout).
func transportError(err error) error {
	if err == io.EOF {
		return errUpstreamClosed
	}
	return err
}

// setHardDeadline sets the try's deadline (zero: none) on an upstream connection. On the
// gateway's own connection type it costs nothing when there was and is no deadline, the
// common case. When the pool lent the connection straight from its idle list, it also lends
// that type now, the try's start, so its first write and read need not read the clock.
func setHardDeadline(conn net.Conn, t, now time.Time, straight bool) error {
	if tc, ok := conn.(*timeoutConn); ok {
		if straight {
			tc.lend(now)
		}
		if t.IsZero() && tc.hardRd.IsZero() && tc.hardWr.IsZero() {
			return nil
		}
	}
	return conn.SetDeadline(t)
}

// heldConn is an upstream connection lent to a streamed response body, with the response's
// head and body readers, which keep their memory from request to request. Reads go through
// it so it knows whether the body ended cleanly: only then may the connection serve
// another request.
type heldConn struct {
	pool      *upstream.Pool
	cc        *upstream.Conn
	closeConn bool
	failed    bool
	head      h1.ResponseHead
	body      h1.ResponseBody
}

// errReleased is a read of a body whose connection went back: its reader may be serving
// another request by then.
var errReleased = errors.New("upstream response body read after its connection was released")

func (h *heldConn) Read(p []byte) (int, error) {
	if h.pool == nil {
		return 0, errReleased
	}
	n, err := h.body.Read(p)
	if err != nil && err != io.EOF {
		h.failed = true
	}
	return n, err
}

// active reports a connection lent to a response body.
func (h *heldConn) active() bool { return h.pool != nil }

// size is the held body's length: >= 0 known, -1 chunked, -2 until the connection closes.
func (h *heldConn) size() int64 { return h.body.Size() }

// release ends the body stream and gives the connection back: to the pool when the body was
// read to its end (framed by length or chunks) and both sides keep the connection alive, else
// it is closed (the rest of an unread body would be read as the next response). Safe to
// call more than once.
func (h *heldConn) release() {
	if h.pool == nil {
		return
	}
	if h.closeConn || h.failed || !h.body.Done() {
		h.pool.Discard(h.cc)
	} else {
		h.pool.Put(h.cc)
	}
	h.pool, h.cc, h.closeConn, h.failed = nil, nil, false, false
}
