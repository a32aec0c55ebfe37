package config

import (
	"encoding"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DecodeNode strictly decodes node into dst, a non-nil pointer (usually to a config struct
// already holding its defaults: fields the node lacks keep them). Struct fields are named by
// their `yaml` tag (",inline" embeds), else their lower-cased Go name, as yaml.v3 does. Maps
// with string keys, slices, pointers, strings, integers, floats, booleans, `any`, and types
// implementing yaml.Unmarshaler or encoding.TextUnmarshaler are supported. A null sets the
// zero value. Maps and slices are replaced, not merged.
//
// Unlike yaml.Node.Decode, it does not stop at the first problem: every unknown field and
// every value of the wrong type is reported with its path (relative to node) and line, in
// Kong's words, so that one run shows the user everything to fix. Plugins' registries use it
// for plugin configs.
func DecodeNode(node *yaml.Node, dst any) []FieldError {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return []FieldError{{Msg: "internal error: DecodeNode needs a non-nil pointer, got " + rv.Kind().String()}}
	}
	if node == nil {
		return nil
	}
	if node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return nil
		}
		node = node.Content[0]
	}
	d := &nodeDecoder{b: newBudget()}
	d.decode(node, rv.Elem(), nil)
	sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
	return d.errs
}

type nodeDecoder struct {
	b    *budget
	errs []FieldError
}

func (d *nodeDecoder) fail(p []Seg, line int, msg string) {
	d.errs = append(d.errs, FieldError{Path: fieldString(p), Line: line, Msg: msg})
}

var (
	unmarshalerType     = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

func (d *nodeDecoder) decode(n *yaml.Node, v reflect.Value, p []Seg) {
	line := n.Line
	if n = d.b.resolve(n); n == nil {
		d.fail(p, line, "alias expansion limit exceeded")
		return
	}
	if v.CanAddr() && v.Kind() != reflect.Pointer {
		pt := v.Addr().Type()
		if pt.Implements(unmarshalerType) {
			if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
				d.fail(p, n.Line, strings.TrimPrefix(err.Error(), "yaml: "))
			}
			return
		}
		if pt.Implements(textUnmarshalerType) && n.Kind == yaml.ScalarNode && !isNull(n) {
			if !isStr(n) && n.ShortTag() != "!!int" && n.ShortTag() != "!!float" {
				d.fail(p, n.Line, typeMsg("string"))
				return
			}
			if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
				d.fail(p, n.Line, err.Error())
			}
			return
		}
	}
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), p)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.fail(p, n.Line, "internal error: cannot decode into "+v.Type().String())
			return
		}
		spent := d.b.exhausted
		x := nodeToAny(n, d.b)
		if !spent && d.b.exhausted {
			d.fail(p, n.Line, "alias expansion limit exceeded")
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		} else {
			v.Set(reflect.Zero(v.Type()))
		}
	case reflect.Struct:
		d.decodeStruct(n, v, p)
	case reflect.Map:
		d.decodeMap(n, v, p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(p, n.Line, typeMsg("array"))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), append(clonePath(p), index(i)))
		}
		v.Set(s)
	case reflect.Array:
		if n.Kind != yaml.SequenceNode {
			d.fail(p, n.Line, typeMsg("array"))
			return
		}
		if len(n.Content) != v.Len() {
			d.fail(p, n.Line, "length must be "+strconv.Itoa(v.Len()))
			return
		}
		for i, c := range n.Content {
			d.decode(c, v.Index(i), append(clonePath(p), index(i)))
		}
	case reflect.String:
		if !isStr(n) {
			d.fail(p, n.Line, typeMsg("string"))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := asBool(n)
		if !ok {
			d.fail(p, n.Line, typeMsg("boolean"))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := asInt(n)
		if !ok {
			d.fail(p, n.Line, typeMsg("integer"))
			return
		}
		bits := v.Type().Bits()
		lo, hi := int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits)
		if i < lo || i > hi {
			d.fail(p, n.Line, between(lo, hi))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		i, ok := asInt(n)
		if !ok {
			d.fail(p, n.Line, typeMsg("integer"))
			return
		}
		bits := v.Type().Bits()
		hi := int64(math.MaxInt64)
		if bits < 64 {
			hi = int64(1)<<bits - 1
		}
		if i < 0 || i > hi {
			d.fail(p, n.Line, between(0, hi))
			return
		}
		v.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		f, ok := asFloat(n)
		if !ok {
			d.fail(p, n.Line, typeMsg("number"))
			return
		}
		v.SetFloat(f)
	default:
		d.fail(p, n.Line, "internal error: cannot decode into "+v.Type().String())
	}
}

func (d *nodeDecoder) decodeMap(n *yaml.Node, v reflect.Value, p []Seg) {
	if n.Kind != yaml.MappingNode {
		d.fail(p, n.Line, typeMsg("map"))
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(p, n.Line, "internal error: map keys must be strings in "+t.String())
		return
	}
	m := reflect.MakeMap(t)
	for _, pr := range d.b.pairs(n, func(k *yaml.Node, msg string) {
		d.fail(append(clonePath(p), key(k.Value)), k.Line, msg)
	}) {
		kp := append(clonePath(p), key(pr.key))
		if pr.v == nil {
			d.fail(kp, pr.k.Line, "alias expansion limit exceeded")
			continue
		}
		ev := reflect.New(t.Elem()).Elem()
		d.decode(pr.v, ev, kp)
		m.SetMapIndex(reflect.ValueOf(pr.key).Convert(t.Key()), ev)
	}
	v.Set(m)
}

func (d *nodeDecoder) decodeStruct(n *yaml.Node, v reflect.Value, p []Seg) {
	if n.Kind != yaml.MappingNode {
		d.fail(p, n.Line, typeMsg("record"))
		return
	}
	fields := structFields(v.Type())
	for _, pr := range d.b.pairs(n, func(k *yaml.Node, msg string) {
		d.fail(append(clonePath(p), key(k.Value)), k.Line, msg)
	}) {
		kp := append(clonePath(p), key(pr.key))
		idx, ok := fields[pr.key]
		if !ok {
			d.fail(kp, pr.k.Line, "unknown field")
			continue
		}
		if pr.v == nil {
			d.fail(kp, pr.k.Line, "alias expansion limit exceeded")
			continue
		}
		d.decode(pr.v, fieldByIndexAlloc(v, idx), kp)
	}
}

// structFields maps the names a struct accepts to field index paths, following ",inline".
func structFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), prefix...), i)
			if strings.Contains(","+opts+",", ",inline,") {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if _, dup := out[name]; !dup {
				out[name] = idx
			}
		}
	}
	walk(t, nil)
	return out
}

// fieldByIndexAlloc is reflect.Value.FieldByIndex allocating nil embedded pointers on the way.
func fieldByIndexAlloc(v reflect.Value, idx []int) reflect.Value {
	for i, x := range idx {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}
