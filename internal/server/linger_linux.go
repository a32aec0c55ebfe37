package server

import (
	"net"
	"syscall"
)

// pendingInput peeks, without blocking and without consuming, whether the client has sent
// bytes nobody read.
func pendingInput(c *net.TCPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var n int
	var buf [1]byte
	// Control, not Read: Close may come from another goroutine while the connection's own
	// reader is parked in Read holding the read lock (an idle keep-alive closed at shutdown)
	_ = rc.Control(func(fd uintptr) {
		// MSG_DONTWAIT: an empty socket answers EAGAIN at once
		n, _, _ = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	})
	return n > 0
}
