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

// BalancerHealth serves /upstreams/{u}/health?balancer_health=1.
func (b adminBackend) BalancerHealth(upstream string) (admin.BalancerHealth, bool) {
	h, ok := b.s.health.Balancer(upstream)
	return admin.BalancerHealth{Health: h.Health, Total: h.Total, Available: h.Available, Unavailable: h.Unavailable}, ok
}

func (b adminBackend) SetTargetHealth(upstream, target string, healthy bool) error {
	return b.s.health.SetManual(upstream, target, healthy)
}
