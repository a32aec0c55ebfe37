// Package kvconf reads the "name:value" entries of Kong's transformer configs and holds the
// header name and value rules those entries, and other plugins' header-name fields, are
// checked against.
//
// request-transformer and response-transformer take every operation as a list of
// "name:value" strings (remove: names only; rename: "old:new") and document the same split
// rule as a deviation from Kong; correlation-id and request-termination check a header name
// by Kong's validate_header_name, as the transformers do. Keeping each rule once means a
// config entry, or a header name, is read the same way by every plugin.
package kvconf

import "strings"

// Split splits a config entry "name:value" the way Kong's pattern ^([^:]+):*(.-)$ does
// (name up to the first colon, then every colon that follows it skipped) and trims spaces and
// tabs around both parts. ok is false when the entry has no colon; name is then the trimmed
// entry.
func Split(s string) (name, value string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return strings.Trim(s, " \t"), "", false
	}
	name, value = s[:i], s[i+1:]
	value = strings.TrimLeft(value, ":")
	return strings.Trim(name, " \t"), strings.Trim(value, " \t"), true
}

// ValidHeaderName is Kong's validate_header_name: one or more letters, digits, '-' and '_'.
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// ValidHeaderValue accepts an RFC 9110 field value: no control characters but horizontal tab.
func ValidHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
