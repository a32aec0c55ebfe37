package upstream

import "time"

// clean closes connections idle longer than IdleTimeout. It runs only while
// there are idle connections: keepLocked starts it when a connection goes
// idle and none runs, and it exits when a round finds the idle list empty, so
// a pool at rest has no goroutine. Close stops it and waits for it.
//
// It looks every IdleTimeout/4, so a connection is closed between 1 and 1.25
// times IdleTimeout after its last use, and the default 60 s costs one
// wake-up every 15 s. An exact timer per connection would cost more and buy
// nothing: an upstream that closes first is met either way, by a request
// that fails before any response byte on a Reused connection, which the
// client may retry.
func (p *Pool) clean() {
	defer p.cleaner.Done()
	t := time.NewTicker(max(p.cfg.IdleTimeout/4, time.Millisecond))
	defer t.Stop()
	var expired []*Conn // reused between rounds
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		p.mu.Lock()
		expired = p.expireLocked(time.Since(p.epoch)-p.cfg.IdleTimeout, expired)
		stop := len(p.idle) == 0
		if stop {
			p.cleaning = false
		}
		p.mu.Unlock()
		closeAll(expired)
		clear(expired)
		expired = expired[:0]
		if stop {
			return
		}
	}
}

// expireLocked moves the idle connections last used before cutoff to
// expired, freeing their slots, and keeps the others in their order. The
// whole list is scanned: it is nearly sorted by last use (Put reads the
// clock just before taking the lock), not exactly.
func (p *Pool) expireLocked(cutoff time.Duration, expired []*Conn) []*Conn {
	n := len(expired)
	kept := p.idle[:0]
	for _, c := range p.idle {
		if c.idleSince < cutoff {
			expired = append(expired, c)
		} else {
			kept = append(kept, c)
		}
	}
	clear(p.idle[len(kept):])
	p.idle = kept
	for range expired[n:] {
		p.releaseSlotLocked()
	}
	return expired
}
