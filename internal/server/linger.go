package server

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	"tollgate/internal/sockio"
)

// Lingering close, as nginx's lingering_close does it. When the gateway answers before it read
// the whole request body (a 413, a 401 from an auth plugin, a refusal at the edge) and closes
// the connection, the client may still be sending; closing a socket with unread data makes the
// kernel send RST, which can destroy the answer before the client reads it, so the client
// sees "connection reset" instead of the 413. A lingering close sends FIN first, then reads and
// discards what the client still sends, for at most lingerTime and while data keeps coming
// within lingerTimeout, and only then closes.
const (
	lingerTime    = 30 * time.Second // nginx's lingering_time
	lingerTimeout = 5 * time.Second  // nginx's lingering_timeout
)

// lingerListener gives every accepted TCP connection a lingering Close, and reads and writes
// that make raw system calls (sockio: the hot path's, measured in bench/profiles).
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingerConn{Conn: sockio.New(tc)}, nil
	}
	return c, nil
}

type lingerConn struct {
	*sockio.Conn // Read and Write; every other method, and the field TCPConn, the socket's
	off          atomic.Bool
	brief        atomic.Bool // linger for briefLingerTime only (after an HTTP/2 GOAWAY)
	// unread: the engine knows the client has a request body still to send (the answer
	// came before the body was read), so Close lingers whatever is pending right now
	unread atomic.Bool
}

// briefLingerTime bounds the lingering close of an HTTP/2 connection the gateway ended with
// GOAWAY (Envoy's delayed_close_timeout, 1 s): long enough for the client to read the GOAWAY
// before the close, which with its frames still unread would reach it as a reset that
// discards the GOAWAY; short enough that an attacker still flooding costs little.
const briefLingerTime = time.Second

// briefLinger turns a short lingering close back on for the connection under c, which
// noLinger turned off when HTTP/2 took it over.
func briefLinger(c net.Conn) {
	if lc, ok := innerConn(c, true).(*lingerConn); ok {
		lc.brief.Store(true)
		lc.off.Store(false)
	}
}

// noLinger turns lingering off for the connection under c (HTTP/2 takes it over: it ends
// connections with GOAWAY, and an HTTP/2 attacker still sending, a CONTINUATION flood say,
// must not be read for another 30 s).
func noLinger(c net.Conn) {
	if lc, ok := innerConn(c, true).(*lingerConn); ok {
		lc.off.Store(true)
	}
}

// tcpUnder is the *net.TCPConn under c's wrappers (innerConn), or nil when there is none.
func tcpUnder(c net.Conn, throughTLS bool) *net.TCPConn {
	switch w := innerConn(c, throughTLS).(type) {
	case *lingerConn:
		return w.TCPConn
	case *net.TCPConn:
		return w
	}
	return nil
}

// innerConn walks the gateway's own connection wrappers down to the socket's: the lingerConn
// or *net.TCPConn at the bottom, or nil when it meets a type it does not know. With
// throughTLS false it stops (nil) at a TLS layer: below it the bytes are ciphertext.
func innerConn(c net.Conn, throughTLS bool) net.Conn {
	for c != nil {
		switch w := c.(type) {
		case *lingerConn, *net.TCPConn:
			return c
		case *limitedConn:
			c = w.Conn
		case *sniffConn:
			c = w.Conn
		case *replayConn:
			c = w.Conn
		case *hijacked:
			c = w.Conn
		case *parkConn:
			c = w.Conn
		case *tls.Conn:
			if !throughTLS {
				return nil
			}
			c = w.NetConn()
		case interface{ NetConn() net.Conn }: // edge.Conn (it only watches reads)
			c = w.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// closeUnread closes c, whose client the engine knows still has a request body to send:
// the connection under it lingers even when none of that body has arrived yet. An answer
// sent before the body's first bytes (a 413 on Content-Length alone) would otherwise meet
// an empty receive queue, close at once, and be destroyed by the RST the body then causes.
func closeUnread(c net.Conn) error {
	if lc, ok := innerConn(c, true).(*lingerConn); ok {
		lc.unread.Store(true)
	}
	return c.Close()
}

// Close lingers only when the client has unread bytes waiting (pendingInput, one non-blocking
// peek) or is known to have more to send (closeUnread): the common close, with nothing
// pending, stays one close call.
func (c *lingerConn) Close() error {
	if c.off.Load() || !c.unread.Load() && !pendingInput(c.TCPConn) {
		return c.TCPConn.Close()
	}
	if err := c.TCPConn.CloseWrite(); err != nil {
		return c.TCPConn.Close()
	}
	total := lingerTime
	if c.brief.Load() {
		total = briefLingerTime
	}
	go func() {
		defer c.TCPConn.Close()
		end := time.Now().Add(total)
		buf := make([]byte, 16<<10)
		for time.Now().Before(end) {
			next := time.Now().Add(lingerTimeout)
			if next.After(end) {
				next = end
			}
			_ = c.TCPConn.SetReadDeadline(next)
			if _, err := c.TCPConn.Read(buf); err != nil {
				return // EOF: the client is done; or the wait ran out
			}
		}
	}()
	return nil
}
