package router

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrBadEscape is wrapped by NormalizePath when a '%' is not followed by two hex digits. nginx
// answers such request lines with 400 before Kong's router runs, so the proxy does the same.
var ErrBadEscape = errors.New("invalid url-encoded value")

// ErrNotAbsolute is returned by NormalizePath for a path that does not start with '/' (for
// example "*" or an absolute-form target the caller did not split): there is nothing to route.
var ErrNotAbsolute = errors.New("path must start with '/'")

// reserved lists the bytes Kong's normalizer (kong/tools/uri.lua) keeps percent-encoded,
// because decoding them would change what the path means (RFC 3986 §2.2, plus '%').
var reserved = [256]bool{
	'!': true, '*': true, '\'': true, '(': true, ')': true, ';': true, ':': true, '@': true,
	'&': true, '=': true, '+': true, '$': true, ',': true, '/': true, '?': true, '%': true,
	'#': true, '[': true, ']': true,
}

// upstreamSafe lists the bytes Kong forwards unescaped (kong/tools/uri.lua ESCAPE_PATTERN).
// Everything else was decoded by normalization ("other" characters) and must be re-encoded,
// or it would reach the upstream as a raw space, quote or control byte.
var upstreamSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("!#$&'()*+,/:;=?@[]-_.~%") {
		t[c] = true
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// NormalizePath appends to dst the form of a raw request path that routes are matched against
// and that the upstream path is built from (KONG_COMPAT §3.2, Kong's kong/tools/uri.lua):
//
//  1. the query is cut at the first '?';
//  2. %XX of unreserved and "other" bytes is decoded, %XX of reserved bytes
//     (!*'();:@&=+$,/?%#[]) stays encoded with upper-case hex, so "%2f" becomes "%2F" and
//     never turns into a segment separator;
//  3. repeated slashes are merged;
//  4. dot segments are removed per RFC 3986 §5.2.4, after decoding, so "%2e%2e" is "..".
//
// A trailing slash is kept: "/a/" and "/a" are different routes in Kong. Decoding happens
// before dot removal on purpose: an attacker must not reach "/admin" through "/x/%2e%2e/admin"
// while a prefix route "/x" sees the request. The result is idempotent.
//
// Unlike Kong (which leaves a malformed escape in place and lets nginx reject it), a '%' not
// followed by two hex digits is an error wrapping ErrBadEscape; dst is then returned unchanged.
func NormalizePath(dst, raw []byte) ([]byte, error) {
	return normalize(dst, raw, true, PathOptions{})
}

// ErrSlashRefused is returned when PathOptions.Slashes is SlashesReject and the path holds an
// encoded slash or a backslash.
var ErrSlashRefused = errors.New("encoded slash or backslash in path")

// Slashes says what happens to the path's encoded slashes (%2F, %5C) and raw backslashes,
// the bytes through which one server reads a separator where another reads a name
// (CVE-2019-9901, CVE-2021-29492 and their kin).
type Slashes uint8

const (
	// SlashesKeep (the default, Kong's behaviour) keeps %2F encoded, so it is never a
	// separator here; a backslash is an ordinary byte, sent upstream as %5C.
	SlashesKeep Slashes = iota
	// SlashesReject refuses such paths (400), as Envoy's REJECT_REQUEST does.
	SlashesReject
	// SlashesDecode turns each of them into '/' before slashes are merged and dot segments
	// removed, so "/a/..%2Fadmin" is "/admin" for routing, every plugin and the upstream.
	SlashesDecode
)

// ParseSlashes reads a Slashes setting: keep, reject or decode.
func ParseSlashes(s string) (Slashes, error) {
	switch s {
	case "keep", "":
		return SlashesKeep, nil
	case "reject":
		return SlashesReject, nil
	case "decode":
		return SlashesDecode, nil
	}
	return 0, fmt.Errorf("escaped slashes: %q is not one of keep, reject, decode", s)
}

// PathOptions tune NormalizePathWith; the zero value is NormalizePath (Kong's rules).
type PathOptions struct {
	Slashes Slashes
	// NoMergeSlashes turns off the merging of repeated slashes ("//" stays), for
	// upstreams that give empty segments a meaning. Kong always merges.
	NoMergeSlashes bool
}

// NormalizePathWith is NormalizePath under the gateway's path settings.
func NormalizePathWith(dst, raw []byte, opt PathOptions) ([]byte, error) {
	return normalize(dst, raw, true, opt)
}

// normalize is NormalizePath with the query cut optional: route paths are validated against
// Kong's normalize(), which does not cut at '?' (only the request side strips the query).
func normalize(dst, raw []byte, cutQuery bool, opt PathOptions) ([]byte, error) {
	if len(raw) == 0 || raw[0] != '/' {
		return dst, ErrNotAbsolute
	}
	if cutQuery {
		if i := bytes.IndexByte(raw, '?'); i >= 0 {
			raw = raw[:i]
		}
	}
	start := len(dst)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			var hi, lo byte
			ok := i+2 < len(raw)
			if ok {
				var ok1, ok2 bool
				hi, ok1 = unhex(raw[i+1])
				lo, ok2 = unhex(raw[i+2])
				ok = ok1 && ok2
			}
			if !ok {
				return dst[:start], fmt.Errorf("%w: '%s'", ErrBadEscape, badEscapeText(raw[i:]))
			}
			v := hi<<4 | lo
			i += 2
			if v == '/' || v == '\\' {
				switch opt.Slashes {
				case SlashesReject:
					return dst[:start], ErrSlashRefused
				case SlashesDecode:
					if opt.NoMergeSlashes || dst[len(dst)-1] != '/' {
						dst = append(dst, '/')
					}
					continue
				}
			}
			if reserved[v] {
				dst = append(dst, '%', upper(raw[i-1]), upper(raw[i]))
			} else {
				dst = append(dst, v)
			}
		case c == '\\' && opt.Slashes != SlashesKeep:
			if opt.Slashes == SlashesReject {
				return dst[:start], ErrSlashRefused
			}
			if opt.NoMergeSlashes || dst[len(dst)-1] != '/' {
				dst = append(dst, '/')
			}
		case c == '/' && !opt.NoMergeSlashes && len(dst) > start && dst[len(dst)-1] == '/':
			// A decoded byte is never '/' (unless decoded on purpose above, which merges
			// too), so a '/' already at the end is a literal one.
			continue
		default:
			dst = append(dst, c)
		}
	}
	p := dst[start:]
	if bytes.Contains(p, []byte("/.")) {
		p = removeDotSegments(p)
	}
	return dst[:start+len(p)], nil
}

