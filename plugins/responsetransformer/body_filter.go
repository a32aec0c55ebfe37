package responsetransformer

import (
	"tollgate/internal/plugin"
	"tollgate/plugins/internal/jsonobj"
)

// jsonBuffer is the per-request state of a JSON body being collected.
type jsonBuffer struct{ buf []byte }

// BodyFilter collects a JSON response (the header phase decided it is one) and sends the
// transformed body at eof; a body that is not a JSON object goes out unchanged.
func (t bodyTransformer) BodyFilter(c *plugin.Ctx, chunk []byte, eof bool) ([]byte, error) {
	st, _ := (*c.State()).(*jsonBuffer)
	if st == nil {
		return chunk, nil
	}
	st.buf = append(st.buf, chunk...)
	if !eof {
		return nil, nil
	}
	*c.State() = nil
	if out, ok := t.transformJSON(st.buf); ok {
		return out, nil
	}
	return st.buf, nil
}

// transformJSON applies the JSON operations in Kong's order: remove → rename → replace (when
// present and not false) → add (when absent or false) → append.
func (t *transformer) transformJSON(body []byte) ([]byte, bool) {
	o, ok := jsonobj.Parse(body)
	if !ok {
		return nil, false
	}
	for _, name := range t.removeJSON {
		o.Remove(name)
	}
	for _, r := range t.renameJSON {
		o.Rename(r.from, r.to)
	}
	for _, e := range t.replaceJSON {
		if o.Truthy(e.name) {
			o.Set(e.name, e.raw)
		}
	}
	for _, e := range t.addJSON {
		if !o.Truthy(e.name) {
			o.Set(e.name, e.raw)
		}
	}
	for _, e := range t.appendJS {
		o.AppendValue(e.name, e.raw)
	}
	return o.Encode(), true
}
