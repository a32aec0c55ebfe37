package proxy

import (
	"net/http"
	"net/textproto"
	"strconv"
	"unsafe"

	"github.com/valyala/fasthttp"

	"tollgate/internal/edge"
	"tollgate/internal/plugin"
)

// b2s views b as a string without copying. Used only for values that live as long as the
// request (fasthttp's buffers) and are not changed while the string is in use.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// s2b views s as bytes without copying; the bytes must not be written.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// fastReqHeader adapts fasthttp's request header, the client's on that engine, to
// plugin.HeaderReader. One pointer wide, so boxing it in the interface does not allocate.
type fastReqHeader struct{ h *fasthttp.RequestHeader }

var _ plugin.HeaderReader = fastReqHeader{}

// Peek hands a name already in the engine's canonical form to PeekCanonical (canonicalName). Otherwise the engine copies the name and normalises the
// copy on every call: with its checks for CR/LF and invalid bytes, that was the largest part
// of a plugin's header call (about 450 instructions of it for a 15-byte name).
func (a fastReqHeader) Peek(name string) []byte {
	if canonicalName(name) {
		return a.h.PeekCanonical(s2b(name))
	}
	return a.h.Peek(name)
}
func (a fastReqHeader) Values(name string) []string {
	all := a.h.PeekAll(name)
	out := make([]string, len(all))
	for i, v := range all {
		out[i] = string(v)
	}
	return out
}
func (a fastReqHeader) VisitAll(fn func(name, value []byte)) {
	for k, v := range a.h.All() {
		fn(k, v)
	}
}
func (a fastReqHeader) Len() int { return a.h.Len() }

// canonicalName reports that the engine's normalisation would leave name as it is: it has no
// CR or LF (which the engine blanks), and its letters are upper-case at the start and after a
// '-', lower-case elsewhere, the form the engine gives a name of valid bytes (one with an
// invalid byte it leaves alone, which is that form or not: either way it is left as it is).
// A name that passes can be given to the engine's *Canonical calls with the same result as to
// their normalising versions; one that fails takes those.
func canonicalName(name string) bool {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\r' || c == '\n':
			return false
		case upper && 'a' <= c && c <= 'z', !upper && 'A' <= c && c <= 'Z':
			return false
		}
		upper = c == '-'
	}
	return true
}

// stdHeader adapts net/http's header map (the HTTP/2 front end) to plugin.HeaderReader.
// net/http moves Content-Length out of the map into Request.ContentLength; the adapter shows it
// again so that plugins read a request's length the same way on both engines.
type stdHeader struct {
	h  http.Header
	cl int64
}

func (a stdHeader) Peek(name string) []byte {
	if a.cl > 0 && edge.EqualFold(s2b(name), "Content-Length") {
		return strconv.AppendInt(nil, a.cl, 10)
	}
	v := a.h[textproto.CanonicalMIMEHeaderKey(name)]
	if len(v) == 0 {
		return nil
	}
	return s2b(v[0])
}
func (a stdHeader) Values(name string) []string {
	if a.cl > 0 && edge.EqualFold(s2b(name), "Content-Length") {
		return []string{strconv.FormatInt(a.cl, 10)}
	}
	return append([]string(nil), a.h[textproto.CanonicalMIMEHeaderKey(name)]...)
}
func (a stdHeader) VisitAll(fn func(name, value []byte)) {
	for k, vs := range a.h {
		for _, v := range vs {
			fn(s2b(k), s2b(v))
		}
	}
}
func (a stdHeader) Len() int {
	n := 0
	for _, vs := range a.h {
		n += len(vs)
	}
	return n
}
