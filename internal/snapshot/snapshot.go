// Package snapshot compiles a validated config into one immutable Snapshot (router, plugin
// chains, services with their balancers) and holds the current one behind an atomic pointer.
// Every request loads the pointer once and keeps that snapshot to its end, so a reload never
// changes a request midway.
package snapshot

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tollgate/internal/balancer"
	"tollgate/internal/circuit"
	"tollgate/internal/config"
	"tollgate/internal/discovery"
	"tollgate/internal/plugin"
	"tollgate/internal/router"
)

// Snapshot is one compiled config. Nothing in it changes after Compile.
type Snapshot struct {
	Config *config.Config
	Router *router.Table
	// Global is the chain of globally scoped plugins: it runs the rewrite phase for every
	// request and the response phases of requests that matched no route.
	Global   *plugin.Chain
	Routes   []*Route
	Services map[string]*Service // by service id
	// Pools are the upstream entities with their targets and pickers, in config order.
	Pools []*Pool
	// MaxStates is the largest chain length, so a request context can be sized once.
	MaxStates int

	// BreakerNames are the circuit breakers this snapshot uses (for Registry.Retain).
	BreakerNames map[string]bool

	instances []*plugin.Instance
	refs      sync.WaitGroup
}

// Route is a compiled route.
type Route struct {
	Config  *config.Route
	Service *Service // nil when the route has none (answered 503 after the access phase)
	Chain   *plugin.Chain
	// HTTPSOnly routes answer plain-http requests with a redirect or 426 (Kong §3.7).
	HTTPSOnly bool
}

// Service is a compiled service: where and how to reach it.
type Service struct {
	Config *config.Service
	// Path is the service path ("/" when unset), the base of every upstream path.
	Path   string
	Scheme string // "http" or "https"
	// HostHeader is the Host sent upstream unless preserve_host or a plugin says otherwise:
	// the upstream's host_header, else the service host with its port unless it is the
	// scheme's default.
	HostHeader string
	// TargetHost tells that Host must follow the picked target (an upstream entity without
	// host_header), as Kong does in its balancer phase.
	TargetHost                                bool
	ConnectTimeout, WriteTimeout, ReadTimeout time.Duration
	Retries                                   int
	// TryTimeout bounds each try, response body included (Envoy's per_try_timeout; the
	// try_timeout extension); 0 = only Kong's between-reads timeouts.
	TryTimeout time.Duration
	// Budget bounds the retries in flight (the retry_budget extension, Envoy's defaults).
	Budget *RetryBudget
	// UpstreamDown is the upstream's flag under healthchecks.threshold (nil for a direct
	// host): while raised, requests fail at once with 503.
	UpstreamDown *atomic.Bool
	// Breaker guards the service as a whole (nil: none); BreakerFailures are the statuses it
	// counts as failures. targetBreakers are the upstream's per-target breakers.
	Breaker         *circuit.Breaker
	BreakerFailures Failures
	targetBreakers  []*circuit.Breaker
	targetFailures  *Failures
	Balancer        balancer.Picker
	// Upstream is the upstream entity the service balances over (nil for a direct host):
	// its hash_on settings tell the proxy which key a hashing pick uses.
	Upstream *config.Upstream

	transports []any // per target, by Target.Index
}

// TargetBreaker is the circuit breaker of target t (nil when the upstream has none) and the
// statuses it counts as failures.
func (s *Service) TargetBreaker(t *balancer.Target) (*circuit.Breaker, *Failures) {
	if s.targetBreakers == nil {
		return nil, nil
	}
	return s.targetBreakers[t.Index], s.targetFailures
}

// TransportFor is the connection pool for target t of this service.
func (s *Service) TransportFor(t *balancer.Target) any { return s.transports[t.Index] }

// Pool is a compiled upstream entity: its targets and the picker over them, shared by every
// service whose host names the upstream.
type Pool struct {
	Config   *config.Upstream
	Targets  []*balancer.Target
	Balancer balancer.Picker
	// Down is raised by the health checker while the healthy weight is under the
	// upstream's healthchecks.threshold.
	Down atomic.Bool
	// Unresolved are the targets given as names that resolve to no address now.
	Unresolved []*config.Target
	// Breakers are the targets' circuit breakers by Target.Index (nil without the
	// circuit_breaker extension); BreakerFailures the statuses they count as failures.
	Breakers        []*circuit.Breaker
	BreakerFailures Failures
}

