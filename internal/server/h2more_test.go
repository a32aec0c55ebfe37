package server

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"tollgate/internal/sockio"
)

// frame builds one HTTP/2 frame: type, flags, stream 1, payload.
func frame(typ, flags byte, payload ...byte) []byte {
	n := len(payload)
	return append([]byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags, 0, 0, 0, 1}, payload...)
}

func TestFinalHeadersLast(t *testing.T) {
	const headers, data, endStream, endHeaders, padded = 0x1, 0x0, 0x1, 0x4, 0x8
	cat := func(fs ...[]byte) []byte {
		var out []byte
		for _, f := range fs {
			out = append(out, f...)
		}
		return out
	}
	tests := []struct {
		name string
		p    []byte
		want bool
	}{
		{"200 head, data to follow", frame(headers, endHeaders, 0x88, 0x40), true},
		{"404 head, data to follow", frame(headers, endHeaders, 0x8d), true},
		{"after other frames", cat(frame(data, endStream, 'x'), frame(headers, endHeaders, 0x88)), true},
		{"head that ends the stream", frame(headers, endHeaders|endStream, 0x88), false},
		{"interim 100 (literal :status)", frame(headers, endHeaders, 0x48, 0x03, '1', '0', '0'), false},
		{"status from the dynamic table", frame(headers, endHeaders, 0xbe), false},
		{"CONTINUATION to follow", frame(headers, 0, 0x88), false},
		{"padded", frame(headers, endHeaders|padded, 0, 0x88), false},
		{"DATA last", cat(frame(headers, endHeaders, 0x88), frame(data, 0, 'x')), false},
		{"cut frame", frame(headers, endHeaders, 0x88)[:9], false},
		{"cut header", []byte{0, 0, 1, 1}, false},
		{"empty head block", frame(headers, endHeaders), false},
		{"nothing", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := finalHeadersLast(tc.p); got != tc.want {
				t.Errorf("finalHeadersLast = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestGuardWritesHeadWithMore: a response head written with MSG_MORE still reaches the
// client on its own (the kernel's cork ends), and with the DATA frame that follows it.
func TestGuardWritesHeadWithMore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	g := &h2Guard{Conn: &lingerConn{Conn: sockio.New(server.(*net.TCPConn))}}
	g.more = moreSocket(g.Conn)
	defer g.Close()
	if runtime.GOOS == "linux" && g.more == nil {
		t.Fatal("no socket found under the connection")
	}
	read := func(n int, within time.Duration) []byte {
		t.Helper()
		_ = client.SetReadDeadline(time.Now().Add(within))
		b := make([]byte, n)
		if _, err := io.ReadFull(client, b); err != nil {
			t.Fatalf("reading %d bytes: %v", n, err)
		}
		return b
	}
	head := frame(0x1, 0x4, 0x88)
	body := frame(0x0, 0x1, 'o', 'k')
	tests := []struct {
		name   string
		writes [][]byte
		want   int
	}{
		{"a head alone arrives", [][]byte{head}, len(head)},
		{"head then data", [][]byte{head, body}, len(head) + len(body)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.writes {
				if n, err := g.Write(w); err != nil || n != len(w) {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			got := read(tc.want, 2*time.Second)
			if string(got[len(got)-2:]) != string(tc.writes[len(tc.writes)-1][len(tc.writes[len(tc.writes)-1])-2:]) {
				t.Errorf("read %x", got)
			}
			if g.whdrN != 0 || g.wleft != 0 {
				t.Errorf("guard lost the frame boundary: whdrN %d, wleft %d", g.whdrN, g.wleft)
			}
		})
	}
}

// FuzzFinalHeadersLast: the scanner never reads past its input, and its answer depends only
// on the last frame: a whole frame put in front keeps it, a DATA frame after it ends it.
func FuzzFinalHeadersLast(f *testing.F) {
	f.Add(frame(0x1, 0x4, 0x88))
	f.Add(frame(0x1, 0x5, 0x88))
	f.Add(append(frame(0x0, 0x0, 'x'), frame(0x1, 0x4, 0x8d, 0x40)...))
	f.Add(frame(0x1, 0x4, 0x48, 0x03, '1', '0', '0'))
	f.Add([]byte{0, 0, 9, 1, 4, 0, 0, 0, 1, 0x88})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		got := finalHeadersLast(p)
		if !got {
			return
		}
		if !finalHeadersLast(append(frame(0x4, 0x0), p...)) {
			t.Errorf("a SETTINGS frame in front changed the answer for %x", p)
		}
		if finalHeadersLast(append(append([]byte(nil), p...), frame(0x0, 0x1, 'x')...)) {
			t.Errorf("a DATA frame after it did not end the answer for %x", p)
		}
	})
}
