package server

import (
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"
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
}

var h2Prefix = []byte("PRI ")

func (c *sniffConn) Read(p []byte) (int, error) {
	if c.decided {
		return c.Conn.Read(p)
	}
	var head [len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]byte
	n := 0
	for n < len(h2Prefix) {
		m, err := c.Conn.Read(head[n:len(h2Prefix)])
		n += m
		if !bytes.Equal(head[:n], h2Prefix[:n]) {
			break
		}
		if err != nil {
			c.decided = true
			return copy(p, head[:n]), err
		}
	}
	c.decided = true
	if n == len(h2Prefix) && bytes.Equal(head[:n], h2Prefix) {
		c.handedOff = true
		// the engine's head-read deadline must not follow the connection into HTTP/2
		_ = c.Conn.SetDeadline(time.Time{})
		go c.handoff(&replayConn{Conn: c.Conn, pending: append([]byte(nil), head[:n]...)})
		return 0, io.EOF
	}
	if n <= len(p) {
		return copy(p, head[:n]), nil
	}
	// p is smaller than what was read: keep the rest for the next reads
	rc := &replayConn{Conn: c.Conn, pending: append([]byte(nil), head[len(p):n]...)}
	c.Conn = rc
	return copy(p, head[:len(p)]), nil
}

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
	//lint:ignore SA1019 net/http cannot serve one already-accepted connection handed over by the sniffer; x/net's ServeConn can
	s.h2.ServeConn(c, &http2.ServeConnOpts{
		Context:    s.ctx,
		BaseConfig: s.h2base,
		Handler:    s.h2handler,
	})
}

// isH2CUpgrade reports an HTTP/1.1 request asking to switch to h2c. Requests with a body are
// served as HTTP/1.1, which RFC 7540 §3.2 allows, so no body has to be buffered.
func isH2CUpgrade(rc *fasthttp.RequestCtx) bool {
	h := &rc.Request.Header
	if !bytes.EqualFold(h.Peek("Upgrade"), []byte("h2c")) || len(h.Peek("Http2-Settings")) == 0 {
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
	rc.Hijack(func(c net.Conn) {
		if _, err := io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"); err != nil {
			return
		}
		//lint:ignore SA1019 net/http cannot take over an HTTP/1.1 upgrade (RFC 7540 §3.2) on an accepted connection; x/net's ServeConn can
		s.h2.ServeConn(&hijacked{Conn: c}, &http2.ServeConnOpts{
			Context:        s.ctx,
			BaseConfig:     s.h2base,
			Handler:        s.h2handler,
			UpgradeRequest: req,
			Settings:       settings,
		})
	})
	return true
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
