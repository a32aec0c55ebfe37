package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"tollgate/internal/config"
)

// exportYAML writes the configuration as Kong's declarative export does (GET /config, `kong
// config db_export`): format 3.0 with `_transform: false` (basic-auth passwords are already
// hashed), flat collections in document order, every entity with its id, foreign keys as bare
// ids, unset fields left out. Loading the result gives back the same entities.
func exportYAML(ix *index, now time.Time) ([]byte, error) {
	v := viewer{cfg: ix.cfg, now: now, export: true}
	root := &yaml.Node{Kind: yaml.MappingNode}
	put := func(k string, n *yaml.Node) {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, n)
	}
	put("_format_version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "3.0"})
	put("_transform", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
	for _, k := range allKinds {
		t := ix.tables[k]
		if t == nil {
			continue
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, id := range documentOrder(ix.cfg, k) {
			rw := t.byID[id]
			if rw == nil || !rw.live(now) {
				continue
			}
			n, err := yamlValue(v.render(rw))
			if err != nil {
				return nil, fmt.Errorf("export %s %s: %w", k.table, id, err)
			}
			seq.Content = append(seq.Content, n)
		}
		if len(seq.Content) > 0 {
			put(k.table, seq)
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// documentOrder lists the ids of a collection in the order the configuration gave them, so
// that an export reads like the file it came from.
func documentOrder(cfg *config.Config, k *kind) []string {
	var ids []string
	add := func(m config.Meta) { ids = append(ids, m.ID) }
	switch k {
	case kindServices:
		for _, e := range cfg.Services {
			add(e.Meta)
		}
	case kindRoutes:
		for _, e := range cfg.Routes {
			add(e.Meta)
		}
	case kindUpstreams:
		for _, e := range cfg.Upstreams {
			add(e.Meta)
		}
	case kindTargets:
		for _, e := range cfg.Targets {
			add(e.Meta)
		}
	case kindConsumers:
		for _, e := range cfg.Consumers {
			add(e.Meta)
		}
	case kindPlugins:
		for _, e := range cfg.Plugins {
			add(e.Meta)
		}
	case kindKeyAuth:
		for _, e := range cfg.KeyAuthCredentials {
			add(e.Meta)
		}
	case kindBasicAuth:
		for _, e := range cfg.BasicAuthCredentials {
			add(e.Meta)
		}
	case kindJWT:
		for _, e := range cfg.JWTSecrets {
			add(e.Meta)
		}
	case kindACLs:
		for _, e := range cfg.ACLs {
			add(e.Meta)
		}
	case kindHMACAuth:
		for _, e := range cfg.HMACAuthCredentials {
			add(e.Meta)
		}
	case kindOAuth2:
		for _, e := range cfg.OAuth2Credentials {
			add(e.Meta)
		}
	}
	return ids
}

// yamlValue converts a rendered value for the export: objects keep their field order and drop
// nulls, foreign keys become their id, plugin configs (JSON) become plain YAML.
func yamlValue(v any) (*yaml.Node, error) {
	switch t := v.(type) {
	case obj:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range t {
			if f.v == nil {
				continue
			}
			c, err := yamlValue(f.v)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.k}, c)
		}
		return n, nil
	case []obj:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, o := range t {
			c, err := yamlValue(o)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case fk:
		return yamlValue(string(t))
	case json.RawMessage:
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, err
		}
		return yamlValue(plainNumbers(x))
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}

// plainNumbers replaces json.Number (which YAML would quote as a string) by int64 or float64.
func plainNumbers(x any) any {
	switch t := x.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, v := range t {
			t[k] = plainNumbers(v)
		}
	case []any:
		for i, v := range t {
			t[i] = plainNumbers(v)
		}
	}
	return x
}
