package requesttransformer

import (
	"net/url"
	"strings"
)

// args is a query string or an application/x-www-form-urlencoded body as an ordered list, so
// that arguments no operation touches go out byte for byte as they came in.
type args []arg

type arg struct {
	key, val string // decoded
	raw      string // the argument as received ("" once changed: it is then re-encoded)
	noVal    bool   // "key" without '=' (Kong's `true`)
}

// parseArgs splits s at '&' as ngx.decode_args does, skipping empty pieces.
func parseArgs(s string) args {
	if s == "" {
		return nil
	}
	out := make(args, 0, strings.Count(s, "&")+1)
	for s != "" {
		var piece string
		if i := strings.IndexByte(s, '&'); i >= 0 {
			piece, s = s[:i], s[i+1:]
		} else {
			piece, s = s, ""
		}
		if piece == "" {
			continue
		}
		a := arg{raw: piece}
		k, v, hasEq := strings.Cut(piece, "=")
		a.key = unescape(k)
		if hasEq {
			a.val = unescape(v)
		} else {
			a.noVal = true
		}
		out = append(out, a)
	}
	return out
}

func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// first returns the first argument named key, or nil.
func (a args) first(key string) *arg {
	for i := range a {
		if a[i].key == key {
			return &a[i]
		}
	}
	return nil
}

func (a args) has(key string) bool { return a.first(key) != nil }

// remove deletes every argument named key.
func (a *args) remove(key string) bool {
	out := (*a)[:0]
	removed := false
	for _, x := range *a {
		if x.key == key {
			removed = true
			continue
		}
		out = append(out, x)
	}
	*a = out
	return removed
}

// rename gives the arguments named old the name nw, in place; earlier arguments named nw are
// dropped first, as Kong's `t[new] = t[old]` overwrites them.
func (a *args) rename(old, nw string) bool {
	if old == nw || !a.has(old) {
		return false
	}
	a.remove(nw)
	for i := range *a {
		x := &(*a)[i]
		if x.key == old {
			x.key, x.raw = nw, ""
		}
	}
	return true
}

// replace sets key to the single value v where it first appears, when it is present.
func (a *args) replace(key, v string) bool {
	i := a.index(key)
	if i < 0 {
		return false
	}
	(*a)[i] = arg{key: key, val: v}
	rest := (*a)[:i+1]
	for _, x := range (*a)[i+1:] {
		if x.key != key {
			rest = append(rest, x)
		}
	}
	*a = rest
	return true
}

// add appends key=v when key is absent.
func (a *args) add(key, v string) bool {
	if a.has(key) {
		return false
	}
	*a = append(*a, arg{key: key, val: v})
	return true
}

// appendValue adds key=v after the last argument named key, or at the end.
func (a *args) appendValue(key, v string) {
	at := len(*a)
	for i := len(*a) - 1; i >= 0; i-- {
		if (*a)[i].key == key {
			at = i + 1
			break
		}
	}
	*a = append(*a, arg{})
	copy((*a)[at+1:], (*a)[at:])
	(*a)[at] = arg{key: key, val: v}
}

func (a args) index(key string) int {
	for i := range a {
		if a[i].key == key {
			return i
		}
	}
	return -1
}

// encode joins the arguments with '&'; changed ones are escaped as ngx.encode_args does (space
// as %20, only unreserved characters left as they are).
func (a args) encode() string {
	var b strings.Builder
	for i, x := range a {
		if i > 0 {
			b.WriteByte('&')
		}
		if x.raw != "" {
			b.WriteString(x.raw)
			continue
		}
		escapeTo(&b, x.key)
		if !x.noVal {
			b.WriteByte('=')
			escapeTo(&b, x.val)
		}
	}
	return b.String()
}

func escapeTo(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}
