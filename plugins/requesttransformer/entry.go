package requesttransformer

import "strings"

// splitEntry splits a config entry "name:value" the way Kong's pattern ^([^:]+):*(.-)$ does
// (name up to the first colon, then every colon that follows it skipped) and trims spaces and
// tabs around both parts. ok is false when the entry has no colon.
func splitEntry(s string) (name, value string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return strings.Trim(s, " \t"), "", false
	}
	name, value = s[:i], s[i+1:]
	value = strings.TrimLeft(value, ":")
	return strings.Trim(name, " \t"), strings.Trim(value, " \t"), true
}

// validHeaderName is Kong's validate_header_name: letters, digits, '-' and '_'.
func validHeaderName(s string) bool {
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

// validHeaderValue accepts an RFC 9110 field value: no control characters but horizontal tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// isHost tells whether a header name is Host, which lives apart from the other upstream
// headers (UpstreamRequest.SetHost).
func isHost(name string) bool { return strings.EqualFold(name, "host") }