// badEscapeText reproduces the text Kong's schema puts in "invalid url-encoded value: '%s'":
// the '%' and up to two following characters, where valid triplets count as "___" (Kong
// replaces them before searching).
func badEscapeText(s []byte) []byte {
	out := []byte{'%'}
	for j := 1; j < len(s) && len(out) < 3; {
		if s[j] == '%' && j+2 < len(s) {
			if _, ok := unhex(s[j+1]); ok {
				if _, ok := unhex(s[j+2]); ok {
					out = append(out, '_', '_', '_')
					j += 3
					continue
				}
			}
		}
		out = append(out, s[j])
		j++
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// removeDotSegments rewrites p (which starts with '/' and has no "//") in place, RFC 3986
// §5.2.4: "." segments vanish, ".." removes the previous segment, and a dot segment at the end
// leaves a trailing slash ("/a/b/.." is "/a/"). Writing never overtakes reading, so no buffer
// is needed.
func removeDotSegments(p []byte) []byte {
	out := p[:0]
	for i := 0; i < len(p); {
		j := i + 1
		for j < len(p) && p[j] != '/' {
			j++
		}
		seg := p[i+1 : j]
		last := j == len(p)
		switch {
		case len(seg) == 1 && seg[0] == '.':
			if last {
				out = append(out, '/')
			}
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			if k := bytes.LastIndexByte(out, '/'); k >= 0 {
				out = out[:k]
			}
			if last {
				out = append(out, '/')
			}
		default:
			out = append(out, p[i:j]...)
		}
		i = j
	}
	if len(out) == 0 {
		out = append(out, '/')
	}
	return out
}

// EscapeUpstreamPath appends p to dst with every byte outside
// A-Z a-z 0-9 ! # $ & ' ( ) * + , / : ; = ? @ [ ] - _ . ~ % written as %XX (KONG_COMPAT §3.2,
// last paragraph). Normalization decoded "other" bytes such as spaces so that routes can
// match them; they must be encoded again before the path goes on the wire ("/a b" is sent as
// "/a%20b"). '%' itself is kept: what is still encoded after normalization stays encoded.
func EscapeUpstreamPath(dst, p []byte) []byte {
	for _, c := range p {
		if upstreamSafe[c] {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// UpstreamPath appends the path sent to the upstream (KONG_COMPAT §4.1, Kong's v0 rules in
// kong/router/utils.lua get_upstream_uri). The compat router always uses v0: a route's
// path_handling setting is inert outside the legacy traditional flavor.
//
// servicePath is the service's path ("" means "/"), reqPath the normalized request path,
// prefix the Match.Prefix of the route (empty when no path matched) and stripPath the route's
// strip_path. As in Kong, the rest after the prefix is taken by length, then a leading "./" or
// "../" (or a bare "." / "..") is dropped so that stripping cannot climb above the service
// path. The result is not escaped: pass it through EscapeUpstreamPath before sending.
func UpstreamPath(dst []byte, servicePath string, reqPath, prefix []byte, stripPath bool) []byte {
	base := servicePath
	if base == "" {
		base = "/"
	}
	req := reqPath
	if len(req) == 0 {
		req = []byte{'/'}
	}
	baseSlash := base[len(base)-1] == '/'
	reqSlash := req[len(req)-1] == '/'

	if !stripPath {
		if baseSlash {
			return append(append(dst, base...), req[1:]...)
		}
		if len(req) == 1 && req[0] == '/' {
			return append(dst, base...)
		}
		return append(append(dst, base...), req...)
	}

	// Without a matched path Kong strips "/" (its request_postfix is req:sub(2)).
	n := len(prefix)
	if n == 0 {
		n = 1
	}
	rest := req[min(n, len(req)):]
	rest = sanitizeRest(rest)

	switch {
	case baseSlash && len(rest) == 0:
		switch {
		case base == "/":
			return append(dst, '/')
		case reqSlash:
			return append(dst, base...)
		default:
			return append(dst, base[:len(base)-1]...)
		}
	case baseSlash && rest[0] == '/':
		return append(append(dst, base[:len(base)-1]...), rest...)
	case baseSlash:
		return append(append(dst, base...), rest...)
	case len(rest) == 0:
		dst = append(dst, base...)
		if len(req) > 1 && reqSlash {
			dst = append(dst, '/')
		}
		return dst
	case rest[0] == '/':
		return append(append(dst, base...), rest...)
	default:
		return append(append(append(dst, base...), '/'), rest...)
	}
}

// sanitizeRest is Kong's sanitize_uri_postfix: a prefix that ends inside a segment can leave
// "../x" behind (route "/r", request "/r../x"); dropping the dots keeps the upstream path under
// the service path.
func sanitizeRest(rest []byte) []byte {
	switch {
	case string(rest) == "." || string(rest) == "..":
		return rest[:0]
	case bytes.HasPrefix(rest, []byte("./")):
		return rest[2:]
	case bytes.HasPrefix(rest, []byte("../")):
		return rest[3:]
	}
	return rest
}
