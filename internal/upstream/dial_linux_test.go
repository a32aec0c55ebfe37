package upstream

import (
	"errors"
	"net"
	"testing"
	"time"

	"tollgate/internal/testnet"
)

// A real dial timeout on loopback, on an address whose connects hang
// (testnet.StalledConnectAddr).
func TestDialTimeout(t *testing.T) {
	addr := testnet.StalledConnectAddr(t)
	p := newPool(t, Config{Addr: addr, ConnectTimeout: 50 * time.Millisecond})
	_, err := p.Get(time.Time{})
	if !errors.Is(err, ErrDialTimeout) {
		t.Fatalf("Get: %v, want ErrDialTimeout", err)
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("Get: %v (%T) is not a net.Error that timed out", err, err)
	}
	wantStats(t, p, 0, 0)
}
