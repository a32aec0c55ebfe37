package sockio

import (
	"testing"

	"tollgate/internal/testnet"
)

// TestRawCallsSkipRead checks the calls are the raw path's: the kernel counts read(2)-family
// calls in /proc/self/io's syscr, which recvfrom does not go through. Both ends are wrapped,
// so a round trip is two reads on the standard library's path and none counted on ours.
func TestRawCallsSkipRead(t *testing.T) {
	const trips = 300
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			d, a := testnet.Pair(t)
			c, peer := k.wrap(a), k.wrap(d)
			if s, ok := c.(*Conn); ok && s.rc == nil {
				t.Fatal("no raw socket")
			}
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, 1)
				for range trips {
					if _, err := peer.Read(buf); err != nil {
						done <- err
						return
					}
					if _, err := peer.Write(buf); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			before := testnet.ReadCalls(t, 0)
			buf := []byte{'x'}
			for range trips {
				if _, err := c.Write(buf); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			reads := testnet.ReadCalls(t, 0) - before
			t.Logf("%d read calls for %d round trips", reads, trips)
			if k.name == "TCPConn" && reads < 2*trips {
				t.Fatalf("%d read calls for %d round trips on the standard library's path", reads, trips)
			}
			if k.name == "sockio" && reads > trips/10 {
				t.Fatalf("%d read calls for %d round trips on the raw path", reads, trips)
			}
		})
	}
}
