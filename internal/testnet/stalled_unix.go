//go:build unix

package testnet

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// StalledConnectAddr returns a loopback address whose connects hang, for real connect
// timeouts without traffic leaving the machine: a listening socket with a backlog of 0 that
// never accepts, whose queue it fills, so the kernel drops further SYNs (Linux does when the
// accept queue is full) and a connect waits for a retransmission. It fails the test when the
// queue cannot be filled. The socket is closed when the test ends.
func StalledConnectAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr // this connect hung: the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatalf("testnet: connects to %s kept succeeding: could not fill its accept queue", addr)
	return ""
}
