package upstream

import (
	"bufio"
	"net"
	"time"
)

// Conn is a connection lent by Get, until Put or Discard. R and W are
// attached to it while it is lent: they come from the pool's buffer pools and
// go back there with the connection, so an idle connection holds no buffers.
// It is closed through Pool.Discard, never its own Close, which would leave
// its slot taken.
type Conn struct {
	net.Conn // the connection, after TLS and Config.Wrap

	R *bufio.Reader
	W *bufio.Writer

	// idleSince is when it was last put back, on the monotonic clock as an
	// offset from Pool.epoch: about half the cost of time.Now, which reads
	// the wall clock too. The cleaner reads it under Pool.mu, after the Put
	// that set it filed the connection under the same lock.
	idleSince time.Duration
	reused    bool
	straight  bool // this Get took it off the idle list, without a wait or a dial
	lent      bool // between Get and Put/Discard: catches a second release
}

// Reused reports whether c served a request before, i.e. came back through
// Put at least once. A request that fails on a reused connection before any
// response byte may have met the upstream closing it while idle, and is safe
// to retry where a failure on a fresh connection is not.
func (c *Conn) Reused() bool { return c.reused }

// Straight reports whether the Get that lent c took it off the idle list at once, without
// waiting for a slot or dialling: then a clock the caller read just before Get is still
// current, and need not be read again (the proxy's per-read deadlines).
func (c *Conn) Straight() bool { return c.straight }

// lend attaches buffers to a connection that is leaving the pool.
func (p *Pool) lend(c *Conn) *Conn {
	c.R = p.readers.Get().(*bufio.Reader)
	c.R.Reset(c.Conn)
	c.W = p.writers.Get().(*bufio.Writer)
	c.W.Reset(c.Conn)
	c.lent, c.straight = true, false
	return c
}

// reclaim takes the buffers back from a connection that is being put back or
// discarded, and reports whether it is clean: nothing unread in R (bytes the
// upstream sent beyond the response would be read as the next response),
// nothing unflushed in W. A second release of the same connection would
// free its slot twice and hand it to two callers, so it panics: that is a
// bug in the caller, not a condition to handle.
func (p *Pool) reclaim(c *Conn) (clean bool) {
	if !c.lent {
		panic("upstream: Put or Discard of a connection not lent by Get")
	}
	c.lent = false
	clean = c.R.Buffered() == 0 && c.W.Buffered() == 0
	// the pooled buffers must not keep the connection reachable
	c.R.Reset(nil)
	c.W.Reset(nil)
	p.readers.Put(c.R)
	p.writers.Put(c.W)
	c.R, c.W = nil, nil
	return clean
}
