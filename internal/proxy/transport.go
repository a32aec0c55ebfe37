package proxy

import (
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/balancer"
	"tollgate/internal/snapshot"
)

// Transports owns the keep-alive pools to upstream targets. Pools are keyed by what shapes a
// connection (scheme, address, timeouts) and outlive snapshots, so a reload keeps warm
// connections. It is a runtime object owned by the server, not package state.
type Transports struct {
	mu    sync.Mutex
	pools map[string]*fasthttp.HostClient
	// MaxConnsPerTarget bounds connections to one target (fasthttp's MaxConns).
	MaxConnsPerTarget int
	// IdleTimeout closes pooled connections unused this long (Kong's upstream_keepalive_idle_timeout, 60 s).
	IdleTimeout time.Duration
}

// NewTransports returns an empty pool registry with defaults matching Kong's upstream
// keep-alive settings.
func NewTransports() *Transports {
	return &Transports{pools: map[string]*fasthttp.HostClient{}, MaxConnsPerTarget: 4096, IdleTimeout: 60 * time.Second}
}

// For returns the pool for target t of svc; it satisfies snapshot.TransportFunc.
func (ts *Transports) For(svc *snapshot.Service, t *balancer.Target) any {
	key := svc.Scheme + "|" + t.Addr + "|" + strconv.FormatInt(int64(svc.ConnectTimeout), 10) + "|" +
		strconv.FormatInt(int64(svc.WriteTimeout), 10) + "|" + strconv.FormatInt(int64(svc.ReadTimeout), 10)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if hc, ok := ts.pools[key]; ok {
		return hc
	}
	connect, rd, wr := svc.ConnectTimeout, svc.ReadTimeout, svc.WriteTimeout
	hc := &fasthttp.HostClient{
		Addr:                t.Addr,
		IsTLS:               svc.Scheme == "https",
		MaxConns:            ts.MaxConnsPerTarget,
		MaxConnWaitTimeout:  connect,
		MaxIdleConnDuration: ts.IdleTimeout,
		StreamResponseBody:  true,
		// The upstream's response head must fit: 32 KiB, where fasthttp's default 4 KiB
		// (nginx's proxy_buffer_size) would answer 502 to an upstream setting a few large
		// cookies that Kong (proxy_buffer_size 160k) passes on. Buffers are pooled, held
		// only while a response is read.
		ReadBufferSize:                32 << 10,
		DisablePathNormalizing:        true,
		DisableHeaderNamesNormalizing: false,
		NoDefaultUserAgentHeader:      true,
		// Retries belong to the gateway (service.retries, idempotency rules), not to the
		// client library: one attempt per Do.
		MaxIdemponentCallAttempts: 1,
		RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		Dial: func(addr string) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: connect}).Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			return &timeoutConn{Conn: c, read: rd, write: wr}, nil
		},
	}
	if hc.IsTLS {
		// Upstream certificate verification follows Kong's default (tls_verify off unless
		// configured); configuring it per service is not supported yet.
		hc.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // Kong's default
	}
	ts.pools[key] = hc
	return hc
}

// CloseIdle closes idle upstream connections (on shutdown).
func (ts *Transports) CloseIdle() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, hc := range ts.pools {
		hc.CloseIdleConnections()
	}
}

// timeoutConn gives Kong's timeout semantics: read_timeout and write_timeout bound the time
// between two successive read or write operations, not the whole exchange, so a long
// streaming body is fine while a stalled upstream is cut. fasthttp's own timeouts cover the
// whole response, hence this wrapper. To keep the hot path cheap the deadline is only pushed
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
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	if c.read > 0 {
		now := time.Now()
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
		now := time.Now()
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
