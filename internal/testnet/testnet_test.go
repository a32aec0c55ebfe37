package testnet

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestPair: the two ends are connected to each other, both ways, and closed when the test
// that asked for them ends.
func TestPair(t *testing.T) {
	var kept [2]*net.TCPConn
	t.Run("pair", func(t *testing.T) {
		d, a := Pair(t)
		kept = [2]*net.TCPConn{d, a}
		for _, tc := range []struct {
			name     string
			from, to *net.TCPConn
		}{{"dialed to accepted", d, a}, {"accepted to dialed", a, d}} {
			if _, err := tc.from.Write([]byte(tc.name)); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			buf := make([]byte, len(tc.name))
			if _, err := io.ReadFull(tc.to, buf); err != nil || string(buf) != tc.name {
				t.Fatalf("%s: read %q, %v", tc.name, buf, err)
			}
		}
	})
	for i, c := range kept {
		if err := c.SetDeadline(time.Time{}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("end %d still open after its test: %v", i, err)
		}
	}
}
