package requesttransformer

import (
	"fmt"

	"tollgate/internal/plugin"
	"tollgate/plugins/internal/kvconf"
)

// Name is Kong's plugin name.
const Name = "request-transformer"

// Spec declares the plugin.
func Spec() plugin.Spec {
	return plugin.Define[Config](Name, plugin.Options{Priority: plugin.KongPriorities[Name]}, defaults, New)
}

// transformer is a compiled config; it never changes after New.
type transformer struct {
	uri           *template
	method        string
	methodToQuery bool // GET, HEAD, TRACE: url-encoded body arguments join the query

	headers, query, body ops
}

// ops are the compiled lists for one part of the request, in Kong's order.
type ops struct {
	remove                        []string
	rename, replace, add, appends []entry
}

func (o *ops) empty() bool {
	return len(o.remove)+len(o.rename)+len(o.replace)+len(o.add)+len(o.appends) == 0
}

type entry struct {
	name  string
	value *template
}

var (
	_ plugin.AccessHandler = (*transformer)(nil)
)

// New compiles a validated config: templates are parsed here, once.
func New(cfg *Config, _ plugin.Env) (any, error) {
	t := &transformer{}
	var err error
	if cfg.Replace.URI != nil {
		if t.uri, err = parseTemplate(*cfg.Replace.URI); err != nil {
			return nil, fmt.Errorf("replace.uri: %w", err)
		}
	}
	if cfg.HTTPMethod != nil {
		t.method = *cfg.HTTPMethod
		t.methodToQuery = t.method == "GET" || t.method == "HEAD" || t.method == "TRACE"
	}
	lists := []struct {
		into *ops
		get  func(f *Fields) []string
	}{
		{&t.headers, func(f *Fields) []string { return f.Headers }},
		{&t.query, func(f *Fields) []string { return f.Querystring }},
		{&t.body, func(f *Fields) []string { return f.Body }},
	}
	replace := Fields{Body: cfg.Replace.Body, Headers: cfg.Replace.Headers, Querystring: cfg.Replace.Querystring}
	for _, l := range lists {
		for _, s := range l.get(&cfg.Remove) {
			name, _, _ := kvconf.Split(s)
			l.into.remove = append(l.into.remove, name)
		}
		for _, step := range []struct {
			dst *[]entry
			src []string
		}{
			{&l.into.rename, l.get(&cfg.Rename)},
			{&l.into.replace, l.get(&replace)},
			{&l.into.add, l.get(&cfg.Add)},
			{&l.into.appends, l.get(&cfg.Append)},
		} {
			for _, s := range step.src {
				name, value, _ := kvconf.Split(s)
				tp, err := parseTemplate(value)
				if err != nil {
					return nil, fmt.Errorf("%q: %w", s, err)
				}
				*step.dst = append(*step.dst, entry{name: name, value: tp})
			}
		}
	}
	return t, nil
}
