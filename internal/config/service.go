package config

import (
	"strconv"
	"strings"
)

// kongProtocols is Kong's constants.PROTOCOLS (sorted, as Kong lists them in messages).
var kongProtocols = []string{"grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"}

func isKongProtocol(p string) bool {
	for _, k := range kongProtocols {
		if p == k {
			return true
		}
	}
	return false
}

const (
	maxTimeout = 1<<31 - 2
)

func (l *loader) parseService(e *ent) {
	r := e.r
	s := &Service{
		Meta:     l.meta(e, true),
		Protocol: "http", Port: 80, Retries: 5,
		ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000, Enabled: true,
	}
	e.obj = s
	if name, ok := r.str("name"); ok {
		if msg := validateUTF8Name(name); msg != "" {
			r.errf("name", r.lineOf("name"), msg)
		} else {
			s.Name = name
			e.ekey = name
		}
	}

	// The url shorthand expands into protocol, host, port and path, overriding them, as Kong's
	// shorthand does; its problems are reported on those fields (Kong's wording) at url's line.
	var fromURL map[string]bool
	if u, ok := r.str("url"); ok {
		fromURL = l.serviceURL(e, s, u)
	}

	if !fromURL["protocol"] {
		if r.null("protocol") {
			r.missing("protocol")
		}
		if p, ok := r.str("protocol"); ok {
			l.checkServiceProtocol(e, p, r.lineOf("protocol"), s)
		}
	} else {
		r.lookup("protocol")
	}
	if !fromURL["host"] {
		if h, ok := r.str("host"); ok {
			if msg := validateHost(h); msg != "" {
				r.errf("host", r.lineOf("host"), msg)
			} else {
				s.Host = h
			}
		} else if !r.has("host") || r.null("host") {
			r.missing("host")
		}
	} else {
		r.lookup("host")
	}
	if !fromURL["port"] {
		if r.null("port") {
			r.missing("port")
		}
		if v, ok := r.integer("port", 0, 65535); ok {
			s.Port = v
		}
	} else {
		r.lookup("port")
	}
	if !fromURL["path"] {
		if p, ok := r.str("path"); ok {
			if msg := validatePath(p); msg != "" {
				r.errf("path", r.lineOf("path"), msg)
			} else {
				s.Path = &p
			}
		}
	} else {
		r.lookup("path")
	}

	if v, ok := r.integer("retries", 0, 32767); ok {
		s.Retries = v
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"connect_timeout", &s.ConnectTimeout}, {"write_timeout", &s.WriteTimeout}, {"read_timeout", &s.ReadTimeout}} {
		if v, ok := r.integer(f.name, 1, maxTimeout); ok {
			*f.dst = v
		}
	}
	if v, ok := r.boolean("enabled"); ok {
		s.Enabled = v
	}
	s.CircuitBreaker = circuitBreaker(r)
	s.RetryBudget = retryBudget(r)
	if v, ok := r.integer("try_timeout", 0, maxTimeout); ok {
		s.TryTimeout = v
	}
	for _, f := range []string{"tls_verify", "tls_verify_depth", "ca_certificates", "client_certificate"} {
		r.unsupported(f)
	}
}

// checkServiceProtocol accepts the protocols this build proxies and tells the other Kong ones
// apart from typos.
func (l *loader) checkServiceProtocol(e *ent, p string, line int, s *Service) {
	switch {
	case p == "http" || p == "https":
		s.Protocol = p
	case isKongProtocol(p):
		e.r.errf("protocol", line, "'"+p+"' is "+notSupported+" (http and https are)")
	default:
		e.r.errf("protocol", line, "expected one of: "+joinComma(kongProtocols))
	}
}

// serviceURL applies the url shorthand (Kong's services.lua, parsed like LuaSocket's
// url.parse) and returns the fields it set.
func (l *loader) serviceURL(e *ent, s *Service, raw string) map[string]bool {
	r := e.r
	line := r.lineOf("url")
	u := parseLuaURL(raw)
	set := map[string]bool{"protocol": true, "host": true, "port": true, "path": true}

	port := -1
	portErr := false
	if u.hasPort {
		if n, err := strconv.Atoi(u.port); err == nil && u.port != "" && strings.Trim(u.port, "0123456789") == "" {
			port = n
		} else {
			portErr = true
		}
	}
	proto := u.scheme
	if proto == "" {
		switch port {
		case 443:
			proto = "https"
		default:
			proto = "http"
		}
	}
	l.checkServiceProtocol(e, proto, line, s)

	if u.host == "" {
		r.errf("host", line, "required field missing")
	} else if msg := validateHost(u.host); msg != "" {
		r.errf("host", line, msg)
	} else {
		s.Host = u.host
	}

	switch {
	case portErr:
		r.errf("port", line, typeMsg("integer"))
	case port >= 0:
		if port > 65535 {
			r.errf("port", line, between(0, 65535))
		} else {
			s.Port = port
		}
	case proto == "https":
		s.Port = 443
	default:
		s.Port = 80
	}

	if u.path != "" {
		if msg := validatePath(u.path); msg != "" {
			r.errf("path", line, msg)
		} else {
			p := u.path
			s.Path = &p
		}
	}
	return set
}

// luaURL is the part of LuaSocket's url.parse result the shorthand uses.
type luaURL struct {
	scheme, host, port, path string
	hasPort                  bool
}

// parseLuaURL splits a URL the way LuaSocket's url.parse does (Kong uses it for the shorthand):
// fragment, scheme, "//authority", query, params, path; then userinfo and port off the authority.
func parseLuaURL(s string) luaURL {
	var u luaURL
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ':'); i > 0 && isSchemeStart(s[0]) && isScheme(s[:i]) {
		u.scheme, s = s[:i], s[i+1:]
	}
	var authority string
	hasAuthority := false
	if strings.HasPrefix(s, "//") {
		s = s[2:]
		end := strings.IndexByte(s, '/')
		if end < 0 {
			end = len(s)
		}
		authority, s = s[:end], s[end:]
		hasAuthority = true
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	u.path = s
	if !hasAuthority {
		return u
	}
	if i := strings.IndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.ContainsAny(authority[i+1:], "]") {
		u.port, u.hasPort = authority[i+1:], true
		authority = authority[:i]
	}
	if strings.HasPrefix(authority, "[") && strings.HasSuffix(authority, "]") && len(authority) > 2 {
		authority = authority[1 : len(authority)-1]
	}
	u.host = authority
	return u
}

func isSchemeStart(c byte) bool { return isAlnum(c) }

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
