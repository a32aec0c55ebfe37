package proxy

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"unsafe"

	"github.com/valyala/fasthttp"

	"tollgate/internal/plugin"
)

// b2s views b as a string without copying. Used only for values that live as long as the
// request (fasthttp's buffers) and are not changed while the string is in use.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// s2b views s as bytes without copying; the bytes must not be written.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// fastReqHeader adapts fasthttp's request header to plugin.Header. One pointer wide, so
// boxing it in the interface does not allocate.
type fastReqHeader struct{ h *fasthttp.RequestHeader }

var _ plugin.Header = fastReqHeader{}

func (a fastReqHeader) Peek(name string) []byte { return a.h.Peek(name) }
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
func (a fastReqHeader) Len() int               { return a.h.Len() }
func (a fastReqHeader) Set(name, value string) { a.h.Set(name, value) }
func (a fastReqHeader) Add(name, value string) { a.h.Add(name, value) }
func (a fastReqHeader) Del(name string)        { a.h.Del(name) }

// fastRespHeader adapts fasthttp's response header to plugin.Header.
type fastRespHeader struct{ h *fasthttp.ResponseHeader }

var _ plugin.Header = fastRespHeader{}

// Peek and Values walk the header lines for Set-Cookie: fasthttp keeps cookies apart and its
// PeekAll would join several Set-Cookie lines into one value, which no client can parse.
func (a fastRespHeader) Peek(name string) []byte {
	if !strings.EqualFold(name, "Set-Cookie") {
		return a.h.Peek(name)
	}
	for k, v := range a.h.All() {
		if strings.EqualFold(b2s(k), name) {
			return v
		}
	}
	return nil
}
func (a fastRespHeader) Values(name string) []string {
	var out []string
	if !strings.EqualFold(name, "Set-Cookie") {
		for _, v := range a.h.PeekAll(name) {
			out = append(out, string(v))
		}
		return out
	}
	for k, v := range a.h.All() {
		if strings.EqualFold(b2s(k), name) {
			out = append(out, string(v))
		}
	}
	return out
}
func (a fastRespHeader) VisitAll(fn func(name, value []byte)) {
	for k, v := range a.h.All() {
		fn(k, v)
	}
}
func (a fastRespHeader) Len() int               { return a.h.Len() }
func (a fastRespHeader) Set(name, value string) { a.h.Set(name, value) }
func (a fastRespHeader) Add(name, value string) { a.h.Add(name, value) }
func (a fastRespHeader) Del(name string)        { a.h.Del(name) }

// stdHeader adapts net/http's header map (the HTTP/2 front end) to plugin.HeaderReader.
// net/http moves Content-Length out of the map into Request.ContentLength; the adapter shows it
// again so that plugins read a request's length the same way on both engines.
type stdHeader struct {
	h  http.Header
	cl int64
}

func (a stdHeader) Peek(name string) []byte {
	if a.cl > 0 && strings.EqualFold(name, "Content-Length") {
		return strconv.AppendInt(nil, a.cl, 10)
	}
	v := a.h[textproto.CanonicalMIMEHeaderKey(name)]
	if len(v) == 0 {
		return nil
	}
	return s2b(v[0])
}
func (a stdHeader) Values(name string) []string {
	if a.cl > 0 && strings.EqualFold(name, "Content-Length") {
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
