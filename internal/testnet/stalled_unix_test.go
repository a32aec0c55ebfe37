//go:build unix

package testnet

import (
	"net"
	"testing"
	"time"
)

// TestStalledConnectAddr: a connect to the address times out, for as long as the test runs.
func TestStalledConnectAddr(t *testing.T) {
	addr := StalledConnectAddr(t)
	for _, timeout := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond} {
		start := time.Now()
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err == nil {
			c.Close()
			t.Fatalf("a connect with a %v timeout succeeded", timeout)
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("connect: %v, want a timeout", err)
		}
		if took := time.Since(start); took < timeout*8/10 {
			t.Fatalf("connect failed after %v, before its %v timeout", took, timeout)
		}
	}
}
