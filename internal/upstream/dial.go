package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"time"

	"tollgate/internal/sockio"
)

// connect dials the upstream, runs the TLS handshake when configured, and
// applies Config.Wrap. Dial and handshake share one deadline: ConnectTimeout
// from now, or the caller's deadline when that comes first.
func (p *Pool) connect(deadline time.Time) (net.Conn, error) {
	var due time.Time
	if p.cfg.ConnectTimeout > 0 {
		due = time.Now().Add(p.cfg.ConnectTimeout)
	}
	if !deadline.IsZero() && (due.IsZero() || deadline.Before(due)) {
		due = deadline
	}
	var (
		nc  net.Conn
		err error
	)
	if p.cfg.Dial != nil {
		nc, err = p.cfg.Dial(p.cfg.Addr, due)
	} else {
		d := net.Dialer{Deadline: due}
		nc, err = d.Dial("tcp", p.cfg.Addr)
		if tc, ok := nc.(*net.TCPConn); ok && err == nil {
			// reads and writes that make raw system calls: the hot path's (package sockio)
			nc = sockio.New(tc)
		}
	}
	if err != nil {
		return nil, dialErr("dial", p.cfg.Addr, err)
	}
	if p.tls != nil {
		if nc, err = p.handshake(nc, due); err != nil {
			return nil, err
		}
	}
	if p.cfg.Wrap != nil {
		nc = p.cfg.Wrap(nc)
	}
	return nc, nil
}

// handshake runs the TLS client handshake on nc under due (zero: no bound)
// and clears the deadline after, so the caller starts with none. On failure
// nc is closed.
func (p *Pool) handshake(nc net.Conn, due time.Time) (net.Conn, error) {
	tc := tls.Client(nc, p.tls)
	if !due.IsZero() {
		if err := nc.SetDeadline(due); err != nil {
			_ = nc.Close()
			return nil, dialErr("tls handshake", p.cfg.Addr, err)
		}
	}
	if err := tc.Handshake(); err != nil {
		_ = nc.Close()
		return nil, dialErr("tls handshake", p.cfg.Addr, err)
	}
	if !due.IsZero() {
		if err := nc.SetDeadline(time.Time{}); err != nil {
			_ = nc.Close()
			return nil, dialErr("tls handshake", p.cfg.Addr, err)
		}
	}
	return tc, nil
}

// dialErr wraps a failed dial or handshake with what was being done and to
// which address, and records whether it timed out.
func dialErr(op, addr string, err error) error {
	return &dialError{op: op, addr: addr, err: err, timeout: isTimeout(err)}
}

// isTimeout recognises a deadline that ran out, in any of the forms the net
// and crypto/tls packages report it.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialError is a failed dial or TLS handshake. It is a net.Error itself, so
// a caller that classifies by Timeout (the proxy's isTimeout) needs no
// errors.As; when it timed out it matches ErrDialTimeout; Unwrap keeps the
// cause reachable (syscall.ECONNREFUSED, a certificate error).
type dialError struct {
	op, addr string
	err      error
	timeout  bool
}

func (e *dialError) Error() string   { return e.op + " upstream " + e.addr + ": " + e.err.Error() }
func (e *dialError) Unwrap() error   { return e.err }
func (e *dialError) Timeout() bool   { return e.timeout }
func (e *dialError) Temporary() bool { return e.timeout } // net.Error still requires it
func (e *dialError) Is(target error) bool {
	return e.timeout && target == ErrDialTimeout
}
