package plugintest

import (
	"fmt"
	"log/slog"

	"go.yaml.in/yaml/v3"

	"tollgate/internal/plugin"
)

// TryBuild decodes and validates cfgYAML with spec and, when valid, builds the instance. It
// returns the field errors as the loader would report them (paths relative to `config`).
func TryBuild(spec plugin.Spec, cfgYAML string) (any, []plugin.FieldError) {
	var node *yaml.Node
	if cfgYAML != "" {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(cfgYAML), &doc); err != nil {
			return nil, []plugin.FieldError{{Msg: "yaml: " + err.Error()}}
		}
		if len(doc.Content) > 0 {
			node = doc.Content[0]
		}
	}
	cfg, errs := spec.DecodeConfig(node)
	if len(errs) > 0 {
		return nil, errs
	}
	inst, err := spec.New(cfg, plugin.Env{Log: slog.New(slog.DiscardHandler), NodeID: "test-node"})
	if err != nil {
		return nil, []plugin.FieldError{{Msg: fmt.Sprintf("new: %v", err)}}
	}
	return inst, nil
}
