package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// FuzzReadResponse reads any bytes as up to four responses on one
// connection, for a GET or a HEAD. It must not panic; it must read the same
// whether the bytes come whole or one at a time; it may only fail with
// ErrBadResponse, io.EOF or io.ErrUnexpectedEOF; and every response it
// accepts, net/http's ReadResponse, the looser reader, must accept too and
// read to the same status, fields and body. A response ours accepts and
// net/http refuses is a bug: some client behind the gateway would refuse it
// too, or read it otherwise.
func FuzzReadResponse(f *testing.F) {
	for _, tc := range clientCases() {
		if len(tc.in) <= 1024 {
			f.Add([]byte(tc.in), tc.head)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		// a small buffer, so heads outgrow it and fills slide it
		const bufSize = 512
		ours, err := readResponses(bufio.NewReaderSize(bytes.NewReader(data), bufSize), head, 4)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrBadResponse) {
			t.Fatalf("unexpected error %v", err)
		}
		slow, slowErr := readResponses(bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), bufSize), head, 4)
		if slowErr != err || !reflect.DeepEqual(slow, ours) {
			t.Fatalf("a byte at a time: %v, whole: %v\n got %+v\nwant %+v", slowErr, err, slow, ours)
		}
		if len(ours) == 0 {
			return
		}
		resps, bodies, goErr := netHTTPResponses(data, head, len(ours))
		if goErr != nil {
			t.Fatalf("net/http refuses what ours accepts: %v\nours: %+v", goErr, ours)
		}
		for i := range ours {
			if d := agreeNetHTTP(ours[i], head, resps[i], bodies[i]); d != "" {
				t.Fatalf("response %d: net/http reads %s\nours: %+v", i, d, ours[i])
			}
		}
	})
}

// TestClientOracleMutations holds FuzzReadResponse's checks over every
// single-byte change of the good cases: each byte replaced by, or preceded
// by, one of the bytes parsers disagree on, and each byte dropped. The
// fuzzer finds such inputs only by luck (a mutation that accepted VT in a
// value went unnoticed through half a million executions); this finds them
// by construction.
func TestClientOracleMutations(t *testing.T) {
	interesting := []byte("\x00\x01\t\n\v\r \",:;=\x7f\x80\xff0aAkK")
	var (
		r, rSlow   bytes.Reader
		br, brSlow = bufio.NewReaderSize(nil, 4096), bufio.NewReaderSize(nil, 4096)
	)
	check := func(t *testing.T, data []byte, head bool) {
		t.Helper()
		r.Reset(data)
		br.Reset(&r)
		ours, err := readResponses(br, head, 4)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrBadResponse) {
			t.Fatalf("%q: unexpected error %v", data, err)
		}
		rSlow.Reset(data)
		brSlow.Reset(iotest.OneByteReader(&rSlow))
		slow, slowErr := readResponses(brSlow, head, 4)
		if slowErr != err || !reflect.DeepEqual(slow, ours) {
			t.Fatalf("%q: a byte at a time: %v, whole: %v", data, slowErr, err)
		}
		if len(ours) == 0 {
			return
		}
		resps, bodies, goErr := netHTTPResponses(data, head, len(ours))
		if goErr != nil {
			t.Fatalf("%q: net/http refuses what ours accepts: %v", data, goErr)
		}
		for i := range ours {
			if d := agreeNetHTTP(ours[i], head, resps[i], bodies[i]); d != "" {
				t.Fatalf("%q: response %d: net/http reads %s", data, i, d)
			}
		}
	}
	for _, tc := range clientCases() {
		if tc.end != nil && tc.end != io.EOF || len(tc.in) > 512 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			buf := make([]byte, 0, len(in)+1)
			for i := range in {
				check(t, append(append(buf[:0], in[:i]...), in[i+1:]...), tc.head)
				for _, c := range interesting {
					check(t, append(append(append(buf[:0], in[:i]...), c), in[i+1:]...), tc.head)
					check(t, append(append(append(buf[:0], in[:i]...), c), in[i:]...), tc.head)
				}
			}
		})
	}
}
