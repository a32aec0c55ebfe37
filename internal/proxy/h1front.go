package proxy

import (
	"bytes"
	"context"
	"sync/atomic"
	"time"

	"tollgate/internal/edge"
	"tollgate/internal/h1"
	"tollgate/internal/plugin"
)

// ServeH1 is the HTTP/1.1 front end on the gateway's own codec, internal/h1 (ADR 0002; the
// server runs it with --http1-engine codec). The head was parsed and held to the edge rules
// by the codec, so there is no second check here. The request body streams from the codec to
// the upstream; the response streams back through the codec's writer, which owns framing.
func (p *Proxy) ServeH1(w *h1.ResponseWriter, r *h1.Request, scheme string, listenPort int) {
	st := p.acquire()
	st.h1w = w
	// the codec does not tell a handler that its client left; the upstream call's own
	// timeouts bound the request meanwhile
	st.pc.Reset(context.Background(), st.snap.MaxStates)
	st.peer = r.Peer()
	head := &r.Head
	st.hin.head = head
	st.pc.In = &st.hin
	st.hadQuery = bytes.IndexByte(head.Target, '?') >= 0
	if p.begin(st, head.Target, scheme, listenPort) {
		st.up.method = b2s(head.Method)
		// the head stays in the codec's read buffer until this handler returns
		st.upH.AddFieldsNoCopy(head.Fields)
		if r.Body != nil {
			// slowBodyReader without a timeout only sorts the codec's body errors (stall:
			// timedOut, malformed or cut: broken) for clientFault; the codec keeps the
			// between-reads deadline itself
			st.slowBody = slowBodyReader{r: r.Body}
			st.bodySource, st.bodySize = &st.slowBody, int(head.ContentLength)
			if head.Chunked {
				st.bodySize = -1
			}
		}
		st.upgrade = head.Upgrade && string(head.Method) == "GET" &&
			isWebSocketUpgrade(st.hin.peek("Connection"), st.hin.peek("Upgrade"))
		p.serveSafe(st)
	}
	p.writeH1(w, st)
}

// writeH1 sends st.resp through the codec's writer, streaming the body; the pipe's Close
// ends the request.
func (p *Proxy) writeH1(w *h1.ResponseWriter, st *reqState) {
	p.head(st)
	if st.wsConn != nil && st.resp.status == 101 {
		p.spliceH1(w, st)
		return
	}
	rh := &st.resp.h
	hasDate := false
	for i := range rh.Len() {
		if !rh.Valid(i) {
			continue // a plugin's name that is not a token
		}
		k, v := rh.Field(i)
		hasDate = hasDate || edge.EqualFold(k, "date")
		// the header's fields are checked or cleaned as they go in; the codec drops the
		// framing ones
		_ = w.AddHeaderTrusted(k, v)
	}
	if !hasDate {
		// an origin server's clock (RFC 9110 §6.6.1), for answers the gateway made
		_ = w.AddHeaderTrusted(s2b("Date"), p.dates.at(st.dateClock()))
	}
	status := st.resp.status
	isHead := st.hin.head != nil && string(st.hin.head.Method) == "HEAD"
	src, size := st.body()
	if src == nil || isHead {
		length := int64(0)
		if isHead {
			length = max(st.resp.cl, -1) // the upstream's, if it said
		}
		_ = w.WriteHeader(status, length)
		p.finish(st)
		return
	}
	if st.chain.HasBodyFilters() || size == -2 {
		size = -1 // filtered, or identity until close: chunked to the client
	}
	st.pipe.init(st, src)
	_ = w.WriteHeader(status, int64(size))
	// with a length, straight into the write buffer; without one, every chunk goes out as
	// it comes (event streams must not wait for the buffer to fill), as on fasthttp
	_, _ = w.ReadFrom(&st.pipe)
	_ = st.pipe.Close()
}

