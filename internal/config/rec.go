package config

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// rec reads the fields of one mapping (an entity or a record inside it) and reports problems
// against the entity that owns it. Every key must be taken by the parser; finish reports the
// rest as unknown, which is what makes the decoding strict.
type rec struct {
	l    *loader
	e    *ent  // nil for top-level (non-entity) records
	base []Seg // path of this record inside the entity
	line int   // line of the mapping itself
	ps   []pair
	used []bool
}

func (l *loader) newRec(e *ent, base []Seg, n *yaml.Node) *rec {
	r := &rec{l: l, e: e, base: base, line: n.Line}
	r.ps = l.b.pairs(n, func(k *yaml.Node, msg string) {
		l.errAt(e, append(clonePath(base), key(k.Value)), k.Line, msg)
	})
	r.used = make([]bool, len(r.ps))
	return r
}

func clonePath(p []Seg) []Seg {
	return append([]Seg(nil), p...)
}

func (r *rec) path(name string, more ...Seg) []Seg {
	p := append(clonePath(r.base), key(name))
	return append(p, more...)
}

// lookup returns the pair for name and marks it used; ok is false when absent.
func (r *rec) lookup(name string) (pair, bool) {
	for i, p := range r.ps {
		if p.key == name {
			r.used[i] = true
			return p, true
		}
	}
	return pair{}, false
}

// has reports whether name is present (even as null) without marking it used.
func (r *rec) has(name string) bool {
	for _, p := range r.ps {
		if p.key == name {
			return true
		}
	}
	return false
}

// node returns the value of name; nil when absent or null. Aliases that could not be followed
// are reported here.
func (r *rec) node(name string) *yaml.Node {
	p, ok := r.lookup(name)
	if !ok {
		return nil
	}
	if p.v == nil {
		r.errf(name, p.k.Line, "alias expansion limit exceeded")
		return nil
	}
	if isNull(p.v) {
		return nil
	}
	return p.v
}

// null reports whether name is present with an explicit null.
func (r *rec) null(name string) bool {
	for _, p := range r.ps {
		if p.key == name {
			return p.v != nil && isNull(p.v)
		}
	}
	return false
}

func (r *rec) errf(name string, line int, msg string) {
	r.l.errAt(r.e, r.path(name), line, msg)
}

func (r *rec) errPath(p []Seg, line int, msg string) {
	r.l.errAt(r.e, p, line, msg)
}

// entityErr reports a problem of the whole entity (Kong's "@entity").
func (r *rec) entityErr(msg string) {
	r.l.errAt(r.e, []Seg{key("@entity")}, r.line, msg)
}

// missing reports `required field missing` for name.
func (r *rec) missing(name string) {
	r.errf(name, r.lineOf(name), "required field missing")
}

// required reports a missing or null value; call it when the field has no default.
func (r *rec) required(name string) bool {
	if r.node(name) == nil {
		r.missing(name)
		return false
	}
	return true
}

// str reads a string field. Kong refuses empty strings in every string field.
func (r *rec) str(name string) (string, bool) {
	n := r.node(name)
	if n == nil {
		return "", false
	}
	return r.strNode(r.path(name), n)
}

func (r *rec) strNode(p []Seg, n *yaml.Node) (string, bool) {
	if !isStr(n) {
		r.errPath(p, n.Line, typeMsg("string"))
		return "", false
	}
	if n.Value == "" {
		r.errPath(p, n.Line, "length must be at least 1")
		return "", false
	}
	return n.Value, true
}

// integer reads an integer field within [lo, hi].
func (r *rec) integer(name string, lo, hi int64) (int, bool) {
	n := r.node(name)
	if n == nil {
		return 0, false
	}
	return r.intNode(r.path(name), n, lo, hi)
}

func (r *rec) intNode(p []Seg, n *yaml.Node, lo, hi int64) (int, bool) {
	v, ok := asInt(n)
	if !ok {
		r.errPath(p, n.Line, typeMsg("integer"))
		return 0, false
	}
	if v < lo || v > hi {
		r.errPath(p, n.Line, between(lo, hi))
		return 0, false
	}
	return int(v), true
}

func between(lo, hi int64) string {
	return "value should be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10)
}

