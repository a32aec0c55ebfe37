package snapshot

import (
	"time"

	"tollgate/internal/circuit"
	"tollgate/internal/config"
)

// Failures says which upstream statuses count as a failed request for a circuit breaker
// (connection errors and timeouts always do): a bit per status, so the check on every
// response is one load.
type Failures [1000 / 64]uint64

func failuresOf(statuses []int) (f Failures) {
	for _, s := range statuses {
		if s >= 0 && s < 1000 && s/64 < len(f) {
			f[s/64] |= 1 << (s % 64)
		}
	}
	return f
}

// Has reports whether status counts as a failure.
func (f *Failures) Has(status int) bool {
	return status >= 0 && status/64 < len(f) && f[status/64]&(1<<(status%64)) != 0
}

func breakerConfig(cb *config.CircuitBreaker) circuit.Config {
	return circuit.Config{
		ConsecutiveFailures: cb.ConsecutiveFailures,
		ErrorRatio:          cb.ErrorRatio,
		MinRequests:         cb.MinRequests,
		Window:              time.Duration(cb.Window * float64(time.Second)),
		OpenFor:             time.Duration(cb.OpenTimeout * float64(time.Second)),
		HalfOpenRequests:    cb.HalfOpenRequests,
	}
}

// ServiceBreakerName and TargetBreakerName name breakers in the registry, the log and the
// admin API.
func ServiceBreakerName(svc *config.Service) string {
	if svc.Name != "" {
		return "service:" + svc.Name
	}
	return "service:" + svc.ID
}

// TargetBreakerName names the breaker of one target of an upstream.
func TargetBreakerName(upstream, addr string) string { return "upstream:" + upstream + "/" + addr }

// poolBreakers gives a pool's targets their breakers from opt.Breakers (serviceBreaker does
// the same for a service) and records the names the snapshot uses.
func (s *Snapshot) poolBreakers(p *Pool, opt Options) {
	cb := p.Config.CircuitBreaker
	if cb == nil || opt.Breakers == nil {
		return
	}
	cfg := breakerConfig(cb)
	p.Breakers = make([]*circuit.Breaker, len(p.Targets))
	p.BreakerFailures = failuresOf(cb.HTTPStatuses)
	for i, t := range p.Targets {
		name := TargetBreakerName(p.Config.Name, t.Addr)
		p.Breakers[i] = opt.Breakers.Get(name, cfg)
		s.BreakerNames[name] = true
	}
}

func (s *Snapshot) serviceBreaker(cs *Service, opt Options) {
	cb := cs.Config.CircuitBreaker
	if cb == nil || opt.Breakers == nil {
		return
	}
	name := ServiceBreakerName(cs.Config)
	cs.Breaker = opt.Breakers.Get(name, breakerConfig(cb))
	cs.BreakerFailures = failuresOf(cb.HTTPStatuses)
	s.BreakerNames[name] = true
}
