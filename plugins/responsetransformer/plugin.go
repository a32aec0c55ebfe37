package responsetransformer

import (
	"fmt"

	"tollgate/internal/plugin"
	"tollgate/plugins/internal/kvconf"
)

// Name is Kong's plugin name.
const Name = "response-transformer"

// Spec declares the plugin.
func Spec() plugin.Spec {
	return plugin.Define[Config](Name, plugin.Options{Priority: plugin.KongPriorities[Name]}, defaults, New)
}

// transformer is a compiled config without JSON operations: it only has a header phase, so the
// proxy never passes the body through it.
type transformer struct {
	removeHeaders                  []string
	renameHeaders                  []rename
	replaceHeaders, addHeaders     []headerEntry
	appendHeaders                  []headerEntry
	json                           bool // any JSON operation is configured
	removeJSON                     []string
	renameJSON                     []rename
	replaceJSON, addJSON, appendJS []jsonEntry
}

// bodyTransformer is a transformer with JSON operations: it also filters the body.
type bodyTransformer struct{ *transformer }

type rename struct{ from, to string }

type headerEntry struct {
	name  string
	value *headerValue
}

type jsonEntry struct {
	name string
	raw  []byte // the value as JSON, typed by json_types
}

var (
	_ plugin.HeaderFilter = (*transformer)(nil)
	_ plugin.BodyFilter   = bodyTransformer{}
)

// New compiles a validated config.
func New(cfg *Config, _ plugin.Env) (any, error) {
	t := &transformer{}
	for _, s := range cfg.Remove.Headers {
		name, _, _ := kvconf.Split(s)
		t.removeHeaders = append(t.removeHeaders, name)
	}
	for _, s := range cfg.Remove.JSON {
		name, _, _ := kvconf.Split(s)
		t.removeJSON = append(t.removeJSON, name)
	}
	for _, s := range cfg.Rename.Headers {
		from, to, _ := kvconf.Split(s)
		t.renameHeaders = append(t.renameHeaders, rename{from, to})
	}
	for _, s := range cfg.Rename.JSON {
		from, to, _ := kvconf.Split(s)
		t.renameJSON = append(t.renameJSON, rename{from, to})
	}
	for _, op := range []struct {
		f       *ValueFields
		headers *[]headerEntry
		json    *[]jsonEntry
	}{
		{&cfg.Replace, &t.replaceHeaders, &t.replaceJSON},
		{&cfg.Add, &t.addHeaders, &t.addJSON},
		{&cfg.Append, &t.appendHeaders, &t.appendJS},
	} {
		for _, s := range op.f.Headers {
			name, value, _ := kvconf.Split(s)
			v, err := parseValue(value)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", s, err)
			}
			*op.headers = append(*op.headers, headerEntry{name, v})
		}
		for i, s := range op.f.JSON {
			name, value, _ := kvconf.Split(s)
			typ := "string"
			if i < len(op.f.JSONTypes) {
				typ = op.f.JSONTypes[i]
			}
			raw, err := typedValue(value, typ)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", s, err)
			}
			*op.json = append(*op.json, jsonEntry{name, raw})
		}
	}
	t.json = len(t.removeJSON)+len(t.renameJSON)+len(t.replaceJSON)+len(t.addJSON)+len(t.appendJS) > 0
	if t.json {
		return bodyTransformer{t}, nil
	}
	return t, nil
}