func compilePool(up *config.Upstream, opt Options) (*Pool, error) {
	p := &Pool{Config: up}
	for _, t := range up.Targets {
		if opt.Resolve != nil && !isIP(t.Host) {
			// A target given as a name becomes one balancer target per address it resolves
			// to (Kong's ring-balancer does the same); a name that does not resolve has
			// none and so is out of the rotation until it does.
			res, _ := opt.Resolve(discovery.Key{Name: t.Host, Port: t.Port, Weight: t.Weight})
			p.Unresolved = appendIf(p.Unresolved, t, res.Err != nil || len(res.Addrs) == 0)
			for _, a := range res.Addrs {
				p.Targets = append(p.Targets, &balancer.Target{ID: t.ID, Host: t.Host, Port: a.Port,
					Addr: a.String(), Weight: a.Weight, Index: len(p.Targets)})
			}
			continue
		}
		p.Targets = append(p.Targets, &balancer.Target{ID: t.ID, Host: t.Host, Port: t.Port,
			Addr: net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), Weight: t.Weight, Index: len(p.Targets)})
	}
	b, err := balancer.New(up.Algorithm, p.Targets, balancer.Options{Slots: up.Slots})
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", up.Name, err)
	}
	p.Balancer = b
	return p, nil
}

func appendIf(ts []*config.Target, t *config.Target, ok bool) []*config.Target {
	if ok {
		return append(ts, t)
	}
	return ts
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// NamedTargets lists the upstream targets of cfg given as names, which Options.Resolve must
// answer (the server has them watched before it compiles).
func NamedTargets(cfg *config.Config) []discovery.Key {
	var keys []discovery.Key
	for _, up := range cfg.Upstreams {
		for _, t := range up.Targets {
			if !isIP(t.Host) {
				keys = append(keys, discovery.Key{Name: t.Host, Port: t.Port, Weight: t.Weight})
			}
		}
	}
	return keys
}

// TransportFunc returns the connection pool for one target of a service. Pools outlive
// snapshots (keep-alive connections survive reloads); the proxy owns them.
type TransportFunc func(svc *Service, t *balancer.Target) any

// Options tune compilation.
type Options struct {
	Log               *slog.Logger
	NodeID            string
	KongPriorityQuirk bool
	Transport         TransportFunc
	// Breakers hands out circuit breakers that outlive snapshots (nil: none are built).
	Breakers *circuit.Registry
	// Resolve gives the addresses of an upstream target given as a name (nil: names are
	// dialled as they are, resolved by the system on each new connection).
	Resolve func(discovery.Key) (discovery.Result, bool)
}

// Compile builds a snapshot from a loaded config. Errors name the entity; plugin instances
// already built are closed when compilation fails.
func Compile(cfg *config.Config, reg *plugin.Registry, opt Options) (s *Snapshot, err error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	s = &Snapshot{Config: cfg, Services: make(map[string]*Service)}
	defer func() {
		if err != nil {
			s.closeInstances()
			s = nil
		}
	}()

	s.BreakerNames = map[string]bool{}
	pools := make(map[string]*Pool, len(cfg.Upstreams))
	for _, up := range cfg.Upstreams {
		pool, err := compilePool(up, opt)
		if err != nil {
			return nil, err
		}
		s.poolBreakers(pool, opt)
		pools[up.Name] = pool
		s.Pools = append(s.Pools, pool)
	}
	for _, svc := range cfg.Services {
		cs, err := compileService(pools, svc, opt)
		if err != nil {
			return nil, err
		}
		s.serviceBreaker(cs, opt)
		s.Services[svc.ID] = cs
	}

	insts := make(map[*config.Plugin]*plugin.Instance)
	for _, p := range cfg.Plugins {
		if !p.Enabled {
			continue
		}
		spec, ok := reg.Spec(p.Name)
		if !ok {
			return nil, fmt.Errorf("plugin %q (%s): not available", p.Name, p.ID)
		}
		env := plugin.Env{Log: opt.Log.With("plugin", p.Name, "plugin_id", p.ID), NodeID: opt.NodeID, PluginID: p.ID}
		if p.Route != nil {
			env.RouteID = p.Route.ID
		}
		if p.Service != nil {
			env.ServiceID = p.Service.ID
		}
		if p.Consumer != nil {
			env.ConsumerID = p.Consumer.ID
		}
		h, err := spec.New(p.Config, env)
		if err != nil {
			return nil, fmt.Errorf("plugin %q (%s): %w", p.Name, p.ID, err)
		}
		in := plugin.NewInstance(p.Name, p.ID, spec.Priority, h)
		insts[p] = in
		s.instances = append(s.instances, in)
	}

	s.Global = plugin.NewChain(resolveSlots(cfg.Plugins, insts, nil, nil, true))
	s.MaxStates = s.Global.Len()

	var rts []router.Route
	for _, r := range cfg.Routes {
		cr := &Route{Config: r}
		if r.Service != nil {
			if !r.Service.Enabled {
				// Kong leaves the routes of a disabled service out of the router.
				continue
			}
			cr.Service = s.Services[r.Service.ID]
		}
		cr.Chain = plugin.NewChain(resolveSlots(cfg.Plugins, insts, r, r.Service, false))
		s.MaxStates = max(s.MaxStates, cr.Chain.Len())
		cr.HTTPSOnly = contains(r.Protocols, "https") && !contains(r.Protocols, "http")
		s.Routes = append(s.Routes, cr)
		rts = append(rts, router.Route{
			ID:            r.ID,
			Methods:       r.Methods,
			Hosts:         r.Hosts,
			Paths:         r.Paths,
			Headers:       r.Headers,
			SNIs:          r.SNIs,
			RegexPriority: r.RegexPriority,
			Value:         cr,
		})
	}
	tbl, err := router.New(rts, router.Options{KongPriorityQuirk: opt.KongPriorityQuirk})
	if err != nil {
		return nil, fmt.Errorf("compile router: %w", err)
	}
	s.Router = tbl
	return s, nil
}

func compileService(pools map[string]*Pool, svc *config.Service, opt Options) (*Service, error) {
	cs := &Service{
		Config:         svc,
		Path:           "/",
		Scheme:         svc.Protocol,
		ConnectTimeout: time.Duration(svc.ConnectTimeout) * time.Millisecond,
		WriteTimeout:   time.Duration(svc.WriteTimeout) * time.Millisecond,
		ReadTimeout:    time.Duration(svc.ReadTimeout) * time.Millisecond,
		Retries:        svc.Retries,
		TryTimeout:     time.Duration(svc.TryTimeout) * time.Millisecond,
		Budget:         newRetryBudget(svc.RetryBudget),
	}
	if svc.Path != nil && *svc.Path != "" {
		cs.Path = *svc.Path
	}
	defaultPort := 80
	if cs.Scheme == "https" {
		defaultPort = 443
	}
	var targets []*balancer.Target
	if pool := pools[svc.Host]; pool != nil {
		// Services naming the same upstream share its targets and picker: health flags,
		// in-flight counts and latency averages are the upstream's, as in Kong.
		up := pool.Config
		cs.Upstream, cs.Balancer, targets = up, pool.Balancer, pool.Targets
		cs.UpstreamDown = &pool.Down
		cs.targetBreakers, cs.targetFailures = pool.Breakers, &pool.BreakerFailures
		if up.HostHeader != "" {
			cs.HostHeader = up.HostHeader
		} else {
			cs.TargetHost = true
			cs.HostHeader = hostPort(svc.Host, svc.Port, defaultPort)
		}
	} else {
		targets = []*balancer.Target{{ID: svc.ID, Host: svc.Host, Port: svc.Port, Addr: net.JoinHostPort(svc.Host, strconv.Itoa(svc.Port)), Weight: 100}}
		cs.HostHeader = hostPort(svc.Host, svc.Port, defaultPort)
		b, err := balancer.New(balancer.AlgorithmRoundRobin, targets, balancer.Options{})
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", svc.Name, err)
		}
		cs.Balancer = b
	}
	// Connection pools depend on the service's timeouts, so they are per service, indexed
	// by the target's position in its upstream.
	cs.transports = make([]any, len(targets))
	if opt.Transport != nil {
		for i, t := range targets {
			cs.transports[i] = opt.Transport(cs, t)
		}
	}
	return cs, nil
}

