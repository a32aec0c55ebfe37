package responsetransformer

import (
	"fmt"
	"math"
	"strconv"

	"tollgate/internal/plugin"
	"tollgate/plugins/internal/kvconf"
)

// Config is Kong's response-transformer schema. Lists hold "name:value" entries (remove: names
// only; rename: "old:new") and default to empty. JSON operations apply to top-level fields of
// application/json (and +json) responses only.
type Config struct {
	// Remove drops headers and JSON fields by name.
	Remove NameFields `json:"remove" yaml:"remove"`
	// Rename renames them ("old:new") when present.
	Rename NameFields `json:"rename" yaml:"rename"`
	// Replace sets a value only when the name is present.
	Replace ValueFields `json:"replace" yaml:"replace"`
	// Add sets a value only when the name is absent.
	Add ValueFields `json:"add" yaml:"add"`
	// Append adds a value, keeping those already there (a JSON field becomes an array).
	Append ValueFields `json:"append" yaml:"append"`
}

// NameFields are the lists of remove and rename.
type NameFields struct {
	JSON    []string `json:"json" yaml:"json"`
	Headers []string `json:"headers" yaml:"headers"`
}

// ValueFields are the lists of replace, add and append.
type ValueFields struct {
	JSON []string `json:"json" yaml:"json"`
	// JSONTypes gives the type of the value of JSON[i]: "string" (default when missing),
	// "number" or "boolean".
	JSONTypes []string `json:"json_types" yaml:"json_types"`
	Headers   []string `json:"headers" yaml:"headers"`
}

func defaults() *Config {
	names := func() NameFields { return NameFields{JSON: []string{}, Headers: []string{}} }
	values := func() ValueFields {
		return ValueFields{JSON: []string{}, JSONTypes: []string{}, Headers: []string{}}
	}
	return &Config{Remove: names(), Rename: names(), Replace: values(), Add: values(), Append: values()}
}

// Validate reports every problem of the config.
func (c *Config) Validate() []plugin.FieldError {
	var errs []plugin.FieldError
	add := func(path, msg string) { errs = append(errs, plugin.FieldError{Path: path, Msg: msg}) }

	for i, s := range c.Remove.Headers {
		p := fmt.Sprintf("remove.headers[%d]", i)
		if name, _, _ := kvconf.Split(s); !kvconf.ValidHeaderName(name) {
			add(p, fmt.Sprintf("'%s' is not a valid header", name))
		}
	}
	for i, s := range c.Remove.JSON {
		if name, _, _ := kvconf.Split(s); name == "" {
			add(fmt.Sprintf("remove.json[%d]", i), "length must be at least 1")
		}
	}
	for i, s := range c.Rename.Headers {
		p := fmt.Sprintf("rename.headers[%d]", i)
		name, value, ok := kvconf.Split(s)
		switch {
		case !kvconf.ValidHeaderName(name):
			add(p, fmt.Sprintf("'%s' is not a valid header", name))
		case !ok || value == "":
			add(p, fmt.Sprintf("key '%s' has no value", name))
		case !kvconf.ValidHeaderName(value):
			add(p, fmt.Sprintf("'%s' is not a valid header", value))
		}
	}
	for i, s := range c.Rename.JSON {
		checkJSONEntry(fmt.Sprintf("rename.json[%d]", i), s, "", add)
	}
	for _, op := range []struct {
		name string
		f    *ValueFields
	}{{"replace", &c.Replace}, {"add", &c.Add}, {"append", &c.Append}} {
		for i, s := range op.f.Headers {
			p := fmt.Sprintf("%s.headers[%d]", op.name, i)
			name, value, ok := kvconf.Split(s)
			switch {
			case !kvconf.ValidHeaderName(name):
				add(p, fmt.Sprintf("'%s' is not a valid header", name))
			case !ok || value == "":
				add(p, fmt.Sprintf("key '%s' has no value", name))
			case !kvconf.ValidHeaderValue(value):
				add(p, fmt.Sprintf("'%s' is not a valid header value", value))
			default:
				if _, err := parseValue(value); err != nil {
					add(p, fmt.Sprintf("value '%s': %v", value, err))
				}
			}
		}
		for i, typ := range op.f.JSONTypes {
			if typ != "string" && typ != "number" && typ != "boolean" {
				add(fmt.Sprintf("%s.json_types[%d]", op.name, i), "expected one of: boolean, number, string")
			}
		}
		for i, s := range op.f.JSON {
			typ := "string"
			if i < len(op.f.JSONTypes) {
				typ = op.f.JSONTypes[i]
			}
			checkJSONEntry(fmt.Sprintf("%s.json[%d]", op.name, i), s, typ, add)
		}
	}
	return errs
}

// checkJSONEntry checks one "name:value" JSON entry; typ is the value's json_types entry ("" for
// rename, whose value is a name).
func checkJSONEntry(path, s, typ string, add func(path, msg string)) {
	name, value, ok := kvconf.Split(s)
	switch {
	case name == "":
		add(path, fmt.Sprintf("'%s' has no name", s))
		return
	case !ok || value == "":
		add(path, fmt.Sprintf("key '%s' has no value", name))
		return
	}
	if typ == "number" || typ == "boolean" {
		if _, err := typedValue(value, typ); err != nil {
			add(path, err.Error())
		}
	}
}

// typedValue is the raw JSON of value read as typ (Kong's json_types). Kong turns a value that
// is not a number into nil and skips the operation, and reads any boolean other than "true" as
// false; both are config errors here.
func typedValue(value, typ string) ([]byte, error) {
	switch typ {
	case "number":
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("'%s' is not a number", value)
		}
		return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
	case "boolean":
		switch value {
		case "true", "false":
			return []byte(value), nil
		}
		return nil, fmt.Errorf("'%s' is not a boolean (true or false)", value)
	}
	return plugin.AppendJSONString(nil, value), nil
}
