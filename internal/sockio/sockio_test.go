package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"tollgate/internal/testnet"
)

// kinds are the two connections every behaviour is checked on: the raw one must answer as
// the standard library's does.
var kinds = []struct {
	name string
	wrap func(*net.TCPConn) net.Conn
}{
	{"TCPConn", func(c *net.TCPConn) net.Conn { return c }},
	{"sockio", func(c *net.TCPConn) net.Conn { return New(c) }},
}

func TestConnLikeTCPConn(t *testing.T) {
	cases := []struct {
		name string
		// run drives c (the wrapped end) and peer, and returns the error to judge
		run     func(t *testing.T, c net.Conn, peer *net.TCPConn) error
		is      error  // errors.Is must hold; nil: the call must succeed
		op      string // the *net.OpError's Op, when one is expected
		timeout bool
	}{
		{name: "read what the peer wrote", run: func(t *testing.T, c net.Conn, peer *net.TCPConn) error {
			mustWrite(t, peer, "hello")
			got, err := io.ReadAll(io.LimitReader(c, 5))
			if string(got) != "hello" {
				t.Errorf("read %q", got)
			}
			return err
		}},
		{name: "write reaches the peer", run: func(t *testing.T, c net.Conn, peer *net.TCPConn) error {
			n, err := c.Write([]byte("hello"))
			if n != 5 {
				t.Errorf("wrote %d", n)
			}
			got := make([]byte, 5)
			if _, rerr := io.ReadFull(peer, got); rerr != nil || string(got) != "hello" {
				t.Errorf("peer read %q, %v", got, rerr)
			}
			return err
		}},
		{name: "empty read and write", run: func(t *testing.T, c net.Conn, _ *net.TCPConn) error {
			if _, err := c.Read(nil); err != nil {
				return err
			}
			n, err := c.Write(nil)
			if n != 0 {
				t.Errorf("wrote %d", n)
			}
			return err
		}},
		{name: "end of stream", is: io.EOF, run: func(t *testing.T, c net.Conn, peer *net.TCPConn) error {
			mustWrite(t, peer, "x")
			_ = peer.CloseWrite()
			b := make([]byte, 8)
			if n, err := c.Read(b); n != 1 || err != nil {
				t.Errorf("first read %d, %v", n, err)
			}
			n, err := c.Read(b)
			if n != 0 {
				t.Errorf("read %d after the end", n)
			}
			return err
		}},
		{name: "read deadline", is: os.ErrDeadlineExceeded, op: "read", timeout: true,
			run: func(t *testing.T, c net.Conn, _ *net.TCPConn) error {
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
				_, err := c.Read(make([]byte, 8))
				return err
			}},
		{name: "deadline already past", is: os.ErrDeadlineExceeded, op: "read", timeout: true,
			run: func(t *testing.T, c net.Conn, peer *net.TCPConn) error {
				mustWrite(t, peer, "waiting")
				_ = c.SetReadDeadline(time.Now().Add(-time.Second))
				_, err := c.Read(make([]byte, 8))
				return err
			}},
		{name: "write deadline with the peer not reading", is: os.ErrDeadlineExceeded, op: "write", timeout: true,
			run: func(t *testing.T, c net.Conn, _ *net.TCPConn) error {
				_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				n, err := c.Write(make([]byte, 64<<20))
				if n == 0 || n == 64<<20 {
					t.Errorf("wrote %d of %d before the deadline", n, 64<<20)
				}
				return err
			}},
		{name: "read after close", is: net.ErrClosed, op: "read", run: func(t *testing.T, c net.Conn, _ *net.TCPConn) error {
			_ = c.Close()
			_, err := c.Read(make([]byte, 8))
			return err
		}},
		{name: "write after close", is: net.ErrClosed, op: "write", run: func(t *testing.T, c net.Conn, _ *net.TCPConn) error {
			_ = c.Close()
			_, err := c.Write([]byte("x"))
			return err
		}},
		{name: "close while a read waits", is: net.ErrClosed, op: "read", run: func(t *testing.T, c net.Conn, _ *net.TCPConn) error {
			time.AfterFunc(30*time.Millisecond, func() { _ = c.Close() })
			_, err := c.Read(make([]byte, 8))
			return err
		}},
		{name: "reset by the peer", is: syscall.ECONNRESET, op: "read", run: func(t *testing.T, c net.Conn, peer *net.TCPConn) error {
			_ = peer.SetLinger(0)
			_ = peer.Close()
			time.Sleep(20 * time.Millisecond)
			_, err := c.Read(make([]byte, 8))
			return err
		}},
		{name: "write to a reset peer: an error, no SIGPIPE", is: syscall.EPIPE, op: "write",
			run: func(t *testing.T, c net.Conn, peer *net.TCPConn) error {
				_ = peer.SetLinger(0)
				_ = peer.Close()
				time.Sleep(20 * time.Millisecond)
				var err error
				for range 3 { // the first may report the reset instead
					if _, err = c.Write([]byte("x")); errors.Is(err, syscall.EPIPE) {
						break
					}
				}
				return err
			}},
	}
	for _, tc := range cases {
		for _, k := range kinds {
			t.Run(tc.name+"/"+k.name, func(t *testing.T) {
				d, a := testnet.Pair(t)
				err := tc.run(t, k.wrap(a), d)
				if tc.is == nil {
					if err != nil {
						t.Fatalf("error %v", err)
					}
					return
				}
				if !errors.Is(err, tc.is) {
					t.Fatalf("error %v, want one matching %v", err, tc.is)
				}
				if tc.op != "" {
					var oe *net.OpError
					if !errors.As(err, &oe) || oe.Op != tc.op || oe.Net != "tcp" {
						t.Fatalf("error %#v, want a *net.OpError of op %q on tcp", err, tc.op)
					}
				}
				var ne net.Error
				if got := errors.As(err, &ne) && ne.Timeout(); got != tc.timeout {
					t.Fatalf("Timeout() %v, want %v (%v)", got, tc.timeout, err)
				}
			})
		}
	}
}

