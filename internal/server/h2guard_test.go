package server

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// scriptConn is the guard's connection in these tests: Read gives what the test queued as the
// client's bytes, Write swallows the server's.
type scriptConn struct {
	net.Conn
	in bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *scriptConn) RemoteAddr() net.Addr        { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *scriptConn) Close() error                { return nil }

// guardScript drives an h2Guard frame by frame from both sides.
type guardScript struct {
	t     *testing.T
	g     *h2Guard
	c     *scriptConn
	cbuf  bytes.Buffer // the client's frames, encoded
	cfr   *http2.Framer
	sbuf  bytes.Buffer // the server's frames, encoded
	sfr   *http2.Framer
	ended bool // the guard ended the connection
}

func newGuardScript(t *testing.T) *guardScript {
	s := &guardScript{t: t, c: &scriptConn{}}
	s.g = &h2Guard{Conn: s.c, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.cfr = http2.NewFramer(&s.cbuf, nil)
	s.sfr = http2.NewFramer(&s.sbuf, nil)
	return s
}

// client passes the frames the client wrote since the last call through the guard's Read.
func (s *guardScript) client() {
	s.t.Helper()
	s.c.in.Write(s.cbuf.Bytes())
	s.cbuf.Reset()
	p := make([]byte, 4096)
	for s.c.in.Len() > 0 {
		if _, err := s.g.Read(p); err != nil {
			s.ended = true
			return
		}
	}
}

// server passes the frames the server wrote since the last call through the guard's Write,
// cut in two so a frame header spans writes.
func (s *guardScript) server() {
	s.t.Helper()
	b := s.sbuf.Bytes()
	half := len(b) / 2
	for _, w := range [][]byte{b[:half], b[half:]} {
		if _, err := s.g.Write(w); err != nil {
			s.t.Fatal(err)
		}
	}
	s.sbuf.Reset()
}

func (s *guardScript) open(id uint32) {
	// a one-byte header block (":method GET" from the static table): the guard reads no HPACK
	_ = s.cfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0x82}, EndStream: true, EndHeaders: true})
}

func (s *guardScript) reset(id uint32) { _ = s.cfr.WriteRSTStream(id, http2.ErrCodeCancel) }

// answerSome opens n streams and resets each; the server ends with DATA those of them that
// answered picks before the reset, the others are reset unanswered.
func (s *guardScript) answerSome(n int, answered func(i int) bool) {
	for i := range n {
		id := uint32(2*i + 1)
		s.open(id)
		if answered(i) {
			s.client()
			_ = s.sfr.WriteData(id, true, []byte("x"))
			s.server()
		}
		s.reset(id)
	}
	s.client()
}

// answerEach opens n streams one after another; for each, answer writes the server's frames,
// then the client resets the stream.
func (s *guardScript) answerEach(n int, answer func(id uint32)) {
	for i := range uint32(n) {
		id := 2*i + 1
		s.open(id)
		s.client()
		answer(id)
		s.server()
		s.reset(id)
		s.client()
	}
}

// TestGuardPrematureResets: the rapid-reset rule ends a connection on which half of at least
// 500 streams were reset before the gateway answered them, and spares a client that resets
// streams it already has answers for, or that lived longer than h2PrematureAge.
func TestGuardPrematureResets(t *testing.T) {
	const n = 600
	tests := []struct {
		name string
		run  func(s *guardScript)
		want bool // the guard ends the connection
	}{
		{"reset right after opening", func(s *guardScript) {
			for i := range uint32(n) {
				s.open(2*i + 1)
				s.reset(2*i + 1)
			}
			s.client()
		}, true},
		{"reset after the response ended in DATA", func(s *guardScript) {
			s.answerEach(n, func(id uint32) {
				_ = s.sfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0x88}, EndHeaders: true})
				_ = s.sfr.WriteData(id, false, []byte("partial"))
				_ = s.sfr.WriteData(id, true, []byte("end"))
			})
		}, false},
		{"reset after a response of headers alone", func(s *guardScript) {
			s.answerEach(n, func(id uint32) {
				_ = s.sfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0x89}, EndStream: true, EndHeaders: true})
			})
		}, false},
		{"reset of a stream the server refused", func(s *guardScript) {
			s.answerEach(n, func(id uint32) { _ = s.sfr.WriteRSTStream(id, http2.ErrCodeRefusedStream) })
		}, false},
		{"reset after an interim head only", func(s *guardScript) {
			// a 100 Continue is not an answer: the client can reset after it for free
			s.answerEach(n, func(id uint32) {
				_ = s.sfr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0x48, 0x03, '1', '0', '0'}, EndHeaders: true})
			})
		}, true},
		{"reset after the streams lived a second", func(s *guardScript) {
			for i := range uint32(n) {
				s.open(2*i + 1)
			}
			s.client()
			time.Sleep(h2PrematureAge + 100*time.Millisecond)
			for i := range uint32(n) {
				s.reset(2*i + 1)
			}
			s.client()
		}, false},
		{"half premature is enough", func(s *guardScript) { s.answerSome(n, func(i int) bool { return i%2 == 1 }) }, true},
		{"under half premature is not", func(s *guardScript) { s.answerSome(n, func(i int) bool { return i%3 != 0 }) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newGuardScript(t)
			tc.run(s)
			if got := s.g.abuse.Load() == h2AbuseResets; got != tc.want || s.ended != tc.want {
				t.Errorf("connection ended: %v (read ended %v), want %v; %d streams, %d premature resets", got, s.ended, tc.want, s.g.streams, s.g.premature)
			}
			s.g.smu.Lock()
			left := len(s.g.open)
			s.g.smu.Unlock()
			if !tc.want && left != 0 {
				t.Errorf("%d streams still followed after all were reset", left)
			}
		})
	}
}

// TestGuardTrackedBound: streams the server never answers and the client never resets are
// followed up to h2MaxTracked at once.
func TestGuardTrackedBound(t *testing.T) {
	s := newGuardScript(t)
	for i := range uint32(h2MaxTracked + 50) {
		s.open(2*i + 1)
	}
	s.client()
	s.g.smu.Lock()
	defer s.g.smu.Unlock()
	if len(s.g.open) != h2MaxTracked {
		t.Errorf("%d streams followed, want %d", len(s.g.open), h2MaxTracked)
	}
}
