package circuit

import (
	"slices"
	"strings"
	"sync"
)

// Registry keeps breakers across config reloads. A reload compiles a new snapshot whose
// services and targets ask the registry for their breakers by name: a breaker whose config did
// not change is handed over with its state, so a reload neither closes an open circuit nor
// forgets the failures counted so far. It is a runtime object owned by the server.
type Registry struct {
	opts Options
	mu   sync.Mutex
	m    map[string]*Breaker
}

// NewRegistry returns an empty registry whose breakers get opts (OnChange for the log).
func NewRegistry(opts Options) *Registry {
	return &Registry{opts: opts, m: map[string]*Breaker{}}
}

// Get returns the breaker called name with cfg: the existing one when its config (defaults
// filled) is the same, else a new closed one that replaces it.
func (r *Registry) Get(name string, cfg Config) *Breaker {
	cfg = cfg.WithDefaults()
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.m[name]; b != nil && b.cfg == cfg {
		return b
	}
	b := New(name, cfg, r.opts)
	r.m[name] = b
	return b
}

// Retain forgets every breaker whose name keep does not hold (those of entities the new
// config no longer has). Requests still running on an older snapshot keep using theirs.
func (r *Registry) Retain(keep map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range r.m {
		if !keep[name] {
			delete(r.m, name)
		}
	}
}

// Lookup returns the breaker called name, or nil.
func (r *Registry) Lookup(name string) *Breaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[name]
}

// List returns every breaker, by name.
func (r *Registry) List() []*Breaker {
	r.mu.Lock()
	out := make([]*Breaker, 0, len(r.m))
	for _, b := range r.m {
		out = append(out, b)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *Breaker) int { return strings.Compare(a.name, b.name) })
	return out
}
