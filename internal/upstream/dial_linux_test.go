package upstream

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// A real dial timeout on loopback: a listener with a backlog of 0 that never
// accepts holds one connection in its queue; Linux then drops further SYNs,
// so the next connect waits for a retransmission, far past the timeout.
func TestDialTimeout(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
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
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	full := false
	for range 4 { // fill the queue until a connect hangs
		c, err := net.DialTimeout("tcp", addr, 50*time.Millisecond)
		if err != nil {
			full = true
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	// TestDialErrorMapping still covers how a timed-out dial is reported
	if !full {
		t.Skip("skipped when 4 connects to a listener with a full backlog of 0 all succeed within 50 ms (this kernel queues past the backlog): no dial can be made to time out on loopback")
	}
	p := newPool(t, Config{Addr: addr, ConnectTimeout: 50 * time.Millisecond})
	_, err = p.Get(time.Time{})
	if !errors.Is(err, ErrDialTimeout) {
		t.Fatalf("Get: %v, want ErrDialTimeout", err)
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("Get: %v (%T) is not a net.Error that timed out", err, err)
	}
	wantStats(t, p, 0, 0)
}
