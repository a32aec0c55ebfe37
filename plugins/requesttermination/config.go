package requesttermination

import (
	"fmt"

	"tollgate/internal/plugin"
	"tollgate/plugins/internal/kvconf"
)

// Config is Kong's request-termination schema.
type Config struct {
	// StatusCode is the status of the answer, 100-599. Default 503.
	StatusCode int `json:"status_code" yaml:"status_code"`
	// Message is sent as {"message": ...}; when null the default message for the status is
	// used (see defaultMessage), and statuses without one get no body.
	Message *string `json:"message" yaml:"message"`
	// Body is a raw body to send instead of a message, typed by ContentType.
	Body *string `json:"body" yaml:"body"`
	// ContentType is the Content-Type of Body. Default null (sent as
	// "application/json; charset=utf-8").
	ContentType *string `json:"content_type" yaml:"content_type"`
	// Echo answers with a JSON description of the request, for debugging. Default false.
	Echo bool `json:"echo" yaml:"echo"`
	// Trigger, when set, is a header or query argument name: the plugin only acts on requests
	// that carry it and lets the others through. Default null (always act).
	Trigger *string `json:"trigger" yaml:"trigger"`
}

func defaults() *Config { return &Config{StatusCode: 503} }

func present(s *string) bool { return s != nil && *s != "" }

// Validate reports every problem of the config; rules that tie several fields together are
// reported on "@entity", as Kong's custom_validator errors are.
func (c *Config) Validate() []plugin.FieldError {
	var errs []plugin.FieldError
	add := func(path, msg string) { errs = append(errs, plugin.FieldError{Path: path, Msg: msg}) }
	if c.StatusCode < 100 || c.StatusCode > 599 {
		add("status_code", "value should be between 100 and 599")
	}
	for _, f := range []struct {
		path string
		v    *string
	}{{"message", c.Message}, {"body", c.Body}, {"content_type", c.ContentType}, {"trigger", c.Trigger}} {
		if f.v != nil && *f.v == "" {
			add(f.path, "length must be at least 1")
		}
	}
	if present(c.Trigger) && !kvconf.ValidHeaderName(*c.Trigger) {
		add("trigger", fmt.Sprintf("bad header name '%s', allowed characters are A-Z, a-z, 0-9, '_', and '-'", *c.Trigger))
	}
	if present(c.Message) && (present(c.ContentType) || present(c.Body)) {
		add("@entity", "message cannot be used with content_type or body")
	}
	if present(c.ContentType) && !present(c.Body) {
		add("@entity", "content_type requires a body")
	}
	if c.Echo && (present(c.ContentType) || present(c.Body)) {
		add("@entity", "echo cannot be used with content_type and body")
	}
	return errs
}
