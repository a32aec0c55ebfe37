package server

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"

	"tollgate/internal/edge"
)

// HTTP/2 without TLS reaches the proxy listener in two ways (RFC 9113 §3.3, RFC 7540 §3.2).
// With prior knowledge the connection starts with the preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
// which the HTTP/1.1 engine refuses to parse: sniffConn looks at the first bytes of each
// accepted connection and hands such connections to the HTTP/2 server before the engine reads
// a request. The other way is an HTTP/1.1 request carrying "Upgrade: h2c", recognised at the
// front of the HTTP/1.1 handler.

// sniffListener wraps the proxy listener so that every connection is checked once.
type sniffListener struct {
	net.Listener
	s *Server
}

func (l sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, handoff: l.s.serveH2}, nil
}

// sniffConn decides on its first read whether the connection speaks HTTP/2 with prior
// knowledge ("PRI " cannot start an HTTP/1.1 request the gateway serves). If so it starts the
// HTTP/2 server on the raw connection, replaying the bytes read, and ends the HTTP/1.1
// engine's view of it with EOF; later calls from the engine (deadlines, Close) are then
// ignored. Otherwise it is a pass-through whose only cost is one branch per read.
type sniffConn struct {
	net.Conn
	handoff   func(net.Conn) // serves the connection as HTTP/2
	decided   bool
	handedOff bool
	// pending holds sniffed bytes the engine's first read had no room for (the engine's
	// first read of a connection may ask for one byte): kept here rather than in another
	// wrapper so every later read stays one call shorter.
	pending []byte
}

var h2Prefix = []byte("PRI ")

func (c *sniffConn) Read(p []byte) (int, error) {
	if c.decided {
		if len(c.pending) > 0 {
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			return n, nil
		}
		return c.Conn.Read(p)
	}
	// The first read goes straight into the engine's buffer when it has room for the
	// prefix, so a new connection's first request costs one read, not a 4-byte sniff and
	// then another read for the rest; and that read takes all the client has sent, so the
	// edge tracker above sees a request written in one go before its handler runs. A
	// smaller buffer gets exactly the prefix's length read, the rest kept in pending.
	buf := p
	limit := len(p)
	if len(p) < len(h2Prefix) {
		buf, limit = make([]byte, len(h2Prefix)), len(h2Prefix)
	}
	n := 0
	for n < len(h2Prefix) {
		m, err := c.Conn.Read(buf[n:limit])
		n += m
		if !bytes.HasPrefix(h2Prefix, buf[:min(n, len(h2Prefix))]) {
			break // not the preface: HTTP/1.1 (or garbage the engine answers)
		}
		if err != nil {
			if n == 0 {
				// nothing read (a deadline, say): the next read sniffs again
				return 0, err
			}
			c.decided = true
			m := c.deliver(p, buf, n)
			if len(c.pending) > 0 {
				return m, nil // the error comes again once pending is read (EOF and a past deadline stay)
			}
			return m, err
		}
	}
	c.decided = true
	if bytes.HasPrefix(buf[:n], h2Prefix) {
		c.handedOff = true
		// the engine's head-read deadline must not follow the connection into HTTP/2
		_ = c.Conn.SetDeadline(time.Time{})
		go c.handoff(&replayConn{Conn: c.Conn, pending: append([]byte(nil), buf[:n]...)})
		return 0, io.EOF
	}
	return c.deliver(p, buf, n), nil
}

// deliver returns the first n sniffed bytes, read into buf, through p: buf is p itself when p
// has room for the prefix (Read's choice), else a scratch buffer whose bytes beyond p's room are
// kept for the next reads.
func (c *sniffConn) deliver(p, buf []byte, n int) int {
	if len(p) >= len(h2Prefix) {
		return n
	}
	if n > len(p) {
		c.pending = buf[len(p):n]
	}
	return copy(p, buf[:n])
}

// buffered reports sniffed bytes not yet handed to the engine.
func (c *sniffConn) buffered() int { return len(c.pending) }

func (c *sniffConn) Close() error {
	if c.handedOff {
		return nil
	}
	return c.Conn.Close()
}

