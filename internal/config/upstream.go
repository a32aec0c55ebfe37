package config

import (
	"strconv"
)

var (
	hashModes = []string{"none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture"}
	// Kong's four, then our extensions "random" (weighted random) and "ip-hash" (the
	// consistent-hashing ring keyed by client address), documented in docs/config.md.
	algorithms = []string{"consistent-hashing", "least-connections", "round-robin", "latency", "random", "ip-hash"}
	checkTypes = []string{"tcp", "http", "https", "grpc", "grpcs"}
)

// defaultHealthchecks is Kong's healthchecks default: every check disabled.
func defaultHealthchecks() Healthchecks {
	return Healthchecks{
		Active: ActiveHealthcheck{
			Type: "http", Timeout: 1, Concurrency: 10, HTTPPath: "/", HTTPSVerifyCertificate: true,
			Healthy:   ActiveHealthy{HTTPStatuses: []int{200, 302}},
			Unhealthy: ActiveUnhealthy{HTTPStatuses: []int{429, 404, 500, 501, 502, 503, 504, 505}},
		},
		Passive: PassiveHealthcheck{
			Type: "http",
			Healthy: PassiveHealthy{HTTPStatuses: []int{200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
				300, 301, 302, 303, 304, 305, 306, 307, 308}},
			Unhealthy: PassiveUnhealthy{HTTPStatuses: []int{429, 500, 503}},
		},
	}
}

func (l *loader) parseUpstream(e *ent) {
	r := e.r
	u := &Upstream{
		Meta: l.meta(e, true), Algorithm: "round-robin", HashOn: "none", HashFallback: "none",
		HashOnCookiePath: "/", Slots: 10000, Healthchecks: defaultHealthchecks(),
	}
	e.obj = u
	if r.required("name") {
		if name, ok := r.str("name"); ok {
			if msg := validateUpstreamName(name); msg != "" {
				r.errf("name", r.lineOf("name"), msg)
			} else {
				u.Name = name
				e.ekey = name
			}
		}
	}

	algoOK, onOK, fbOK := true, true, true
	algoGiven, onGiven := r.has("algorithm") && !r.null("algorithm"), r.has("hash_on") && !r.null("hash_on")
	if v, ok := r.oneOf("algorithm", algorithms); ok {
		u.Algorithm = v
	} else if algoGiven {
		algoOK = false
	}
	if v, ok := r.oneOf("hash_on", hashModes); ok {
		u.HashOn = v
	} else if onGiven {
		onOK = false
	}
	if v, ok := r.oneOf("hash_fallback", hashModes); ok {
		u.HashFallback = v
	} else if r.has("hash_fallback") && !r.null("hash_fallback") {
		fbOK = false
	}
	// Kong's shorthands couple the two fields: least-connections and latency reset hash_on;
	// then a given hash_on picks the algorithm (none: round-robin, else consistent-hashing).
	if algoOK && onOK {
		switch {
		case u.Algorithm == "least-connections" || u.Algorithm == "latency" ||
			u.Algorithm == "random" || u.Algorithm == "ip-hash":
			u.HashOn = "none"
		case onGiven:
			if u.HashOn == "none" {
				u.Algorithm = "round-robin"
			} else {
				u.Algorithm = "consistent-hashing"
			}
		}
	}

	strField := func(name string, check func(string) string, dst *string) {
		if v, ok := r.str(name); ok {
			if check != nil {
				if msg := check(v); msg != "" {
					r.errf(name, r.lineOf(name), msg)
					return
				}
			}
			*dst = v
		}
	}
	strField("hash_on_header", validateHeaderName, &u.HashOnHeader)
	strField("hash_fallback_header", validateHeaderName, &u.HashFallbackHeader)
	strField("hash_on_cookie", validateCookieName, &u.HashOnCookie)
	strField("hash_on_cookie_path", validatePath, &u.HashOnCookiePath)
	strField("hash_on_query_arg", nil, &u.HashOnQueryArg)
	strField("hash_fallback_query_arg", nil, &u.HashFallbackQueryArg)
	strField("hash_on_uri_capture", nil, &u.HashOnURICapture)
	strField("hash_fallback_uri_capture", nil, &u.HashFallbackURICapture)
	strField("host_header", validateHostWithOptionalPort, &u.HostHeader)
	if v, ok := r.integer("slots", 10, 65536); ok {
		u.Slots = v
	}
	if v, ok := r.boolean("use_srv_name"); ok {
		u.UseSRVName = v
	}
	r.unsupported("client_certificate")
	u.CircuitBreaker = circuitBreaker(r)
	if hc := r.record("healthchecks"); hc != nil {
		l.healthchecks(hc, &u.Healthchecks)
		hc.finish()
	}

	// Kong's entity checks on the hashing fields.
	if onOK && fbOK {
		l.hashChecks(r, u)
	}
}

