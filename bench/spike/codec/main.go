// Command codec is the "own codec" candidate of the HTTP engine spike
// (docs/decisions/0001-http-engine.md): a deliberately small, strict HTTP/1.1
// reverse proxy, to measure the ceiling of a hand-written codec. NOT
// production code. Since ADR 0002's step 2 its client side is the gateway's
// own codec, internal/h1 (heads parsed by edge.Policy.ParseRequest with every
// edge rule and the default policy, fields with '_' dropped); the results
// under bench/spike/results/2026-11-23 came from the earlier hand-written
// loop. On top of the edge rules: origin-form targets only, no chunked
// request bodies (501), no Expect (417), Connection naming only
// close/keep-alive. Its upstream side is still the spike's own: responses
// must carry Content-Length; the upstream connection comes from a small pool
// and is written and read by the request's own goroutine; a reused one that
// dies before answering is retried once for body-less requests.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"log"
	"net"
	"strconv"
	"sync"
	"time"

	"tollgate/internal/h1"
)

const (
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

// scratch holds a request's upstream head while it is built.
type scratch struct{ out []byte }

var scratchPool = sync.Pool{New: func() any { return &scratch{out: make([]byte, 0, 4096)} }}

// upstreamHead builds the request head sent upstream, or the error to answer.
func upstreamHead(dst []byte, r *h1.Request) ([]byte, *httpError) {
	h := &r.Head
	if h.Target[0] != '/' && string(h.Target) != "*" {
		return dst, errBad // origin-form only: no absolute-form, no authority-form
	}
	switch {
	case h.Chunked:
		return dst, errNotImpl // the spike forwards Content-Length bodies only
	case h.Expect100 || h.ExpectOther:
		return dst, errExpect
	}
	dst = append(append(append(append(dst[:0], h.Method...), ' '), h.Target...), " HTTP/1.1\r\n"...)
	for _, f := range h.Fields {
		switch {
		case eqFold(f.Name, "connection"):
			for _, t := range bytes.Split(f.Value, []byte(",")) {
				t = bytes.Trim(t, " \t")
				if !eqFold(t, "close") && !eqFold(t, "keep-alive") && len(t) > 0 {
					return dst, errBad // naming other fields as hop-by-hop: refused
				}
			}
			continue
		case eqFold(f.Name, "x-forwarded-for"), isHopByHop(f.Name):
			continue
		}
		dst = append(append(append(append(dst, f.Name...), ": "...), f.Value...), crlf...)
	}
	dst = append(dst, "X-Forwarded-For: "...)
	if a, ok := r.RemoteAddr().(*net.TCPAddr); ok {
		dst = a.AddrPort().Addr().AppendTo(dst)
	}
	return append(dst, "\r\n\r\n"...), nil
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

// ServeH1 sends the request upstream and relays the response.
func (p *pool) ServeH1(w *h1.ResponseWriter, r *h1.Request) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	var he *httpError
	if sc.out, he = upstreamHead(sc.out, r); he != nil {
		writeError(w, he)
		return
	}
	cl := max(r.Head.ContentLength, 0)
	var (
		u    *upConn
		line []byte
	)
	for attempt := 0; ; attempt++ {
		var err error
		if u, err = p.get(attempt > 0); err != nil {
			writeError(w, errUpstream)
			return
		}
		u.c.SetDeadline(time.Now().Add(upTimeout))
		u.bw.Write(sc.out)
		if cl > 0 {
			if n, err := u.bw.ReadFrom(r.Body); err != nil || n != cl {
				u.c.Close()
				w.SetClose() // client body cut short: nothing sane to answer
				return
			}
		}
		if err = u.bw.Flush(); err == nil {
			line, err = readLine(u.br)
		}
		if err == nil {
			break
		}
		if !u.reused || cl > 0 || u.br.Buffered() > 0 {
			fail(u, w)
			return
		}
		u.c.Close()
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		fail(u, w)
		return
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil || code < 200 { // 1xx (interim, 101) is out of scope for the spike
		fail(u, w)
		return
	}
	upClose := line[7] == '0'
	respCL := int64(-1)
	for {
		if line, err = readLine(u.br); err != nil {
			fail(u, w)
			return
		}
		if len(line) == 0 {
			break
		}
		name, value, err := parseField(line)
		if err != nil || eqFold(name, "transfer-encoding") || (eqFold(name, "content-length") && respCL >= 0) {
			fail(u, w)
			return
		}
		switch {
		case eqFold(name, "content-length"):
			respCL = parseCL(value)
		case eqFold(name, "connection"):
			upClose = upClose || bytes.Contains(bytes.ToLower(value), []byte("close"))
		case !isHopByHop(name):
			w.AddHeader(name, value) // the codec owns Content-Length and Connection
		}
	}
	noBody := string(r.Head.Method) == "HEAD" || code == 204 || code == 304
	if !noBody && respCL < 0 {
		fail(u, w)
		return
	}
	w.WriteHeader(code, respCL)
	if !noBody && respCL > 0 {
		// ReadFrom copies no more than the announced length, straight into
		// the codec's write buffer
		if n, err := w.ReadFrom(u.br); err != nil || n != respCL {
			u.c.Close()
			return // the codec closes the connection on a short body
		}
	}
	if upClose {
		u.c.Close()
	} else {
		p.put(u)
	}
}

// fail drops the upstream connection and answers 502.
func fail(u *upConn, w *h1.ResponseWriter) {
	u.c.Close()
	writeError(w, errUpstream)
}

func writeError(w *h1.ResponseWriter, e *httpError) {
	w.SetClose()
	w.WriteHeader(e.code, 0)
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
	s := &h1.Server{Handler: p, IdleTimeout: idleTimeout}
	log.Fatal(s.Serve(ln))
}
