package proxy

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/balancer"
	"tollgate/internal/h1"
)

// wsUpstream is the upstream side of an upgraded connection.
type wsUpstream struct {
	conn net.Conn
	br   *bufio.Reader
	tc   *timeoutConn // under br, over conn
}

// dialUpgrade sends the handshake to a target on a fresh connection (upgraded connections are
// never pooled) and reads the answer head. A 101 leaves st.wsConn set for the splice; any
// other answer is relayed like a normal response.
func (p *Proxy) dialUpgrade(st *reqState) {
	c := &st.pc
	svc := st.route.Service
	if d := svc.UpstreamDown; d != nil && d.Load() {
		p.failErr(st, balancer.ErrNoTarget)
		return
	}
	key := p.hashKey(st, svc)
	fb, _ := svc.Balancer.(balancer.Feedback)
	req := &st.up
	st.uri = appendEscapedURI(st.uri[:0], st.up.path, st.up.query, st.hadQuery)
	req.uri = st.uri
	st.upH.Set("Connection", "Upgrade")
	st.upH.Set("Upgrade", "websocket")
	// the handshake carries no body: what follows it on the connection is the protocol's
	req.body, req.buffered = nil, false

	// Connecting is retried on another target as for any request: nothing was sent yet.
	var (
		t    *balancer.Target
		conn net.Conn
		err  error
		done tried
		host string
	)
	d := net.Dialer{Timeout: svc.ConnectTimeout}
	for try := 0; ; try++ {
		if t, err = pickTry(svc.Balancer, key, done, try); err != nil {
			p.failErr(st, err)
			return
		}
		done.add(t)
		st.target = t
		host = st.up.host
		if st.hostAuto && host == st.hostInit {
			host = svc.HostFor(t)
		}
		c.UpstreamStart = time.Now()
		if conn, err = d.Dial("tcp", t.Addr); err == nil {
			break
		}
		p.report(svc, t, 0, err)
		if fb != nil {
			fb.Done(t, time.Since(c.UpstreamStart), true)
		}
		if try >= svc.Retries || !retryable(err, false, false) || !svc.Budget.TryRetry() {
			p.failErr(st, err)
			return
		}
		svc.Budget.RetryDone() // the dial is the whole retry
	}
	// the pick lasts as long as the upgraded connection: finish reports it done
	st.feedback = fb
	req.sendHost = host
	if svc.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: hostOnly(host)}) //nolint:gosec // Kong's default tls_verify off
		conn = tc
	}
	tc := &timeoutConn{Conn: conn, read: svc.ReadTimeout, write: svc.WriteTimeout}
	bw := bufio.NewWriter(tc)
	if err := req.writeRequest(bw); err != nil || bw.Flush() != nil {
		conn.Close()
		p.fail(st, 502, msgBadGateway)
		return
	}
	// the head must fit, as on the pooled connections (Transports.For)
	br := bufio.NewReaderSize(tc, 32<<10)
	resp := &st.resp
	resp.reset()
	head := &st.held.head
	if err := h1.ReadResponseHead(br, head); err != nil {
		conn.Close()
		p.report(svc, t, 0, err)
		p.failErr(st, transportError(err))
		return
	}
	resp.status, resp.cl = head.Status, head.ContentLength
	resp.h.AddFieldsFrom(head.Raw, head.Fields)
	c.UpstreamFirstByte = time.Now()
	// the handshake's answer feeds the passive checks like any response
	p.report(svc, t, resp.status, nil)
	if resp.status != fasthttp.StatusSwitchingProtocols {
		// a refusal: read it whole (it is small) and relay it
		st.held.body.Reset(br, head, false)
		body, err := readAllLimit(resp.body[:0], &st.held.body, 1<<20)
		conn.Close()
		if err != nil {
			p.fail(st, 502, msgBadGateway)
			return
		}
		resp.body = body
		st.scratch = sanitizeResponse(&resp.h, upstreamFields(&resp.h, ""), st.scratch)
		return
	}
	st.wsConn = &wsUpstream{conn: conn, br: br, tc: tc}
}

// spliceFast answers 101 to the client on the hijacked connection and copies bytes both ways
// until either side closes; then the request ends (log phase).
func (p *Proxy) spliceFast(rc *fasthttp.RequestCtx, st *reqState) {
	rc.HijackSetNoResponse(true)
	up := st.wsConn
	head := st.resp.appendHead(nil)
	rc.Hijack(func(client net.Conn) {
		defer p.finish(st)
		defer up.conn.Close()
		if _, err := client.Write(head); err != nil {
			return
		}
		p.newTunnel(st, client).run(up.br)
	})
}

