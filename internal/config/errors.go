package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem inside a node given to DecodeNode or PluginSchemas.DecodeConfig.
// Path is relative to that node ("add.headers[2]"; "" = the node itself); Line 0 means unknown,
// and the loader then uses the line of the nearest enclosing node.
type FieldError struct {
	Path string
	Line int
	Msg  string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Seg is one step of a field path: a map key, or an array index when Index >= 0.
type Seg struct {
	Key   string
	Index int
}

func key(k string) Seg      { return Seg{Key: k, Index: -1} }
func index(i int) Seg       { return Seg{Index: i} }
func (s Seg) isIndex() bool { return s.Index >= 0 }

// Step locates an entity in the input: the collection it is listed in and its index there.
// services[2].routes[0] is []Step{{"services", 2}, {"routes", 0}}.
type Step struct {
	Collection string
	Index      int
}

// Error is one problem found in a configuration. Its text is
// `FILE:LINE: <kind> "<name or id>": <field path>: <what is wrong>`; problems outside any entity
// (top-level keys, YAML syntax) drop the entity part, and entity-wide problems use the field
// path "@entity" as Kong's error tables do.
type Error struct {
	File  string
	Line  int
	Kind  string // "service", "route", ..., "keyauth_credential"; "" outside entities
	Name  string // the entity's name (username, target, group...) or else its id
	Field string // "paths[1]", "healthchecks.active.timeout", "config.add.headers[0]", "@entity"
	Msg   string

	// Entity is where the entity sits in the input, outermost first; nil outside entities.
	Entity []Step
	// Path is Field split into keys and indexes (indexes are 0-based, as Field's).
	Path []Seg

	ent    *ent // for Flattened: the entity's input and identity
	syntax bool // the input is not parseable YAML/JSON
}

// Error renders the problem on one line: values quoted from the input may hold control
// characters, which are escaped so that Errors stays one problem per line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(e.Line))
	b.WriteString(": ")
	if e.Kind != "" {
		b.WriteString(e.Kind)
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Name))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(oneLine(e.Field))
		b.WriteString(": ")
	}
	b.WriteString(oneLine(e.Msg))
	return b.String()
}

// oneLine escapes ASCII control characters as Go does in quoted strings.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Errors is every problem of a configuration, sorted by line. Load returns it as its error.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}

// fieldString renders a path as Error.Field does: keys joined by dots, indexes in brackets.
func fieldString(p []Seg) string {
	var b strings.Builder
	for i, s := range p {
		if s.isIndex() {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Key)
	}
	return b.String()
}

// parsePath splits a FieldError path ("add.headers[2]") into segments. Keys containing dots
// cannot be told apart from nesting; they only affect KongFields' placement.
func parsePath(p string) []Seg {
	var out []Seg
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(out, key(p))
			}
			n, err := strconv.Atoi(p[1:end])
			if err != nil || n < 0 {
				out = append(out, key(p[1:end]))
			} else {
				out = append(out, index(n))
			}
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out = append(out, key(p[:end]))
			p = p[end:]
		}
	}
	return out
}

// KongFields renders the errors as the `fields` object of Kong's 400 answer to POST /config
// (code 14): the input's nesting mirrored, arrays by index (holes are nil), field messages as
// strings and entity-wide messages as a list under "@entity". A YAML syntax error is
// {"error": "failed parsing declarative configuration: ..."} as in Kong.
func (es Errors) KongFields() map[string]any {
	root := map[string]any{}
	for _, e := range es {
		if e.syntax {
			root["error"] = "failed parsing declarative configuration: " + e.Msg
			continue
		}
		var p []Seg
		for _, st := range e.Entity {
			p = append(p, key(st.Collection), index(st.Index))
		}
		p = append(p, e.Path...)
		if e.Field == "@entity" {
			p = append(p[:len(p)-len(e.Path)], key("@entity"))
		}
		put(root, p, e.Msg, e.Field == "@entity")
	}
	return root
}

// put stores msg at path p below cur and returns the new value of cur, creating maps and
// slices on the way. A slot that already holds a message gets "; " and the new one; where the
// shapes disagree the first one stays.
func put(cur any, p []Seg, msg string, list bool) any {
	if len(p) == 0 {
		switch o := cur.(type) {
		case nil:
			if list {
				return []any{msg}
			}
			return msg
		case string:
			return o + "; " + msg
		case []any:
			if list {
				return append(o, msg)
			}
		}
		return cur
	}
	s := p[0]
	if s.isIndex() {
		arr, ok := cur.([]any)
		if cur != nil && !ok {
			return cur
		}
		for len(arr) <= s.Index {
			arr = append(arr, nil)
		}
		arr[s.Index] = put(arr[s.Index], p[1:], msg, list)
		return arr
	}
	m, ok := cur.(map[string]any)
	if cur != nil && !ok {
		return cur
	}
	if m == nil {
		m = map[string]any{}
	}
	m[s.Key] = put(m[s.Key], p[1:], msg, list)
	return m
}