// HostFor is the Host header for a request sent to target t of the service (Kong §4.3).
func (s *Service) HostFor(t *balancer.Target) string {
	if !s.TargetHost {
		return s.HostHeader
	}
	def := 80
	if s.Scheme == "https" {
		def = 443
	}
	return hostPort(t.Host, t.Port, def)
}

func hostPort(host string, port, def int) string {
	if port == def || port == 0 {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Acquire marks one request as using s; Release ends it. Retire waits for every request to
// release before closing plugin instances.
func (s *Snapshot) Acquire() { s.refs.Add(1) }

// Release ends a request started with Acquire.
func (s *Snapshot) Release() { s.refs.Done() }

// Retire waits for the requests still on s and closes its plugin instances. Call it in its
// own goroutine once s is no longer current.
func (s *Snapshot) Retire() {
	s.refs.Wait()
	s.closeInstances()
}

func (s *Snapshot) closeInstances() {
	for _, in := range s.instances {
		if c, ok := in.Handler.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// Holder is the current snapshot, swapped atomically.
type Holder struct{ p atomic.Pointer[Snapshot] }

// Load returns the current snapshot (nil before the first Store).
func (h *Holder) Load() *Snapshot { return h.p.Load() }

// Swap installs s and returns the previous snapshot.
func (h *Holder) Swap(s *Snapshot) *Snapshot { return h.p.Swap(s) }
