package router

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// node is a radix-tree node: the key of a node is the concatenation of the labels from the
// root. Its bucket holds the prefix-path routes whose path is exactly that key and the
// regex-path routes whose literal start is that key; every such route is a candidate for a
// request path that starts with the key, and no other route is.
type node struct {
	label []byte
	first []byte // first byte of each child's label, parallel to kids, for IndexByte
	kids  []*node
	b     *bucket
}

// insert returns the node for key, creating and splitting nodes as needed.
func (n *node) insert(key []byte) *bucket {
	for len(key) > 0 {
		i := bytes.IndexByte(n.first, key[0])
		if i < 0 {
			child := &node{label: key}
			n.first = append(n.first, key[0])
			n.kids = append(n.kids, child)
			n = child
			break
		}
		c := n.kids[i]
		l := commonPrefix(c.label, key)
		if l < len(c.label) {
			mid := &node{label: c.label[:l], first: []byte{c.label[l]}, kids: []*node{c}}
			c.label = c.label[l:]
			n.kids[i] = mid
			c = mid
		}
		key = key[l:]
		n = c
	}
	if n.b == nil {
		n.b = &bucket{}
	}
	return n.b
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// finish builds the host indexes of every bucket in the tree.
func (n *node) finish() {
	if n.b != nil {
		n.b.finish()
	}
	for _, k := range n.kids {
		k.finish()
	}
}

// hostIndexMin is the list length from which a bucket gets a host map. Below it a scan is as
// fast as hashing the host; above it, host-routed configs (thousands of routes on "/", each
// with its own host) would otherwise scan linearly.
const hostIndexMin = 8

// bucket is one candidate list, sorted by rank. Large buckets split their routes into those
// whose hosts are all plain (indexed by lower-case host) and the rest.
type bucket struct {
	all    []*vroute
	byHost map[string][]*vroute
	rest   []*vroute
}

// add appends v; routes arrive in rank order, and a route whose group has the same path twice
// is added once.
func (b *bucket) add(v *vroute) {
	if n := len(b.all); n > 0 && b.all[n-1] == v {
		return
	}
	b.all = append(b.all, v)
}

func (b *bucket) finish() {
	if len(b.all) < hostIndexMin {
		return
	}
	indexed := 0
	for _, v := range b.all {
		if v.c.hostKeys != nil {
			indexed++
		}
	}
	if indexed < hostIndexMin/2 {
		return
	}
	b.byHost = make(map[string][]*vroute)
	for _, v := range b.all {
		if v.c.hostKeys == nil {
			b.rest = append(b.rest, v)
			continue
		}
		for _, k := range v.c.hostKeys {
			b.byHost[k] = append(b.byHost[k], v)
		}
	}
	b.all = nil
}

// scan offers the bucket's candidates in rank order; depth is the length of the path
// prefix the bucket's node stands for.
func (b *bucket) scan(q *query, r *result, depth int) {
	if b.byHost == nil {
		scanList(q, r, b.all, depth)
		return
	}
	if q.hostKey != nil {
		if l, ok := b.byHost[string(q.hostKey)]; ok {
			scanList(q, r, l, depth)
		}
	}
	scanList(q, r, b.rest, depth)
}

// regexLiteralPrefix returns the bytes every match of rx must start with, so that a regex route
// is only tried for paths that start with them. CompileRegex anchors with "^(?:…)"; the
// literal after the anchor is usually the API prefix ("/users/" in "~/users/(\d+)$").
func regexLiteralPrefix(rx *regexp.Regexp) []byte {
	re, err := syntax.Parse(rx.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	p, _ := literalPrefix(nil, re)
	return p
}

// literalPrefix appends the literal start of re to dst; complete reports that re is nothing
// but that literal, so that what follows it in a concatenation may extend the prefix.
func literalPrefix(dst []byte, re *syntax.Regexp) (out []byte, complete bool) {
	switch re.Op {
	case syntax.OpBeginText, syntax.OpEmptyMatch:
		return dst, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return dst, false
		}
		for _, r := range re.Rune {
			// The matcher reads invalid UTF-8 as U+FFFD, whose encoding is not in the path.
			if r == utf8.RuneError {
				return dst, false
			}
			dst = utf8.AppendRune(dst, r)
		}
		return dst, true
	case syntax.OpCapture:
		return literalPrefix(dst, re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			var ok bool
			if dst, ok = literalPrefix(dst, s); !ok {
				return dst, false
			}
		}
		return dst, true
	}
	return dst, false
}