// FlatError is one entry of Kong's `flattened_errors` (POST /config?flatten_errors=1): the
// entity as given in the input (nested children removed, the parent's id added when the input
// gives it) and all its problems.
type FlatError struct {
	EntityType string         `json:"entity_type"`
	EntityID   string         `json:"entity_id,omitempty"`
	EntityName string         `json:"entity_name,omitempty"`
	EntityTags []string       `json:"entity_tags,omitempty"`
	Entity     any            `json:"entity"`
	Errors     []FlatFieldErr `json:"errors"`
}

// FlatFieldErr is one problem of a FlatError: Type "field" with Field in Kong's form
// (dot-separated, 1-based array indexes: "paths.2") or Type "entity".
type FlatFieldErr struct {
	Type    string `json:"type"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Flattened groups the entity errors by entity, in order of first appearance. Errors outside
// entities are not included (Kong leaves them in `fields`); see NonEntity.
func (es Errors) Flattened() []FlatError {
	var out []FlatError
	pos := map[*ent]int{}
	b := newBudget() // one budget for all entities: their aliases may share one huge node
	for _, e := range es {
		if e.ent == nil {
			continue
		}
		i, ok := pos[e.ent]
		if !ok {
			i = len(out)
			pos[e.ent] = i
			out = append(out, e.ent.flat(b))
		}
		fe := FlatFieldErr{Type: "field", Field: kongDotted(e.Path), Message: e.Msg}
		if e.Field == "@entity" {
			fe = FlatFieldErr{Type: "entity", Message: e.Msg}
		}
		out[i].Errors = append(out[i].Errors, fe)
	}
	return out
}

// NonEntity returns the errors that are not about one entity (syntax, top-level keys).
func (es Errors) NonEntity() Errors {
	var out Errors
	for _, e := range es {
		if e.ent == nil {
			out = append(out, e)
		}
	}
	return out
}

func kongDotted(p []Seg) string {
	parts := make([]string, len(p))
	for i, s := range p {
		if s.isIndex() {
			parts[i] = strconv.Itoa(s.Index + 1)
		} else {
			parts[i] = s.Key
		}
	}
	return strings.Join(parts, ".")
}

// KongBody is Kong's whole 400 body for an invalid declarative configuration: code 14, name,
// message and fields; with flatten, entity errors move to flattened_errors and fields keeps
// the rest, as Kong's flatten_errors=1 does.
func (es Errors) KongBody(flatten bool) map[string]any {
	fields := es.KongFields()
	body := map[string]any{
		"code":    14,
		"name":    "invalid declarative configuration",
		"message": "declarative config is invalid: " + luaPretty(fields),
	}
	if flatten {
		fe := es.Flattened()
		if fe == nil {
			fe = []FlatError{}
		}
		body["flattened_errors"] = fe
		fields = es.NonEntity().KongFields()
	}
	body["fields"] = fields
	return body
}

// luaPretty renders v compactly as Kong's message does with penlight's pretty.write (keys
// sorted here so that the text is stable).
func luaPretty(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			b.WriteString(strconv.Quote(t))
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteByte(',')
				}
				if isLuaIdent(k) {
					b.WriteString(k)
				} else {
					b.WriteString("[" + strconv.Quote(k) + "]")
				}
				b.WriteByte('=')
				walk(t[k])
			}
			b.WriteByte('}')
		case []any:
			holes := false
			for _, x := range t {
				if x == nil {
					holes = true
				}
			}
			b.WriteByte('{')
			first := true
			for i, x := range t {
				if x == nil {
					continue
				}
				if !first {
					b.WriteByte(',')
				}
				first = false
				if holes {
					fmt.Fprintf(&b, "[%d]=", i+1)
				}
				walk(x)
			}
			b.WriteByte('}')
		default:
			fmt.Fprint(&b, t)
		}
	}
	walk(v)
	return b.String()
}

func isLuaIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// flat builds the entity part of a FlatError from the input node.
func (e *ent) flat(b *budget) FlatError {
	fe := FlatError{EntityType: e.kind}
	obj, _ := nodeToAny(e.node, b).(map[string]any)
	if obj == nil {
		return fe
	}
	for _, c := range nestedOf[e.table] {
		delete(obj, c)
	}
	if e.parent != nil && e.parentFK != "" {
		if _, ok := obj[e.parentFK]; !ok && e.parent.idGiven {
			obj[e.parentFK] = map[string]any{"id": e.parent.id}
		}
	}
	fe.Entity = obj
	if s, ok := obj["name"].(string); ok && s != "" {
		fe.EntityName = s
	}
	if s, ok := obj["id"].(string); ok && isUUID(s) {
		fe.EntityID = s
	}
	if tags, ok := obj["tags"].([]any); ok {
		ts := make([]string, 0, len(tags))
		for _, t := range tags {
			s, ok := t.(string)
			if !ok {
				ts = nil
				break
			}
			ts = append(ts, s)
		}
		fe.EntityTags = ts
	}
	return fe
}