// number reads a number field within [lo, hi].
func (r *rec) number(name string, lo, hi float64) (float64, bool) {
	n := r.node(name)
	if n == nil {
		return 0, false
	}
	v, ok := asFloat(n)
	if !ok {
		r.errf(name, n.Line, typeMsg("number"))
		return 0, false
	}
	if v < lo || v > hi {
		r.errf(name, n.Line, "value should be between "+strconv.FormatFloat(lo, 'f', -1, 64)+" and "+strconv.FormatFloat(hi, 'f', -1, 64))
		return 0, false
	}
	return v, true
}

// boolean reads a boolean field.
func (r *rec) boolean(name string) (bool, bool) {
	n := r.node(name)
	if n == nil {
		return false, false
	}
	v, ok := asBool(n)
	if !ok {
		r.errf(name, n.Line, typeMsg("boolean"))
		return false, false
	}
	return v, true
}

// boolDefault reads a required boolean with a default: absent means def, null is an error.
func (r *rec) boolDefault(name string, def bool) bool {
	if r.null(name) {
		r.missing(name)
		r.lookup(name)
		return def
	}
	if v, ok := r.boolean(name); ok {
		return v
	}
	return def
}

// seq returns the items of a sequence field; want names the type for the error ("array",
// "set").
func (r *rec) seq(name, want string) ([]*yaml.Node, bool) {
	n := r.node(name)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		r.errf(name, n.Line, typeMsg(want))
		return nil, false
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = r.l.b.resolve(c)
		if items[i] == nil {
			r.errPath(r.path(name, index(i)), c.Line, "alias expansion limit exceeded")
		}
	}
	return items, true
}

// strings reads an array (or set, deduplicated as Kong's sets are) of strings, checking each
// element with check (nil = any non-empty string). ok is false when the field is absent or any
// element is bad.
func (r *rec) strings(name, want string, check func(string) string) ([]string, bool) {
	items, ok := r.seq(name, want)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	good := true
	seen := map[string]bool{}
	for i, it := range items {
		if it == nil {
			good = false
			continue
		}
		p := r.path(name, index(i))
		s, ok := r.strNode(p, it)
		if !ok {
			good = false
			continue
		}
		if check != nil {
			if msg := check(s); msg != "" {
				r.errPath(p, it.Line, msg)
				good = false
				continue
			}
		}
		if want == "set" {
			if seen[s] {
				continue
			}
			seen[s] = true
		}
		out = append(out, s)
	}
	return out, good
}

// record returns a nested record reader for a mapping field, or nil when absent.
func (r *rec) record(name string) *rec {
	n := r.node(name)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.errf(name, n.Line, typeMsg("record"))
		return nil
	}
	return r.l.newRec(r.e, r.path(name), n)
}

// oneOf reads a string field that must be one of values.
func (r *rec) oneOf(name string, values []string) (string, bool) {
	s, ok := r.str(name)
	if !ok {
		return "", false
	}
	for _, v := range values {
		if s == v {
			return s, true
		}
	}
	p, _ := r.lookup(name)
	r.errf(name, p.v.Line, "expected one of: "+joinComma(values))
	return "", false
}

// lineOf is the line of name's value, or the record's line when absent.
func (r *rec) lineOf(name string) int {
	for _, p := range r.ps {
		if p.key == name {
			if p.v != nil {
				return p.v.Line
			}
			return p.k.Line
		}
	}
	return r.line
}

// keyLine is the line of name's key, or the record's line when absent.
func (r *rec) keyLine(name string) int {
	for _, p := range r.ps {
		if p.key == name {
			return p.k.Line
		}
	}
	return r.line
}

// meta reads what Kong allows in every entity besides its own fields: _comment (a string) and
// _ignore (an array of anything), both ignored.
func (r *rec) meta() {
	if n := r.node("_comment"); n != nil && !isStr(n) {
		r.errf("_comment", n.Line, typeMsg("string"))
	}
	if n := r.node("_ignore"); n != nil && n.Kind != yaml.SequenceNode {
		r.errf("_ignore", n.Line, typeMsg("array"))
	}
}

// finish reports every key no parser took as `unknown field`.
func (r *rec) finish() {
	for i, p := range r.ps {
		if !r.used[i] {
			r.errPath(r.path(p.key), p.k.Line, "unknown field")
		}
	}
}

// unsupported takes name and, when it carries a value, reports that this build does not
// implement it yet, so that a config relying on it is refused instead of half-applied.
func (r *rec) unsupported(name string) {
	n := r.node(name)
	if n == nil {
		return
	}
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 || n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		return
	}
	r.errf(name, n.Line, notSupported)
}

const notSupported = "not supported yet in tollgate"

func joinComma(vs []string) string {
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}
