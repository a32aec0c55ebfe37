package config

import "go.yaml.in/yaml/v3"

// httpProtocols is the default of a plugin's protocols (Kong's http subsystem protocols).
var httpProtocols = []string{"grpc", "grpcs", "http", "https"}

func (l *loader) parsePlugin(e *ent) {
	r := e.r
	p := &Plugin{Meta: l.meta(e, true), Enabled: true, Protocols: append([]string(nil), httpProtocols...)}
	e.obj = p
	var nameOK bool
	if r.required("name") {
		p.Name, nameOK = r.str("name")
	}
	if v, ok := r.str("instance_name"); ok {
		if msg := validateUTF8Name(v); msg != "" {
			r.errf("instance_name", r.lineOf("instance_name"), msg)
		} else {
			p.InstanceName = v
			e.uniques = append(e.uniques, [2]string{"instance_name", v})
		}
	}
	if v, ok := r.boolean("enabled"); ok {
		p.Enabled = v
	}
	if r.null("protocols") {
		r.missing("protocols")
	}
	if ps, ok := r.strings("protocols", "set", checkPluginProtocol); ok {
		p.Protocols = ps
	}
	l.reference(e, "route", "routes")
	l.reference(e, "service", "services")
	l.reference(e, "consumer", "consumers")

	cfg := r.node("config")
	cfgOK := cfg == nil || cfg.Kind == yaml.MappingNode
	if !cfgOK {
		r.errf("config", cfg.Line, typeMsg("record"))
	}
	if !nameOK {
		return
	}
	var known, available bool
	var info PluginInfo
	if l.plugins != nil {
		known, available, info = l.plugins.Lookup(p.Name)
	}
	nameLine := r.lineOf("name")
	switch {
	case !known:
		r.errf("name", nameLine, "plugin '"+p.Name+"' not enabled; add it to the 'plugins' configuration property")
		return
	case !available:
		r.errf("name", nameLine, "plugin '"+p.Name+"' is not available yet in tollgate")
		return
	}
	e.plugin = &info
	if !cfgOK {
		return
	}
	conf, errs := l.plugins.DecodeConfig(p.Name, cfg)
	p.Config = conf
	for _, fe := range errs {
		line := fe.Line
		if line == 0 {
			line = r.keyLine("config")
		}
		l.errAt(e, append([]Seg{key("config")}, parsePath(fe.Path)...), line, fe.Msg)
	}
}

// checkPluginProtocol: a plugin's protocols only choose the subsystem; this build has the http
// one only.
func checkPluginProtocol(p string) string {
	switch {
	case contains(httpProtocols, p):
		return ""
	case isKongProtocol(p):
		return "'" + p + "' is " + notSupported + " (grpc, grpcs, http and https are)"
	}
	return "expected one of: " + joinComma(kongProtocols)
}
