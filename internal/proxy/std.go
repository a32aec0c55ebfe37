package proxy

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
)

// StdHandler is the net/http front end, used for HTTP/2 (h2c by prior knowledge or upgrade).
// It feeds the same pipeline as ServeFast; the upstream call stays HTTP/1.1.
type StdHandler struct {
	P          *Proxy
	Scheme     string
	ListenPort int
}

// ServeHTTP implements http.Handler.
func (hd StdHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := hd.P
	st := p.acquire()
	st.pc.Reset(r.Context(), st.snap.MaxStates)
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		st.peer = ap.Addr().Unmap()
	} else {
		st.peer = netip.Addr{}
	}
	st.sin.req = r
	st.pc.In = &st.sin
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	st.hadQuery = r.URL.ForceQuery || r.URL.RawQuery != ""
	if p.begin(st, s2b(uri), hd.Scheme, hd.ListenPort) {
		h := &st.upRq.Header
		h.SetMethod(r.Method)
		for k, vs := range r.Header {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
		h.SetHost(r.Host)
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			st.bodySource, st.bodySize = r.Body, int(r.ContentLength)
			if r.ContentLength < 0 {
				st.bodySize = -1
			}
		}
		p.serveSafe(st)
	}
	p.writeStd(w, r, st)
}

// writeStd sends the response through net/http, flushing after every chunk read from the
// upstream so that server-sent events and chunked streams reach the client as they arrive.
func (p *Proxy) writeStd(w http.ResponseWriter, r *http.Request, st *reqState) {
	p.head(st)
	hdr := w.Header()
	for k, v := range st.resp.Header.All() {
		switch string(k) {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		}
		hdr.Add(string(k), string(v))
	}
	src, size := st.body()
	if st.chain.HasBodyFilters() {
		size = -1
	}
	if size >= 0 && src != nil {
		hdr.Set("Content-Length", strconv.Itoa(size))
	}
	if ct := st.resp.Header.ContentType(); len(ct) > 0 {
		hdr.Set("Content-Type", string(ct))
	}
	w.WriteHeader(st.resp.StatusCode())
	if src == nil || r.Method == http.MethodHead {
		p.finish(st)
		return
	}
	st.pipe.init(st, src)
	rc := http.NewResponseController(w)
	buf := st.scratch[:0]
	if cap(buf) < 32<<10 {
		buf = make([]byte, 32<<10)
	}
	buf = buf[:cap(buf)]
	for {
		n, err := st.pipe.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				break
			}
			_ = rc.Flush()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Debug("response body aborted", "request_id", st.pc.RequestID, "error", err)
			}
			break
		}
	}
	st.scratch = buf[:0]
	_ = st.pipe.Close()
}
