package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/h1"
)

// Parking idle keep-alive connections.
//
// The HTTP/1.1 engine serves a connection on one goroutine for as long as it stays open, and
// between two requests that goroutine keeps its stack (8 KiB once it has proxied a request), the
// engine's read buffer (the head limit, 17 KiB by default) and its request context. nginx frees
// a keep-alive connection's buffers while it waits for the next request; parking does the same
// here. A connection that waited longer than the park delay for its next request (or, new, for
// its first) leaves the engine: the engine's loop ends as if the client had closed, its
// goroutine, buffer and context go back to their pools, and a waiter goroutine that holds
// nothing but a small stack waits in the runtime's poller for the next byte. When it arrives,
// the engine serves the connection again (fasthttp.Server.ServeConn). The keep-alive timeout keeps running across the park, and a
// client that closes a parked connection is closed at once.
//
// A busy connection never parks: the delay (a second by default) is far above the gap between
// two requests on a connection in use, so the hot path pays only a branch per read and per read
// deadline, and one more call per request in the engine's state hook.
//
// How a connection parks, all on the engine's own goroutine for that connection:
//  1. the engine reports StateIdle after answering a request (parker.connState), or the
//     connection is new;
//  2. it then sets the keep-alive deadline (or, new, the header timeout), which parkConn
//     shortens to the park delay;
//  3. the read for the next request times out at that shorter deadline: parkConn answers io.EOF,
//     and the engine ends its loop and closes the connection;
//  4. parkConn.Close hands the connection to a waiter instead of closing it.
//
// Only a read that starts a request can time out this way: the engine reports StateActive
// once the first byte is in (parkConn then puts back a new connection's header timeout), and
// every deadline it sets after that is passed through unchanged.
// A connection that parked before its first byte gets the header timeout again from that byte
// (the engine serves it from the start); nginx likewise restarts client_header_timeout on
// every read of a head.

// parkConn states.
const (
	connActive   int32 = iota // being served
	connNew                   // accepted: the engine waits for the first request
	connIdle                  // between requests: the engine waits for the next one
	connParking               // the wait ran past the park delay; the engine is letting go
	connParked                // a waiter holds it
	connHijacked              // taken over by a handler (WebSocket, h2c upgrade): never parks
	connClosed
)

// parker parks the proxy listener's idle HTTP/1.1 connections and serves them again, for
// either engine: fasthttp (its ConnState hook is connState) or the gateway's codec
// (h1State).
type parker struct {
	serve     func(net.Conn) error // the engine's ServeConn
	delay     time.Duration        // idle time before a connection parks
	keepalive time.Duration        // the engine's IdleTimeout: the deadline it sets for the next request
	log       *slog.Logger

	mu      sync.Mutex
	parked  map[*parkConn]struct{}
	stopped bool

	parks    atomic.Int64 // connections parked since collect last asked for a collection
	lastPark atomic.Int64 // unix nanoseconds of the last park
	done     chan struct{}
}

// newParker returns nil (no parking) when delay is zero or not shorter than the keep-alive
// timeout.
func newParker(serve func(net.Conn) error, delay, keepalive time.Duration, log *slog.Logger) *parker {
	if delay <= 0 || delay >= keepalive || !canPark {
		return nil
	}
	p := &parker{serve: serve, delay: delay, keepalive: keepalive, log: log,
		parked: map[*parkConn]struct{}{}, done: make(chan struct{})}
	go p.collect()
	return p
}

// parkListener wraps every accepted connection in a parkConn.
type parkListener struct {
	net.Listener
	p *parker
}

func (l parkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	pc := &parkConn{Conn: c, p: l.p}
	pc.state.Store(connNew)
	return pc, nil
}

// parkConn sits right under the edge tracker, so the engine's reads, read deadlines and Close
// reach it. Every layer under it passes reads straight to the socket (the sniffer's pending bytes
// are consumed with the first request head), so an empty socket means nothing is waiting.
//
// A TLS listener must put it above the TLS layer (a parked connection must not send
// close_notify) and keep Handshake and ConnectionState visible, as edge.NewConn does.
type parkConn struct {
	net.Conn
	p     *parker
	state atomic.Int32
	// Written and read by the goroutine that serves the connection, or by the waiter once the
	// engine has let go of it:
	real   time.Time // the deadline the engine asked for the wait (keep-alive or header timeout)
	graced bool      // the read deadline in force is the shortened one
	outer  net.Conn  // the connection as the engine sees it (the edge tracker's wrapper)
}

// connState is the engine's ConnState hook.
func (p *parker) connState(c net.Conn, st fasthttp.ConnState) {
	pc := parkConnOf(c)
	if pc == nil {
		return
	}
	switch st {
	case fasthttp.StateNew: // every connection is accepted through the engine's Serve
		pc.outer = c
	case fasthttp.StateIdle:
		pc.state.CompareAndSwap(connActive, connIdle)
	case fasthttp.StateActive:
		if pc.state.CompareAndSwap(connIdle, connActive) {
			return // the engine sets the head's deadline itself on a kept-alive connection
		}
		if pc.state.CompareAndSwap(connNew, connActive) && pc.graced {
			// On a new connection the engine's header timeout also bounds the rest of the
			// head and it sets no other: put back the one the park delay shortened.
			pc.graced = false
			_ = pc.Conn.SetReadDeadline(pc.real)
		}
	case fasthttp.StateHijacked:
		pc.state.Store(connHijacked)
	}
}

// h1State is the codec's ConnState hook; its states mean what fasthttp's do.
func (p *parker) h1State(c net.Conn, st h1.ConnState) {
	switch st {
	case h1.StateNew:
		p.connState(c, fasthttp.StateNew)
	case h1.StateIdle:
		p.connState(c, fasthttp.StateIdle)
	case h1.StateActive:
		p.connState(c, fasthttp.StateActive)
	case h1.StateHijacked:
		p.connState(c, fasthttp.StateHijacked)
	}
}

