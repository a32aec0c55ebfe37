package h1

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"tollgate/internal/edge"
)

// Request is one request read from a connection. Head's slices point into
// the connection's read buffer: copy what must outlive the handler.
type Request struct {
	Head edge.RequestHead
	// Body reads the request body, Content-Length or chunked, already
	// decoded; nil when the request has none. Reading it sends the
	// 100 Continue a client that sent Expect: 100-continue waits for.
	Body io.Reader

	conn *conn
}

func (r *Request) reset() {
	r.Head.Reset()
	r.Body = nil
}

// RemoteAddr is the client's address.
func (r *Request) RemoteAddr() net.Addr { return r.conn.c.RemoteAddr() }

// Peer is the client's IP address, the zero Addr when the connection is not TCP. It is
// worked out once per connection: RemoteAddr goes down the listener's chain of wrapped
// connections, which showed in profiles when asked per request.
func (r *Request) Peer() netip.Addr {
	cn := r.conn
	if !cn.peerKnown {
		if a, ok := cn.c.RemoteAddr().(*net.TCPAddr); ok {
			cn.peer = a.AddrPort().Addr().Unmap()
		}
		cn.peerKnown = true
	}
	return cn.peer
}

// LocalAddr is the address the client connected to.
func (r *Request) LocalAddr() net.Addr { return r.conn.c.LocalAddr() }

// Conn is the client connection, for what the request does not carry (TLS
// state, say). Reading or writing it bypasses the codec: use Hijack for that.
func (r *Request) Conn() net.Conn { return r.conn.c }

// Seq is the request's number on its connection, from 1.
func (r *Request) Seq() uint64 { return r.conn.reqs }

// BodyError is what a body read returns when the client's body is at fault,
// as opposed to a failed connection: a malformed chunked body, or a
// connection that ended before the body did. Status and Reason say how to
// answer if nothing was answered yet.
type BodyError struct {
	Status int
	Reason string
}

func (e *BodyError) Error() string { return "h1: request body: " + e.Reason }

// Timeout reports a body that stalled past BodyTimeout (net.Error), so
// callers that tell timeouts apart need not know this type.
func (e *BodyError) Timeout() bool { return e.Status == 408 }

// Temporary is false: a failed body is not retried (net.Error).
func (e *BodyError) Temporary() bool { return false }

var _ net.Error = (*BodyError)(nil)

// Reasons of body errors.
const (
	ReasonBodyTruncated = "request body ended early"
	ReasonBodyTimeout   = "request body timed out"
)

// body reads a request body from the connection's buffer, then the
// connection.
type body struct {
	cn      *conn
	length  int64 // Content-Length, -1 for chunked
	read    int64 // Content-Length bytes read
	chunked edge.ChunkedBody
	eof     bool // the body ended
	broken  bool // the body failed: the connection cannot frame another request
	expect  bool // the client waits for 100 Continue
	sent100 bool
	// moved is set once the body's bytes went on in the connection's other buffer, leaving
	// the head untouched where it was read (conn.moveBody)
	moved bool
	// deadline is the read deadline of the last read, moved only when less
	// than three quarters of BodyTimeout remain.
	deadline time.Time
}

func (b *body) start(cn *conn, h *edge.RequestHead) {
	*b = body{cn: cn, length: h.ContentLength, expect: h.Expect100}
	if h.Chunked {
		b.length = -1
	}
	b.eof = !h.Chunked && h.ContentLength <= 0
}

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.eof:
		return 0, io.EOF
	case b.broken:
		return 0, errBroken
	case len(p) == 0:
		return 0, nil
	}
	if b.expect && !b.sent100 {
		if err := b.cn.resp.continue100(); err != nil {
			b.broken = true
			return 0, err
		}
		b.sent100 = true
	}
	if b.length >= 0 {
		return b.readFixed(p)
	}
	return b.readChunked(p)
}

var errBroken = errors.New("h1: request body already failed")

func (b *body) readFixed(p []byte) (int, error) {
	cn := b.cn
	want := b.length - b.read
	if int64(len(p)) > want {
		p = p[:want]
	}
	var n int
	if cn.r < cn.w {
		n = copy(p, cn.buf[cn.r:cn.w])
		cn.r += n
	} else {
		// nothing buffered: read straight into p, never past the body, so
		// a pipelined request behind it stays in the socket for the buffer
		var err error
		if n, err = b.readConn(p); n == 0 {
			return 0, err
		}
	}
	b.read += int64(n)
	if b.read == b.length {
		b.eof = true
	}
	return n, nil
}

func (b *body) readChunked(p []byte) (int, error) {
	cn := b.cn
	for {
		// never more decoded bytes than p holds: the decoder then keeps
		// no data of its own between calls
		src := cn.buf[cn.r:min(cn.w, cn.r+len(p))]
		data, used, done, v := b.chunked.Next(src)
		cn.r += used
		if !v.OK() {
			b.broken = true
			return 0, &BodyError{Status: v.Status, Reason: v.Reason}
		}
		if done {
			b.eof = true
		}
		if len(data) > 0 {
			return copy(p, data), nil
		}
		if done {
			return 0, io.EOF
		}
		if used > 0 && cn.r < cn.w {
			continue
		}
		// the buffer is used up: read more into it, and into the other one the first time,
		// since this one holds the head
		switch {
		case !b.moved:
			cn.moveBody()
			b.moved = true
		case cn.r == cn.w:
			cn.r, cn.w = 0, 0
		case cn.w == len(cn.buf):
			cn.w = copy(cn.buf, cn.buf[cn.r:cn.w])
			cn.r = 0
		}
		k, err := b.readConn(cn.buf[cn.w:])
		if k == 0 {
			return 0, err
		}
		cn.w += k
	}
}

// readConn reads from the connection under BodyTimeout. A connection that
// ends or times out inside a body is the client's fault.
func (b *body) readConn(p []byte) (int, error) {
	cn := b.cn
	if t := cn.s.BodyTimeout; t > 0 {
		now := time.Now()
		if b.deadline.Sub(now) < t*3/4 {
			b.deadline = now.Add(t)
			cn.setReadDeadline(b.deadline)
		}
	} else {
		cn.setReadDeadline(time.Time{})
	}
	n, err := cn.c.Read(p)
	if n > 0 {
		return n, nil
	}
	b.broken = true
	switch {
	case err == nil || errors.Is(err, io.EOF):
		return 0, &BodyError{Status: 400, Reason: ReasonBodyTruncated}
	case isTimeout(err):
		return 0, &BodyError{Status: 408, Reason: ReasonBodyTimeout}
	}
	return 0, err
}
