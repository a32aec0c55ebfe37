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
	_ = rc.Read(func(fd uintptr) bool {
		n, _, _ = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait: an empty socket answers EAGAIN at once
	})
	return n > 0
}