// spliceH1 answers 101 on the client connection, taken over from the codec, and copies
// bytes both ways on a goroutine of its own, so the codec's connection state goes back to
// its pool at once.
func (p *Proxy) spliceH1(w *h1.ResponseWriter, st *reqState) {
	up := st.wsConn
	head := st.resp.appendHead(nil)
	client, rest, err := w.Hijack()
	if err != nil {
		_ = up.conn.Close()
		p.finish(st)
		return
	}
	go func() {
		defer p.finish(st)
		defer up.conn.Close()
		defer client.Close()
		if _, err := client.Write(head); err != nil {
			return
		}
		if len(rest) > 0 {
			// what the client sent right behind its handshake belongs to the upstream
			if _, err := up.conn.Write(rest); err != nil {
				return
			}
		}
		p.newTunnel(st, client).run(up.br)
	}()
}

// RefuseH1 answers a request the codec refused before the pipeline (a head against the edge
// rules, or one that timed out), in the gateway's JSON error shape; the codec closes the
// connection after it.
func (p *Proxy) RefuseH1(w *h1.ResponseWriter, status int, msg string) {
	var st reqState
	id := st.newRequestID()
	body, ctype := appendErrorBody(nil, nil, msg, id)
	_ = w.AddHeaderString("Content-Type", ctype)
	_ = w.AddHeaderString("Server", p.server)
	_ = w.AddHeaderString(p.opts.RequestIDHeader, id)
	_ = w.AddHeader(s2b("Date"), p.dates.at(time.Now()))
	w.SetClose()
	_ = w.WriteHeader(status, int64(len(body)))
	_, _ = w.Write(body)
}

// h1In is the client request as the codec parsed it.
type h1In struct {
	inCommon
	head *edge.RequestHead
}

func (r *h1In) Method() string  { return b2s(r.head.Method) }
func (r *h1In) RawPath() string { return b2s(rawPathOf(r.head.Target)) }
func (r *h1In) Query() string   { return b2s(rawQueryOf(r.head.Target)) }
func (r *h1In) ProtoMajor() int { return 1 }
func (r *h1In) Header() plugin.HeaderReader {
	return h1Header{r.head}
}

// Host is the Host field, or for an absolute-form target without one (HTTP/1.0), the
// target's authority; the edge rules made sure the two agree when both are there.
func (r *h1In) Host() string {
	if r.head.HasHost && len(r.head.Host) > 0 {
		return b2s(r.head.Host)
	}
	t := r.head.Target
	if i := bytes.Index(t, []byte("://")); i > 0 {
		auth := t[i+3:]
		if end := bytes.IndexAny(auth, "/?#"); end >= 0 {
			auth = auth[:end]
		}
		return b2s(auth)
	}
	return b2s(r.head.Host)
}

func (r *h1In) peek(name string) []byte { return h1Header{r.head}.Peek(name) }

// h1Header reads the parsed fields; one pointer wide, so boxing it does not allocate.
type h1Header struct{ h *edge.RequestHead }

var _ plugin.HeaderReader = h1Header{}

// Peek returns the first value of name, matched case-insensitively; nil when absent, an
// empty non-nil slice for an empty value.
func (a h1Header) Peek(name string) []byte {
	for _, f := range a.h.Fields {
		if edge.EqualFold(f.Name, name) {
			return f.Value // a slice of the read buffer: never nil, even when empty
		}
	}
	return nil
}

func (a h1Header) Values(name string) []string {
	var out []string
	for _, f := range a.h.Fields {
		if edge.EqualFold(f.Name, name) {
			out = append(out, string(f.Value))
		}
	}
	return out
}

func (a h1Header) VisitAll(fn func(name, value []byte)) {
	for _, f := range a.h.Fields {
		fn(f.Name, f.Value)
	}
}

func (a h1Header) Len() int { return len(a.h.Fields) }

// dateCache formats the Date field once a second: a response the gateway makes itself
// needs one, and formatting it per response costs more than the rest of the head.
type dateCache struct {
	cur atomic.Pointer[dateValue]
}

type dateValue struct {
	sec int64
	b   []byte
}

// at returns the Date field for the instant now, which callers take from a clock reading
// they already have where they can: a clock read per answer showed in profiles.
func (d *dateCache) at(now time.Time) []byte {
	if v := d.cur.Load(); v != nil && v.sec == now.Unix() {
		return v.b
	}
	v := &dateValue{sec: now.Unix(), b: now.UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")}
	d.cur.Store(v)
	return v.b
}
