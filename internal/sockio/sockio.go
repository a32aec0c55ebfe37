// Package sockio gives a TCP connection reads and writes that make their system calls raw,
// still under the runtime's poller.
//
// Why not the standard library's: a *net.TCPConn reads and writes through syscall.Read and
// syscall.Write, which tell the scheduler a system call is starting and ending
// (entersyscall/exitsyscall) in case it blocks; the scheduler's monitor thread then wakes
// every 20 µs while the process is busy, to take the processor away from calls that
// outlast a tick. A socket the runtime polls is non-blocking, so its reads and writes never
// block: they return at once, with data or EAGAIN. Made raw (RawSyscall), they skip that
// bookkeeping and the monitor's wake-ups, and recvfrom and sendto skip the kernel's
// file-layer work that read and write go through. Measured on the proxy's path
// (bench/profiles/README.md): about 4% fewer user-mode instructions per request and less
// kernel time. golang/go#19563 discusses the same trade; gVisor's netstack makes its
// non-blocking descriptor calls raw for the same reason.
//
// What stays the runtime's: waiting. When a call answers EAGAIN, syscall.RawConn parks the
// goroutine on the poller exactly as a *net.TCPConn's own Read does, deadlines included.
//
// One difference from net.Conn: a Read may run beside a Write (each has its own state), but
// two Reads at once, or two Writes at once, race. Every engine here has one reader and one
// writer per connection; the race detector (CI runs with -race) would flag a second one.
package sockio

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// Conn is a TCP connection whose Read and Write make raw system calls (Linux; elsewhere,
// and when the socket cannot be reached, they are the *net.TCPConn's own). Every other
// method is the *net.TCPConn's.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn // nil: Read and Write are the TCPConn's

	// rf and wf are made once per connection: a method value passed per call would be
	// allocated per call. rp and wp carry the call's buffer to them, rn and wn the result.
	rf, wf func(fd uintptr) bool
	rp, wp []byte
	rn, wn int
	re, we syscall.Errno
	short  bool // a write the kernel took nothing of, without an error
}

// New returns c with raw reads and writes.
func New(c *net.TCPConn) *Conn {
	s := &Conn{TCPConn: c}
	s.init()
	return s
}

// Read reads like (*net.TCPConn).Read: up to len(p) bytes, io.EOF when the peer has
// closed, a *net.OpError otherwise (a timeout's matches os.ErrDeadlineExceeded, a closed
// connection's net.ErrClosed).
func (c *Conn) Read(p []byte) (int, error) {
	if c.rc == nil {
		return c.TCPConn.Read(p)
	}
	return c.read(p)
}

// Write writes all of p like (*net.TCPConn).Write, waiting on the poller while the socket's
// send buffer is full; on an error it returns how much was written before it.
func (c *Conn) Write(p []byte) (int, error) {
	if c.rc == nil {
		return c.TCPConn.Write(p)
	}
	return c.write(p)
}

// opError words an error of the raw path as the standard library words a *net.TCPConn's:
// RawConn names its operations "raw-read" and "raw-write", and a system call's errno comes
// bare.
func (c *Conn) opError(op, call string, err error, errno syscall.Errno) error {
	var oe *net.OpError
	if err != nil {
		if errors.As(err, &oe) {
			oe.Op = op
			return oe
		}
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(),
		Err: os.NewSyscallError(call, errno)}
}
