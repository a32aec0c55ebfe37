// Command codec is the "own codec" candidate of the HTTP engine spike
// (docs/decisions/0001-http-engine.md): a deliberately small, strict HTTP/1.1
// reverse proxy on net.Conn, to measure the ceiling of a hand-written codec.
// NOT production code. Since ADR 0002's step 1 the request head is parsed by
// the gateway's own parser, edge.Policy.ParseRequest, with every rule of
// internal/edge and its default policy (fields with '_' dropped), straight
// from a pooled per-connection bufio.Reader; the results under
// bench/spike/results/2026-11-23 came from the earlier hand parser. On top of
// the edge rules: origin-form targets only, no chunked request bodies (501),
// no Expect (417), Connection naming only close/keep-alive. Upstream
// responses must carry Content-Length. The upstream connection comes from a
// small pool and is written and read by the request's own goroutine; a
// reused one that dies before answering is retried once for body-less
// requests.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"time"

	"tollgate/internal/edge"
)

const (
	maxHead     = 16 << 10 // read buffer, so the bound on a request head
	idleTimeout = 120 * time.Second
	upTimeout   = 10 * time.Second
)

type httpError struct {
	code int
	text string
}

func (e *httpError) Error() string { return e.text }

var (
	errBad      = &httpError{400, "Bad Request"}
	errTooLarge = &httpError{431, "Request Header Fields Too Large"}
	errExpect   = &httpError{417, "Expectation Failed"}
	errNotImpl  = &httpError{501, "Not Implemented"}
	errUpstream = &httpError{502, "Bad Gateway"}
	crlf        = []byte("\r\n")
)

var tchar [256]bool

func init() {
	for _, c := range "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		tchar[c] = true
	}
}

// eqFold compares an ASCII header name with a lower-case literal.
func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if c|0x20 != lower[i] && c != lower[i] {
			return false
		}
	}
	return true
}

// readLine returns one line without its CRLF. A bare LF, or a line longer
// than the buffer, is an error.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			err = errTooLarge
		}
		return nil, err
	} else if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errBad
	}
	return line[:len(line)-2], nil
}

// parseField splits a response field "name: value" strictly. A leading SP/HTAB
// is obs-fold.
func parseField(line []byte) (name, value []byte, err error) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil, nil, errBad
	}
	name = line[:colon]
	for _, c := range name {
		if !tchar[c] {
			return nil, nil, errBad
		}
	}
	value = line[colon+1:]
	for _, c := range value {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return nil, nil, errBad // NUL, CR, other CTLs
		}
	}
	return name, bytes.Trim(value, " \t"), nil
}

// parseCL accepts 1*DIGIT only (ParseUint refuses signs and '_' in base 10).
func parseCL(v []byte) int64 {
	n, err := strconv.ParseUint(string(v), 10, 62)
	if err != nil {
		return -1
	}
	return int64(n)
}

func isHopByHop(name []byte) bool {
	return eqFold(name, "keep-alive") || eqFold(name, "proxy-connection") ||
		eqFold(name, "te") || eqFold(name, "trailer") || eqFold(name, "upgrade") ||
		eqFold(name, "proxy-authorization") || eqFold(name, "proxy-authenticate")
}

type connState struct {
	pol  edge.Policy
	h    edge.RequestHead
	br   *bufio.Reader
	bw   *bufio.Writer
	out  []byte // request head to send upstream
	rout []byte // response head to send downstream
	lr   io.LimitedReader
}

var connPool = sync.Pool{New: func() any {
	return &connState{pol: edge.DefaultPolicy(), br: bufio.NewReaderSize(nil, maxHead), bw: bufio.NewWriterSize(nil, 8192),
		out: make([]byte, 0, 4096), rout: make([]byte, 0, 4096)}
}}

type reqInfo struct {
	cl          int64
	close, head bool
}

func (cs *connState) readRequest(ip string) (ri reqInfo, err error) {
	// The head is parsed by the gateway's own strict parser (edge.ParseRequest,
	// every rule of internal/edge in one pass) straight from the read buffer.
	cs.h.Reset()
	var n int
	for want := 1; ; want = cs.br.Buffered() + 1 {
		if _, err := cs.br.Peek(want); err != nil {
			if err == bufio.ErrBufferFull {
				return ri, errTooLarge
			}
			if err == io.EOF && cs.br.Buffered() > 0 {
				err = errBad
			}
			return ri, err
		}
		buf, _ := cs.br.Peek(cs.br.Buffered())
		var v edge.Verdict
		if n, v = cs.pol.ParseRequest(buf, &cs.h); !v.OK() {
			return ri, &httpError{v.Status, v.Reason}
		}
		if n > 0 {
			break
		}
	}
	h := &cs.h
	if h.Target[0] != '/' && string(h.Target) != "*" {
		return ri, errBad // origin-form only: no absolute-form, no authority-form
	}
	switch {
	case h.Chunked:
		return ri, errNotImpl // the spike forwards Content-Length bodies only
	case h.Expect100 || h.ExpectOther:
		return ri, errExpect
	}
	ri.close = h.Close
	ri.head = string(h.Method) == "HEAD"
	ri.cl = max(h.ContentLength, 0)
	cs.out = append(append(append(append(cs.out[:0], h.Method...), ' '), h.Target...), " HTTP/1.1\r\n"...)
	for _, f := range h.Fields {
		switch {
		case eqFold(f.Name, "connection"):
			for _, t := range bytes.Split(f.Value, []byte(",")) {
				t = bytes.Trim(t, " \t")
				if !eqFold(t, "close") && !eqFold(t, "keep-alive") && len(t) > 0 {
					return ri, errBad // naming other fields as hop-by-hop: refused
				}
			}
			continue
		case eqFold(f.Name, "x-forwarded-for"), isHopByHop(f.Name):
			continue
		}
		cs.out = append(append(append(append(cs.out, f.Name...), ": "...), f.Value...), crlf...)
	}
	cs.out = append(append(append(cs.out, "X-Forwarded-For: "...), ip...), "\r\n\r\n"...)
	_, _ = cs.br.Discard(n)
	return ri, nil
}

