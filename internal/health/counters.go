package health

import (
	"slices"

	"tollgate/internal/balancer"
)

// kind is what one observation of a target was.
type kind int

const (
	none kind = iota // a status in neither list: not counted
	success
	httpFailure
	tcpFailure
	timeout
)

func (k kind) String() string {
	return [...]string{"none", "success", "http failure", "tcp failure", "timeout"}[k]
}

// result is one probe's outcome.
type result struct {
	kind   kind
	status int
}

// thresholds are the counters of one side (active or passive) of an upstream's checks.
type thresholds struct {
	successes, tcpFailures, httpFailures, timeouts int
	healthyStatuses, unhealthyStatuses             []int
}

// classify turns a response status into a kind using the side's status lists.
func (th *thresholds) classify(status int) kind {
	switch {
	case slices.Contains(th.healthyStatuses, status):
		return success
	case slices.Contains(th.unhealthyStatuses, status):
		return httpFailure
	}
	return none
}

// record counts one observation and changes the target's health when a threshold is met:
// consecutive failures of one kind turn a healthy target unhealthy, consecutive successes an
// unhealthy one healthy; a success clears the failure counters and a failure the successes.
// A threshold of 0 disables that trigger (Kong).
func (c *Checker) record(u *upState, tg *target, th *thresholds, k kind, side string) {
	if k == none {
		return
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if k == success {
		tg.successes++
		tg.tcpFails, tg.httpFails, tg.timeouts = 0, 0, 0
		if !tg.healthy && th.successes > 0 && tg.successes >= th.successes {
			c.set(u, tg, true, side+" successes")
		}
		return
	}
	tg.successes = 0
	var n, limit int
	switch k {
	case tcpFailure:
		tg.tcpFails++
		n, limit = tg.tcpFails, th.tcpFailures
	case httpFailure:
		tg.httpFails++
		n, limit = tg.httpFails, th.httpFailures
	case timeout:
		tg.timeouts++
		n, limit = tg.timeouts, th.timeouts
	}
	if tg.healthy && limit > 0 && n >= limit {
		c.set(u, tg, false, side+" "+k.String()+"s")
	}
}

func activeThresholds(u *upState) thresholds {
	a := u.cfg.Active
	return thresholds{
		successes: a.Healthy.Successes, tcpFailures: a.Unhealthy.TCPFailures,
		httpFailures: a.Unhealthy.HTTPFailures, timeouts: a.Unhealthy.Timeouts,
		healthyStatuses: a.Healthy.HTTPStatuses, unhealthyStatuses: a.Unhealthy.HTTPStatuses,
	}
}

func passiveThresholds(u *upState) thresholds {
	p := u.cfg.Passive
	return thresholds{
		successes: p.Healthy.Successes, tcpFailures: p.Unhealthy.TCPFailures,
		httpFailures: p.Unhealthy.HTTPFailures, timeouts: p.Unhealthy.Timeouts,
		healthyStatuses: p.Healthy.HTTPStatuses, unhealthyStatuses: p.Unhealthy.HTTPStatuses,
	}
}

// Report feeds the passive checks with the outcome of one proxied try: the response status
// (0 when there was none), or a TCP failure or a timeout. A 504 from the upstream counts as a
// timeout (Kong). It costs one map lookup when the upstream has no passive checks.
func (c *Checker) Report(upstream string, t *balancer.Target, status int, tcpFail, timedOut bool) {
	u := (*c.ups.Load())[upstream]
	if u == nil || !passiveOn(u.cfg) {
		return
	}
	tg := u.byAddr[t.Addr]
	if tg == nil {
		return
	}
	th := passiveThresholds(u)
	k := none
	switch {
	case timedOut || status == 504:
		k = timeout
	case tcpFail:
		k = tcpFailure
	default:
		k = th.classify(status)
	}
	c.record(u, tg, &th, k, "passive")
}
