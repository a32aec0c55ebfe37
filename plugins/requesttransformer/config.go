package requesttransformer

import (
	"fmt"

	"tollgate/internal/plugin"
	"tollgate/plugins/internal/kvconf"
)

// Config is Kong's request-transformer schema. Every list holds "name:value" entries (remove:
// names only; rename: "old:new"); values are templates (see parseTemplate). Lists default to
// empty.
type Config struct {
	// HTTPMethod, when set, becomes the upstream method (an uppercase token). With GET, HEAD or
	// TRACE an application/x-www-form-urlencoded body's arguments are also added to the query.
	// Default null (method unchanged).
	HTTPMethod *string `json:"http_method" yaml:"http_method"`
	// Remove drops headers, query arguments or body fields by name.
	Remove Fields `json:"remove" yaml:"remove"`
	// Rename renames them ("old:new"), when present.
	Rename Fields `json:"rename" yaml:"rename"`
	// Replace sets a value only when the name is present (header "host" is always replaced:
	// it sets the upstream Host), and URI replaces the upstream path.
	Replace ReplaceFields `json:"replace" yaml:"replace"`
	// Add sets a value only when the name is absent (never the host).
	Add Fields `json:"add" yaml:"add"`
	// Append adds a value, keeping those already there.
	Append Fields `json:"append" yaml:"append"`
}

// Fields are the lists of one operation.
type Fields struct {
	Body        []string `json:"body" yaml:"body"`
	Headers     []string `json:"headers" yaml:"headers"`
	Querystring []string `json:"querystring" yaml:"querystring"`
}

// ReplaceFields are Fields plus the upstream path.
type ReplaceFields struct {
	Body        []string `json:"body" yaml:"body"`
	Headers     []string `json:"headers" yaml:"headers"`
	Querystring []string `json:"querystring" yaml:"querystring"`
	// URI is a template for the upstream path. Default null (path unchanged).
	URI *string `json:"uri" yaml:"uri"`
}

func defaults() *Config {
	empty := func() Fields { return Fields{Body: []string{}, Headers: []string{}, Querystring: []string{}} }
	return &Config{
		Remove:  empty(),
		Rename:  empty(),
		Replace: ReplaceFields{Body: []string{}, Headers: []string{}, Querystring: []string{}},
		Add:     empty(),
		Append:  empty(),
	}
}

// entry kinds: what an entry of a list must look like.
const (
	kindName   = iota // remove: a name (anything after a colon is ignored, as in Kong)
	kindRename        // rename: "old:new"
	kindValue         // replace, add, append: "name:template"
)

// Validate reports every problem of the config.
func (c *Config) Validate() []plugin.FieldError {
	var errs []plugin.FieldError
	add := func(path, msg string) { errs = append(errs, plugin.FieldError{Path: path, Msg: msg}) }

	if c.HTTPMethod != nil && !validMethod(*c.HTTPMethod) {
		add("http_method", fmt.Sprintf("invalid value '%s': must be an uppercase HTTP method such as GET", *c.HTTPMethod))
	}
	check := func(op string, kind int, f *Fields) {
		checkList(op+".headers", kind, true, f.Headers, add)
		checkList(op+".querystring", kind, false, f.Querystring, add)
		checkList(op+".body", kind, false, f.Body, add)
	}
	check("remove", kindName, &c.Remove)
	check("rename", kindRename, &c.Rename)
	check("replace", kindValue, &Fields{Body: c.Replace.Body, Headers: c.Replace.Headers, Querystring: c.Replace.Querystring})
	check("add", kindValue, &c.Add)
	check("append", kindValue, &c.Append)
	if c.Replace.URI != nil {
		switch u := *c.Replace.URI; {
		case u == "":
			add("replace.uri", "length must be at least 1")
		default:
			if _, err := parseTemplate(u); err != nil {
				add("replace.uri", fmt.Sprintf("value '%s' is not in supported format: %v", u, err))
			}
		}
	}
	return errs
}

// checkList validates the entries of one list; path is e.g. "add.headers".
func checkList(path string, kind int, headers bool, list []string, add func(path, msg string)) {
	for i, s := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if s == "" {
			add(p, "length must be at least 1")
			continue
		}
		name, value, hasColon := kvconf.Split(s)
		if name == "" {
			add(p, fmt.Sprintf("'%s' has no name", s))
			continue
		}
		if headers && !kvconf.ValidHeaderName(name) {
			add(p, fmt.Sprintf("'%s' is not a valid header", name))
			continue
		}
		if kind == kindName {
			continue
		}
		if !hasColon || value == "" {
			add(p, fmt.Sprintf("key '%s' has no value", name))
			continue
		}
		if kind == kindRename {
			if headers && !kvconf.ValidHeaderName(value) {
				add(p, fmt.Sprintf("'%s' is not a valid header", value))
				continue
			}
		}
		if headers && !kvconf.ValidHeaderValue(value) {
			add(p, fmt.Sprintf("'%s' is not a valid header value", value))
			continue
		}
		if _, err := parseTemplate(value); err != nil {
			add(p, fmt.Sprintf("value '%s' is not in supported format: %v", value, err))
		}
	}
}

// validMethod is Kong's typedefs.http_method: one or more uppercase letters.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}
