package config

import (
	"fmt"
	"math"

	"go.yaml.in/yaml/v3"
)

// budget bounds the work spent following YAML aliases. The yaml.Node tree keeps aliases
// unexpanded, so a small document can name a node billions of times ("billion laughs"); every
// node reached through an alias costs one unit and the walk stops once the budget is spent.
type budget struct {
	left      int
	exhausted bool // set once an alias could not be followed for lack of budget
}

// aliasBudget is far above what a real configuration (thousands of entities) visits.
const aliasBudget = 1 << 20

func newBudget() *budget { return &budget{left: aliasBudget} }

// resolve follows alias nodes to their target; nil when the budget is spent or the alias is
// broken.
func (b *budget) resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if b.left <= 0 || depth > 100 {
			b.exhausted = true
			return nil
		}
		b.left -= countNodes(n.Alias, b.left)
		n = n.Alias
	}
	return n
}

// countNodes counts the nodes under n, stopping early once max is reached.
func countNodes(n *yaml.Node, max int) int {
	if n == nil {
		return 0
	}
	c := 1
	for _, ch := range n.Content {
		if c >= max {
			break
		}
		c += countNodes(ch, max-c)
	}
	return c
}

// pair is one key/value of a mapping after merge keys are applied.
type pair struct {
	key string
	k   *yaml.Node
	v   *yaml.Node // resolved (aliases followed); nil if the alias could not be followed
}

// pairs lists the entries of a mapping node in order, applying YAML merge keys ("<<": explicit
// keys win over merged ones). Duplicate keys and non-scalar keys are reported through bad.
func (b *budget) pairs(n *yaml.Node, bad func(k *yaml.Node, msg string)) []pair {
	var out []pair
	seen := map[string]int{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		k = b.resolve(k)
		if k == nil {
			bad(n.Content[i], "alias expansion limit exceeded")
			continue
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, b.mergeSources(k, v, bad)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			bad(k, "expected a string key")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			bad(k, fmt.Sprintf("mapping key %q already defined at line %d", k.Value, line))
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, pair{key: k.Value, k: k, v: b.resolve(v)})
	}
	for _, p := range merged {
		if _, dup := seen[p.key]; dup {
			continue
		}
		seen[p.key] = p.k.Line
		out = append(out, p)
	}
	return out
}

// mergeSources returns the pairs a merge key brings: one mapping or a sequence of them.
func (b *budget) mergeSources(k, v *yaml.Node, bad func(k *yaml.Node, msg string)) []pair {
	r := b.resolve(v)
	if r == nil {
		bad(k, "alias expansion limit exceeded")
		return nil
	}
	switch r.Kind {
	case yaml.MappingNode:
		return b.pairs(r, bad)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range r.Content {
			m := b.resolve(item)
			if m == nil || m.Kind != yaml.MappingNode {
				bad(k, "merge key needs a mapping or a sequence of mappings")
				continue
			}
			out = append(out, b.pairs(m, bad)...)
		}
		return out
	}
	bad(k, "merge key needs a mapping or a sequence of mappings")
	return nil
}

// isNull reports whether n is YAML/JSON null (absent values are nil nodes).
func isNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// yaml11Bools are the unquoted scalars that Kong's YAML parser (lyaml, YAML 1.1) reads as
// booleans while yaml.v3 (YAML 1.2) reads them as strings. Reading them as Kong does keeps the
// meaning of a kong.yml: `strip_path: no` is false, and `tags: [on]` is not a string there.
var yaml11Bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// yaml11Bool reports whether n is a plain (unquoted, untagged) YAML 1.1 boolean.
func yaml11Bool(n *yaml.Node) (value, ok bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Style != 0 || n.ShortTag() != "!!str" {
		return false, false
	}
	value, ok = yaml11Bools[n.Value]
	return value, ok
}

// scalar kinds, by YAML tag. JSON is YAML, so a JSON string is always !!str.
func isStr(n *yaml.Node) bool {
	if n == nil || n.Kind != yaml.ScalarNode {
		return false
	}
	if _, ok := yaml11Bool(n); ok {
		return false
	}
	// A plain date such as 2024-01-02 resolves to !!timestamp; a string field takes its text.
	t := n.ShortTag()
	return t == "!!str" || t == "!!timestamp"
}

// asInt reads an integer scalar. Like Kong (Lua numbers), a float with an integral value is an
// integer: port 80.0 is accepted.
func asInt(n *yaml.Node) (int64, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return 0, false
		}
		return v, true
	case "!!float":
		f, ok := asFloat(n)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

// asFloat reads a number scalar (int or float), rejecting NaN and infinities.
func asFloat(n *yaml.Node) (float64, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err == nil {
			return float64(v), true
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return float64(u), true
		}
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

func asBool(n *yaml.Node) (bool, bool) {
	if v, ok := yaml11Bool(n); ok {
		return v, true
	}
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		return false, false
	}
	return v, true
}

// typeMsg is Kong's message for a value of the wrong type.
func typeMsg(want string) string {
	switch want {
	case "integer", "array":
		return "expected an " + want
	}
	return "expected a " + want
}

// nodeToAny converts a node to plain Go values (map[string]any, []any, string, int64, float64,
// bool, nil) for echoing input back, as the flattened errors' `entity` does.
func nodeToAny(n *yaml.Node, b *budget) any {
	n = b.resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return nodeToAny(n.Content[0], b)
	case yaml.MappingNode:
		m := map[string]any{}
		for _, p := range b.pairs(n, func(*yaml.Node, string) {}) {
			m[p.key] = nodeToAny(p.v, b)
		}
		return m
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, nodeToAny(c, b))
		}
		return out
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			v, _ := asBool(n)
			return v
		case "!!str":
			if v, ok := yaml11Bool(n); ok {
				return v
			}
		case "!!int":
			if v, ok := asInt(n); ok {
				return v
			}
			f, _ := asFloat(n)
			return f
		case "!!float":
			f, _ := asFloat(n)
			return f
		}
		return n.Value
	}
	return nil
}