func (l *loader) hashChecks(r *rec, u *Upstream) {
	requireWhen := func(mode, field string, have string, on string) {
		if on == mode && have == "" && (!r.has(field) || r.null(field)) {
			r.missing(field)
		}
	}
	requireWhen("header", "hash_on_header", u.HashOnHeader, u.HashOn)
	requireWhen("header", "hash_fallback_header", u.HashFallbackHeader, u.HashFallback)
	requireWhen("cookie", "hash_on_cookie", u.HashOnCookie, u.HashOn)
	if u.HashOn != "cookie" {
		requireWhen("cookie", "hash_on_cookie", u.HashOnCookie, u.HashFallback)
	}
	requireWhen("query_arg", "hash_on_query_arg", u.HashOnQueryArg, u.HashOn)
	requireWhen("query_arg", "hash_fallback_query_arg", u.HashFallbackQueryArg, u.HashFallback)
	requireWhen("uri_capture", "hash_on_uri_capture", u.HashOnURICapture, u.HashOn)
	requireWhen("uri_capture", "hash_fallback_uri_capture", u.HashFallbackURICapture, u.HashFallback)

	fbLine := r.lineOf("hash_fallback")
	switch u.HashOn {
	case "none", "cookie":
		if u.HashFallback != "none" {
			r.errf("hash_fallback", fbLine, "expected one of: none")
		}
	case "consumer", "ip", "path":
		if u.HashFallback == u.HashOn {
			var allowed []string
			for _, m := range hashModes {
				if m != u.HashOn {
					allowed = append(allowed, m)
				}
			}
			r.errf("hash_fallback", fbLine, "expected one of: "+joinComma(allowed))
		}
	}
	distinct := func(a, b, va, vb string) {
		if va != "" && va == vb {
			r.entityErr("values of these fields must be distinct: '" + a + "', '" + b + "'")
		}
	}
	distinct("hash_on_header", "hash_fallback_header", u.HashOnHeader, u.HashFallbackHeader)
	distinct("hash_on_query_arg", "hash_fallback_query_arg", u.HashOnQueryArg, u.HashFallbackQueryArg)
	distinct("hash_on_uri_capture", "hash_fallback_uri_capture", u.HashOnURICapture, u.HashFallbackURICapture)
}

// validateUpstreamName: a hostname, no IP, no port (a service's host names the upstream).
func validateUpstreamName(s string) string {
	h, err := normalizeIP(s)
	switch {
	case err != "":
		return "Invalid name ('" + s + "'); must be a valid hostname"
	case h.typ != "name":
		return "Invalid name ('" + s + "'); no ip addresses allowed"
	case h.port >= 0:
		return "Invalid name ('" + s + "'); no port allowed"
	}
	return ""
}

