// Package upstream keeps alive connections to one upstream address for the
// gateway's own HTTP/1.1 client (docs/decisions/0002-http1-engine-revisited.md,
// step 3). It lends a connection with its buffers, takes it back for reuse,
// bounds how many are open, queues callers when that bound is reached, and
// closes connections left idle too long.
//
// It knows nothing of HTTP: what is written and read on a connection, and
// whether the connection may serve another request afterwards, is the
// client's decision. The pool only refuses to keep a connection whose
// buffers show it is out of step (unread bytes, unflushed bytes).
package upstream

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// Defaults for the zero values of Config.
const (
	// DefaultIdleTimeout is Kong's upstream_keepalive_idle_timeout.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultReadBufferSize must hold an upstream's whole response head: 32 KiB,
	// where fasthttp's 4 KiB would answer 502 to an upstream setting a few large
	// cookies that Kong (proxy_buffer_size 160k) passes on.
	DefaultReadBufferSize = 32 << 10
	// DefaultWriteBufferSize holds a typical request head and a small body, so
	// most requests leave in one write.
	DefaultWriteBufferSize = 4 << 10
)

// Errors callers branch on (errors.Is). Get wraps them with the address.
var (
	// ErrNoFreeConns: MaxConns connections stayed open, none put back or
	// discarded, until Get's deadline.
	ErrNoFreeConns = errors.New("upstream: no free connection")
	// ErrDialTimeout: the dial or the TLS handshake did not finish within
	// ConnectTimeout (or Get's earlier deadline). The error Get returns is also
	// a net.Error whose Timeout is true.
	ErrDialTimeout = errors.New("upstream: dial timed out")
	// ErrPoolClosed: Get after Close, or a Get that was waiting when Close ran.
	ErrPoolClosed = errors.New("upstream: pool closed")
)

// Config shapes a Pool. It is read once, by New.
type Config struct {
	// Addr is the host:port dialled over TCP.
	Addr string
	// TLS, when non-nil, makes each connection a tls.Client over the TCP
	// connection; the handshake runs inside Get, bounded like the dial. An empty
	// ServerName is taken from Addr's host, as net/http does.
	TLS *tls.Config
	// ConnectTimeout bounds the dial and the TLS handshake together; it is also
	// the longest Get waits for a free slot when MaxConns are open and Get's
	// deadline is zero. 0: no bound (the OS's own connect timeout still applies).
	ConnectTimeout time.Duration
	// MaxConns bounds open connections: lent, idle and being dialled. 0 (or
	// less): no bound.
	MaxConns int
	// IdleTimeout closes a connection left idle this long. 0 (or less):
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// ReadBufferSize and WriteBufferSize size the buffers lent with a
	// connection. 0 (or less): DefaultReadBufferSize, DefaultWriteBufferSize.
	ReadBufferSize, WriteBufferSize int
	// Dial, when set, replaces the TCP dial: tests and benchmarks hand in
	// in-memory connections. deadline is the one ConnectTimeout and Get's
	// deadline make (zero: none). Its errors are sorted as a TCP dial's are.
	Dial func(addr string, deadline time.Time) (net.Conn, error)
	// Wrap, when set, wraps each new connection after the dial and the TLS
	// handshake, e.g. to bound each read and write (proxy.timeoutConn).
	Wrap func(net.Conn) net.Conn
}

