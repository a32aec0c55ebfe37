//go:build unix

package server

import "syscall"

// canPark: a parked connection is watched through the runtime's poller (RawConn.Read).
const canPark = true

// awaitReadable waits in the runtime's poller until the socket has a byte to read or has been
// closed by the client, and reports which. RawConn.Read calls the function once before it
// waits, and the poller's readiness is edge-triggered, so the first call must look for itself:
// a byte that arrived before the wait began raises no new event.
func awaitReadable(rc syscall.RawConn) bool {
	var data bool
	err := rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return false // nothing yet: wait for the poller
		}
		data = err == nil && n > 0 // n == 0: the client closed; an error: reset
		return true
	})
	return err == nil && data
}
