package proxy

import (
	"errors"

	"tollgate/internal/balancer"
	"tollgate/internal/circuit"
	"tollgate/internal/snapshot"
	"tollgate/internal/upstream"
)

// tried remembers which targets a request has tried, by Target.Index, so that a retry goes to
// another target when one exists (nginx's proxy_next_upstream, Kong's retries). A bit set
// keeps it free of allocation; targets past the 64th are not remembered, which only means a
// retry may land on one of them twice.
type tried uint64

func (s *tried) add(t *balancer.Target) {
	if t.Index < 64 {
		*s |= 1 << uint(t.Index)
	}
}

func (s tried) has(t *balancer.Target) bool { return t.Index < 64 && s&(1<<uint(t.Index)) != 0 }

// pickTry chooses the target of one try. The first try is the picker's choice. A retry takes
// the picker's choice unless that target was tried already; pickers that rotate
// (round-robin, random, least-connections, latency) then usually give another one on a
// second pick, and a ring (which maps one key to one target) is walked onward from the
// target it chose to the next usable one, as Kong's ring-balancer moves to the next slot.
// When every usable target was tried, the picker's choice is tried again.
func pickTry(b balancer.Picker, key balancer.Key, done tried, try int) (*balancer.Target, error) {
	t, err := b.Pick(key)
	if err != nil || try == 0 || !done.has(t) {
		return t, err
	}
	cnt, _ := b.(balancer.Counter)
	for range 2 {
		if cnt != nil {
			cnt.Discard(t)
		}
		if t, err = b.Pick(key); err != nil || !done.has(t) {
			return t, err
		}
	}
	ts := b.Targets()
	for i := 1; i < len(ts); i++ {
		c := ts[(t.Index+i)%len(ts)]
		if c.Weight > 0 && c.Healthy() && !done.has(c) {
			if cnt != nil {
				cnt.Discard(t)
				cnt.Claim(c)
			}
			return c, nil
		}
	}
	return t, nil
}

// retryable tells whether a failed try may be repeated on another target. A connection that
// was refused, or not made in time, carried nothing, so every request may go again. After a
// reset, a timeout or a closed keep-alive connection the upstream may have acted on the
// request: only idempotent requests whose body can be sent again are repeated (RFC 9110
// §9.2.2; nginx's proxy_next_upstream error timeout, non_idempotent off).
func retryable(err error, idempotent, resendable bool) bool {
	if isRefused(err) || errors.Is(err, upstream.ErrDialTimeout) {
		return true
	}
	if !idempotent || !resendable {
		return false
	}
	return errors.Is(err, errUpstreamClosed) || isTimeout(err) || isReset(err)
}

// pickAllowed is pickTry that also asks the target's circuit breaker: a target whose circuit
// is open (or half-open with its probes taken) is skipped like one already tried, without
// counting as a retry. When every target refuses, the answer is ErrNoTarget (503).
func pickAllowed(svc *snapshot.Service, key balancer.Key, done *tried, try int) (*balancer.Target, circuit.Ticket, *snapshot.Failures, error) {
	b := svc.Balancer
	for range len(b.Targets()) + 1 {
		t, err := pickTry(b, key, *done, try)
		if err != nil {
			return nil, circuit.Ticket{}, nil, err
		}
		br, fails := svc.TargetBreaker(t)
		if br == nil {
			return t, circuit.Ticket{}, nil, nil
		}
		if tk, ok := br.Allow(); ok {
			return t, tk, fails, nil
		}
		if cnt, ok := b.(balancer.Counter); ok {
			cnt.Discard(t)
		}
		if done.has(t) {
			break // every usable target was tried or refused
		}
		done.add(t)
		try = max(try, 1) // from now on, skip what was refused
	}
	return nil, circuit.Ticket{}, nil, balancer.ErrNoTarget
}
