// Package jsonobj is an ordered JSON object whose member values stay raw JSON.
//
// request-transformer (request bodies) and response-transformer (response bodies) apply
// Kong's remove, rename, replace, add and append to the top-level members of a JSON object,
// and both promise the same deviation from Kong: the object keeps its key order and the bytes
// of every value no operation touched (Kong's cjson decodes and re-encodes everything, in no
// particular order). One type carries that promise for both plugins, so their bodies cannot
// drift apart. Nested values are never decoded.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"io"

	"tollgate/internal/plugin"
)

// Object is a JSON object's top-level members in order, values kept as raw JSON. The zero
// value is the empty object.
type Object struct {
	members []member
}

type member struct {
	key string
	raw json.RawMessage
}

// Parse reads a JSON object. ok is false for anything else (invalid JSON, arrays, scalars,
// trailing data): callers leave such bodies as they are. A key given twice keeps its last
// value at its first place, as a Lua table would hold it.
func Parse(b []byte) (o Object, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return Object{}, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Object{}, false
		}
		key, ok := tok.(string)
		if !ok {
			return Object{}, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Object{}, false
		}
		if i := o.index(key); i >= 0 {
			o.members[i].raw = raw
			continue
		}
		o.members = append(o.members, member{key: key, raw: raw})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return Object{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return Object{}, false
	}
	return o, true
}

func (o *Object) index(key string) int {
	for i := range o.members {
		if o.members[i].key == key {
			return i
		}
	}
	return -1
}

// Truthy is Lua's truth of the decoded value: present and not false (JSON null decodes to
// cjson.null, which Lua treats as true). Kong's replace and add test fields this way in both
// transformers: replace acts when Truthy, add when not.
func (o *Object) Truthy(key string) bool {
	i := o.index(key)
	return i >= 0 && string(o.members[i].raw) != "false"
}

// Remove drops key and tells whether it was there.
func (o *Object) Remove(key string) bool {
	i := o.index(key)
	if i < 0 {
		return false
	}
	o.members = append(o.members[:i], o.members[i+1:]...)
	return true
}

// Rename moves old's value to nw and tells whether anything changed. An absent old, or
// old == nw, changes nothing. When nw is already there it takes old's value at nw's place and
// old goes; otherwise old is renamed where it stands.
func (o *Object) Rename(old, nw string) bool {
	i := o.index(old)
	if i < 0 || old == nw {
		return false
	}
	raw := o.members[i].raw
	if j := o.index(nw); j >= 0 {
		o.members[j].raw = raw
		o.Remove(old)
		return true
	}
	o.members[i].key = nw
	return true
}

// Set replaces key's value, or adds key at the end.
func (o *Object) Set(key string, raw json.RawMessage) {
	if i := o.index(key); i >= 0 {
		o.members[i].raw = raw
		return
	}
	o.members = append(o.members, member{key: key, raw: raw})
}

// AppendValue adds a value to key: absent → [v]; an array gets v at its end; any other value
// v0 becomes [v0, v].
func (o *Object) AppendValue(key string, v json.RawMessage) {
	i := o.index(key)
	if i < 0 {
		o.Set(key, wrapArray(nil, v))
		return
	}
	old := bytes.TrimSpace(o.members[i].raw)
	if len(old) > 0 && old[0] == '[' {
		inner := bytes.TrimSpace(old[1 : len(old)-1])
		var b []byte
		b = append(b, '[')
		if len(inner) > 0 {
			b = append(b, inner...)
			b = append(b, ',')
		}
		b = append(b, v...)
		o.members[i].raw = append(b, ']')
		return
	}
	o.members[i].raw = wrapArray(old, v)
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

// Encode writes the object with nothing between members; values are written as held, so an
// untouched value keeps its bytes.
func (o *Object) Encode() []byte {
	b := []byte{'{'}
	for i, m := range o.members {
		if i > 0 {
			b = append(b, ',')
		}
		b = plugin.AppendJSONString(b, m.key)
		b = append(b, ':')
		b = append(b, m.raw...)
	}
	return append(b, '}')
}
