package proxy

import (
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"time"

	"tollgate/internal/balancer"
	"tollgate/internal/snapshot"
	"tollgate/internal/upstream"
)

// Transports owns the keep-alive pools to upstream targets. Pools are keyed by what shapes a
// connection (scheme, address, timeouts) and outlive snapshots, so a reload keeps warm
// connections. It is a runtime object owned by the server, not package state.
type Transports struct {
	mu    sync.Mutex
	pools map[string]*upstream.Pool
	// MaxConnsPerTarget bounds connections to one target.
	MaxConnsPerTarget int
	// IdleTimeout closes pooled connections unused this long (Kong's upstream_keepalive_idle_timeout, 60 s).
	IdleTimeout time.Duration
	// Dial, when set, replaces the TCP dial of the pools made from now on (tests and
	// benchmarks: in-memory upstreams).
	Dial func(addr string, deadline time.Time) (net.Conn, error)
}

// NewTransports returns an empty pool registry with defaults matching Kong's upstream
// keep-alive settings.
func NewTransports() *Transports {
	return &Transports{pools: map[string]*upstream.Pool{}, MaxConnsPerTarget: 4096, IdleTimeout: upstream.DefaultIdleTimeout}
}

// For returns the pool (*upstream.Pool) for target t of svc; it satisfies
// snapshot.TransportFunc.
func (ts *Transports) For(svc *snapshot.Service, t *balancer.Target) any {
	key := svc.Scheme + "|" + t.Addr + "|" + strconv.FormatInt(int64(svc.ConnectTimeout), 10) + "|" +
		strconv.FormatInt(int64(svc.WriteTimeout), 10) + "|" + strconv.FormatInt(int64(svc.ReadTimeout), 10)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if p, ok := ts.pools[key]; ok {
		return p
	}
	rd, wr := svc.ReadTimeout, svc.WriteTimeout
	cfg := upstream.Config{
		Addr:           t.Addr,
		ConnectTimeout: svc.ConnectTimeout,
		MaxConns:       ts.MaxConnsPerTarget,
		IdleTimeout:    ts.IdleTimeout,
		Dial:           ts.Dial,
		// The upstream's response head must fit in the read buffer: 32 KiB (the pool's
		// default), where nginx's proxy_buffer_size of 4 KiB would answer 502 to an
		// upstream setting a few large cookies that Kong (proxy_buffer_size 160k) passes
		// on. Buffers are lent with a connection, so idle connections hold none.
		Wrap: func(c net.Conn) net.Conn { return &timeoutConn{Conn: c, read: rd, write: wr} },
	}
	if svc.Scheme == "https" {
		// Upstream certificate verification follows Kong's default (tls_verify off unless
		// configured); configuring it per service is not supported yet.
		cfg.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // Kong's default
	}
	p := upstream.New(cfg)
	ts.pools[key] = p
	return p
}

// CloseIdle closes idle upstream connections (on shutdown).
func (ts *Transports) CloseIdle() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, p := range ts.pools {
		p.CloseIdle()
	}
}

// timeoutConn gives Kong's timeout semantics: read_timeout and write_timeout bound the time
// between two successive read or write operations, not the whole exchange, so a long
// streaming body is fine while a stalled upstream is cut. To keep the hot path cheap the deadline is only pushed
// when less than three quarters of it remain (the effective bound is between 3/4 and 1× the
// configured timeout).
//
// A deadline set through SetDeadline (the service's try_timeout, set by roundTrip) is a hard
// bound: the between-reads deadline never moves past it.
type timeoutConn struct {
	net.Conn
	read, write       time.Duration
	rdDeadline, wrDue time.Time
	hardRd, hardWr    time.Time
	// rdNow and wrNow, when set, stand for the clock at the next Read and Write: the time
	// the try began, which roundTrip lends when the pool had the connection idle, so that
	// it is microseconds old (lend). Each is used once: a later read reads the clock.
	rdNow, wrNow time.Time
}

// lend tells c the clock as the caller just read it, for its next Read and Write.
func (c *timeoutConn) lend(now time.Time) { c.rdNow, c.wrNow = now, now }

// clock returns *hint once, then the clock.
func clock(hint *time.Time) time.Time {
	if t := *hint; !t.IsZero() {
		*hint = time.Time{}
		return t
	}
	return time.Now()
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	if c.read > 0 {
		now := clock(&c.rdNow)
		if c.rdDeadline.Sub(now) < c.read*3/4 {
			next := now.Add(c.read)
			if !c.hardRd.IsZero() && c.hardRd.Before(next) {
				next = c.hardRd
			}
			if !next.Equal(c.rdDeadline) {
				c.rdDeadline = next
				if err := c.Conn.SetReadDeadline(next); err != nil {
					return 0, err
				}
			}
		}
	}
	return c.Conn.Read(p)
}

func (c *timeoutConn) Write(p []byte) (int, error) {
	if c.write > 0 {
		now := clock(&c.wrNow)
		if c.wrDue.Sub(now) < c.write*3/4 {
			next := now.Add(c.write)
			if !c.hardWr.IsZero() && c.hardWr.Before(next) {
				next = c.hardWr
			}
			if !next.Equal(c.wrDue) {
				c.wrDue = next
				if err := c.Conn.SetWriteDeadline(next); err != nil {
					return 0, err
				}
			}
		}
	}
	return c.Conn.Write(p)
}

// SetReadDeadline records a deadline set by the client library as the hard bound (zero
// clears it).
func (c *timeoutConn) SetReadDeadline(t time.Time) error {
	c.hardRd, c.rdDeadline = t, t
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline is SetReadDeadline for writes.
func (c *timeoutConn) SetWriteDeadline(t time.Time) error {
	c.hardWr, c.wrDue = t, t
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both.
func (c *timeoutConn) SetDeadline(t time.Time) error {
	c.hardRd, c.rdDeadline, c.hardWr, c.wrDue = t, t, t, t
	return c.Conn.SetDeadline(t)
}
