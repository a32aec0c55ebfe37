package plugin

import (
	"sort"

	"go.yaml.in/yaml/v3"

	"tollgate/internal/config"
)

// KongPriorities is Kong 3.9's bundled plugin list with each plugin's priority. A name here that
// the registry lacks is "known but not available yet": configs naming it are rejected with that
// reason instead of Kong's "not enabled", so users learn it is coming, not misspelt.
var KongPriorities = map[string]int{
	"pre-function":            1000000,
	"correlation-id":          100001,
	"zipkin":                  100000,
	"bot-detection":           2500,
	"cors":                    2000,
	"session":                 1900,
	"acme":                    1705,
	"jwt":                     1450,
	"oauth2":                  1400,
	"key-auth":                1250,
	"ldap-auth":               1200,
	"basic-auth":              1100,
	"hmac-auth":               1030,
	"grpc-gateway":            998,
	"ip-restriction":          990,
	"request-size-limiting":   951,
	"acl":                     950,
	"rate-limiting":           910,
	"response-ratelimiting":   900,
	"redirect":                779,
	"ai-request-transformer":  777,
	"ai-prompt-template":      773,
	"ai-prompt-decorator":     772,
	"ai-prompt-guard":         771,
	"ai-proxy":                770,
	"ai-response-transformer": 768,
	"standard-webhooks":       760,
	"request-transformer":     801,
	"response-transformer":    800,
	"aws-lambda":              750,
	"azure-functions":         749,
	"proxy-cache":             100,
	"opentelemetry":           14,
	"prometheus":              13,
	"http-log":                12,
	"statsd":                  11,
	"datadog":                 10,
	"file-log":                9,
	"udp-log":                 8,
	"tcp-log":                 7,
	"loggly":                  6,
	"syslog":                  4,
	"grpc-web":                3,
	"request-termination":     2,
	"post-function":           -1000,
}

// Registry holds the plugins this build offers. It satisfies config.PluginSchemas.
type Registry struct {
	specs map[string]*Spec
}

// NewRegistry registers specs; later duplicates replace earlier ones.
func NewRegistry(specs []Spec) *Registry {
	r := &Registry{specs: make(map[string]*Spec, len(specs))}
	for i := range specs {
		s := specs[i]
		r.specs[s.Name] = &s
	}
	return r
}

// Spec returns the plugin named name.
func (r *Registry) Spec(name string) (*Spec, bool) {
	s, ok := r.specs[name]
	return s, ok
}

// Names lists the available plugins, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.specs))
	for n := range r.specs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup implements config.PluginSchemas.
func (r *Registry) Lookup(name string) (known, available bool, info config.PluginInfo) {
	if s, ok := r.specs[name]; ok {
		return true, true, config.PluginInfo{NoConsumer: s.NoConsumer, NoRoute: s.NoRoute, NoService: s.NoService}
	}
	_, known = KongPriorities[name]
	return known, false, config.PluginInfo{}
}

// DecodeConfig implements config.PluginSchemas.
func (r *Registry) DecodeConfig(name string, node *yaml.Node) (any, []config.FieldError) {
	s, ok := r.specs[name]
	if !ok {
		return nil, []config.FieldError{{Msg: "plugin '" + name + "' not enabled"}}
	}
	return s.DecodeConfig(node)
}
