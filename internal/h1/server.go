// Package h1 is the gateway's own HTTP/1.1 codec, grown in steps by
// docs/decisions/0002-http1-engine-revisited.md to replace fasthttp under the
// HTTP/1.1 hot path. This is its server side: the downstream connection loop.
//
// A connection is read into one buffer that is parsed in place: the head by
// edge.Policy.ParseRequest, which applies every rule of internal/edge in the
// same pass, a chunked body by edge.ChunkedBody. Nothing is copied out of the
// buffer before the handler runs, and a connection's state is pooled, so a
// keep-alive request costs no allocation in the loop. Responses go out
// through one buffered writer that is flushed when no further pipelined
// request is waiting, so pipelined answers leave in one write.
//
// Why not net/http or fasthttp: see the ADR. In short, measured on the bench
// machine, the engine's own user time per request is what keeps the gateway
// above nginx's CPU per request, and both engines parse laxer than the
// gateway's edge rules, which then need a second and a third scan.
package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"tollgate/internal/edge"
)

// Handler serves one request. The request and everything it points to are
// only good until ServeH1 returns; the writer must not be used after.
type Handler interface {
	ServeH1(w *ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *ResponseWriter, r *Request)

// ServeH1 calls f(w, r).
func (f HandlerFunc) ServeH1(w *ResponseWriter, r *Request) { f(w, r) }

// Defaults for the Server's zero fields.
const (
	DefaultReadBufferSize = 4 << 10
	// DefaultWriteBufferSize is fasthttp's as the gateway sets it: a large body then goes
	// out in 16 KiB writes (with 4 KiB, a 64 KiB body took 16 write calls and the harness's
	// scenario (b) twice nginx's CPU).
	DefaultWriteBufferSize = 16 << 10
	// DefaultMaxIdleWorkerDuration is the gateway's default park delay: a
	// goroutine whose connection parked ends about when the next would park.
	DefaultMaxIdleWorkerDuration = time.Second
	DefaultMaxDrain              = 256 << 10
)

// Server runs the HTTP/1.1 connection loop. Set its fields before the first
// Serve or ServeConn and leave them alone after; the zero value of each
// optional field is documented with it.
type Server struct {
	// Handler serves the requests. Required.
	Handler Handler
	// Policy holds request heads to the edge rules; its zero value is the
	// default policy. MaxHeaderBytes also bounds the read buffer's growth.
	Policy edge.Policy
	// Refuse writes the answer to a request refused before the handler
	// runs (a head against the edge rules, or a head that timed out). The
	// connection closes after it. nil writes a small JSON body,
	// {"message": reason}.
	Refuse func(w *ResponseWriter, status int, reason string)
	// HeaderTimeout bounds the time from a head's first byte to its last
	// (slowloris); a head still incomplete then is answered 408. 0: none.
	HeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the first byte of the next request on
	// a keep-alive connection, and for the first request. 0: none.
	IdleTimeout time.Duration
	// BodyTimeout bounds the wait between two reads of a request body
	// (nginx's client_body_timeout). 0: none.
	BodyTimeout time.Duration
	// WriteTimeout bounds each write to the client (nginx's send_timeout,
	// between two writes rather than over the whole response). 0: none.
	WriteTimeout time.Duration
	// ReadBufferSize is a connection's first read buffer; it grows up to
	// the head bound when a head needs it. 0: DefaultReadBufferSize.
	ReadBufferSize int
	// ConnState, when set, is told where each connection is: StateNew when
	// ServeConn starts on it, StateIdle when it waits for a request after
	// answering one, StateActive when the first byte of a request is in,
	// StateHijacked when a handler takes it over. Called on the
	// connection's own goroutine; the gateway parks idle connections with it
	// (internal/server, park.go).
	ConnState func(net.Conn, ConnState)
	// WriteBufferSize is a connection's response buffer; bodies larger than it go out in
	// writes of its size. 0: DefaultWriteBufferSize.
	WriteBufferSize int
	// MaxIdleWorkerDuration is how long a goroutine that served a connection
	// waits for a new one before it ends (Serve only). Waiting keeps its grown
	// stack for the next connection; ending gives the stack back, which idle
	// parked connections rely on. 0: DefaultMaxIdleWorkerDuration.
	MaxIdleWorkerDuration time.Duration
	// MaxDrain is how much of a body the handler left unread is read and
	// thrown away to keep the connection; a longer rest closes it instead.
	// 0: DefaultMaxDrain.
	MaxDrain int64
	// CloseUnread, when set, closes a connection whose request body was left
	// unread and not drained, instead of Close: its client may still be
	// sending, and closing a socket with unread input sends a reset that can
	// destroy the response (the gateway lingers there, as nginx's
	// lingering_close does).
	CloseUnread func(net.Conn) error

	pool sync.Pool // *conn

	mu        sync.Mutex
	conns     map[*conn]struct{}
	listeners map[net.Listener]struct{}
	closing   atomic.Bool
}

// ConnState is where a connection is, for Server.ConnState.
type ConnState int

// Connection states.
const (
	StateNew ConnState = iota
	StateIdle
	StateActive
	StateHijacked
)

func (s *Server) state(c net.Conn, st ConnState) {
	if s.ConnState != nil {
		s.ConnState(c, st)
	}
}

// ErrServerClosed is what Serve returns after Shutdown.
var ErrServerClosed = errors.New("h1: server closed")

// Shutdown stops the server gracefully: it closes the listeners Serve runs
// on, closes connections that wait for a request, lets each connection
// finish the request it is serving (its response then closes it), and
// returns once no connection is left, or when ctx ends: the connections
// still open are then closed, and ctx's error returned. Hijacked
// connections are the hijacker's.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		_ = ln.Close()
	}
	s.mu.Unlock()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for cn := range s.conns {
				_ = cn.c.Close()
			}
			s.mu.Unlock()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// closeIdle closes the connections waiting for a request and returns how
