package requestsizelimiting

import "tollgate/internal/plugin"

// Config is Kong's schema.
type Config struct {
	// AllowedPayloadSize is the limit in SizeUnit units (default 128).
	AllowedPayloadSize int `json:"allowed_payload_size" yaml:"allowed_payload_size"`
	// SizeUnit is megabytes (2^20 bytes, the default), kilobytes (2^10) or bytes.
	SizeUnit string `json:"size_unit" yaml:"size_unit"`
	// RequireContentLength refuses requests without a valid Content-Length (411).
	RequireContentLength bool `json:"require_content_length" yaml:"require_content_length"`
}

func defaults() *Config {
	return &Config{AllowedPayloadSize: 128, SizeUnit: "megabytes"}
}

// Validate implements plugin.Validator.
func (c *Config) Validate() []plugin.FieldError {
	var errs []plugin.FieldError
	if c.AllowedPayloadSize < 0 {
		errs = append(errs, plugin.FieldError{Path: "allowed_payload_size", Msg: "value must be greater than -1"})
	}
	switch c.SizeUnit {
	case "megabytes", "kilobytes", "bytes":
	default:
		errs = append(errs, plugin.FieldError{Path: "size_unit", Msg: "expected one of: megabytes, kilobytes, bytes"})
	}
	return errs
}

// limit is the allowed size in bytes.
func (c *Config) limit() int64 {
	n := int64(c.AllowedPayloadSize)
	switch c.SizeUnit {
	case "megabytes":
		return n << 20
	case "kilobytes":
		return n << 10
	}
	return n
}