// healthchecks reads the healthchecks record over Kong's defaults.
func (l *loader) healthchecks(r *rec, hc *Healthchecks) {
	if v, ok := r.number("threshold", 0, 100); ok {
		hc.Threshold = v
	}
	if a := r.record("active"); a != nil {
		act := &hc.Active
		if v, ok := a.oneOf("type", checkTypes); ok {
			act.Type = v
		}
		if v, ok := a.number("timeout", 0, 65535); ok {
			act.Timeout = v
		}
		if v, ok := a.integer("concurrency", 1, 1<<31); ok {
			act.Concurrency = v
		}
		if v, ok := a.str("http_path"); ok {
			if msg := validatePath(v); msg != "" {
				a.errf("http_path", a.lineOf("http_path"), msg)
			} else {
				act.HTTPPath = v
			}
		}
		if v, ok := a.str("https_sni"); ok {
			if msg := validateSNI(v); msg != "" {
				a.errf("https_sni", a.lineOf("https_sni"), msg)
			} else {
				act.HTTPSSNI = v
			}
		}
		if a.null("https_verify_certificate") {
			a.missing("https_verify_certificate")
		}
		if v, ok := a.boolean("https_verify_certificate"); ok {
			act.HTTPSVerifyCertificate = v
		}
		act.Headers = l.headers(a, "headers", false)
		if h := a.record("healthy"); h != nil {
			interval(h, &act.Healthy.Interval)
			statuses(h, &act.Healthy.HTTPStatuses)
			counter(h, "successes", &act.Healthy.Successes)
			h.finish()
		}
		if u := a.record("unhealthy"); u != nil {
			interval(u, &act.Unhealthy.Interval)
			statuses(u, &act.Unhealthy.HTTPStatuses)
			counter(u, "tcp_failures", &act.Unhealthy.TCPFailures)
			counter(u, "timeouts", &act.Unhealthy.Timeouts)
			counter(u, "http_failures", &act.Unhealthy.HTTPFailures)
			u.finish()
		}
		a.finish()
	}
	if p := r.record("passive"); p != nil {
		pas := &hc.Passive
		if v, ok := p.oneOf("type", checkTypes); ok {
			pas.Type = v
		}
		if h := p.record("healthy"); h != nil {
			statuses(h, &pas.Healthy.HTTPStatuses)
			counter(h, "successes", &pas.Healthy.Successes)
			h.finish()
		}
		if u := p.record("unhealthy"); u != nil {
			statuses(u, &pas.Unhealthy.HTTPStatuses)
			counter(u, "tcp_failures", &pas.Unhealthy.TCPFailures)
			counter(u, "timeouts", &pas.Unhealthy.Timeouts)
			counter(u, "http_failures", &pas.Unhealthy.HTTPFailures)
			u.finish()
		}
		p.finish()
	}
}

func interval(r *rec, dst *float64) {
	if v, ok := r.number("interval", 0, 65535); ok {
		*dst = v
	}
}

// counter reads a 0-255 healthcheck counter (0 disables that trigger).
func counter(r *rec, name string, dst *int) {
	if v, ok := r.integer(name, 0, 255); ok {
		*dst = v
	}
}

func statuses(r *rec, name *[]int) {
	items, ok := r.seq("http_statuses", "array")
	if !ok {
		return
	}
	out := make([]int, 0, len(items))
	good := true
	for i, it := range items {
		if it == nil {
			good = false
			continue
		}
		v, ok := r.intNode(r.path("http_statuses", index(i)), it, 100, 999)
		if !ok {
			good = false
			continue
		}
		out = append(out, v)
	}
	if good {
		*name = out
	}
}

func (l *loader) parseTarget(e *ent) {
	r := e.r
	t := &Target{Meta: l.meta(e, true), Weight: 100}
	e.obj = t
	if r.required("target") {
		if v, ok := r.str("target"); ok {
			h, err := normalizeIP(v)
			if err != "" {
				r.errf("target", r.lineOf("target"), "Invalid target ('"+v+"'); not a valid hostname or ip address")
			} else {
				t.Host, t.Port = h.host, h.port
				if t.Port < 0 {
					t.Port = 8000 // Kong's default target port
				}
				host := t.Host
				if h.typ == "ipv6" {
					host = "[" + host + "]"
				}
				t.Target = host + ":" + strconv.Itoa(t.Port)
			}
		}
	}
	if v, ok := r.integer("weight", 0, 65535); ok {
		t.Weight = v
	}
	if e.parent == nil && (!r.has("upstream") || r.null("upstream")) {
		r.missing("upstream")
	}
	l.reference(e, "upstream", "upstreams")
}
