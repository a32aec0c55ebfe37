package plugin

import (
	"errors"
	"sort"
)

// Instance is one configured plugin entity, built once per snapshot.
type Instance struct {
	Name     string
	ID       string
	Priority int
	Handler  any // implements one or more phase interfaces

	rewrite Rewriter
	access  AccessHandler
	header  HeaderFilter
	body    BodyFilter
	log     LogHandler
}

// NewInstance wraps a handler built by Spec.New, finding its phases once.
func NewInstance(name, id string, priority int, handler any) *Instance {
	in := &Instance{Name: name, ID: id, Priority: priority, Handler: handler}
	in.rewrite, _ = handler.(Rewriter)
	in.access, _ = handler.(AccessHandler)
	in.header, _ = handler.(HeaderFilter)
	in.body, _ = handler.(BodyFilter)
	in.log, _ = handler.(LogHandler)
	return in
}

// Slot is one plugin name in a chain. Kong picks exactly one config per plugin name: Default is
// the winner without a consumer (route+service > route > service > global), ByConsumer the
// winner for each consumer that has a consumer-scoped config, already resolved with Kong's full
// precedence. The consumer is the one authenticated when the slot is reached, so consumer
// scoping only affects plugins that run after the auth plugin, as in Kong.
type Slot struct {
	Name       string
	Priority   int
	Default    *Instance
	ByConsumer map[string]*Instance
}

// Chain is the compiled plugin chain of one route (or the global chain), immutable once built.
type Chain struct {
	Slots []Slot
	// one list of slot indexes per phase, in execution order
	rewrite, access, header, body, log []int
}

// NewChain orders slots by priority (highest first, ties by name) and indexes their phases.
func NewChain(slots []Slot) *Chain {
	sort.SliceStable(slots, func(i, j int) bool {
		if slots[i].Priority != slots[j].Priority {
			return slots[i].Priority > slots[j].Priority
		}
		return slots[i].Name < slots[j].Name
	})
	ch := &Chain{Slots: slots}
	for i, s := range slots {
		in := s.Default
		if in == nil {
			for _, o := range s.ByConsumer {
				in = o
				break
			}
		}
		if in == nil {
			continue
		}
		if in.rewrite != nil {
			ch.rewrite = append(ch.rewrite, i)
		}
		if in.access != nil {
			ch.access = append(ch.access, i)
		}
		if in.header != nil {
			ch.header = append(ch.header, i)
		}
		if in.body != nil {
			ch.body = append(ch.body, i)
		}
		if in.log != nil {
			ch.log = append(ch.log, i)
		}
	}
	return ch
}

// Len is the number of slots, i.e. the per-request states a Ctx needs.
func (ch *Chain) Len() int {
	if ch == nil {
		return 0
	}
	return len(ch.Slots)
}

// HasBodyFilters tells the proxy whether the response body must pass through the chain.
func (ch *Chain) HasBodyFilters() bool { return ch != nil && len(ch.body) > 0 }

// HasHeaderFilters tells whether any plugin runs in the header phase.
func (ch *Chain) HasHeaderFilters() bool { return ch != nil && len(ch.header) > 0 }

func (ch *Chain) pick(c *Ctx, i int) *Instance {
	s := &ch.Slots[i]
	if c.Consumer != nil && s.ByConsumer != nil {
		if in, ok := s.ByConsumer[c.Consumer.ID]; ok {
			return in
		}
	}
	return s.Default
}

// Rewrite runs the rewrite phase. It stops at the first exit or error.
func (ch *Chain) Rewrite(c *Ctx) error {
	if ch == nil {
		return nil
	}
	for _, i := range ch.rewrite {
		if in := ch.pick(c, i); in != nil {
			c.Enter(i)
			if err := in.rewrite.Rewrite(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// Access runs the access phase. It stops at the first exit (ErrExit) or error.
func (ch *Chain) Access(c *Ctx) error {
	if ch == nil {
		return nil
	}
	for _, i := range ch.access {
		if in := ch.pick(c, i); in != nil {
			c.Enter(i)
			if err := in.access.Access(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// HeaderFilter runs the header phase of every plugin of the chain, also after an exit (as Kong
// does); errors are joined and the rest still run.
func (ch *Chain) HeaderFilter(c *Ctx) error {
	if ch == nil {
		return nil
	}
	var errs []error
	for _, i := range ch.header {
		if in := ch.pick(c, i); in != nil {
			c.Enter(i)
			if err := in.header.HeaderFilter(c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// BodyFilter passes one chunk through every body filter in order.
func (ch *Chain) BodyFilter(c *Ctx, chunk []byte, eof bool) ([]byte, error) {
	if ch == nil {
		return chunk, nil
	}
	for _, i := range ch.body {
		if in := ch.pick(c, i); in != nil {
			c.Enter(i)
			var err error
			chunk, err = in.body.BodyFilter(c, chunk, eof)
			if err != nil {
				return nil, err
			}
		}
	}
	return chunk, nil
}

// Log runs the log phase of every plugin of the chain.
func (ch *Chain) Log(c *Ctx) {
	if ch == nil {
		return
	}
	for _, i := range ch.log {
		if in := ch.pick(c, i); in != nil {
			c.Enter(i)
			in.log.Log(c)
		}
	}
}

// Instances lists every instance in the chain (for Close).
func (ch *Chain) Instances() []*Instance {
	var out []*Instance
	for _, s := range ch.Slots {
		if s.Default != nil {
			out = append(out, s.Default)
		}
		for _, in := range s.ByConsumer {
			out = append(out, in)
		}
	}
	return out
}
