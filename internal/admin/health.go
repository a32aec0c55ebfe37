package admin

import (
	"net/http"

	"tollgate/internal/config"
)

// HealthBackend is what a Backend offers when the node runs health checks: the health of an
// upstream's targets by address, and hand-made changes (Kong's PUT .../healthy|unhealthy).
// Backends without it answer /upstreams/{u}/health with every target HEALTHCHECKS_OFF.
type HealthBackend interface {
	// TargetsHealth is keyed by the target as configured ("host:port").
	TargetsHealth(upstream string) (map[string]TargetHealth, bool)
	SetTargetHealth(upstream, target string, healthy bool) error
	BalancerHealth(upstream string) (BalancerHealth, bool)
}

// TargetHealth is a target's health and, for a target given as a name, that of each address
// it resolves to (Kong's "data": {"addresses": [...]}).
type TargetHealth struct {
	Health    string // HEALTHY, UNHEALTHY, HEALTHCHECKS_OFF or DNS_ERROR
	Addresses []AddressHealth
}

// AddressHealth is one resolved address of a target.
type AddressHealth struct {
	IP     string
	Port   int
	Weight int
	Health string
}

// BalancerHealth is the upstream's own verdict under healthchecks.threshold, with the target
// weights behind it.
type BalancerHealth struct {
	Health                        string
	Total, Available, Unavailable int
}

// upstreamHealth is GET /upstreams/{a}/health: the upstream's targets, each with its
// "health", plus the node id (Kong's shape).
func (h *handler) upstreamHealth(w http.ResponseWriter, r *http.Request) {
	ix, now := h.index(), h.now()
	p, ok := h.parentOf(w, r, ix, kindUpstreams)
	if !ok {
		return
	}
	up := p.ent.(*config.Upstream)
	hb, _ := h.opts.Backend.(HealthBackend)
	if r.URL.Query().Get("balancer_health") == "1" || r.URL.Query().Get("balancer_health") == "true" {
		// Kong's shape for the balancer's verdict
		b := BalancerHealth{Health: "HEALTHCHECKS_OFF"}
		if hb != nil {
			if got, ok := hb.BalancerHealth(up.Name); ok {
				b = got
			}
		}
		data := obj{{"id", up.ID}, {"health", b.Health}, {"balancer_health", b.Health}, {"details", obj{
			{"healthy", b.Health != "UNHEALTHY"},
			{"weight", obj{{"total", b.Total}, {"available", b.Available}, {"unavailable", b.Unavailable}}},
		}}}
		writeJSON(w, http.StatusOK, obj{{"data", data}, {"next", nil}, {"node_id", h.opts.NodeID}})
		return
	}
	var states map[string]TargetHealth
	if hb != nil {
		states, _ = hb.TargetsHealth(up.Name)
	}
	v := viewer{cfg: ix.cfg, now: now}
	data := []any{}
	for _, rw := range ix.childrenOf(kindTargets, "upstream", p.id, now) {
		t := rw.ent.(*config.Target)
		th := states[t.Target]
		if th.Health == "" {
			th.Health = "HEALTHCHECKS_OFF"
		}
		o := append(v.render(rw), kv{"health", th.Health})
		if th.Addresses != nil {
			addrs := make([]any, 0, len(th.Addresses))
			for _, a := range th.Addresses {
				addrs = append(addrs, obj{{"ip", a.IP}, {"port", a.Port}, {"weight", a.Weight}, {"health", a.Health}})
			}
			o = append(o, kv{"data", obj{{"addresses", addrs}}})
		}
		data = append(data, o)
	}
	writeJSON(w, http.StatusOK, obj{{"data", data}, {"next", nil}, {"node_id", h.opts.NodeID}})
}

// setHealth is PUT /upstreams/{a}/targets/{b}/healthy|unhealthy: 204, or 404 when the
// upstream or target is unknown.
func (h *handler) setHealth(find childFinder, healthy bool) methods {
	return methods{put: func(w http.ResponseWriter, r *http.Request) {
		ix := h.index()
		p, ok := h.parentOf(w, r, ix, kindUpstreams)
		if !ok {
			return
		}
		rw, _, err := find(ix, p, r.PathValue("b"))
		if err != nil {
			err.write(w)
			return
		}
		if rw == nil {
			notFound(w)
			return
		}
		hb, ok := h.opts.Backend.(HealthBackend)
		if !ok {
			writeJSON(w, http.StatusBadRequest, obj{{"message", "health checks are not available on this node"}})
			return
		}
		if err := hb.SetTargetHealth(p.ent.(*config.Upstream).Name, rw.ent.(*config.Target).Target, healthy); err != nil {
			notFound(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}}
}
