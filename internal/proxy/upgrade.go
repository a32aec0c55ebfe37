package proxy

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/balancer"
	"tollgate/internal/h1"
)

// wsUpstream is the upstream side of an upgraded connection.
type wsUpstream struct {
	conn net.Conn
	br   *bufio.Reader
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
	resp.h.AddFields(head.Fields)
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
		st.scratch = sanitizeResponse(&resp.h, st.scratch)
		return
	}
	st.wsConn = &wsUpstream{conn: conn, br: br}
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
		splice(client, up.conn, up.br)
	})
}

// splice copies a→b and b→a; when one direction ends it half-closes the other side so that
// close frames and FINs propagate, then waits for both.
func splice(client net.Conn, upstream net.Conn, upReader io.Reader) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(upstream, client)
		closeWrite(upstream)
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(client, upReader)
		closeWrite(client)
	}()
	wg.Wait()
}

func closeWrite(c net.Conn) {
	type cw interface{ CloseWrite() error }
	if t, ok := c.(*timeoutConn); ok {
		c = t.Conn
	}
	if w, ok := c.(cw); ok {
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