// many connections are left.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cn := range s.conns {
		// a connection between requests, with nothing of the next one read:
		// closing it loses nothing (net/http's closeIdleConns rule)
		if cn.idle.Load() {
			_ = cn.c.Close()
		}
	}
	return len(s.conns)
}

func (s *Server) track(cn *conn, add bool) {
	s.mu.Lock()
	if add {
		if s.conns == nil {
			s.conns = make(map[*conn]struct{})
		}
		s.conns[cn] = struct{}{}
	} else {
		delete(s.conns, cn)
	}
	s.mu.Unlock()
}

// ErrHijacked is returned by ServeConn when a handler took the connection
// over with ResponseWriter.Hijack.
var ErrHijacked = errors.New("h1: connection hijacked")

// Serve accepts connections from ln and serves each on its own goroutine
// until Accept fails; it returns that error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	if s.closing.Load() {
		_ = ln.Close()
	}
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	// Connections go to goroutines that served one before and wait a while for the next:
	// a fresh goroutine per connection grows its stack by copying, several times, on the way
	// through the gateway's handler (fasthttp keeps a worker pool for the same reason).
	idle, done := make(chan net.Conn), make(chan struct{})
	defer close(done)
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			return err
		}
		select {
		case idle <- c:
		default:
			go s.worker(c, idle, done)
		}
	}
}

// worker serves c, then the connections Serve hands it, until none comes for
// MaxIdleWorkerDuration or Serve returns.
func (s *Server) worker(c net.Conn, idle <-chan net.Conn, done <-chan struct{}) {
	wait := s.MaxIdleWorkerDuration
	if wait <= 0 {
		wait = DefaultMaxIdleWorkerDuration
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		_ = s.ServeConn(c)
		t.Reset(wait)
		select {
		case c = <-idle:
		case <-t.C:
			return
		case <-done:
			return
		}
	}
}

// ServeConn serves requests on c until the client or a response closes it,
// a timeout or a refusal ends it, or a handler hijacks it. It closes c
// unless it was hijacked (then it returns ErrHijacked). It returns nil when
// the connection ended as HTTP/1.1 lets it end (the client left between
// requests, a response or a refusal closed it), else the I/O error.
func (s *Server) ServeConn(c net.Conn) error {
	cn, _ := s.pool.Get().(*conn)
	if cn == nil {
		cn = &conn{s: s, buf: make([]byte, s.readBufferSize())}
		cn.bw = bufio.NewWriterSize(&cn.out, s.writeBufferSize())
		cn.out.c = cn
	}
	cn.c = c
	cn.bw.Reset(&cn.out)
	s.track(cn, true)
	s.state(c, StateNew)
	err := cn.serveSafe()
	s.track(cn, false)
	var pe *PanicError
	if errors.As(err, &pe) {
		// the connection's state is unknown after a panic: not pooled
		_ = c.Close()
		return err
	}
	switch {
	case errors.Is(err, ErrHijacked):
	case cn.unread && s.CloseUnread != nil:
		_ = s.CloseUnread(c)
	default:
		_ = c.Close()
	}
	cn.reset()
	s.pool.Put(cn)
	if errors.Is(err, errClientGone) || errors.Is(err, errClosed) {
		return nil
	}
	return err
}

