package proxy

import (
	"cmp"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"tollgate/internal/testnet"
)

// ended waits up to limit for c to report the end of its connection (EOF or a reset) and
// returns how long that took; bytes read meanwhile are discarded. It fails on a timeout.
func ended(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	buf := make([]byte, 64<<10)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the connection was still open after %v", limit)
		}
		return time.Since(start)
	}
}

// TestTunnel: the upgraded connection's timeouts, through real sockets. The client and the
// upstream are the test's ends of two loopback connections; the tunnel holds the others.
func TestTunnel(t *testing.T) {
	const idle = 300 * time.Millisecond
	tests := []struct {
		name string
		idle time.Duration // idle when 0
		// act drives the two ends; the tunnel was started just before
		act func(t *testing.T, client, upstream *net.TCPConn)
	}{
		{"silent both ways: closed after idle", 0, func(t *testing.T, client, upstream *net.TCPConn) {
			if d := ended(t, client, 5*time.Second); d < idle*8/10 {
				t.Errorf("closed after %v, before the idle bound %v", d, idle)
			}
			ended(t, upstream, time.Second)
		}},
		{"the client's messages keep it open", 0, func(t *testing.T, client, upstream *net.TCPConn) {
			// 8 messages 100 ms apart: 800 ms, well past one idle period, and the upstream
			// says nothing all along (nginx restarts the timer on every event of the tunnel)
			buf := make([]byte, 4)
			for i := range 8 {
				time.Sleep(100 * time.Millisecond)
				if _, err := client.Write([]byte("ping")); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				_ = upstream.SetReadDeadline(time.Now().Add(2 * time.Second))
				if _, err := io.ReadFull(upstream, buf); err != nil {
					t.Fatalf("message %d did not reach the upstream: %v", i, err)
				}
			}
			// then silence: the tunnel ends one idle period later
			ended(t, client, 5*time.Second)
		}},
		{"a half-close passes on and the rest still flows", 0, func(t *testing.T, client, upstream *net.TCPConn) {
			if _, err := upstream.Write([]byte("last")); err != nil {
				t.Fatal(err)
			}
			_ = upstream.CloseWrite()
			_ = client.SetReadDeadline(time.Now().Add(2 * time.Second))
			got, err := io.ReadAll(client)
			if err != nil || string(got) != "last" {
				t.Fatalf("client read %q, %v; want the bytes then EOF", got, err)
			}
			if _, err := client.Write([]byte("reply")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 5)
			_ = upstream.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(upstream, buf); err != nil || string(buf) != "reply" {
				t.Fatalf("upstream read %q, %v", buf, err)
			}
			// the half-closed tunnel is bounded by idle too
			ended(t, upstream, 5*time.Second)
		}},
		{"a client that stops reading: closed after the send timeout", 30 * time.Second, func(t *testing.T, client, upstream *net.TCPConn) {
			_ = client.SetReadBuffer(4096)
			done := make(chan error, 1)
			go func() {
				// keep the tunnel busy (not idle) while the client reads nothing
				chunk := make([]byte, 64<<10)
				for {
					_ = upstream.SetWriteDeadline(time.Now().Add(5 * time.Second))
					if _, err := upstream.Write(chunk); err != nil {
						done <- err
						return
					}
				}
			}()
			select {
			case <-done: // the tunnel closed the upstream's connection
			case <-time.After(5 * time.Second):
				t.Fatal("the tunnel still took the upstream's bytes after 5 s")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, gwClient := testnet.Pair(t)
			gwUp, upstream := testnet.Pair(t)
			tn := &tunnel{client: gwClient, upstream: gwUp, idle: cmp.Or(tt.idle, idle), upSend: time.Second,
				clientSend: 400 * time.Millisecond}
			done := make(chan struct{})
			go func() {
				tn.run(gwUp)
				close(done)
			}()
			tt.act(t, client, upstream)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the tunnel did not end")
			}
			// each case ends in a timeout, which closes both of the gateway's connections
			for _, c := range []net.Conn{gwClient, gwUp} {
				if err := c.SetReadDeadline(time.Time{}); !errors.Is(err, net.ErrClosed) {
					t.Errorf("%v: still open after the tunnel ended (%v)", c.LocalAddr(), err)
				}
			}
		})
	}
}
