package server

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ConnLimits bound the proxy listener's open connections: in all (Envoy's edge guidance caps
// downstream connections so a flood cannot exhaust file descriptors and memory) and per client
// address (nginx's limit_conn), so that one client holding connections open (slowloris, idle
// keep-alives) cannot take the slots other clients need. Zero means no limit.
type ConnLimits struct {
	Max, PerIP int
}

// limitListener enforces ConnLimits innermost, on the raw connections: a connection counts
// until it is really closed, whichever server (HTTP/1.1 engine or HTTP/2) ends up owning it.
// A connection over a limit is answered with a small JSON error and closed, in a goroutine so
// the accept loop never waits on a client.
//
// netutil.LimitListener (x/net) bounds the total by blocking Accept, which under a flood of
// idle connections starves every new client; refusing at once, and per address, is the point
// here, hence this type.
type limitListener struct {
	net.Listener
	limits ConnLimits
	log    *slog.Logger

	total atomic.Int64
	mu    sync.Mutex
	perIP map[netip.Addr]int
}

func newLimitListener(l net.Listener, limits ConnLimits, log *slog.Logger) net.Listener {
	if limits.Max <= 0 && limits.PerIP <= 0 {
		return l
	}
	return &limitListener{Listener: l, limits: limits, log: log, perIP: map[netip.Addr]int{}}
}

// Refusals are plain HTTP/1.1 answers: a client over a limit has not sent anything yet, and
// almost every client speaks HTTP/1.1 first.
var (
	refusePerIP = refusal("429 Too Many Requests", `{"message":"Too many connections from your address"}`)
	refuseTotal = refusal("503 Service Unavailable", `{"message":"Too many connections"}`)
)

func refusal(status, body string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var ip netip.Addr
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ip, _ = netip.AddrFromSlice(a.IP)
			ip = ip.Unmap()
		}
		if n := l.total.Add(1); l.limits.Max > 0 && n > int64(l.limits.Max) {
			l.total.Add(-1)
			l.refuse(c, refuseTotal, "total", ip)
			continue
		}
		if l.limits.PerIP > 0 {
			l.mu.Lock()
			n := l.perIP[ip] + 1
			ok := n <= l.limits.PerIP
			if ok {
				l.perIP[ip] = n
			}
			l.mu.Unlock()
			if !ok {
				l.total.Add(-1)
				l.refuse(c, refusePerIP, "per_ip", ip)
				continue
			}
		}
		return &limitedConn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *limitListener) refuse(c net.Conn, answer []byte, limit string, ip netip.Addr) {
	l.log.Debug("connection refused over limit", "limit", limit, "client_ip", ip.String())
	go func() {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write(answer)
		_ = c.Close()
	}()
}

func (l *limitListener) release(ip netip.Addr) {
	l.total.Add(-1)
	if l.limits.PerIP <= 0 {
		return
	}
	l.mu.Lock()
	if n := l.perIP[ip] - 1; n > 0 {
		l.perIP[ip] = n
	} else {
		delete(l.perIP, ip)
	}
	l.mu.Unlock()
}

// limitedConn gives its slot back on the first Close.
type limitedConn struct {
	net.Conn
	l      *limitListener
	ip     netip.Addr
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	if !c.closed.Swap(true) {
		c.l.release(c.ip)
	}
	return c.Conn.Close()
}