func (s *Server) readBufferSize() int {
	if s.ReadBufferSize > 0 {
		return s.ReadBufferSize
	}
	return DefaultReadBufferSize
}

func (s *Server) writeBufferSize() int {
	if s.WriteBufferSize > 0 {
		return s.WriteBufferSize
	}
	return DefaultWriteBufferSize
}

func (s *Server) maxDrain() int64 {
	if s.MaxDrain > 0 {
		return s.MaxDrain
	}
	return DefaultMaxDrain
}

// conn is one connection's state, pooled by its Server.
type conn struct {
	s   *Server
	c   net.Conn
	buf []byte // read buffer; buf[r:w] is read and not yet consumed
	// alt is the read buffer that a chunked body continues in, so that reading it never
	// overwrites the head in buf: the head's slices are the handler's until it returns.
	// The two swap roles; most connections never make alt.
	alt  []byte
	r, w int
	bw   *bufio.Writer
	out  deadlineWriter
	req  Request
	resp ResponseWriter
	body body
	// readDeadline is the read deadline last set, so a read only moves it
	// when it has to; idleDeadline says it was set for a wait between
	// requests (setIdleDeadline).
	readDeadline time.Time
	idleDeadline bool
	reqs         uint64 // requests served
	peer         netip.Addr
	peerKnown    bool // peer is worked out (Request.Peer)
	unread       bool // the last request's body was left unread (CloseUnread)
	// idle is set while the connection waits for a request with nothing of
	// it read; Shutdown closes such connections
	idle    atomic.Bool
	copyBuf []byte // for bodies copied without a known length
}

// moveBody swaps buf and alt, carrying the bytes not yet consumed: the chunked body reader
// calls it before it would first reuse the part of buf that holds the request head.
func (cn *conn) moveBody() {
	if len(cn.alt) < len(cn.buf) {
		cn.alt = make([]byte, len(cn.buf))
	}
	n := copy(cn.alt, cn.buf[cn.r:cn.w])
	cn.buf, cn.alt = cn.alt, cn.buf
	cn.r, cn.w = 0, n
}

// scratch is the connection's copy buffer, made on first use: most
// connections never need it.
func (cn *conn) scratch() []byte {
	if cn.copyBuf == nil {
		cn.copyBuf = make([]byte, 16<<10)
	}
	return cn.copyBuf
}

func (cn *conn) reset() {
	if cap(cn.buf) > 4*cn.s.readBufferSize() {
		// a grown buffer served a large head: do not keep it pooled
		cn.buf = make([]byte, cn.s.readBufferSize())
	}
	if cap(cn.alt) > 4*cn.s.readBufferSize() {
		cn.alt = nil
	}
	cn.c, cn.r, cn.w, cn.reqs, cn.unread = nil, 0, 0, 0, false
	cn.peer, cn.peerKnown = netip.Addr{}, false
	cn.readDeadline, cn.out.deadline, cn.out.now = time.Time{}, time.Time{}, time.Time{}
	cn.idleDeadline = false
	cn.req.reset()
	cn.bw.Reset(&cn.out)
}

// PanicError is what ServeConn returns when a handler panicked. Like
// net/http, the codec keeps the process alive and ends only the connection;
// the gateway's own handler recovers its pipeline before this, so a panic
// here is a bug in the codec's caller, reported with its stack.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("h1: handler panic: %v", e.Value) }

func (cn *conn) serveSafe() (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return cn.serve()
}

// errClosed ends the loop: the response asked for the connection to close.
var errClosed = errors.New("h1: connection closes")