// Pool is a keep-alive pool of connections to one upstream address. It is
// safe for concurrent use. Get and Put of an idle connection take the mutex
// once each and allocate nothing; dials, TLS handshakes and closes happen
// outside the mutex.
//
// The gateway owns this code instead of taking a library's pool because its
// HTTP/1.1 client is its own (ADR 0002, step 3: it writes the request with
// upReq.writeRequest and reads the response with h1.ReadResponseHead), and
// neither library lends what that client needs, a raw connection with
// buffers: fasthttp's HostClient pools only for its own Request and Response
// types (AcquireConn is a side door that keeps fasthttp in the build for a
// pool alone), and net/http's Transport never hands out its connections.
type Pool struct {
	cfg     Config    // defaults filled in
	epoch   time.Time // origin of Conn.idleSince
	tls     *tls.Config
	errFull error // ErrNoFreeConns and ErrPoolClosed with the address, made once:
	errShut error // an overloaded upstream must not cost an allocation per refusal

	// Buffers are lent with a connection and come back with it, so an idle
	// connection holds none: 10,000 idle connections with their own 36 KiB
	// would pin 360 MB. Without pooling them, as fasthttp's AcquireReader did,
	// every request would allocate those 36 KiB.
	readers, writers sync.Pool

	mu       sync.Mutex
	open     int     // lent + idle + being dialled
	idle     []*Conn // a stack: the last put back is lent first, so surplus ones age out
	waiters  waitQueue
	cleaning bool // the cleaner goroutine runs; it exits when idle is empty
	closed   bool

	done    chan struct{} // closed by Close: stops the cleaner
	cleaner sync.WaitGroup
}

// New returns an empty pool; it dials nothing and starts no goroutine until
// used.
func New(cfg Config) *Pool {
	if cfg.MaxConns < 0 {
		cfg.MaxConns = 0
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ReadBufferSize <= 0 {
		cfg.ReadBufferSize = DefaultReadBufferSize
	}
	if cfg.WriteBufferSize <= 0 {
		cfg.WriteBufferSize = DefaultWriteBufferSize
	}
	p := &Pool{
		cfg:     cfg,
		epoch:   time.Now(),
		errFull: fmt.Errorf("get connection to %s: %w", cfg.Addr, ErrNoFreeConns),
		errShut: fmt.Errorf("get connection to %s: %w", cfg.Addr, ErrPoolClosed),
		done:    make(chan struct{}),
	}
	if cfg.TLS != nil {
		p.tls = cfg.TLS.Clone()
		if p.tls.ServerName == "" {
			if host, _, err := net.SplitHostPort(cfg.Addr); err == nil {
				p.tls.ServerName = host
			}
		}
	}
	rsize, wsize := cfg.ReadBufferSize, cfg.WriteBufferSize
	p.readers.New = func() any { return bufio.NewReaderSize(nil, rsize) }
	p.writers.New = func() any { return bufio.NewWriterSize(nil, wsize) }
	return p
}

// Get returns a connection: the most recently used idle one, or a new one.
// When MaxConns connections are open it waits, first come first served, for
// one to be put back (which it then gets) or discarded (whose slot it then
// dials in), until deadline; a zero deadline means now+ConnectTimeout, or no
// bound without a ConnectTimeout. After the deadline the error matches
// ErrNoFreeConns.
//
// A non-zero deadline also bounds the dial and TLS handshake when it comes
// before ConnectTimeout: a connection ready after the caller's deadline is of
// no use to it. A dial or handshake that times out gives an error matching
// ErrDialTimeout that is a net.Error with Timeout true; other dial errors
// keep their cause for errors.Is (syscall.ECONNREFUSED). After Close, Get
// fails with ErrPoolClosed.
func (p *Pool) Get(deadline time.Time) (*Conn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, p.errShut
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		c = p.lend(c)
		c.straight = true
		return c, nil
	}
	if p.cfg.MaxConns == 0 || p.open < p.cfg.MaxConns {
		p.open++ // the slot is taken before the dial, so concurrent dials respect MaxConns
		p.mu.Unlock()
		return p.dial(deadline)
	}
	w := &waiter{ch: make(chan handoff, 1)}
	p.waiters.push(w)
	p.mu.Unlock()
	return p.wait(w, deadline)
}

