package config

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"tollgate/internal/router"
)

func (l *loader) parseRoute(e *ent) {
	r := e.r
	rt := &Route{
		Meta:      l.meta(e, true),
		Protocols: []string{"http", "https"}, HTTPSRedirectStatusCode: 426,
		StripPath: true, PathHandling: "v0", RequestBuffering: true, ResponseBuffering: true,
	}
	e.obj = rt
	if name, ok := r.str("name"); ok {
		if msg := validateUTF8Name(name); msg != "" {
			r.errf("name", r.lineOf("name"), msg)
		} else {
			rt.Name = name
			e.ekey = name
		}
	}

	protocolsOK := true
	if r.null("protocols") {
		r.missing("protocols")
		protocolsOK = false
	}
	if ps, ok := r.strings("protocols", "set", checkHTTPProtocol); ok {
		if len(ps) == 0 {
			r.errf("protocols", r.lineOf("protocols"), "length must be at least 1")
			protocolsOK = false
		} else {
			rt.Protocols = ps
		}
	} else if r.has("protocols") {
		protocolsOK = false
	}

	if ms, ok := r.strings("methods", "set", validateMethod); ok {
		rt.Methods = ms
	}
	if hs, ok := r.strings("hosts", "array", validateRouteHost); ok {
		rt.Hosts = hs
	}
	legacy := l.format == "1.1" || l.format == "2.1"
	if ps, ok := r.strings("paths", "array", func(p string) string {
		if legacy {
			p = migratePath(p)
		}
		return validateRoutePath(p)
	}); ok {
		if legacy {
			for i, p := range ps {
				ps[i] = migratePath(p)
			}
		}
		rt.Paths = ps
	}
	rt.Headers = l.headers(r, "headers", true)

	for _, f := range []string{"snis", "sources", "destinations", "expression", "priority"} {
		r.unsupported(f)
	}

	if r.null("https_redirect_status_code") {
		r.missing("https_redirect_status_code")
	}
	if v, ok := r.integer("https_redirect_status_code", -1<<53, 1<<53); ok {
		switch v {
		case 426, 301, 302, 307, 308:
			rt.HTTPSRedirectStatusCode = v
		default:
			r.errf("https_redirect_status_code", r.lineOf("https_redirect_status_code"),
				"expected one of: 426, 301, 302, 307, 308")
		}
	}
	if v, ok := r.integer("regex_priority", -1<<53, 1<<53); ok {
		rt.RegexPriority = v
	}
	rt.StripPath = r.boolDefault("strip_path", true)
	rt.PreserveHost = r.boolDefault("preserve_host", false)
	rt.RequestBuffering = r.boolDefault("request_buffering", true)
	rt.ResponseBuffering = r.boolDefault("response_buffering", true)
	if v, ok := r.oneOf("path_handling", []string{"v0", "v1"}); ok {
		rt.PathHandling = v
	}
	l.reference(e, "service", "services")

	// Kong's http subschema: a route must match on something besides the protocol.
	if protocolsOK {
		set := func(f string) bool {
			n, ok := e.rawField(f)
			return ok && (n.Kind == yaml.ScalarNode || len(n.Content) > 0)
		}
		any4 := set("methods") || set("hosts") || set("headers") || set("paths")
		switch {
		case contains(rt.Protocols, "https") && !any4 && !set("snis"):
			r.entityErr("must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'")
		case !contains(rt.Protocols, "https") && contains(rt.Protocols, "http") && !any4:
			r.entityErr("must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'")
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkHTTPProtocol accepts the protocols this build routes (http, https) and tells the other
// Kong ones apart from typos.
func checkHTTPProtocol(p string) string {
	switch {
	case p == "http" || p == "https":
		return ""
	case isKongProtocol(p):
		return "'" + p + "' is " + notSupported + " (http and https are)"
	}
	return "expected one of: " + joinComma(kongProtocols)
}

// validateRoutePath is typedefs.router_path: "/..." (already normalized) or "~/..." (a regex
// the router compiles), no empty segment, valid percent-encoding. The normalization and regex
// checks are the router's own, so that what loads is what routes.
func validateRoutePath(p string) string {
	if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") {
		return "should start with: / (fixed path) or ~/ (regex path)"
	}
	if strings.Contains(p, "//") {
		return "must not have empty segments"
	}
	// Kong checks escapes only in paths made of RFC 3986 characters (others are regexes).
	if pathCharsRe.MatchString(p) {
		if msg := percentError(p); msg != "" {
			return msg
		}
	}
	if err := router.ValidatePath(p); err != nil {
		return err.Error()
	}
	return ""
}

// headers reads a map of header name to list of values (route headers, active healthcheck
// headers). forRoute forbids "host" (Kong: it belongs in hosts) and checks "~*" regex values.
func (l *loader) headers(r *rec, field string, forRoute bool) map[string][]string {
	n := r.node(field)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.errf(field, n.Line, typeMsg("map"))
		return nil
	}
	out := map[string][]string{}
	for _, p := range l.b.pairs(n, func(k *yaml.Node, msg string) {
		r.errPath(r.path(field, key(k.Value)), k.Line, msg)
	}) {
		kp := r.path(field, key(p.key))
		switch {
		case forRoute && strings.EqualFold(p.key, "host"):
			r.errPath(kp, p.k.Line, "cannot contain 'host' header, which must be specified in the 'hosts' attribute")
			continue
		case validateHeaderName(p.key) != "":
			r.errPath(kp, p.k.Line, validateHeaderName(p.key))
			continue
		}
		if p.v == nil {
			r.errPath(kp, p.k.Line, "alias expansion limit exceeded")
			continue
		}
		if p.v.Kind != yaml.SequenceNode {
			r.errPath(kp, p.v.Line, typeMsg("array"))
			continue
		}
		vals := make([]string, 0, len(p.v.Content))
		good := true
		for i, c := range p.v.Content {
			c = l.b.resolve(c)
			vp := r.path(field, key(p.key), index(i))
			if c == nil {
				r.errPath(vp, p.v.Line, "alias expansion limit exceeded")
				good = false
				continue
			}
			s, ok := r.strNode(vp, c)
			if !ok {
				good = false
				continue
			}
			if forRoute && strings.HasPrefix(s, "~*") {
				if _, err := regexp.Compile(s[2:]); err != nil {
					r.errPath(vp, c.Line, "invalid regex: '"+s[2:]+"' ("+err.Error()+")")
					good = false
					continue
				}
			}
			vals = append(vals, s)
		}
		if good {
			out[p.key] = vals
		}
	}
	return out
}
