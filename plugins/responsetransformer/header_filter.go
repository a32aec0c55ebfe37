package responsetransformer

import (
	"bytes"
	"strings"

	"tollgate/internal/plugin"
)

// HeaderFilter changes the response headers in Kong's order: remove → rename → replace (when
// present) → add (when absent) → append. When JSON operations are configured and the response
// is JSON, Content-Length goes (the body will change) and the body filter is told to buffer.
func (t *transformer) HeaderFilter(c *plugin.Ctx) error {
	h := c.Resp.Header()
	for _, name := range t.removeHeaders {
		h.Del(name)
	}
	for _, r := range t.renameHeaders {
		vals := h.Values(r.from)
		if len(vals) == 0 {
			continue
		}
		h.Del(r.from)
		h.Del(r.to)
		for _, v := range vals {
			h.Add(r.to, v)
		}
	}
	for _, e := range t.replaceHeaders {
		if present(h, e.name) {
			h.Set(e.name, e.value.render(c.Start))
		}
	}
	for _, e := range t.addHeaders {
		if !present(h, e.name) {
			// absent, so Add does what Set would, without looking for the name again
			h.Add(e.name, e.value.render(c.Start))
		}
	}
	for _, e := range t.appendHeaders {
		h.Add(e.name, e.value.render(c.Start))
	}
	if t.json && isJSON(h.Peek("Content-Type")) {
		h.Del("Content-Length")
		*c.State() = &jsonBuffer{}
	}
	return nil
}

// present tells whether h has name, also with an empty value.
//
// The gateway's header adapters answer that in one look-up (hasHeader); through Peek and
// Values alone an absent name, the usual case for "add", costs two: Peek cannot tell an
// absent field from an empty one, so Values has to be asked as well.
func present(h plugin.HeaderReader, name string) bool {
	if hh, ok := h.(hasHeader); ok {
		return hh.Has(name)
	}
	return h.Peek(name) != nil || len(h.Values(name)) > 0
}

// hasHeader is implemented by the proxy's header adapters: Has(name) reports what
// Peek(name) != nil || len(Values(name)) > 0 would, without building Values' strings.
type hasHeader interface{ Has(name string) bool }

// isJSON tells whether a Content-Type (possibly a comma-separated list, as Kong splits it)
// names application/json or an application/*+json type; parameters are ignored.
func isJSON(ct []byte) bool {
	for len(ct) > 0 {
		var one []byte
		if i := bytes.IndexByte(ct, ','); i >= 0 {
			one, ct = ct[:i], ct[i+1:]
		} else {
			one, ct = ct, nil
		}
		if i := bytes.IndexByte(one, ';'); i >= 0 {
			one = one[:i]
		}
		typ, sub, ok := strings.Cut(strings.TrimSpace(string(one)), "/")
		if !ok || !strings.EqualFold(typ, "application") {
			continue
		}
		sub = strings.ToLower(strings.TrimSpace(sub))
		if sub == "json" || strings.HasSuffix(sub, "+json") {
			return true
		}
	}
	return false
}
