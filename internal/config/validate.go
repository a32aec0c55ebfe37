package config

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The validators below reproduce Kong's typedefs (kong/db/schema/typedefs.lua) and
// kong.tools.utils.normalize_ip with their messages; each returns "" when the value is valid.

// validateUTF8 is Kong's validate_utf8_string; the position is 1-based as in Lua.
func validateUTF8(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return "invalid utf-8 character sequence detected at position " + strconv.Itoa(i+1)
		}
		i += size
	}
	return ""
}

// validateTag: printable ASCII except ',' and '/' (space included), or UTF-8.
func validateTag(s string) string {
	if msg := validateUTF8(s); msg != "" {
		return msg
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c >= ' ' && c <= '~' && c != ',' && c != '/' {
			continue
		}
		return "invalid tag '" + s + "': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"
	}
	return ""
}

// validateUTF8Name is typedefs.utf8_name: [A-Za-z0-9._~-] plus any non-ASCII UTF-8.
func validateUTF8Name(s string) string {
	if msg := validateUTF8(s); msg != "" {
		return msg
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || isAlnum(c) || c == '.' || c == '-' || c == '_' || c == '~' {
			continue
		}
		return "invalid value '" + s + "': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// hostInfo is the result of normalize_ip.
type hostInfo struct {
	typ  string // "ipv4", "ipv6", "name"
	host string // normalized (IPv6 expanded, without brackets)
	port int    // -1 when absent
}

// normalizeIP is Kong's utils.normalize_ip: an IPv4 address, a bracketed or bare IPv6 address,
// or a hostname, each with an optional port. The error strings are Kong's.
func normalizeIP(s string) (hostInfo, string) {
	switch hostnameType(s) {
	case "ipv4":
		return normalizeIPv4(s)
	case "ipv6":
		return normalizeIPv6(s)
	}
	return checkHostname(s)
}

func hostnameType(s string) string {
	if strings.Count(s, ":") > 1 {
		return "ipv6"
	}
	rest := strings.ReplaceAll(s, ":", "")
	if rest != "" && strings.Trim(rest, "0123456789.") == "" {
		return "ipv4"
	}
	return "name"
}

var ipv4Re = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d+))?$`)

func normalizeIPv4(s string) (hostInfo, string) {
	m := ipv4Re.FindStringSubmatch(s)
	if m == nil || !strings.Contains(s, ":") && m[5] != "" {
		return hostInfo{}, "invalid ipv4 address: " + s
	}
	if strings.Contains(s, ":") && m[5] == "" {
		return hostInfo{}, "invalid ipv4 address: " + s
	}
	parts := make([]string, 4)
	for i := 0; i < 4; i++ {
		v, _ := strconv.Atoi(m[i+1])
		if v > 255 {
			return hostInfo{}, "invalid ipv4 address: " + s
		}
		parts[i] = strconv.Itoa(v)
	}
	h := hostInfo{typ: "ipv4", host: strings.Join(parts, "."), port: -1}
	if m[5] != "" {
		p, err := strconv.Atoi(m[5])
		if err != nil || p > 65535 {
			return hostInfo{}, "invalid port number"
		}
		h.port = p
	}
	return h, ""
}

func normalizeIPv6(s string) (hostInfo, string) {
	addr, port := s, -1
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return hostInfo{}, "invalid ipv6 address: " + s
		}
		addr = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") || strings.Trim(rest[1:], "0123456789") != "" {
				return hostInfo{}, "invalid ipv6 address"
			}
			p, err := strconv.Atoi(rest[1:])
			if err != nil && rest[1:] != "" || p > 65535 {
				return hostInfo{}, "invalid port number"
			}
			port = p
		}
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Zone() != "" || strings.Contains(addr, ".") {
		return hostInfo{}, "invalid ipv6 address: " + s
	}
	return hostInfo{typ: "ipv6", host: ip.StringExpanded(), port: port}, ""
}

var hostnameRe = regexp.MustCompile(`^[0-9A-Za-z._-]+$`)

func checkHostname(s string) (hostInfo, string) {
	name, port := s, -1
	if i := strings.LastIndexByte(s, ':'); i >= 0 && i < len(s)-1 && strings.Trim(s[i+1:], "0123456789") == "" {
		p, err := strconv.Atoi(s[i+1:])
		if err != nil || p > 65535 {
			return hostInfo{}, "invalid port number"
		}
		name, port = s[:i], p
	}
	if !hostnameRe.MatchString(name) {
		return hostInfo{}, "invalid hostname: " + s
	}
	segs := strings.Split(name, ".")
	for i, seg := range segs {
		if strings.HasSuffix(seg, "-") || seg == "" && i != len(segs)-1 {
			return hostInfo{}, "invalid hostname: " + s
		}
	}
	return hostInfo{typ: "name", host: name, port: port}, ""
}

// validateHost is typedefs.host: a hostname or IP without port.
func validateHost(s string) string {
	h, err := normalizeIP(s)
	if err != "" && err != "invalid port number" {
		return "invalid value: " + s
	}
	if err == "invalid port number" || h.port >= 0 {
		return "must not have a port"
	}
	return ""
}

// validateHostWithOptionalPort is typedefs.host_with_optional_port.
func validateHostWithOptionalPort(s string) string {
	_, err := normalizeIP(s)
	return err
}

// validateSNI is typedefs.sni: a hostname, not an IP, without port.
func validateSNI(s string) string {
	h, err := normalizeIP(s)
	if err != "" && err != "invalid port number" {
		return "invalid value: " + s
	}
	if err == "" && h.typ != "name" {
		return "must not be an IP"
	}
	if err == "invalid port number" || h.port >= 0 {
		return "must not have a port"
	}
	return ""
}

// validateRouteHost is the route hosts element check: at most one '*', only as the whole
// leftmost or rightmost label, then a host with optional port.
func validateRouteHost(s string) string {
	if strings.Count(s, "*") > 1 {
		return "invalid wildcard: must have at most one wildcard"
	}
	if strings.Contains(s, "*") && !strings.HasPrefix(s, "*.") && !strings.HasSuffix(s, ".*") {
		return "invalid wildcard: must be placed at leftmost or rightmost label"
	}
	if _, err := normalizeIP(strings.ReplaceAll(s, "*", "abc")); err != "" {
		return strings.ReplaceAll(err, strings.ReplaceAll(s, "*", "abc"), s)
	}
	return ""
}

var headerNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// validateHeaderName is utils.validate_header_name.
func validateHeaderName(s string) string {
	if s == "" {
		return "no header name provided"
	}
	if !headerNameRe.MatchString(s) {
		return "bad header name '" + s + "', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
	}
	return ""
}

// validateCookieName is utils.validate_cookie_name.
func validateCookieName(s string) string {
	if s == "" {
		return "no cookie name provided"
	}
	if !headerNameRe.MatchString(s) {
		return "bad cookie name '" + s + "', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
	}
	return ""
}

var (
	pathCharsRe = regexp.MustCompile(`^/[A-Za-z0-9._~/%:@!$&'()*+,;=-]*$`)
	pctRe       = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)
	badPctRe    = regexp.MustCompile(`%.?.?`)
)

// validatePath is typedefs.path (service path, healthcheck path, cookie path): starts with
// "/", no empty segment, only RFC 3986 characters, valid percent-encoding.
func validatePath(s string) string {
	if !strings.HasPrefix(s, "/") {
		return "should start with: /"
	}
	if strings.Contains(s, "//") {
		return "must not have empty segments"
	}
	if !pathCharsRe.MatchString(s) {
		return "invalid path: '" + s + "' (characters outside of the reserved list of RFC 3986 found)"
	}
	return percentError(s)
}

// percentError reports a '%' that does not start a valid %XX escape.
func percentError(s string) string {
	raw := pctRe.ReplaceAllString(s, "___")
	if strings.Contains(raw, "%") {
		return "invalid url-encoded value: '" + badPctRe.FindString(raw) + "'"
	}
	return ""
}

var methodRe = regexp.MustCompile(`^[A-Z]+$`)

// validateMethod is typedefs.http_method (`^%u+$`).
func validateMethod(s string) string {
	if !methodRe.MatchString(s) {
		return "invalid value: " + s
	}
	return ""
}
