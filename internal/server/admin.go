package server

import (
	"net/http"
	"os"

	"tollgate/internal/admin"
	"tollgate/internal/config"
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
func (b adminBackend) TargetsHealth(upstream string) (map[string]string, bool) {
	rows, ok := b.s.health.Health(upstream)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Target] = r.Health
	}
	return out, true
}

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

func (b adminBackend) SetTargetHealth(upstream, target string, healthy bool) error {
	return b.s.health.SetManual(upstream, target, healthy)
}
