package plugin

import (
	"fmt"
	"log/slog"

	"go.yaml.in/yaml/v3"

	"tollgate/internal/config"
)

// FieldError is a problem with one field of a plugin's config; Path is relative to `config`
// ("add.headers[2]"). The config loader prefixes file, line and entity.
type FieldError = config.FieldError

// Validator is implemented by a plugin config that checks itself after decoding. It is pure:
// it reports every problem and changes nothing but derived, unexported fields.
type Validator interface{ Validate() []FieldError }

// Options are what a plugin declares about itself, as Kong's handler and schema do.
type Options struct {
	// Priority orders execution: higher runs first in every phase, as in Kong.
	Priority int
	// NoConsumer, NoRoute and NoService refuse those scopes (Kong's no_consumer etc.).
	NoConsumer, NoRoute, NoService bool
}

// Env is what New receives besides its config: injected dependencies and the identity of the
// plugin entity (some plugins, such as rate-limiting, key their state by it).
type Env struct {
	Log        *slog.Logger
	NodeID     string
	PluginID   string
	RouteID    string // "" when the plugin is not scoped to a route
	ServiceID  string
	ConsumerID string
}

// Spec declares one plugin. Build it with Define so that the config stays typed.
type Spec struct {
	Name string
	Options
	decode func(node *yaml.Node) (any, []FieldError)
	build  func(cfg any, env Env) (any, error)
}

// Define declares a plugin whose config type is C. defaults returns a config with Kong's
// defaults filled; decoding overlays the user's fields on it, then Validate runs when *C
// implements Validator. build turns a valid config into an instance implementing one or more
// phase interfaces; it compiles templates and regexes so that no phase does it per request.
func Define[C any](name string, opt Options, defaults func() *C, build func(cfg *C, env Env) (any, error)) Spec {
	return Spec{
		Name:    name,
		Options: opt,
		decode: func(node *yaml.Node) (any, []FieldError) {
			cfg := defaults()
			var errs []FieldError
			if node != nil {
				errs = config.DecodeNode(node, cfg)
			}
			if len(errs) == 0 {
				if v, ok := any(cfg).(Validator); ok {
					errs = v.Validate()
				}
			}
			return cfg, errs
		},
		build: func(cfg any, env Env) (any, error) {
			c, ok := cfg.(*C)
			if !ok {
				return nil, fmt.Errorf("plugin %s: config of type %T, want %T", name, cfg, c)
			}
			return build(c, env)
		},
	}
}

// DecodeConfig strictly decodes and validates a config node (nil = all defaults).
func (s *Spec) DecodeConfig(node *yaml.Node) (any, []FieldError) { return s.decode(node) }

// New builds an instance from a config returned by DecodeConfig.
func (s *Spec) New(cfg any, env Env) (any, error) {
	inst, err := s.build(cfg, env)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", s.Name, err)
	}
	if !implementsAnyPhase(inst) {
		return nil, fmt.Errorf("plugin %s: instance %T implements no phase", s.Name, inst)
	}
	return inst, nil
}

func implementsAnyPhase(inst any) bool {
	switch inst.(type) {
	case Rewriter, AccessHandler, HeaderFilter, BodyFilter, LogHandler:
		return true
	}
	return false
}
