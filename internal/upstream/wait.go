package upstream

import "time"

// A caller of Get that finds MaxConns connections open waits in a queue, first
// come first served. Whoever frees something hands it, under the pool's lock,
// to the first waiter still waiting: Put a connection, Discard (or a failed
// dial, or the cleaner) a slot to dial in, Close an error. Handing goes
// through a channel with room for one, so it never blocks under the lock.

// handoff is what a waiter is handed: a connection (c), an error (err), or,
// with both nil, a free slot in which the waiter dials.
type handoff struct {
	c   *Conn
	err error
}

type waiter struct {
	ch chan handoff // buffered 1: exactly one hand-off per waiter
	// under Pool.mu
	handed bool // popped and handed: the hand-off is in ch
	gone   bool // withdrew on timeout: pop skips it
}

func (w *waiter) hand(h handoff) {
	w.handed = true
	w.ch <- h
}

// wait blocks a queued waiter until it is handed something or its time runs
// out; deadline is Get's.
func (p *Pool) wait(w *waiter, deadline time.Time) (*Conn, error) {
	until := deadline
	if until.IsZero() && p.cfg.ConnectTimeout > 0 {
		until = time.Now().Add(p.cfg.ConnectTimeout)
	}
	var expired <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		expired = t.C
	}
	select {
	case h := <-w.ch:
		switch {
		case h.err != nil:
			return nil, h.err
		case h.c != nil:
			return p.lend(h.c), nil
		default:
			return p.dial(deadline)
		}
	case <-expired:
		return nil, p.withdraw(w)
	}
}

// withdraw ends a wait whose time ran out. A waiter still queued leaves the
// queue. One that was handed something in the meantime (the hand-off and the
// timer raced, and the hand-off took the lock first) passes it on, so nothing
// leaks: a connection is filed again as by Put (to the next waiter or the idle
// list), a slot goes to the next waiter or is released. The waiter does not
// keep it: its caller's deadline has passed, and a connection used past it
// would only fail on its first write.
func (p *Pool) withdraw(w *waiter) error {
	p.mu.Lock()
	if !w.handed {
		p.waiters.remove(w)
		p.mu.Unlock()
		return p.errFull
	}
	h := <-w.ch // sent under the lock, before handed was set: ready
	kept := true
	switch {
	case h.err != nil:
		p.mu.Unlock()
		return h.err
	case h.c != nil:
		kept = p.keepLocked(h.c)
	default:
		p.releaseSlotLocked()
	}
	p.mu.Unlock()
	if !kept {
		_ = h.c.Conn.Close() // dropping it: a failed close changes nothing
	}
	return p.errFull
}

// waitQueue is a FIFO of waiters. A waiter that withdraws is only marked gone
// and skipped by pop, so withdrawing costs O(1) however long the queue; gone
// entries are compacted away when they fill half the backing array.
type waitQueue struct {
	items []*waiter // items[head:] in arrival order, gone ones included
	head  int
	live  int // waiters not gone
}

func (q *waitQueue) push(w *waiter) {
	if len(q.items) == cap(q.items) && len(q.items)-q.live >= len(q.items)/2 {
		q.compact()
	}
	q.items = append(q.items, w)
	q.live++
}

// pop returns the first waiter still waiting, or nil.
func (q *waitQueue) pop() *waiter {
	for q.head < len(q.items) {
		w := q.items[q.head]
		q.items[q.head] = nil
		q.head++
		if !w.gone {
			q.live--
			q.resetIfEmpty()
			return w
		}
	}
	q.resetIfEmpty()
	return nil
}

// remove withdraws w, which is queued and not gone.
func (q *waitQueue) remove(w *waiter) {
	w.gone = true
	q.live--
}

func (q *waitQueue) len() int { return q.live }

func (q *waitQueue) resetIfEmpty() {
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	}
}

// compact moves the waiters still waiting to the front, in order.
func (q *waitQueue) compact() {
	n := 0
	for _, w := range q.items[q.head:] {
		if !w.gone {
			q.items[n] = w
			n++
		}
	}
	clear(q.items[n:])
	q.items = q.items[:n]
	q.head = 0
}
