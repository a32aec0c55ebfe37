package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tollgate/internal/sockio"
	"tollgate/internal/testnet"
)

// TestLingeringClose: a server that answers before reading the body and closes must not
// destroy its answer with a reset while the client is still sending; a client with nothing
// pending is closed at once.
func TestLingeringClose(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := lingerListener{raw}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 64)
				_, _ = c.Read(buf) // the head only; the body stays unread
				_, _ = c.Write([]byte("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				_ = c.Close()
			}()
		}
	}()
	// Go's client writes the body and reads the answer at once; a reset while it writes is
	// an error even when the answer had arrived (what made a 413 flaky end to end)
	client := &http.Client{Timeout: 10 * time.Second}
	body := strings.Repeat("x", 8<<20)
	for round := 0; round < 10; round++ {
		resp, err := client.Post("http://"+raw.Addr().String()+"/", "application/octet-stream", strings.NewReader(body))
		if err != nil {
			t.Fatalf("round %d: the answer was lost: %v", round, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("round %d: %d", round, resp.StatusCode)
		}
	}
}

// TestNoLingerUnwraps: noLinger reaches the socket through the gateway's wrappers.
func TestNoLingerUnwraps(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	go func() {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	c, err := lingerListener{raw}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lc := c.(*lingerConn)
	wrapped := &hijacked{Conn: &replayConn{Conn: &limitedConn{Conn: lc, l: &limitListener{}}}}
	noLinger(wrapped)
	if !lc.off.Load() {
		t.Fatal("noLinger did not reach the socket")
	}
}

// TestTCPUnder: the socket under the gateway's wrappers, through TLS only when asked.
func TestTCPUnder(t *testing.T) {
	_, sc := testnet.Pair(t)
	lc := &lingerConn{Conn: sockio.New(sc)}
	tlsConn := tls.Server(lc, &tls.Config{})
	tests := []struct {
		name       string
		c          net.Conn
		throughTLS bool
		want       *net.TCPConn
	}{
		{"socket", sc, false, sc},
		{"lingering", lc, false, sc},
		{"limited, sniffed", &sniffConn{Conn: &limitedConn{Conn: lc, l: &limitListener{}}}, false, sc},
		{"TLS, not through", tlsConn, false, nil},
		{"TLS, through", tlsConn, true, sc},
		{"unknown layer", struct{ net.Conn }{lc}, true, nil},
	}
	for _, tt := range tests {
		if got := tcpUnder(tt.c, tt.throughTLS); got != tt.want {
			t.Errorf("%s: tcpUnder = %v, want %v", tt.name, got, tt.want)
		}
	}
}