// parkConnOf finds the parkConn under the engine's view of a connection: the edge tracker
// wraps it directly for fasthttp; the codec is handed the parkConn itself.
func parkConnOf(c net.Conn) *parkConn {
	if pc, ok := c.(*parkConn); ok {
		return pc
	}
	if w, ok := c.(interface{ NetConn() net.Conn }); ok {
		pc, _ := w.NetConn().(*parkConn)
		return pc
	}
	return nil
}

// SetReadDeadline shortens the deadline of the engine's wait for a request to the park delay:
// the keep-alive deadline between requests, the header timeout on a new connection.
func (c *parkConn) SetReadDeadline(t time.Time) error {
	c.graced = false
	if t.IsZero() {
		return c.Conn.SetReadDeadline(t)
	}
	switch c.state.Load() {
	case connIdle:
		// The engine sets now+keepalive; now+delay is the same instant moved back, without
		// reading the clock again.
		c.real, c.graced = t, true
		t = t.Add(c.p.delay - c.p.keepalive)
	case connNew:
		// Once per connection: the engine's header timeout, counted from the clock.
		if g := time.Now().Add(c.p.delay); g.Before(t) {
			c.real, c.graced = t, true
			t = g
		}
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline passes through; it ends any shortened read deadline.
func (c *parkConn) SetDeadline(t time.Time) error {
	c.graced = false
	return c.Conn.SetDeadline(t)
}

// Read ends the engine's loop with io.EOF when the wait for a request passed the park delay
// but not the engine's own deadline.
func (c *parkConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && n == 0 && c.graced && errors.Is(err, os.ErrDeadlineExceeded) && time.Now().Before(c.real) {
		if s := c.state.Load(); (s == connIdle || s == connNew) && c.state.CompareAndSwap(s, connParking) {
			return 0, io.EOF
		}
	}
	return n, err
}

// Close hands a connection the engine let go of to a waiter; any other Close closes, a parked
// connection's too (its waiter then finds it closed and lets go).
func (c *parkConn) Close() error {
	for {
		switch s := c.state.Load(); s {
		case connParking:
			if c.state.CompareAndSwap(connParking, connParked) {
				c.p.park(c)
				return nil
			}
		case connClosed:
			return nil
		default:
			if c.state.CompareAndSwap(s, connClosed) {
				return c.Conn.Close()
			}
		}
	}
}

// closeNow closes a parked connection, once.
func (c *parkConn) closeNow() {
	if c.state.Swap(connClosed) != connClosed {
		_ = c.Conn.Close()
	}
}

func (p *parker) park(c *parkConn) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		c.closeNow()
		return
	}
	p.parked[c] = struct{}{}
	p.mu.Unlock()
	p.parks.Add(1)
	p.lastPark.Store(time.Now().UnixNano())
	go p.wait(c)
}

// wait runs on a fresh goroutine, so a parked connection holds a small stack rather than the
// one that served it. When the client sends again it serves the connection on that goroutine.
func (p *parker) wait(c *parkConn) {
	ok := c.Conn.SetReadDeadline(c.real) == nil && awaitInput(c.Conn)
	p.mu.Lock()
	delete(p.parked, c)
	stopped := p.stopped
	p.mu.Unlock()
	if !ok || stopped || !c.state.CompareAndSwap(connParked, connActive) {
		c.closeNow()
		return
	}
	if r, isEdge := c.outer.(interface{ Rebase() }); isEdge {
		r.Rebase() // the engine numbers this serve's requests from 1 again
	}
	if err := p.serve(c.outer); err != nil {
		p.log.Debug("serving a connection after it was parked", "error", err)
	}
}

// awaitInput blocks until the client sends a byte (true), or closes, resets or outlasts the read
// deadline (false). It peeks, so the engine reads the byte itself.
func awaitInput(c net.Conn) bool {
	if s, ok := c.(interface{ buffered() int }); ok && s.buffered() > 0 {
		return true
	}
	sc, ok := innerConn(c, false).(syscall.Conn) // *lingerConn or *net.TCPConn
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	return err == nil && awaitReadable(rc)
}

// stop closes the parked connections; connections that would park later are closed instead.
func (p *parker) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	conns := make([]*parkConn, 0, len(p.parked))
	for c := range p.parked {
		conns = append(conns, c)
	}
	clear(p.parked)
	p.mu.Unlock()
	close(p.done)
	for _, c := range conns {
		c.closeNow() // the waiter's poll returns and finds the parker stopped
	}
}

// count reports how many connections are parked.
func (p *parker) count() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

// collect asks for a garbage collection once a wave of at least minParks parks has been
// followed by a quiet spell with none. What parking frees (read buffers, request contexts, the
// stacks of the engine's goroutines, which end once idle) returns to the allocator, and from
// there to the system, only after a collection; a gateway that allocates nothing runs one only
// every two minutes (the runtime's forced period). Under load collections run on their own and
// this never triggers.
func (p *parker) collect() {
	const minParks = 1024
	settle := 2*p.delay + 2*time.Second // the engine's idle goroutines end after p.delay
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		quiet := time.Since(time.Unix(0, p.lastPark.Load())) >= settle
		if p.parks.Load() >= minParks && quiet {
			p.parks.Store(0)
			// Two collections: the first moves the engine's pools to their victim caches,
			// the second (FreeOSMemory's) frees what they held, and FreeOSMemory returns it
			// to the system at once rather than at the background scavenger's pace.
			runtime.GC()
			debug.FreeOSMemory()
		}
	}
}