func (c *sniffConn) SetDeadline(t time.Time) error {
	if c.handedOff {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

func (c *sniffConn) SetReadDeadline(t time.Time) error {
	if c.handedOff {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *sniffConn) SetWriteDeadline(t time.Time) error {
	if c.handedOff {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// replayConn returns pending bytes before reading from the connection.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// serveH2 serves an HTTP/2 connection whose preface has not been consumed.
func (s *Server) serveH2(c net.Conn) {
	noLinger(c)
	probePeer(c) // keepalive.go
	//lint:ignore SA1019 net/http cannot serve one already-accepted connection handed over by the sniffer; x/net's ServeConn can
	s.h2.ServeConn(s.guardH2(c, 0), &http2.ServeConnOpts{
		Context:    s.ctx,
		BaseConfig: s.h2base,
		Handler:    s.h2handler,
	})
}

// isH2CUpgrade reports an HTTP/1.1 request asking to switch to h2c. Requests with a body are
// served as HTTP/1.1, which RFC 7540 §3.2 allows, so no body has to be buffered.
func isH2CUpgrade(rc *fasthttp.RequestCtx) bool {
	h := &rc.Request.Header
	if !edge.EqualFold(h.Peek("Upgrade"), "h2c") || len(h.Peek("Http2-Settings")) == 0 {
		return false
	}
	return h.ContentLength() <= 0 && len(h.Peek("Transfer-Encoding")) == 0 && len(rc.Request.Body()) == 0
}

// serveH2CUpgrade answers 101 and serves the request and the connection over HTTP/2.
func (s *Server) serveH2CUpgrade(rc *fasthttp.RequestCtx) bool {
	settings, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight(rc.Request.Header.Peek("Http2-Settings"), "=")))
	if err != nil {
		return false
	}
	req, err := toStdRequest(rc)
	if err != nil {
		return false
	}
	rc.HijackSetNoResponse(true)
	rc.Hijack(func(c net.Conn) { s.serveH2Upgraded(c, nil, req, settings) })
	return true
}

// serveH2Upgraded answers 101 on a connection taken over from either HTTP/1.1 engine and
// serves it as HTTP/2, the upgrading request as stream 1 (RFC 7540 §3.2). rest is what the
// engine had read past the request (the client's preface may follow it at once).
func (s *Server) serveH2Upgraded(c net.Conn, rest []byte, req *http.Request, settings []byte) {
	noLinger(c)
	if _, err := io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"); err != nil {
		_ = c.Close()
		return
	}
	var conn net.Conn = &hijacked{Conn: c}
	if len(rest) > 0 {
		conn = &hijacked{Conn: &replayConn{Conn: c, pending: rest}}
	}
	//lint:ignore SA1019 net/http cannot take over an HTTP/1.1 upgrade (RFC 7540 §3.2) on an accepted connection; x/net's ServeConn can
	s.h2.ServeConn(s.guardH2(conn, 1), &http2.ServeConnOpts{
		Context:        s.ctx,
		BaseConfig:     s.h2base,
		Handler:        s.h2handler,
		UpgradeRequest: req,
		Settings:       settings,
	})
}

// toStdRequest converts the upgrading request (bodiless) for the HTTP/2 server, which
// answers it as stream 1.
func toStdRequest(rc *fasthttp.RequestCtx) (*http.Request, error) {
	u, err := url.ParseRequestURI(string(rc.Request.Header.RequestURI()))
	if err != nil {
		return nil, err
	}
	r := &http.Request{
		Method:     string(rc.Method()),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       string(rc.Host()),
		RequestURI: string(rc.Request.Header.RequestURI()),
		RemoteAddr: rc.RemoteAddr().String(),
		Body:       http.NoBody,
	}
	for k, v := range rc.Request.Header.All() {
		switch string(k) {
		case "Connection", "Upgrade", "Http2-Settings", "Host":
			continue
		}
		r.Header.Add(string(k), string(v))
	}
	return r, nil
}

// hijacked hides the concrete type of a hijacked connection from the HTTP/2 server, which
// would otherwise look for TLS state on it.
type hijacked struct{ net.Conn }

// HTTP/2 abuse the x/net/http2 server does not bound by itself, watched on the frames the
// client sends (Envoy's edge defaults, envoy.config.core.v3.Http2ProtocolOptions):
//
//   - Rapid reset (CVE-2023-44487): x/net only caps running handlers at
//     MaxConcurrentStreams and queues 4x as many; when handlers are quick, HEADERS plus
//     RST_STREAM in a loop never fills the queue, and each pair still costs an upstream
//     request (measured: about a third of 20,000 pairs). Envoy closes a connection on which
//     at least 500 streams were opened and half of them were reset prematurely; so do we.
//     A reset is premature when the client sends it on a stream the gateway has not answered
//     yet (no DATA, no END_STREAM, no RST_STREAM of its own) within a second of opening it.
//     A client that resets streams whose responses it already has (a gRPC client that had
//     not half-closed, a request body abandoned after an early 401), or long-lived streams,
//     is not cut off. Envoy's "answered" is a final status sent; a HEADERS frame's status
//     cannot be read here without following HPACK's dynamic table, so a stream counts as
//     answered at its first DATA frame or its end, and a 1xx never counts.
//   - Empty frames (CVE-2019-9518): DATA without payload or END_STREAM, and empty
//     CONTINUATION, cost the server a frame each and no flow-control credit; x/net takes any
//     number. Envoy's max_consecutive_inbound_frames_with_empty_payload is 1: the second such
//     frame in a row ends the connection.
//
// The connection then ends with GOAWAY ENHANCE_YOUR_CALM, written here because x/net has no
// hook to send one; x/net sees the end of the stream from the client.
const (
	h2ResetMinStreams   = 500         // streams opened before the reset ratio is judged
	h2PrematureAge      = time.Second // a reset later than this after the stream opened is not premature
	h2MaxTracked        = 1024        // unanswered streams followed at once; x/net refuses far fewer
	h2MaxEmptyFramesRun = 1           // consecutive empty DATA/CONTINUATION frames allowed
)

// Reasons a guard ends a connection; the text goes in the GOAWAY debug data.
const (
	h2AbuseNone = iota
	h2AbuseResets
	h2AbuseEmptyFrames
)

func h2AbuseText(a int32) string {
	switch a {
	case h2AbuseResets:
		return "too many stream resets"
	case h2AbuseEmptyFrames:
		return "too many empty frames"
	}
	return ""
}

// guardH2 wraps c, which must be at the start of the client's connection preface; opened
// is the highest stream already open (1 after an h2c upgrade, else 0).
func (s *Server) guardH2(c net.Conn, opened uint32) net.Conn {
	g := &h2Guard{Conn: c, skip: len(http2.ClientPreface), log: s.log, more: moreSocket(c)}
	g.lastStream.Store(opened)
	return g
}

// h2Guard follows the frame headers on both directions of an HTTP/2 connection: the client's
// to count what x/net does not bound, its own to know where a frame may be inserted. It
// copies nothing; a frame costs a few comparisons.
type h2Guard struct {
	net.Conn
	log *slog.Logger

	// read side (x/net has one reader goroutine)
	skip      int     // preface bytes still to pass
	hdr       [9]byte // frame header being assembled
	hdrN      int
	payload   int // payload bytes of the current frame still to pass
	streams   int // client streams opened
	premature int // client RST_STREAMs on streams unanswered and younger than h2PrematureAge
	emptyRun  int

	// client streams not answered yet, with when each opened: the reader adds and judges,
	// the writer removes what it answers
	smu  sync.Mutex
	open map[uint32]time.Time

	// read by Close, which x/net may call from any goroutine
	lastStream atomic.Uint32 // highest client stream handed to x/net
	abuse      atomic.Int32  // h2Abuse*: why the connection is being ended; reads then see EOF

	// write side
	wmu   sync.Mutex
	whdr  [9]byte
	whdrN int
	wleft int    // payload bytes of the frame being written
	wlast uint32 // the stream last marked answered, so its further DATA frames skip the lock
	sent  bool
	more  syscall.RawConn // the socket, for response heads sent with MSG_MORE (h2more.go)
}

// Read passes the client's frames to x/net up to the first that breaks a limit, then ends
// the stream.
func (g *h2Guard) Read(p []byte) (int, error) {
	if g.abuse.Load() != h2AbuseNone {
		return 0, io.EOF
	}
	n, err := g.Conn.Read(p)
	for i := 0; i < n; {
		switch {
		case g.skip > 0:
			k := min(g.skip, n-i)
			g.skip -= k
			i += k
		case g.payload > 0:
			k := min(g.payload, n-i)
			g.payload -= k
			i += k
		default:
			start := i - g.hdrN // where this frame began, when it began in p
			k := min(len(g.hdr)-g.hdrN, n-i)
			copy(g.hdr[g.hdrN:], p[i:i+k])
			g.hdrN += k
			i += k
			if g.hdrN < len(g.hdr) {
				continue
			}
			g.hdrN = 0
			g.payload = int(g.hdr[0])<<16 | int(g.hdr[1])<<8 | int(g.hdr[2])
			if why := g.frame(http2.FrameType(g.hdr[3]), http2.Flags(g.hdr[4]), binary.BigEndian.Uint32(g.hdr[5:])&(1<<31-1), g.payload); why != h2AbuseNone {
				g.abuse.Store(why)
				g.log.Debug("http2 connection ended for abuse", "reason", h2AbuseText(why), "remote", g.RemoteAddr().String())
				// hand over what came before this frame; the rest is dropped
				if start <= 0 {
					return 0, io.EOF
				}
				return start, nil
			}
		}
	}
	return n, err
}

// frame accounts for one client frame header and says why the connection must end, if so.
func (g *h2Guard) frame(typ http2.FrameType, flags http2.Flags, stream uint32, length int) int32 {
	switch typ {
	case http2.FrameHeaders:
		if stream%2 == 1 && stream > g.lastStream.Load() {
			g.lastStream.Store(stream)
			g.streams++
			g.smu.Lock()
			if g.open == nil {
				g.open = make(map[uint32]time.Time)
			}
			if len(g.open) < h2MaxTracked {
				g.open[stream] = time.Now()
			}
			g.smu.Unlock()
		}
	case http2.FrameRSTStream:
		g.smu.Lock()
		opened, ok := g.open[stream]
		delete(g.open, stream)
		g.smu.Unlock()
		if ok && time.Since(opened) <= h2PrematureAge {
			g.premature++
			if g.streams >= h2ResetMinStreams && 2*g.premature >= g.streams {
				return h2AbuseResets
			}
		}
	}
	switch {
	case typ == http2.FrameData && length == 0 && flags&http2.FlagDataEndStream == 0,
		typ == http2.FrameContinuation && length == 0 && flags&http2.FlagContinuationEndHeaders == 0:
		g.emptyRun++
		if g.emptyRun > h2MaxEmptyFramesRun {
			return h2AbuseEmptyFrames
		}
	case typ == http2.FrameData, typ == http2.FrameHeaders, typ == http2.FrameContinuation:
		g.emptyRun = 0
	}
	return h2AbuseNone
}

// Write passes x/net's bytes on and follows its frame boundaries.
func (g *h2Guard) Write(p []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	var n int
	var err error
	if g.more != nil && g.whdrN == 0 && g.wleft == 0 && finalHeadersLast(p) {
		n, err = sendMore(g.more, p)
	} else {
		n, err = g.Conn.Write(p)
	}
	for i := 0; i < n; {
		if g.wleft > 0 {
			k := min(g.wleft, n-i)
			g.wleft -= k
			i += k
			continue
		}
		k := min(len(g.whdr)-g.whdrN, n-i)
		copy(g.whdr[g.whdrN:], p[i:i+k])
		g.whdrN += k
		i += k
		if g.whdrN == len(g.whdr) {
			g.whdrN = 0
			g.wleft = int(g.whdr[0])<<16 | int(g.whdr[1])<<8 | int(g.whdr[2])
			g.answered(http2.FrameType(g.whdr[3]), http2.Flags(g.whdr[4]), binary.BigEndian.Uint32(g.whdr[5:])&(1<<31-1))
		}
	}
	return n, err
}

// answered notes a frame the gateway writes: its first DATA frame on a stream, its END_STREAM
// or its RST_STREAM means a client reset there is no longer premature. Called under wmu.
func (g *h2Guard) answered(typ http2.FrameType, flags http2.Flags, stream uint32) {
	if stream == 0 || stream == g.wlast {
		return
	}
	switch {
	case typ == http2.FrameData, typ == http2.FrameRSTStream,
		typ == http2.FrameHeaders && flags&http2.FlagHeadersEndStream != 0:
		g.wlast = stream
		g.smu.Lock()
		delete(g.open, stream)
		g.smu.Unlock()
	}
}

// Close sends GOAWAY ENHANCE_YOUR_CALM first when the guard ended the connection, if no
// write is in progress and the last one ended on a frame boundary (else a frame would be
// cut), then closes.
func (g *h2Guard) Close() error {
	why := g.abuse.Load()
	locked := false
	// a write in progress (x/net answering a frame that came before the abuse) usually ends
	// within microseconds: wait for it a little rather than close without GOAWAY
	for end := time.Now().Add(100 * time.Millisecond); why != h2AbuseNone && !locked && time.Now().Before(end); {
		if locked = g.wmu.TryLock(); !locked {
			time.Sleep(time.Millisecond)
		}
	}
	if locked {
		if g.whdrN == 0 && g.wleft == 0 && !g.sent {
			g.sent = true
			debug := h2AbuseText(why)
			f := make([]byte, 9+8+len(debug))
			f[2] = byte(8 + len(debug))
			f[3] = byte(http2.FrameGoAway)
			binary.BigEndian.PutUint32(f[9:], g.lastStream.Load())
			binary.BigEndian.PutUint32(f[13:], uint32(http2.ErrCodeEnhanceYourCalm))
			copy(f[17:], debug)
			_ = g.Conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := g.Conn.Write(f); err == nil {
				briefLinger(g.Conn)
			}
		}
		g.wmu.Unlock()
	}
	return g.Conn.Close()
}
