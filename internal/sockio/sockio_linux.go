package sockio

import (
	"io"
	"syscall"
	"unsafe"
)

func (c *Conn) init() {
	rc, err := c.TCPConn.SyscallConn()
	if err != nil {
		return // a connection already closed: the TCPConn's own methods report it
	}
	c.rc = rc
	c.rf, c.wf = c.recv, c.send
}

func (c *Conn) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rp, c.rn, c.re = p, 0, 0
	err := c.rc.Read(c.rf)
	n, errno := c.rn, c.re
	c.rp = nil
	switch {
	case err != nil || errno != 0:
		return 0, c.opError("read", "recvfrom", err, errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// recv is the poller's callback for a read: true when done (data, end of stream or an
// error), false to wait for the socket to become readable.
func (c *Conn) recv(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&c.rp[0])), uintptr(len(c.rp)), 0, 0, 0)
		switch e {
		case 0:
			c.rn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.re = e
		return true
	}
}

func (c *Conn) write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.wp, c.wn, c.we, c.short = p, 0, 0, false
	err := c.rc.Write(c.wf)
	n, errno := c.wn, c.we
	c.wp = nil
	switch {
	case err != nil || errno != 0:
		return n, c.opError("write", "sendto", err, errno)
	case c.short:
		return n, io.ErrUnexpectedEOF
	}
	return n, nil
}

// send is the poller's callback for a write: it writes until all of wp is out (true), the
// send buffer is full (false: wait for room), or an error (true). MSG_NOSIGNAL: a peer gone
// answers EPIPE without raising SIGPIPE.
func (c *Conn) send(fd uintptr) bool {
	for c.wn < len(c.wp) {
		n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd,
			uintptr(unsafe.Pointer(&c.wp[c.wn])), uintptr(len(c.wp)-c.wn), syscall.MSG_NOSIGNAL, 0, 0)
		switch {
		case e == 0 && n > 0:
			c.wn += int(n)
		case e == 0: // nothing taken and no error: the standard library's Write gives up too
			c.short = true
			return true
		case e == syscall.EINTR:
		case e == syscall.EAGAIN:
			return false
		default:
			c.we = e
			return true
		}
	}
	return true
}