func (cn *conn) serve() error {
	for {
		if err := cn.readHead(); err != nil {
			return err
		}
		cn.reqs++
		r := &cn.req
		r.conn = cn
		if r.Head.Chunked && cn.r < cn.w {
			// A chunked body whose bytes came with the head is checked before the handler
			// runs, so a malformed one (a smuggling payload, sent in one go) is refused
			// before anything is forwarded, as the wire tracker does for fasthttp. Later
			// bytes are checked as the handler reads them.
			if v := probeChunked(cn.buf[cn.r:cn.w]); !v.OK() {
				cn.refuse(v.Status, v.Reason)
				return errClosed
			}
		}
		cn.body.start(cn, &r.Head)
		r.Body = nil
		if !cn.body.eof {
			r.Body = &cn.body
		}
		cn.resp.start(cn, r)
		cn.s.Handler.ServeH1(&cn.resp, r)
		if cn.resp.hijacked {
			return ErrHijacked
		}
		if cn.resp.status == 101 {
			// switched protocols but not taken over: what follows is not
			// HTTP/1.1 any more
			cn.resp.close = true
		}
		if err := cn.resp.finish(); err != nil {
			return err
		}
		keep := !cn.resp.close && !r.Head.Close && !cn.s.closing.Load() && cn.drain()
		if !keep {
			cn.unread = !cn.body.eof
			_ = cn.bw.Flush()
			return errClosed
		}
		if cn.r == cn.w {
			// nothing pipelined behind this request: send what is
			// buffered now, or the client waits for it
			// cleared first, so that what the flush leaves in out.now is its own reading
			// of the clock: the wait for the next request counts its IdleTimeout from it,
			// microseconds later, one clock read per request fewer
			cn.out.now = time.Time{}
			if err := cn.bw.Flush(); err != nil {
				return err
			}
		}
	}
}

// drain reads what the handler left of the request body, up to MaxDrain, so
// the next request can be read; it reports whether the connection can go on.
func (cn *conn) drain() bool {
	b := &cn.body
	if b.eof {
		return true
	}
	if b.broken {
		return false
	}
	if b.length >= 0 && b.length-b.read > cn.s.maxDrain() {
		return false
	}
	if b.expect && !b.sent100 {
		// the client still waits for 100 Continue before its body: it was
		// never asked for, so the connection cannot go on without it
		return false
	}
	n, err := io.Copy(io.Discard, io.LimitReader(b, cn.s.maxDrain()+1))
	return err == nil && n <= cn.s.maxDrain() && b.eof
}

// readHead reads until a whole head is parsed into cn.req.Head.
func (cn *conn) readHead() error {
	h := &cn.req.Head
	h.Reset()
	pol := &cn.s.Policy
	if cn.r == cn.w {
		cn.r, cn.w = 0, 0
	}
	var headStart time.Time
	for {
		n, v := pol.ParseRequest(cn.buf[cn.r:cn.w], h)
		if !v.OK() {
			cn.refuse(v.Status, v.Reason)
			return errClosed
		}
		if n > 0 {
			cn.r += n
			return nil
		}
		// more is needed: make room, then read
		if cn.r > 0 && cn.w == len(cn.buf) {
			cn.w = copy(cn.buf, cn.buf[cn.r:cn.w])
			cn.r = 0
		}
		if cn.w == len(cn.buf) {
			grown := make([]byte, min(2*len(cn.buf), pol.HeaderBytes()+2))
			if len(grown) <= len(cn.buf) {
				// ParseRequest refuses a head over the bound before the
				// buffer fills; a full buffer here is a bug, not input
				cn.refuse(431, edge.ReasonHeadTooLarge)
				return errClosed
			}
			cn.w = copy(grown, cn.buf[cn.r:cn.w])
			cn.r = 0
			cn.buf = grown
		}
		started := cn.w > cn.r
		if started {
			cn.out.now = time.Time{} // a wait that follows no flush reads the clock
		}
		if !started && cn.reqs > 0 && headStart.IsZero() {
			// before the wait's deadline: a ConnState hook may shape it (parking)
			cn.s.state(cn.c, StateIdle)
		}
		switch {
		case started && cn.s.HeaderTimeout > 0 && headStart.IsZero():
			headStart = time.Now()
			cn.setReadDeadline(headStart.Add(cn.s.HeaderTimeout))
		case !started && cn.s.IdleTimeout > 0:
			now := cn.out.now // the last flush's clock (see serve)
			if now.IsZero() {
				now = time.Now()
			}
			if cn.reqs > 0 {
				cn.setIdleDeadline(now.Add(cn.s.IdleTimeout))
			} else {
				// a new connection's first wait: the parker shortens it and puts the
				// engine's deadline back itself when the first request starts
				cn.setReadDeadline(now.Add(cn.s.IdleTimeout))
			}
		case !started:
			cn.setReadDeadline(time.Time{})
		}
		if !started {
			cn.idle.Store(true)
			if cn.s.closing.Load() {
				// Shutdown began: take no new request (Shutdown's sweep
				// may have run before idle was set)
				cn.idle.Store(false)
				return errClientGone
			}
		}
		k, err := cn.c.Read(cn.buf[cn.w:])
		cn.idle.Store(false)
		if k > 0 && !started {
			cn.s.state(cn.c, StateActive)
		}
		cn.w += k
		// The header deadline is set only when a head needs a second read (the switch
		// above, on the next turn): most heads arrive whole in one read, and a deadline per
		// request showed in profiles. It then runs from that turn, microseconds after the
		// head's first bytes.
		if err != nil && k == 0 {
			if cn.w > cn.r && isTimeout(err) {
				cn.refuse(408, "request head timed out")
				return errClosed
			}
			if cn.w == cn.r && (errors.Is(err, io.EOF) || isTimeout(err) || errors.Is(err, net.ErrClosed)) {
				// between requests: the client left, idled out, or Shutdown
				// closed the idle connection
				return errClientGone
			}
			return err
		}
	}
}

