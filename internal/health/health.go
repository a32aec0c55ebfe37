// Package health runs Kong's active and passive health checks (KONG_COMPAT §2.3) for the
// targets of every upstream. Its state outlives config snapshots: a Checker is a runtime
// object owned by the server; each new snapshot hands it the new *balancer.Target values with
// Apply, and the health of a target that is still configured carries over (keyed by upstream
// name and target address). The verdict is published by flipping balancer.Target.SetHealthy,
// which every picker reads on each pick, so nothing is rebuilt when a target goes down.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"tollgate/internal/balancer"
	"tollgate/internal/config"
)

// Upstream is what Apply needs of one upstream entity.
type Upstream struct {
	Name       string
	Config     config.Healthchecks
	Targets    []*balancer.Target
	HostHeader string // the upstream's host_header ("" = the target's host)
	// Down, when set, is raised while the healthy share of the targets' weight is under
	// healthchecks.threshold percent: Kong then fails the whole upstream (503) rather than
	// pile the load on the few targets left.
	Down *atomic.Bool
}

// Health values, Kong's words.
const (
	Healthy         = "HEALTHY"
	Unhealthy       = "UNHEALTHY"
	HealthchecksOff = "HEALTHCHECKS_OFF"
)

// TargetHealth is one row of GET /upstreams/{u}/health.
type TargetHealth struct {
	Target string // host:port
	Health string
}

// Checker holds the health of every target and runs the active probes.
type Checker struct {
	log *slog.Logger
	// probe is the active probe; tests replace it.
	probe func(ctx context.Context, u *upState, t *target) result

	mu  sync.Mutex // serialises Apply, SetManual and Close; never held across I/O
	ups atomic.Pointer[map[string]*upState]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// upState is one upstream: its config and targets, and the cancel of its probe loop.
type upState struct {
	name       string
	cfg        config.Healthchecks
	hostHeader string
	targets    []*target // in config order
	byAddr     map[string]*target
	weights    []int // total weight per target, parallel to targets
	down       *atomic.Bool
	cancel     context.CancelFunc
	done       chan struct{}
}

// target is the health of one address of one upstream.
type target struct {
	addr string
	host string

	mu        sync.Mutex
	healthy   bool
	up        atomic.Bool // healthy, readable without mu (threshold sums)
	successes int
	tcpFails  int
	httpFails int
	timeouts  int
	lastProbe time.Time
	objs      []*balancer.Target // the current snapshot's values for this address
}

// New returns a Checker with no upstreams.
func New(log *slog.Logger) *Checker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Checker{log: log}
	c.probe = c.activeProbe
	c.ctx, c.cancel = context.WithCancel(context.Background())
	empty := map[string]*upState{}
	c.ups.Store(&empty)
	return c
}

// activeOn tells whether an upstream's config asks for probes at all.
func activeOn(cfg config.Healthchecks) bool {
	return cfg.Active.Healthy.Interval > 0 || cfg.Active.Unhealthy.Interval > 0
}

func passiveOn(cfg config.Healthchecks) bool {
	p := cfg.Passive
	return p.Healthy.Successes > 0 || p.Unhealthy.TCPFailures > 0 || p.Unhealthy.HTTPFailures > 0 || p.Unhealthy.Timeouts > 0
}

// Apply installs the upstreams of a new snapshot. Targets still configured keep their state
// (re-applied to the new Target values); probe loops restart only where the upstream's
// checks changed; upstreams no longer configured stop being probed. Call it before the new
// snapshot starts serving.
func (c *Checker) Apply(ups []Upstream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.ups.Load()
	next := make(map[string]*upState, len(ups))
	for _, u := range ups {
		prev := old[u.Name]
		st := &upState{name: u.Name, cfg: u.Config, hostHeader: u.HostHeader, byAddr: map[string]*target{}, down: u.Down}
		for _, bt := range u.Targets {
			tg := st.byAddr[bt.Addr]
			if tg != nil {
				st.weights[slices.Index(st.targets, tg)] += bt.Weight
			}
			if tg == nil {
				if prev != nil {
					tg = prev.byAddr[bt.Addr]
				}
				if tg == nil {
					tg = &target{addr: bt.Addr, host: bt.Host, healthy: true}
				}
				tg.mu.Lock()
				tg.objs = nil
				tg.mu.Unlock()
				st.byAddr[bt.Addr] = tg
				st.targets = append(st.targets, tg)
				st.weights = append(st.weights, bt.Weight)
			}
			tg.mu.Lock()
			tg.objs = append(tg.objs, bt)
			bt.SetHealthy(tg.healthy)
			tg.up.Store(tg.healthy)
			tg.mu.Unlock()
		}
		st.updateGate(c.log)
		sameChecks := prev != nil && reflect.DeepEqual(prev.cfg, u.Config) && prev.hostHeader == u.HostHeader
		if sameChecks && prev.cancel != nil && sameAddrs(prev, st) {
			st.cancel, st.done = prev.cancel, prev.done
			prev.cancel = nil // handed over
		}
		next[u.Name] = st
	}
	// stop loops that were not handed over, then start the missing ones
	for _, prev := range old {
		if prev.cancel != nil {
			prev.cancel()
			<-prev.done
			prev.cancel = nil
		}
	}
	for _, st := range next {
		if st.cancel == nil && activeOn(st.cfg) {
			c.startLoop(st)
		}
	}
	c.ups.Store(&next)
}

