package all

import (
	"testing"

	"tollgate/internal/plugin"
)

// Every bundled plugin carries Kong's name and priority, so that phases run in Kong's order.
func TestSpecsMatchKongPriorities(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Specs() {
		t.Run(s.Name, func(t *testing.T) {
			want, ok := plugin.KongPriorities[s.Name]
			if !ok {
				t.Fatalf("%q is not a Kong plugin name", s.Name)
			}
			if s.Priority != want {
				t.Errorf("priority = %d, want Kong's %d", s.Priority, want)
			}
			if seen[s.Name] {
				t.Errorf("%q listed twice", s.Name)
			}
			seen[s.Name] = true
		})
	}
}

// The priorities these plugins must have, written out so that a change to the shared table
// is noticed here too.
func TestPinnedPriorities(t *testing.T) {
	pinned := map[string]int{
		"correlation-id":        100001,
		"request-transformer":   801,
		"response-transformer":  800,
		"request-termination":   2,
		"request-size-limiting": 951,
	}
	got := map[string]int{}
	for _, s := range Specs() {
		got[s.Name] = s.Priority
	}
	for name, prio := range pinned {
		if got[name] != prio {
			t.Errorf("%s priority = %d, want %d", name, got[name], prio)
		}
	}
	if len(got) != len(pinned) {
		t.Errorf("Specs() has %d plugins, pinned %d: %v", len(got), len(pinned), got)
	}
}

// Every plugin builds with its defaults (request-termination, correlation-id) or an empty
// config, and the registry accepts the whole list.
func TestDefaultsBuild(t *testing.T) {
	reg := plugin.NewRegistry(Specs())
	for _, name := range reg.Names() {
		s, _ := reg.Spec(name)
		cfg, errs := s.DecodeConfig(nil)
		if len(errs) > 0 {
			t.Errorf("%s defaults: %v", name, errs)
			continue
		}
		if _, err := s.New(cfg, plugin.Env{}); err != nil {
			t.Errorf("%s New: %v", name, err)
		}
	}
}