type upConn struct {
	c      net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool
}

type pool struct {
	addr string
	idle chan *upConn
}

func (p *pool) get(fresh bool) (*upConn, error) {
	if !fresh {
		select {
		case u := <-p.idle:
			u.reused = true
			return u, nil
		default:
		}
	}
	c, err := net.DialTimeout("tcp4", p.addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &upConn{c: c, br: bufio.NewReaderSize(c, 8192), bw: bufio.NewWriterSize(c, 8192)}, nil
}

func (p *pool) put(u *upConn) {
	select {
	case p.idle <- u:
	default:
		u.c.Close()
	}
}

// forward sends the parsed request upstream and relays the response. It
// reports whether the client connection may serve another request.
func (p *pool) forward(cs *connState, ri *reqInfo) bool {
	var (
		u    *upConn
		line []byte
	)
	for attempt := 0; ; attempt++ {
		var err error
		if u, err = p.get(attempt > 0); err != nil {
			return writeError(cs.bw, errUpstream)
		}
		u.c.SetDeadline(time.Now().Add(upTimeout))
		u.bw.Write(cs.out)
		if ri.cl > 0 {
			cs.lr = io.LimitedReader{R: cs.br, N: ri.cl}
			if n, err := io.Copy(u.bw, &cs.lr); err != nil || n != ri.cl {
				u.c.Close()
				return false // client body cut short: nothing sane to answer
			}
		}
		if err = u.bw.Flush(); err == nil {
			line, err = readLine(u.br)
		}
		if err == nil {
			break
		}
		if !u.reused || ri.cl > 0 || u.br.Buffered() > 0 {
			return fail(u, cs)
		}
		u.c.Close()
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return fail(u, cs)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil || code < 200 { // 1xx (interim, 101) is out of scope for the spike
		return fail(u, cs)
	}
	upClose := line[7] == '0'
	cs.rout = append(append(append(cs.rout[:0], "HTTP/1.1"...), line[8:]...), crlf...)
	cl := int64(-1)
	for {
		if line, err = readLine(u.br); err != nil {
			return fail(u, cs)
		}
		if len(line) == 0 {
			break
		}
		name, value, err := parseField(line)
		if err != nil || eqFold(name, "transfer-encoding") || (eqFold(name, "content-length") && cl >= 0) {
			return fail(u, cs)
		}
		switch {
		case eqFold(name, "content-length"):
			cl = parseCL(value)
		case eqFold(name, "connection"):
			upClose = upClose || bytes.Contains(bytes.ToLower(value), []byte("close"))
			continue
		case isHopByHop(name):
			continue
		}
		cs.rout = append(append(cs.rout, line...), crlf...)
	}
	noBody := ri.head || code == 204 || code == 304
	if !noBody && cl < 0 {
		return fail(u, cs)
	}
	if ri.close {
		cs.rout = append(cs.rout, "Connection: close\r\n"...)
	}
	cs.bw.Write(append(cs.rout, crlf...))
	if !noBody && cl > 0 {
		cs.lr = io.LimitedReader{R: u.br, N: cl}
		if n, err := io.Copy(cs.bw, &cs.lr); err != nil || n != cl {
			u.c.Close()
			cs.bw.Flush()
			return false
		}
	}
	if upClose {
		u.c.Close()
	} else {
		p.put(u)
	}
	return cs.bw.Flush() == nil && !ri.close
}

// fail drops the upstream connection and answers 502.
func fail(u *upConn, cs *connState) bool {
	u.c.Close()
	return writeError(cs.bw, errUpstream)
}

func writeError(bw *bufio.Writer, e *httpError) bool {
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(e.code) + " " + e.text +
		"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	bw.Flush()
	return false
}

func (p *pool) serve(c net.Conn) {
	defer c.Close()
	cs := connPool.Get().(*connState)
	cs.br.Reset(c)
	cs.bw.Reset(c)
	defer func() { cs.br.Reset(nil); cs.bw.Reset(nil); connPool.Put(cs) }()
	ip, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		ri, err := cs.readRequest(ip)
		if err != nil {
			if he, ok := err.(*httpError); ok {
				writeError(cs.bw, he)
			}
			return
		}
		if !p.forward(cs, &ri) {
			return
		}
	}
}

func main() {
	port := flag.Int("port", 8083, "listen port on 127.0.0.1")
	upstream := flag.String("upstream", "127.0.0.1:9000", "upstream host:port")
	flag.Parse()
	p := &pool{addr: *upstream, idle: make(chan *upConn, 1024)}
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go p.serve(c)
	}
}