// tunnel copies the bytes of an upgraded connection both ways, with the timeouts Kong's nginx
// puts on one (ngx_http_upstream_process_upgraded):
//   - idle, the service's read_timeout (proxy_read_timeout): the tunnel closes after that
//     long without a byte either way. nginx arms it on the upstream's reads and restarts it on
//     every event of the tunnel, the client's included; here it bounds both directions' reads,
//     so a tunnel half-closed by one side is not held for ever by the other's silence.
//   - upSend, the service's write_timeout (proxy_send_timeout): each write to the upstream.
//   - clientSend, --client-send-timeout (send_timeout): each write to the client.
//
// A timeout, or any error but the end of one side's bytes, closes both connections, as nginx
// finalizes the request. The end of one side's bytes is passed on as a half-close, so close
// frames and FINs reach the other side, which may still answer.
type tunnel struct {
	client, upstream net.Conn
	idle             time.Duration
	upSend           time.Duration
	clientSend       time.Duration
	last             atomic.Int64 // UnixNano of the last byte read either way
	aborted          sync.Once
}

// run copies until both directions end. upReader reads the upstream's bytes, the ones
// buffered behind the 101's head first.
func (t *tunnel) run(upReader io.Reader) {
	t.last.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		t.pump(t.upstream, t.upSend, t.client, t.client)
	}()
	go func() {
		defer wg.Done()
		t.pump(t.client, t.clientSend, upReader, t.upstream)
	}()
	wg.Wait()
}

// pump copies src to dst. srcConn is the connection under src, whose read deadline follows
// the tunnel's idle bound lazily: set once per idle period, not per read, and moved on when it
// fires if the other direction moved meanwhile.
func (t *tunnel) pump(dst net.Conn, send time.Duration, src io.Reader, srcConn net.Conn) {
	// 16 KiB per direction, held for the tunnel's life: nginx relays upgraded connections
	// through its proxy_buffer_size (4 or 8 KiB); io.Copy took 32 KiB
	buf := make([]byte, 16<<10)
	if t.idle > 0 {
		_ = srcConn.SetReadDeadline(time.Unix(0, t.last.Load()).Add(t.idle))
	}
	for {
		n, err := src.Read(buf)
		if n > 0 {
			now := time.Now()
			t.last.Store(now.UnixNano())
			if send > 0 {
				_ = dst.SetWriteDeadline(now.Add(send))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				t.abort()
				return
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			closeWrite(dst)
			return
		case t.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded):
			due := time.Unix(0, t.last.Load()).Add(t.idle)
			if time.Until(due) <= 0 {
				t.abort() // idle for the whole bound, both ways
				return
			}
			_ = srcConn.SetReadDeadline(due)
		default:
			t.abort()
			return
		}
	}
}

// abort closes both connections, which ends the other direction's read or write.
func (t *tunnel) abort() {
	t.aborted.Do(func() {
		_ = t.client.Close()
		_ = t.upstream.Close()
	})
}

// newTunnel builds the tunnel for st's upgraded connection. The upstream connection's own
// between-reads timeouts (timeoutConn), which bounded the handshake, are turned off: the
// tunnel's take over.
func (p *Proxy) newTunnel(st *reqState, client net.Conn) *tunnel {
	up := st.wsConn
	up.tc.read, up.tc.write = 0, 0
	svc := st.route.Service
	return &tunnel{client: client, upstream: up.conn, idle: svc.ReadTimeout, upSend: svc.WriteTimeout,
		clientSend: p.opts.ClientSendTimeout}
}

// closeWrite passes the end of one side's bytes on to c as a half-close where c has one (TCP,
// TLS's close_notify), else closes it.
func closeWrite(c net.Conn) {
	if w, ok := c.(interface{ CloseWrite() error }); ok {
		_ = w.CloseWrite()
		return
	}
	_ = c.Close()
}

func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// appendEscapedURI builds the upstream request target from the unescaped path and raw query.
func appendEscapedURI(dst []byte, path, query string, hadQuery bool) []byte {
	dst = escapePath(dst, path)
	if query != "" || hadQuery {
		dst = append(dst, '?')
		dst = append(dst, query...)
	}
	return dst
}
