package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"tollgate/internal/sockio"
)

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := newPool(t, Config{Addr: addr, MaxConns: 1, ConnectTimeout: time.Second})
	_, err = p.Get(time.Time{})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Get: %v, want ECONNREFUSED", err)
	}
	if errors.Is(err, ErrDialTimeout) {
		t.Fatalf("Get: %v matches ErrDialTimeout", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Fatalf("error %q does not name the address", err)
	}
	wantStats(t, p, 0, 0) // the slot is free again
}

// timeoutErr is a net.Error that timed out, as some dialers report it.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// The mapping of dial errors, for the forms a timeout takes that a loopback
// test cannot produce at will.
func TestDialErrorMapping(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name    string
		op      string
		err     error
		timeout bool
	}{
		{"deadline exceeded", "dial", &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"context deadline", "dial", &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}, true},
		{"net.Error timeout", "dial", timeoutErr{}, true},
		{"handshake read timed out", "tls handshake", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"refused", "dial", refused, false},
		{"certificate", "tls handshake", x509.UnknownAuthorityError{}, false},
		{"eof", "tls handshake", io.EOF, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := dialErr(tc.op, "up:80", tc.err)
			if got := errors.Is(err, ErrDialTimeout); got != tc.timeout {
				t.Errorf("errors.Is(ErrDialTimeout) = %v, want %v", got, tc.timeout)
			}
			ne, ok := err.(net.Error)
			if !ok || ne.Timeout() != tc.timeout {
				t.Errorf("not a net.Error with Timeout() = %v", tc.timeout)
			}
			if !errors.Is(err, tc.err) {
				t.Error("cause not reachable through errors.Is")
			}
			if want := tc.op + " upstream up:80: "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err, want)
			}
		})
	}
	if err := dialErr("dial", "up:80", refused); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Error("ECONNREFUSED not reachable through errors.Is")
	}
}

// An upstream that accepts but never answers the TLS handshake: the handshake
// is bounded like the dial, by ConnectTimeout or by Get's earlier deadline.
func TestTLSHandshakeTimeout(t *testing.T) {
	const short = 50 * time.Millisecond
	cases := []struct {
		name           string
		connectTimeout time.Duration
		deadline       time.Duration
	}{
		{"connect timeout", short, 0},
		{"get deadline first", 10 * time.Second, short},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, nil)
			p := newPool(t, Config{Addr: s.addr, ConnectTimeout: tc.connectTimeout, TLS: &tls.Config{InsecureSkipVerify: true}})
			var deadline time.Time
			if tc.deadline > 0 {
				deadline = time.Now().Add(tc.deadline)
			}
			start := time.Now()
			_, err := p.Get(deadline)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Fatalf("Get took %v", elapsed)
			}
			if !errors.Is(err, ErrDialTimeout) {
				t.Fatalf("Get: %v, want ErrDialTimeout", err)
			}
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatalf("Get: %v (%T) is not a net.Error that timed out", err, err)
			}
			wantStats(t, p, 0, 0)
			waitFor(t, "the server to see the close", func() bool { return s.closed.Load() == 1 })
		})
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cases := []struct {
		name string
		tls  *tls.Config
	}{
		{"verification off", &tls.Config{InsecureSkipVerify: true}},
		// httptest's certificate names 127.0.0.1: the server name is taken from Addr
		{"verified, server name from Addr", &tls.Config{RootCAs: roots}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var wrapped net.Conn
			p := newPool(t, Config{
				Addr:           srv.Listener.Addr().String(),
				TLS:            tc.tls,
				ConnectTimeout: 2 * time.Second,
				Wrap:           func(c net.Conn) net.Conn { wrapped = c; return c },
			})
			for i := range 2 {
				c := mustGet(t, p)
				if c.Reused() != (i == 1) {
					t.Fatalf("request %d: Reused() = %v", i, c.Reused())
				}
				fmt.Fprintf(c.W, "GET /%d HTTP/1.1\r\nHost: example.com\r\n\r\n", i)
				if err := c.W.Flush(); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(c.R, nil)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := fmt.Sprintf("hello /%d", i); err != nil || string(body) != want {
					t.Fatalf("body %q, %v; want %q", body, err, want)
				}
				p.Put(c)
			}
			tc, ok := wrapped.(*tls.Conn)
			if !ok {
				t.Fatalf("Wrap got %T, want the *tls.Conn", wrapped)
			}
			if _, ok := tc.NetConn().(*sockio.Conn); !ok {
				t.Fatalf("TLS runs over a %T, want the raw-call socket (*sockio.Conn)", tc.NetConn())
			}
			wantStats(t, p, 1, 1)
		})
	}
}
