package server

import (
	"net"

	"github.com/valyala/fasthttp"

	"tollgate/internal/h1"
)

// TCP keep-alive probes on the proxy listener's connections.
//
// The proxy listener accepts with probes off, as nginx's listen does by default
// (so_keepalive=off). Go turns them on for every accepted connection, which costs four
// setsockopt calls. With a new connection per request (scenario (c)) those were the larger
// part of the gateway's system calls per connection.
//
// An HTTP/1.1 connection needs no probes: every wait on it has a deadline (the head, the
// body, the keep-alive idle, the upstream's read timeout while a response streams). A
// connection taken over by an upgrade has none: a WebSocket tunnel may stay silent for
// hours. Probes are turned on there, so a client that vanished without a FIN (power loss,
// a NAT that forgot it) is still found and its tunnel and upstream connection closed. The
// same goes for connections handed to HTTP/2, whose streams may be long-lived.

// proxyListenConfig is the proxy listener's: no keep-alive probes on accepted connections.
func proxyListenConfig() net.ListenConfig { return net.ListenConfig{KeepAlive: -1} }

// probePeer turns TCP keep-alive probes on, at Go's defaults (idle 15 s, then every 15 s,
// nine times), for the socket under c.
func probePeer(c net.Conn) {
	if tc := tcpUnder(c, true); tc != nil {
		_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true})
	}
}

// h1State is the codec's ConnState hook: probes for a connection an upgrade took over, and
// the parker's states.
func (s *Server) h1State(c net.Conn, st h1.ConnState) {
	if st == h1.StateHijacked {
		probePeer(c)
	}
	if s.parker != nil {
		s.parker.h1State(c, st)
	}
}

// fastState is fasthttp's ConnState hook, as h1State.
func (s *Server) fastState(c net.Conn, st fasthttp.ConnState) {
	if st == fasthttp.StateHijacked {
		probePeer(c)
	}
	if s.parker != nil {
		s.parker.connState(c, st)
	}
}
