package snapshot

import (
	"tollgate/internal/config"
	"tollgate/internal/plugin"
)

// resolveSlots applies Kong's scope precedence (KONG_COMPAT §6.2) for one route: for each
// plugin name exactly one config is chosen, first hit wins:
//
//	route+service+consumer > route+consumer > service+consumer > route+service >
//	consumer > route > service > global
//
// The consumer-free winner becomes the slot's Default; for each consumer named by a
// consumer-scoped config the full order is resolved once here, so a request only does a map
// lookup. globalOnly builds the chain of requests that matched no route.
func resolveSlots(plugins []*config.Plugin, insts map[*config.Plugin]*plugin.Instance, r *config.Route, svc *config.Service, globalOnly bool) []plugin.Slot {
	type levels struct {
		name                string
		prio                int
		rs, rOnly, sOnly, g *plugin.Instance
		rsc, rc, sc, c      map[string]*plugin.Instance
		consumers           []string
	}
	byName := map[string]*levels{}
	var order []string
	for _, p := range plugins {
		in, ok := insts[p]
		if !ok {
			continue
		}
		pr, ps := p.Route != nil, p.Service != nil
		if globalOnly && (pr || ps) {
			continue
		}
		if pr && (r == nil || p.Route.ID != r.ID) {
			continue
		}
		if ps && (svc == nil || p.Service.ID != svc.ID) {
			continue
		}
		l := byName[p.Name]
		if l == nil {
			l = &levels{name: p.Name, prio: in.Priority}
			byName[p.Name] = l
			order = append(order, p.Name)
		}
		if p.Consumer != nil {
			cid := p.Consumer.ID
			m := &l.c
			switch {
			case pr && ps:
				m = &l.rsc
			case pr:
				m = &l.rc
			case ps:
				m = &l.sc
			}
			if *m == nil {
				*m = map[string]*plugin.Instance{}
			}
			(*m)[cid] = in
			l.consumers = append(l.consumers, cid)
			continue
		}
		switch {
		case pr && ps:
			l.rs = in
		case pr:
			l.rOnly = in
		case ps:
			l.sOnly = in
		default:
			l.g = in
		}
	}
	slots := make([]plugin.Slot, 0, len(order))
	for _, name := range order {
		l := byName[name]
		def := first(l.rs, l.rOnly, l.sOnly, l.g)
		slot := plugin.Slot{Name: name, Priority: l.prio, Default: def}
		for _, cid := range l.consumers {
			win := first(l.rsc[cid], l.rc[cid], l.sc[cid], l.rs, l.c[cid], l.rOnly, l.sOnly, l.g)
			if win != def {
				if slot.ByConsumer == nil {
					slot.ByConsumer = map[string]*plugin.Instance{}
				}
				slot.ByConsumer[cid] = win
			}
		}
		slots = append(slots, slot)
	}
	return slots
}

func first(ins ...*plugin.Instance) *plugin.Instance {
	for _, in := range ins {
		if in != nil {
			return in
		}
	}
	return nil
}
