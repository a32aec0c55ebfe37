package correlationid

import (
	"fmt"

	"tollgate/internal/plugin"
	"tollgate/plugins/internal/kvconf"
)

// Config is Kong's correlation-id schema.
type Config struct {
	// HeaderName is the request (and echoed response) header carrying the id. Default
	// "Kong-Request-ID".
	HeaderName string `json:"header_name" yaml:"header_name"`
	// Generator makes ids for requests without one: "uuid#counter" (default; one UUID per
	// instance, "#", a counter), "uuid" (a random UUID per request) or "tracker".
	Generator string `json:"generator" yaml:"generator"`
	// EchoDownstream also sets the header on the response. Default false.
	EchoDownstream bool `json:"echo_downstream" yaml:"echo_downstream"`
}

// Generators Kong accepts.
const (
	GenUUIDCounter = "uuid#counter"
	GenUUID        = "uuid"
	GenTracker     = "tracker"
)

func defaults() *Config {
	return &Config{HeaderName: "Kong-Request-ID", Generator: GenUUIDCounter}
}

// Validate reports every problem of the config.
func (c *Config) Validate() []plugin.FieldError {
	var errs []plugin.FieldError
	switch {
	case c.HeaderName == "":
		errs = append(errs, plugin.FieldError{Path: "header_name", Msg: "length must be at least 1"})
	case !kvconf.ValidHeaderName(c.HeaderName):
		errs = append(errs, plugin.FieldError{Path: "header_name",
			Msg: fmt.Sprintf("bad header name '%s', allowed characters are A-Z, a-z, 0-9, '_', and '-'", c.HeaderName)})
	}
	switch c.Generator {
	case GenUUIDCounter, GenUUID, GenTracker:
	default:
		errs = append(errs, plugin.FieldError{Path: "generator", Msg: "expected one of: uuid, uuid#counter, tracker"})
	}
	return errs
}