func mustWrite(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// TestConnWriteWaitsForRoom writes more than the socket buffers hold to a peer that reads
// nothing yet: the write must wait on the poller, not return short or spin, and finish once
// the peer reads.
func TestConnWriteWaitsForRoom(t *testing.T) {
	const size = 32 << 20
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			d, a := testnet.Pair(t)
			c := k.wrap(a)
			out := bytes.Repeat([]byte("0123456789abcdef"), size/16)
			type result struct {
				n   int
				err error
			}
			res := make(chan result, 1)
			go func() { n, err := c.Write(out); res <- result{n, err} }()
			select {
			case r := <-res:
				t.Fatalf("write returned %d, %v with the peer not reading", r.n, r.err)
			case <-time.After(50 * time.Millisecond):
			}
			got, err := io.ReadAll(io.LimitReader(d, size))
			if err != nil || !bytes.Equal(got, out) {
				t.Fatalf("peer read %d bytes (%v), want the %d written", len(got), err, size)
			}
			if r := <-res; r.n != size || r.err != nil {
				t.Fatalf("write %d, %v", r.n, r.err)
			}
		})
	}
}

// TestConnLargeTransfers sends more than the socket buffers hold, both ways at once, so
// writes wait on the poller part-way and reads return pieces; every byte must arrive in
// order.
func TestConnLargeTransfers(t *testing.T) {
	for _, size := range []int{1, 4 << 10, 1 << 20, 8 << 20} {
		for _, k := range kinds {
			t.Run(k.name+"/"+strconv.Itoa(size), func(t *testing.T) {
				d, a := testnet.Pair(t)
				c := k.wrap(a)
				out := make([]byte, size)
				for i := range out {
					out[i] = byte(i*7 + i>>9)
				}
				var wg sync.WaitGroup
				var werr, perr error
				var fromPeer, fromC []byte
				wg.Add(3)
				go func() { defer wg.Done(); _, werr = c.Write(out) }()
				go func() { // the peer echoes what it reads, then reads nothing more
					defer wg.Done()
					fromC = make([]byte, size)
					if _, perr = io.ReadFull(d, fromC); perr == nil {
						_, perr = d.Write(fromC)
					}
				}()
				go func() {
					defer wg.Done()
					fromPeer = make([]byte, size)
					_, _ = io.ReadFull(c, fromPeer)
				}()
				done := make(chan struct{})
				go func() { wg.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("transfer did not finish in 20 s")
				}
				if werr != nil || perr != nil {
					t.Fatalf("write %v, peer %v", werr, perr)
				}
				if !bytes.Equal(fromC, out) || !bytes.Equal(fromPeer, out) {
					t.Fatal("bytes differ")
				}
			})
		}
	}
}

// BenchmarkPingPong is one byte each way per operation on a loopback pair, the wrapped
// end against a plain one.
func BenchmarkPingPong(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			d, a := testnet.Pair(b)
			c := k.wrap(a)
			go func() {
				buf := make([]byte, 1)
				for {
					if _, err := d.Read(buf); err != nil {
						return
					}
					if _, err := d.Write(buf); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, 1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