// Put gives c back for reuse, to the first caller waiting in Get or else to
// the idle list. The caller must have flushed c.W and read the response to
// its end: if c.W still holds bytes, or c.R holds bytes the upstream sent
// beyond the response, the connection is out of step and is closed instead.
// After Close of the pool it is closed too. c must not be used after Put.
func (p *Pool) Put(c *Conn) {
	if !p.reclaim(c) {
		p.discard(c)
		return
	}
	c.idleSince = time.Since(p.epoch)
	c.reused = true
	p.mu.Lock()
	kept := p.keepLocked(c)
	p.mu.Unlock()
	if !kept {
		_ = c.Conn.Close() // dropping it: a failed close changes nothing
	}
}

// Discard closes c and frees its slot: the first caller waiting in Get, if
// any, dials in it. c must not be used after Discard. A lent connection must
// be closed through Discard, never through its own Close, which would leave
// its slot taken.
func (p *Pool) Discard(c *Conn) {
	p.reclaim(c)
	p.discard(c)
}

// CloseIdle closes every idle connection now (on shutdown, or when the
// upstream is known to have gone). Lent connections are untouched and the
// pool stays usable.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.takeIdleLocked()
	p.mu.Unlock()
	closeAll(idle)
}

// Close closes the idle connections, fails waiting and later Gets with
// ErrPoolClosed, makes Put close what it is given, and stops the cleaner
// goroutine, returning once it has exited. Lent connections stay usable until
// put back or discarded.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.cleaner.Wait()
		return
	}
	p.closed = true
	for w := p.waiters.pop(); w != nil; w = p.waiters.pop() {
		w.hand(handoff{err: p.errShut})
	}
	idle := p.takeIdleLocked()
	p.mu.Unlock()
	close(p.done)
	closeAll(idle)
	// No cleaner starts after closed is set (keepLocked checks it), so Wait
	// cannot race an Add.
	p.cleaner.Wait()
}

// Stats returns the number of open connections (lent, idle and being
// dialled) and of idle ones.
func (p *Pool) Stats() (open, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open, len(p.idle)
}

// dial opens a connection in a slot already counted in open; on failure the
// slot goes to the next waiter or is released.
func (p *Pool) dial(deadline time.Time) (*Conn, error) {
	nc, err := p.connect(deadline)
	if err != nil {
		p.mu.Lock()
		p.releaseSlotLocked()
		p.mu.Unlock()
		return nil, err
	}
	return p.lend(&Conn{Conn: nc}), nil
}

// discard closes a reclaimed connection, then frees its slot: closing first
// keeps the number of sockets within MaxConns.
func (p *Pool) discard(c *Conn) {
	_ = c.Conn.Close() // dropping it: a failed close changes nothing
	p.mu.Lock()
	p.releaseSlotLocked()
	p.mu.Unlock()
}

// keepLocked files a connection fit for reuse: to the first waiter, else on
// the idle stack, starting the cleaner if it is not running. It reports
// false when the pool is closed; the caller then closes c, outside the lock.
func (p *Pool) keepLocked(c *Conn) bool {
	if p.closed {
		p.open--
		return false
	}
	if w := p.waiters.pop(); w != nil {
		w.hand(handoff{c: c})
		return true
	}
	p.idle = append(p.idle, c)
	if !p.cleaning {
		p.cleaning = true
		p.cleaner.Add(1)
		go p.clean()
	}
	return true
}

// releaseSlotLocked frees the slot of a connection that was closed or never
// opened: the first waiter gets it to dial in, or open shrinks.
func (p *Pool) releaseSlotLocked() {
	if w := p.waiters.pop(); w != nil {
		w.hand(handoff{})
		return
	}
	p.open--
}

// takeIdleLocked empties the idle list, freeing the slots, and returns its
// connections for the caller to close outside the lock. The list keeps its
// backing array for later Puts.
func (p *Pool) takeIdleLocked() []*Conn {
	if len(p.idle) == 0 {
		return nil
	}
	idle := slices.Clone(p.idle)
	clear(p.idle)
	p.idle = p.idle[:0]
	for range idle {
		p.releaseSlotLocked()
	}
	return idle
}

func closeAll(conns []*Conn) {
	for _, c := range conns {
		_ = c.Conn.Close() // dropping it: a failed close changes nothing
	}
}
