package requesttransformer

import (
	"fmt"
	"strings"

	"tollgate/internal/plugin"
)

// Access changes the upstream request in Kong's order: uri → method → headers → body →
// querystring; inside each part remove → rename → replace → add → append.
func (t *transformer) Access(c *plugin.Ctx) error {
	e := env{c: c}
	if t.uri != nil {
		p := t.uri.render(&e)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		c.Up.SetPath(p)
	}
	if t.method != "" {
		c.Up.SetMethod(t.method)
		if t.methodToQuery {
			if err := formToQuery(c); err != nil {
				return err
			}
		}
	}
	if !t.headers.empty() {
		t.transformHeaders(c, &e)
	}
	if !t.body.empty() {
		if err := t.transformBody(c, &e); err != nil {
			return err
		}
	}
	if !t.query.empty() {
		t.transformQuery(c, &e)
	}
	return nil
}

// formToQuery adds the arguments of an url-encoded body to the query string, keeping the body,
// as Kong does when http_method is GET, HEAD or TRACE.
func formToQuery(c *plugin.Ctx) error {
	if bodyKindOf(c.Up.Header().Peek("Content-Type")) != bodyForm {
		return nil
	}
	body, err := c.Up.Body()
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	form := parseArgs(string(body))
	if len(form) == 0 {
		return nil
	}
	q := c.Up.Query()
	if q != "" {
		q += "&"
	}
	c.Up.SetQuery(q + form.encode())
	return nil
}

// isHost tells whether a header name is Host, which lives apart from the other upstream
// headers (UpstreamRequest.SetHost).
func isHost(name string) bool { return strings.EqualFold(name, "host") }

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

// transformHeaders works on the upstream headers. The Host header lives apart
// (UpstreamRequest.SetHost): remove, rename from and add ignore it, as Kong does; replace,
// append and rename to it set it.
func (t *transformer) transformHeaders(c *plugin.Ctx, e *env) {
	h := c.Up.Header()
	for _, name := range t.headers.remove {
		if !isHost(name) {
			h.Del(name)
		}
	}
	for _, r := range t.headers.rename {
		if isHost(r.name) {
			continue
		}
		vals := h.Values(r.name)
		if len(vals) == 0 {
			continue
		}
		nw := r.value.render(e)
		h.Del(r.name)
		if isHost(nw) {
			c.Up.SetHost(vals[0])
			continue
		}
		h.Del(nw)
		for _, v := range vals {
			h.Add(nw, v)
		}
	}
	for _, r := range t.headers.replace {
		if isHost(r.name) {
			c.Up.SetHost(r.value.render(e))
			continue
		}
		if present(h, r.name) {
			h.Set(r.name, r.value.render(e))
		}
	}
	for _, r := range t.headers.add {
		if !isHost(r.name) && !present(h, r.name) {
			// absent, so Add does what Set would, without looking for the name again
			h.Add(r.name, r.value.render(e))
		}
	}
	for _, r := range t.headers.appends {
		if isHost(r.name) {
			c.Up.SetHost(r.value.render(e))
			continue
		}
		h.Add(r.name, r.value.render(e))
	}
}

// transformQuery works on the upstream query string; it is rewritten only when it changed.
func (t *transformer) transformQuery(c *plugin.Ctx, e *env) {
	q := parseArgs(c.Up.Query())
	changed := false
	for _, name := range t.query.remove {
		changed = q.remove(name) || changed
	}
	for _, r := range t.query.rename {
		changed = q.rename(r.name, r.value.render(e)) || changed
	}
	for _, r := range t.query.replace {
		if q.has(r.name) {
			changed = q.replace(r.name, r.value.render(e)) || changed
		}
	}
	for _, r := range t.query.add {
		if !q.has(r.name) {
			changed = q.add(r.name, r.value.render(e)) || changed
		}
	}
	for _, r := range t.query.appends {
		q.appendValue(r.name, r.value.render(e))
		changed = true
	}
	if changed {
		c.Up.SetQuery(q.encode())
	}
}
