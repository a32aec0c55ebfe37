package requesttransformer

import (
	"bytes"
	"encoding/json"
	"io"

	"tollgate/internal/plugin"
)

// object is a JSON object's top-level members in order, values kept as raw JSON: the plugin
// changes top-level keys only, so nested values are never decoded.
type object []member

type member struct {
	key string
	raw json.RawMessage
}

// parseObject reads a JSON object. ok is false for anything else (invalid JSON, arrays,
// scalars): such bodies are left as they are. A key given twice keeps its last value at its
// first place, as a Lua table would hold it.
func parseObject(b []byte) (object, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var o object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if i := o.index(key); i >= 0 {
			o[i].raw = raw
			continue
		}
		o = append(o, member{key: key, raw: raw})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return o, true
}

func (o object) index(key string) int {
	for i := range o {
		if o[i].key == key {
			return i
		}
	}
	return -1
}

// truthy is Lua's truth of the decoded value: present and not false (JSON null decodes to
// cjson.null, which Lua treats as true). Kong's replace and add test fields this way.
func (o object) truthy(key string) bool {
	i := o.index(key)
	return i >= 0 && string(o[i].raw) != "false"
}

func (o *object) remove(key string) {
	if i := o.index(key); i >= 0 {
		*o = append((*o)[:i], (*o)[i+1:]...)
	}
}

func (o *object) rename(old, nw string) bool {
	i := o.index(old)
	if i < 0 || old == nw {
		return false
	}
	raw := (*o)[i].raw
	if j := o.index(nw); j >= 0 {
		(*o)[j].raw = raw
		o.remove(old)
		return true
	}
	(*o)[i].key = nw
	return true
}

// set replaces key's value, or adds key at the end.
func (o *object) set(key string, raw json.RawMessage) {
	if i := o.index(key); i >= 0 {
		(*o)[i].raw = raw
		return
	}
	*o = append(*o, member{key: key, raw: raw})
}

// appendValue adds a value to key: absent → [v]; an array gets v at its end; any other value
// v0 becomes [v0, v].
func (o *object) appendValue(key string, v json.RawMessage) {
	i := o.index(key)
	if i < 0 {
		o.set(key, wrapArray(nil, v))
		return
	}
	old := bytes.TrimSpace((*o)[i].raw)
	if len(old) > 0 && old[0] == '[' {
		inner := bytes.TrimSpace(old[1 : len(old)-1])
		var b []byte
		b = append(b, '[')
		if len(inner) > 0 {
			b = append(b, inner...)
			b = append(b, ',')
		}
		b = append(b, v...)
		(*o)[i].raw = append(b, ']')
		return
	}
	(*o)[i].raw = wrapArray(old, v)
}

func wrapArray(first, v json.RawMessage) json.RawMessage {
	b := []byte{'['}
	if first != nil {
		b = append(b, first...)
		b = append(b, ',')
	}
	b = append(b, v...)
	return append(b, ']')
}

// encode writes the object compactly.
func (o object) encode() []byte {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = plugin.AppendJSONString(b, m.key)
		b = append(b, ':')
		b = append(b, m.raw...)
	}
	return append(b, '}')
}

// jsonString is s as a JSON string value.
func jsonString(s string) json.RawMessage { return plugin.AppendJSONString(nil, s) }
