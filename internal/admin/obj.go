package admin

import (
	"bytes"
	"encoding/json"
)

// obj is a JSON object whose keys keep the order they were added in. Entities are written
// field by field from explicit lists rather than by marshalling the config structs: Kong's
// answers carry every schema field (unset ones as null), foreign keys as {"id": ...}, and the
// config structs hold neither nulls nor that shape. A nil value is written as null.
type obj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the fields in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshalJSON(f.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalJSON(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// fk is a foreign key: written {"id": ...} in JSON, as a bare id in the declarative export.
type fk string

// MarshalJSON writes Kong's foreign key shape.
func (f fk) MarshalJSON() ([]byte, error) {
	return marshalJSON(obj{{"id", string(f)}})
}

// The helpers below turn the config's "unset" encodings ("" names, nil pointers and slices)
// into untyped nils, so that JSON writes null and the export can drop the field.

func fkOf(id string) any {
	if id == "" {
		return nil
	}
	return fk(id)
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func strPtr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func boolPtr(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

func intPtr(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func strs(s []string) any {
	if s == nil {
		return nil
	}
	return s
}

func ints(s []int) any {
	if s == nil {
		return nil
	}
	return s
}

func headers(m map[string][]string) any {
	if m == nil {
		return nil
	}
	return m
}

// rawJSON marshals a typed value (a plugin's config) once so that it is written with its own
// json tags; nil stays null.
func rawJSON(v any) any {
	if v == nil {
		return nil
	}
	b, err := marshalJSON(v)
	if err != nil {
		return nil
	}
	return json.RawMessage(b)
}
