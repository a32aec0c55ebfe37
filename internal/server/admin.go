package server

import (
	"net"
	"net/http"
	"os"

	"tollgate/internal/admin"
	"tollgate/internal/config"
	"tollgate/internal/health"
	"tollgate/internal/snapshot"
)

// adminHandler wires the admin API to this server: reads come from the current snapshot's
// config, POST /config goes through the same load path as a reload.
func (s *Server) adminHandler() http.Handler {
	host, _ := os.Hostname()
	return admin.New(admin.Options{
		Backend:  adminBackend{s},
		Version:  s.opts.Version,
		NodeID:   s.opts.NodeID,
		Hostname: host,
		Registry: s.opts.Registry,
		Log:      s.log,
	})
}

type adminBackend struct{ s *Server }

func (b adminBackend) Config() *config.Config { return b.s.holder.Load().Config }
func (b adminBackend) LoadBytes(data []byte) error {
	return b.s.LoadBytes("POST /config", data)
}
func (b adminBackend) Status() map[string]any { return b.s.StatusBody() }

// TargetsHealth and SetTargetHealth serve /upstreams/{u}/health and the targets' PUT
// healthy|unhealthy.
func (b adminBackend) TargetsHealth(upstream string) (map[string]admin.TargetHealth, bool) {
	rows, ok := b.s.health.Health(upstream)
	if !ok {
		return nil, false
	}
	byAddr := make(map[string]string, len(rows))
	for _, r := range rows {
		byAddr[r.Target] = r.Health
	}
	var pool *snapshot.Pool
	for _, p := range b.s.holder.Load().Pools {
		if p.Config.Name == upstream {
			pool = p
		}
	}
	out := map[string]admin.TargetHealth{}
	if pool == nil {
		return out, true
	}
	// targets given as names: one row per configured target, its addresses beside; the
	// target is healthy while one of its addresses is (Kong's rule), DNS_ERROR without any
	byID := map[string]*config.Target{}
	for _, t := range pool.Config.Targets {
		byID[t.ID] = t
	}
	for _, bt := range pool.Targets {
		ct := byID[bt.ID]
		if ct == nil {
			continue
		}
		h := byAddr[bt.Addr]
		th := out[ct.Target]
		if ct.Host == bt.Host && bt.Addr != ct.Target {
			ip, _, _ := net.SplitHostPort(bt.Addr)
			th.Addresses = append(th.Addresses, admin.AddressHealth{IP: ip, Port: bt.Port, Weight: bt.Weight, Health: h})
			if th.Health == "" || th.Health == health.Unhealthy {
				th.Health = h
			}
		} else {
			th.Health = h
		}
		out[ct.Target] = th
	}
	for _, t := range pool.Unresolved {
		out[t.Target] = admin.TargetHealth{Health: "DNS_ERROR", Addresses: []admin.AddressHealth{}}
	}
	return out, true
}

// SetTargetHealth sets the health of a target by hand; a target given as a name has each of
// its addresses set.
func (b adminBackend) SetTargetHealth(upstream, target string, healthy bool) error {
	for _, p := range b.s.holder.Load().Pools {
		if p.Config.Name != upstream {
			continue
		}
		for _, ct := range p.Config.Targets {
			if ct.Target != target || isIPHost(ct.Host) {
				continue
			}
			for _, bt := range p.Targets {
				if bt.ID == ct.ID {
					if err := b.s.health.SetManual(upstream, bt.Addr, healthy); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	return b.s.health.SetManual(upstream, target, healthy)
}

func isIPHost(h string) bool { return net.ParseIP(h) != nil }

// CircuitBreakers serves GET /circuit-breakers.
func (b adminBackend) CircuitBreakers() []admin.CircuitBreaker {
	var out []admin.CircuitBreaker
	for _, br := range b.s.breakers.List() {
		st := br.Status()
		out = append(out, admin.CircuitBreaker{Name: br.Name(), State: st.State.String(), Since: st.Since, Reason: st.Reason,
			ConsecutiveFailures: st.ConsecutiveFailures, WindowRequests: st.WindowRequests, WindowFailures: st.WindowFailures, RetryAt: st.RetryAt})
	}
	return out
}

// ResetCircuitBreaker serves POST /circuit-breakers/{name}/reset.
func (b adminBackend) ResetCircuitBreaker(name string) bool {
	br := b.s.breakers.Lookup(name)
	if br == nil {
		return false
	}
	br.Reset()
	return true
}

// BalancerHealth serves /upstreams/{u}/health?balancer_health=1.
func (b adminBackend) BalancerHealth(upstream string) (admin.BalancerHealth, bool) {
	h, ok := b.s.health.Balancer(upstream)
	return admin.BalancerHealth{Health: h.Health, Total: h.Total, Available: h.Available, Unavailable: h.Unavailable}, ok
}
