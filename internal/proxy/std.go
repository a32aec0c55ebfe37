package proxy

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"tollgate/internal/edge"
)

// StdHandler is the net/http front end, used for HTTP/2 (h2c by prior knowledge or upgrade).
// It feeds the same pipeline as ServeFast; the upstream call stays HTTP/1.1.
type StdHandler struct {
	P          *Proxy
	Scheme     string
	ListenPort int
	// Edge is the policy the HTTP/1.1 front end enforces with edge.Check; the parts that
	// apply to HTTP/2 (underscore names, method and target syntax) are enforced here, since
	// x/net/http2 hands requests over without them. nil means the default policy.
	Edge *edge.Policy
}

// ServeHTTP implements http.Handler.
func (hd StdHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Context().Err() != nil {
		// The client reset the stream before its handler ran: HEADERS then RST_STREAM in a
		// loop is the rapid-reset attack (CVE-2023-44487). x/net/http2 bounds how many such
		// handlers run at once; returning here keeps each from costing an upstream request.
		return
	}
	p := hd.P
	var pol edge.Policy // the zero value is the default policy
	if hd.Edge != nil {
		pol = *hd.Edge
	}
	underscore := dropUnderscores(&pol, r)
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
		if v := checkStd(&pol, r, uri, underscore); !v.OK() {
			st.chain = st.snap.Global
			p.fail(st, v.Status, v.Reason)
		} else {
			hd.serveStd(st, r)
		}
	}
	p.writeStd(w, r, st)
}

// serveStd copies the client request into the upstream request and runs the pipeline.
func (hd StdHandler) serveStd(st *reqState, r *http.Request) {
	h := &st.upH
	st.up.method = r.Method
	// Host first, where an HTTP/1.1 client puts it: net/http keeps it out of the map. The
	// HTTP/2 server refused names that are not tokens and values with CR, LF or NUL; other
	// control bytes it lets through, so the values are still scanned.
	h.Add("Host", r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		st.bodySource, st.bodySize = r.Body, int(r.ContentLength)
		if r.ContentLength < 0 {
			st.bodySize = -1
		}
	}
	hd.P.serveSafe(st)
}

// dropUnderscores applies the edge policy's underscore action to r's header map before
// anything reads it, as edge.Drops does for HTTP/1.1: with "drop" the fields are removed,
// with "reject" it reports that some were present (the request is refused once it has a
// request id).
func dropUnderscores(pol *edge.Policy, r *http.Request) (reject bool) {
	action := pol.UnderscoreAction()
	if action == edge.UnderscoreAllow {
		return false
	}
	for k := range r.Header {
		if strings.IndexByte(k, '_') < 0 {
			continue
		}
		if action == edge.UnderscoreReject {
			return true
		}
		delete(r.Header, k)
	}
	return false
}

// checkStd holds an HTTP/2 request to the edge rules x/net/http2 does not apply: method and
// :path syntax (Policy.CheckMethodTarget: no fragment, backslash or hidden dot segment), one
// Host that names the :authority (RFC 9113 §8.3.1 lets a server treat a differing Host as
// malformed; routing reads :authority while an upstream may read Host), and the underscore
// verdict of dropUnderscores.
func checkStd(pol *edge.Policy, r *http.Request, uri string, underscore bool) edge.Verdict {
	if v := pol.CheckMethodTarget(s2b(r.Method), s2b(uri)); !v.OK() {
		return v
	}
	if hv, ok := r.Header["Host"]; ok && (len(hv) != 1 || !edge.EqualFold(s2b(hv[0]), r.Host)) {
		return edge.Verdict{Status: 400, Reason: edge.ReasonHostMismatch}
	}
	if underscore {
		return edge.Verdict{Status: 400, Reason: edge.ReasonUnderscore}
	}
	return edge.Verdict{}
}

// writeStd sends the response through net/http, flushing after every chunk read from the
// upstream so that server-sent events and chunked streams reach the client as they arrive.
func (p *Proxy) writeStd(w http.ResponseWriter, r *http.Request, st *reqState) {
	p.head(st)
	hdr := w.Header()
	rh := &st.resp.h
	for i := range rh.Len() {
		k, v := rh.Field(i)
		if !rh.Valid(i) || edge.EqualFold(k, "content-length") || edge.EqualFold(k, "transfer-encoding") ||
			edge.EqualFold(k, "connection") {
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
	w.WriteHeader(st.resp.status)
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
	left := size // bytes still due when the length is known, else negative
	for {
		n, err := st.pipe.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				break
			}
			if left >= 0 {
				left -= n
			}
			// Flushing only after a chunk, never a head alone, also keeps the server's
			// MSG_MORE on response heads (internal/server/h2more.go) from holding a head.
			// Each chunk goes out as it comes (event streams must not wait), except the
			// last one of a body of known length: the handler's return sends it with the
			// end of the stream, where a flush would cost an HTTP/2 frame and a write of
			// its own (measured: one write syscall per request fewer).
			if left != 0 {
				_ = rc.Flush()
			}
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
