package server

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestLimitListener: connections over the per-address or total limit are answered and
// closed at once; closing a connection frees its slot (once, however often Close is called).
func TestLimitListener(t *testing.T) {
	tests := []struct {
		name       string
		limits     ConnLimits
		open       int // connections held before the probe
		wantStatus int // the probe's answer; 0 = accepted
	}{
		{"under both limits", ConnLimits{Max: 10, PerIP: 3}, 2, 0},
		{"per address", ConnLimits{Max: 10, PerIP: 3}, 3, 429},
		{"total", ConnLimits{Max: 2}, 2, 503},
		{"no limits", ConnLimits{}, 5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			l := newLimitListener(raw, tc.limits, slog.New(slog.DiscardHandler))
			defer l.Close()
			accepted := make(chan net.Conn, 16)
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			for i := 0; i < tc.open; i++ {
				c, err := net.Dial("tcp", raw.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				select {
				case <-accepted:
				case <-time.After(2 * time.Second):
					t.Fatalf("connection %d not accepted", i)
				}
			}
			probe, err := net.Dial("tcp", raw.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer probe.Close()
			_ = probe.SetDeadline(time.Now().Add(2 * time.Second))
			if tc.wantStatus == 0 {
				select {
				case c := <-accepted:
					c.Close()
					c.Close() // a second Close must not free a second slot
				case <-time.After(2 * time.Second):
					t.Fatal("probe not accepted")
				}
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(probe), nil)
			if err != nil {
				t.Fatalf("no refusal answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || len(body) == 0 || body[0] != '{' {
				t.Fatalf("refusal %d %s, want %d with a JSON body", resp.StatusCode, body, tc.wantStatus)
			}
		})
	}
}

// TestLimitListenerRelease: Close gives the slot back exactly once.
func TestLimitListenerRelease(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(raw, ConnLimits{Max: 1, PerIP: 1}, slog.New(slog.DiscardHandler)).(*limitListener)
	defer l.Close()
	for round := 0; round < 3; round++ {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		sc, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if l.total.Load() != 1 || len(l.perIP) != 1 {
			t.Fatalf("round %d: total %d, addresses %d", round, l.total.Load(), len(l.perIP))
		}
		sc.Close()
		sc.Close()
		c.Close()
		if l.total.Load() != 0 || len(l.perIP) != 0 {
			t.Fatalf("round %d after close: total %d, addresses %d", round, l.total.Load(), len(l.perIP))
		}
	}
}