// errClientGone ends the loop quietly: no request was under way.
var errClientGone = errors.New("h1: client gone")

// probeChunked runs a chunked body's rules over the part of it at hand, without consuming it.
func probeChunked(src []byte) edge.Verdict {
	var probe edge.ChunkedBody
	for len(src) > 0 {
		_, used, done, v := probe.Next(src)
		if !v.OK() || done {
			return v
		}
		src = src[used:]
	}
	return edge.Verdict{}
}

// lazyDeadline is how much later than the idle deadline in force a new one may be and still
// be left unset: nginx's NGX_TIMER_LAZY_DELAY (300 ms), for the same reason. Between two
// keep-alive requests the idle deadline moves by the time one request took, and setting it
// goes through the listener's wrappers to the runtime's timer heap: about 850 instructions a
// request under keep-alive load, 3% of the whole process's (bench/profiles/README.md). A wait
// for a request may so end up to this much early.
const lazyDeadline = 300 * time.Millisecond

// setIdleDeadline sets the deadline of a wait for the next request on a kept-alive connection
// (after the StateIdle hook), lazily: when the one in force was set for such a wait too, and t
// is later by less than lazyDeadline, it stays. Only between such waits: a hook under the
// connection may shape a wait's deadline (the parker shortens it to its delay, and on a new
// connection puts it back itself), so a deadline set for anything else is always replaced.
func (cn *conn) setIdleDeadline(t time.Time) {
	if cn.idleDeadline && t.After(cn.readDeadline) && t.Sub(cn.readDeadline) < lazyDeadline {
		return
	}
	cn.setReadDeadline(t)
	cn.idleDeadline = true
}

func (cn *conn) setReadDeadline(t time.Time) {
	cn.idleDeadline = false
	if t.Equal(cn.readDeadline) {
		return
	}
	cn.readDeadline = t
	_ = cn.c.SetReadDeadline(t)
}

func (cn *conn) refuse(status int, reason string) {
	w := &cn.resp
	w.start(cn, &cn.req)
	w.close = true
	if cn.s.Refuse != nil {
		cn.s.Refuse(w, status, reason)
	} else {
		w.AddHeaderString("Content-Type", "application/json")
		body := appendJSONMessage(nil, reason)
		w.WriteHeader(status, int64(len(body)))
		_, _ = w.Write(body)
	}
	_ = w.finish()
	_ = cn.bw.Flush()
}

// appendJSONMessage renders {"message":"..."}; reasons are fixed client-safe
// texts, escaped anyway.
func appendJSONMessage(dst []byte, msg string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, `{"message":"`...)
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, `"}`...)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// deadlineWriter moves the write deadline before a write when less than
// three quarters of WriteTimeout remain, so a response streaming steadily
// does not set a timer per write.
type deadlineWriter struct {
	c        *conn
	deadline time.Time
	now      time.Time // the clock at the last write, when it was read
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if t := d.c.s.WriteTimeout; t > 0 {
		now := time.Now()
		d.now = now
		if d.deadline.Sub(now) < t*3/4 {
			d.deadline = now.Add(t)
			_ = d.c.c.SetWriteDeadline(d.deadline)
		}
	}
	return d.c.c.Write(p)
}
