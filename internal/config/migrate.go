package config

import (
	"strconv"
	"strings"

	"tollgate/internal/router"
)

// migratePath converts a route path of a `_format_version` "1.1" or "2.1" file to 3.0 rules, as
// Kong does when it loads such a file: before 3.0 a path with any character outside
// [A-Za-z0-9._~/%-] was a regex and everything else a plain prefix; since 3.0 regexes carry a
// "~" and prefixes must be normalized. In the regex, %XX of unreserved characters is decoded
// (and escaped when it is a regex metacharacter) because 3.0 matches regexes against the
// decoded path.
func migratePath(p string) string {
	if !isLegacyRegex(p) {
		if n, err := router.NormalizePath(nil, []byte(p)); err == nil {
			return string(n)
		}
		return p
	}
	var b strings.Builder
	b.WriteByte('~')
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if v, err := strconv.ParseUint(p[i+1:i+3], 16, 8); err == nil && isUnreserved(byte(v)) {
				if strings.IndexByte(`\.+*?()|[]{}^$`, byte(v)) >= 0 {
					b.WriteByte('\\')
				}
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func isLegacyRegex(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !isAlnum(c) && !strings.ContainsRune("._~/%-", rune(c)) {
			return true
		}
	}
	return false
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}
