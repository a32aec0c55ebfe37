package requesttransformer

import (
	"bytes"
	"encoding/json"
	"fmt"

	"tollgate/internal/plugin"
	"tollgate/plugins/internal/jsonobj"
)

type bodyKind uint8

const (
	bodyOther bodyKind = iota
	bodyJSON
	bodyMultipart
	bodyForm
)

// bodyKindOf classifies a Content-Type as Kong does: a case-insensitive substring search, JSON
// first.
func bodyKindOf(ct []byte) bodyKind {
	if len(ct) == 0 {
		return bodyOther
	}
	lower := bytes.ToLower(ct)
	switch {
	case bytes.Contains(lower, []byte("application/json")):
		return bodyJSON
	case bytes.Contains(lower, []byte("multipart/form-data")):
		return bodyMultipart
	case bytes.Contains(lower, []byte("application/x-www-form-urlencoded")):
		return bodyForm
	}
	return bodyOther
}

// transformBody reads the body only when its type is one the plugin handles, and replaces it
// only when an operation changed it (the proxy then recomputes Content-Length). remove, rename
// and replace need a non-empty body; add and append also work on an empty one, as in Kong. A
// body that does not parse as its type is sent unchanged.
func (t *transformer) transformBody(c *plugin.Ctx, e *env) error {
	ct := c.Up.Header().Peek("Content-Type")
	kind := bodyKindOf(ct)
	if kind == bodyOther {
		return nil
	}
	body, err := c.Up.Body()
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	var out []byte
	changed := false
	switch kind {
	case bodyJSON:
		out, changed = t.transformJSON(body, e)
	case bodyForm:
		out, changed = t.transformForm(body, e)
	case bodyMultipart:
		out, changed = t.transformMultipart(body, string(ct), e)
	}
	if changed {
		c.Up.SetBody(out)
	}
	return nil
}

func (t *transformer) transformJSON(body []byte, e *env) ([]byte, bool) {
	var o jsonobj.Object
	nonEmpty := len(body) > 0
	if nonEmpty {
		var ok bool
		if o, ok = jsonobj.Parse(body); !ok {
			return nil, false
		}
	}
	changed := false
	if nonEmpty {
		for _, name := range t.body.remove {
			changed = o.Remove(name) || changed
		}
		for _, r := range t.body.rename {
			changed = o.Rename(r.name, r.value.render(e)) || changed
		}
		for _, r := range t.body.replace {
			if o.Truthy(r.name) {
				o.Set(r.name, jsonString(r.value.render(e)))
				changed = true
			}
		}
	}
	for _, r := range t.body.add {
		if !o.Truthy(r.name) {
			o.Set(r.name, jsonString(r.value.render(e)))
			changed = true
		}
	}
	for _, r := range t.body.appends {
		o.AppendValue(r.name, jsonString(r.value.render(e)))
		changed = true
	}
	if !changed {
		return nil, false
	}
	return o.Encode(), true
}

// jsonString is s as a JSON string value.
func jsonString(s string) json.RawMessage { return plugin.AppendJSONString(nil, s) }

func (t *transformer) transformForm(body []byte, e *env) ([]byte, bool) {
	a := parseArgs(string(body))
	nonEmpty := len(body) > 0
	changed := false
	if nonEmpty {
		for _, name := range t.body.remove {
			changed = a.remove(name) || changed
		}
		for _, r := range t.body.rename {
			changed = a.rename(r.name, r.value.render(e)) || changed
		}
		for _, r := range t.body.replace {
			if a.has(r.name) {
				changed = a.replace(r.name, r.value.render(e)) || changed
			}
		}
	}
	for _, r := range t.body.add {
		if !a.has(r.name) {
			changed = a.add(r.name, r.value.render(e)) || changed
		}
	}
	for _, r := range t.body.appends {
		a.appendValue(r.name, r.value.render(e))
		changed = true
	}
	if !changed {
		return nil, false
	}
	return []byte(a.encode()), true
}

// transformMultipart follows Kong's order for multipart bodies: rename, remove, replace, add,
// then append (which Kong skips).
func (t *transformer) transformMultipart(body []byte, ct string, e *env) ([]byte, bool) {
	f, err := parseForm(body, ct)
	if err != nil {
		return nil, false
	}
	nonEmpty := len(body) > 0
	changed := false
	if nonEmpty {
		for _, r := range t.body.rename {
			changed = f.rename(r.name, r.value.render(e)) || changed
		}
		for _, name := range t.body.remove {
			changed = f.remove(name) || changed
		}
		for _, r := range t.body.replace {
			if f.has(r.name) {
				changed = f.replace(r.name, r.value.render(e)) || changed
			}
		}
	}
	for _, r := range t.body.add {
		if !f.has(r.name) {
			changed = f.add(r.name, r.value.render(e)) || changed
		}
	}
	for _, r := range t.body.appends {
		f.appendValue(r.name, r.value.render(e))
		changed = true
	}
	if !changed {
		return nil, false
	}
	return f.encode(), true
}
