package admin

import "net/http"

// routes registers every path. Patterns carry no method: methods answers 405 with Kong's JSON
// body (ServeMux would answer in text), and knows which writes to refuse with code 12.
// {a} is always a parent segment and {b} the entity addressed.
func (h *handler) routes() {
	m := h.mux
	handle := func(pattern string, hd http.Handler) { m.Handle(pattern, hd) }

	handle("/", h.root())
	handle("/status", methods{get: h.status})
	handle("/config", methods{get: h.getConfig, post: h.postConfig})
	handle("/tags", methods{get: h.tags})
	handle("/tags/{b}", methods{get: h.tags})
	handle("/plugins/enabled", methods{get: h.enabledPlugins})
	handle("/circuit-breakers", methods{get: h.circuitBreakers})
	handle("/circuit-breakers/{b}/reset", methods{post: h.resetCircuitBreaker})

	// Top-level collections and their items.
	for _, k := range allKinds {
		if k == kindTargets {
			continue // Kong disables /targets: targets live under their upstream
		}
		col := h.collection(k)
		if k == kindConsumers {
			col = h.consumers()
		}
		handle("/"+k.path, col)
		handle("/"+k.path+"/{b}", h.item(k))
	}
	for _, k := range emptyKinds {
		handle("/"+k.path, h.collection(k))
		handle("/"+k.path+"/{b}", h.item(k))
	}

	// Children under a parent (/services/{a}/routes[/{b}]) and the parent seen from a child
	// (/routes/{b}/service), one triple per foreign key as Kong generates them.
	nest := func(pk *kind, field string, k *kind, find childFinder) {
		seg := k.nested
		if seg == "" {
			seg = k.path
		}
		if find == nil {
			find = h.byLookup(k, field)
		}
		handle("/"+pk.path+"/{a}/"+seg, h.children(pk, field, k))
		handle("/"+pk.path+"/{a}/"+seg+"/{b}", h.child(pk, k, find))
		handle("/"+k.path+"/{b}/"+field, h.foreign(k, field, pk))
	}
	nest(kindServices, "service", kindRoutes, nil)
	nest(kindServices, "service", kindPlugins, nil)
	nest(kindRoutes, "route", kindPlugins, nil)
	nest(kindConsumers, "consumer", kindPlugins, nil)
	for _, k := range credentialKind {
		var find childFinder
		if k == kindACLs {
			// acls have no endpoint key; under a consumer Kong finds them by group
			// (kong/plugins/acl/api.lua).
			find = h.byField(kindACLs, "consumer", func(rw *row, key string) bool { return rw.key == key })
		}
		nest(kindConsumers, "consumer", k, find)
	}

	list, all, one := h.targets()
	handle("/upstreams/{a}/health", methods{get: h.upstreamHealth})
	findTarget := h.byField(kindTargets, "upstream", matchTarget)
	handle("/upstreams/{a}/targets/{b}/healthy", h.setHealth(findTarget, true))
	handle("/upstreams/{a}/targets/{b}/unhealthy", h.setHealth(findTarget, false))
	handle("/upstreams/{a}/targets", list)
	handle("/upstreams/{a}/targets/all", all)
	handle("/upstreams/{a}/targets/{b}", one)
}