// updateGate raises or lowers the upstream's Down flag from healthchecks.threshold: the
// upstream is down while its healthy weight is under threshold percent of its total weight.
// It reads each target's atomic mirror, so it needs no target's lock.
func (u *upState) updateGate(log *slog.Logger) {
	if u.down == nil {
		return
	}
	var total, healthy int
	for i, tg := range u.targets {
		total += u.weights[i]
		if tg.up.Load() {
			healthy += u.weights[i]
		}
	}
	down := u.cfg.Threshold > 0 && total > 0 && float64(healthy)*100 < u.cfg.Threshold*float64(total)
	if u.down.Swap(down) != down {
		state := Healthy
		if down {
			state = Unhealthy
		}
		log.Warn("upstream health changed", "upstream", u.name, "health", state,
			"healthy_weight", healthy, "total_weight", total, "threshold", u.cfg.Threshold)
	}
}

// BalancerHealth is GET /upstreams/{u}/health?balancer_health=1: the upstream's own verdict
// and the weights behind it (Kong's shape).
type BalancerHealth struct {
	Health                        string // HEALTHY or UNHEALTHY
	Total, Available, Unavailable int
}

// Balancer reports the upstream's verdict under healthchecks.threshold.
func (c *Checker) Balancer(upstream string) (BalancerHealth, bool) {
	u := (*c.ups.Load())[upstream]
	if u == nil {
		return BalancerHealth{}, false
	}
	var b BalancerHealth
	for i, tg := range u.targets {
		b.Total += u.weights[i]
		if tg.up.Load() {
			b.Available += u.weights[i]
		}
	}
	b.Unavailable = b.Total - b.Available
	b.Health = Healthy
	if u.cfg.Threshold > 0 && b.Total > 0 && float64(b.Available)*100 < u.cfg.Threshold*float64(b.Total) {
		b.Health = Unhealthy
	}
	return b, true
}

func sameAddrs(a, b *upState) bool {
	if len(a.targets) != len(b.targets) {
		return false
	}
	return maps.EqualFunc(a.byAddr, b.byAddr, func(x, y *target) bool { return x == y })
}

// Close stops every probe loop and waits for them.
func (c *Checker) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// SetManual marks a target healthy or unhealthy by hand (the admin API's PUT
// .../healthy|unhealthy). The checks may change it again later, as in Kong.
func (c *Checker) SetManual(upstream, addr string, healthy bool) error {
	u := (*c.ups.Load())[upstream]
	if u == nil {
		return fmt.Errorf("upstream %q: %w", upstream, ErrNotFound)
	}
	tg := u.byAddr[addr]
	if tg == nil {
		return fmt.Errorf("target %q: %w", addr, ErrNotFound)
	}
	tg.mu.Lock()
	c.set(u, tg, healthy, "set by hand")
	tg.mu.Unlock()
	return nil
}

// ErrNotFound is returned for an unknown upstream or target.
var ErrNotFound = errors.New("not found")

// Health reports each target's health (HEALTHCHECKS_OFF when no check is configured and no
// hand-made change says otherwise) and whether the upstream has any healthy weight left.
func (c *Checker) Health(upstream string) ([]TargetHealth, bool) {
	u := (*c.ups.Load())[upstream]
	if u == nil {
		return nil, false
	}
	on := activeOn(u.cfg) || passiveOn(u.cfg)
	out := make([]TargetHealth, 0, len(u.targets))
	for _, tg := range u.targets {
		tg.mu.Lock()
		h := Healthy
		switch {
		case !tg.healthy:
			h = Unhealthy
		case !on:
			h = HealthchecksOff
		}
		tg.mu.Unlock()
		out = append(out, TargetHealth{Target: tg.addr, Health: h})
	}
	return out, true
}

// set changes a target's health (tg.mu held) and publishes it to the pickers.
func (c *Checker) set(u *upState, tg *target, healthy bool, reason string) {
	tg.successes, tg.tcpFails, tg.httpFails, tg.timeouts = 0, 0, 0, 0
	if tg.healthy == healthy {
		return
	}
	tg.healthy = healthy
	tg.up.Store(healthy)
	for _, bt := range tg.objs {
		bt.SetHealthy(healthy)
	}
	u.updateGate(c.log)
	state := Healthy
	if !healthy {
		state = Unhealthy
	}
	c.log.Info("target health changed", "upstream", u.name, "target", tg.addr, "health", state, "reason", reason)
}
