package edge

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// decodeChunked runs ChunkedBody over body handed in pieces of at most step
// bytes (0: all at once), as reads from a connection would, and returns the
// decoded data, the bytes the body took, whether it ended, and the verdict.
func decodeChunked(body string, step int) (data string, used int, done bool, v Verdict) {
	var b ChunkedBody
	var out strings.Builder
	src := []byte(body)
	end := len(src)
	if step > 0 {
		end = min(step, len(src))
	}
	pos := 0
	for {
		d, n, fin, vv := b.Next(src[pos:end])
		out.Write(d)
		pos += n
		switch {
		case !vv.OK():
			return out.String(), pos, false, vv
		case fin:
			return out.String(), pos, true, vv
		case pos < end:
			continue // more in this piece
		case end == len(src):
			return out.String(), pos, false, vv
		}
		end = min(end+step, len(src))
		if step == 0 {
			end = len(src)
		}
	}
}

func TestChunkedBody(t *testing.T) {
	const next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
	tests := []struct {
		name string
		body string // followed by next on the connection
		data string
		bad  bool
		more bool // the body is not over when the bytes end
	}{
		{name: "one chunk", body: "5\r\nhello\r\n0\r\n\r\n", data: "hello"},
		{name: "several chunks, upper and lower hex", body: "3\r\nabc\r\nA\r\n0123456789\r\nb\r\nhello world\r\n0\r\n\r\n", data: "abc0123456789hello world"},
		{name: "empty body", body: "0\r\n\r\n"},
		{name: "extension", body: "3;name=value\r\nabc\r\n0;last\r\n\r\n", data: "abc"},
		{name: "OWS after the size", body: "3 \t\r\nabc\r\n0\r\n\r\n", data: "abc"},
		{name: "trailer fields", body: "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B:\r\n\r\n", data: "abc"},
		{name: "fifteen digits of leading zeros", body: "000000000000003\r\nabc\r\n0\r\n\r\n", data: "abc"},
		{name: "CRLF inside the data", body: "4\r\n\r\n\r\n\r\n0\r\n\r\n", data: "\r\n\r\n"},
		{name: "unfinished data", body: "5\r\nhel", data: "hel", more: true},
		{name: "unfinished trailer", body: "0\r\nX: 1\r\n", more: true},

		{name: "sixteen hex digits", body: "0000000000000003\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "not hex", body: "zz\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "negative size", body: "-3\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "no size", body: "\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "bare LF after the size", body: "3\nabc\r\n0\r\n\r\n", bad: true},
		{name: "data longer than its size", body: "3\r\nabcd\r\n0\r\n\r\n", data: "abc", bad: true},
		{name: "bare LF after the data", body: "3\r\nabc\n0\r\n\r\n", data: "abc", bad: true},
		{name: "bare LF after the last chunk", body: "0\r\n\n", bad: true},
		{name: "space before the extension", body: "3 ;x\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "control in an extension", body: "3;x\x01\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "size line over 4 KiB", body: "3;" + strings.Repeat("x", 5000) + "\r\nabc\r\n0\r\n\r\n", bad: true},
		{name: "space in a trailer name", body: "0\r\nBad Name: 1\r\n\r\n", bad: true},
		{name: "trailer without a colon", body: "0\r\nX\r\n\r\n", bad: true},
		{name: "folded trailer", body: "0\r\nX: 1\r\n 2\r\n\r\n", bad: true},
		{name: "control in a trailer value", body: "0\r\nX: \x00\r\n\r\n", bad: true},
	}
	for _, tt := range tests {
		for _, step := range []int{0, 1, 2, 3, 7} {
			stream := tt.body
			if !tt.more {
				stream += next
			}
			data, used, done, v := decodeChunked(stream, step)
			switch {
			case tt.bad:
				if v.OK() || v.Status != 400 || v.Reason != ReasonWireChunk || !v.Close {
					t.Fatalf("%s, step %d: %+v, want a refusal", tt.name, step, v)
				}
				if !strings.HasPrefix(tt.data, data) {
					t.Fatalf("%s, step %d: data %q before the fault, want a prefix of %q", tt.name, step, data, tt.data)
				}
			case tt.more:
				if !v.OK() || done || data != tt.data || used != len(tt.body) {
					t.Fatalf("%s, step %d: %q used %d done %v %+v, want %q and more", tt.name, step, data, used, done, v, tt.data)
				}
			default:
				if !v.OK() || !done || data != tt.data || used != len(tt.body) {
					t.Fatalf("%s, step %d: %q used %d done %v %+v, want %q in %d", tt.name, step, data, used, done, v, tt.data, len(tt.body))
				}
			}
		}
	}
}

func TestChunkedBodyReset(t *testing.T) {
	var b ChunkedBody
	if _, _, done, _ := b.Next([]byte("0\r\n\r\n")); !done {
		t.Fatal("first body not done")
	}
	b.Reset()
	d, n, done, v := b.Next([]byte("2\r\nhi\r\n"))
	if string(d) != "hi" || n != 5 || done || !v.OK() {
		t.Fatalf("after Reset: %q %d %v %+v", d, n, done, v)
	}
}

func TestChunkedBodyNoAlloc(t *testing.T) {
	src := []byte("5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n")
	var b ChunkedBody
	if n := testing.AllocsPerRun(100, func() {
		b.Reset()
		for pos := 0; ; {
			_, n, done, v := b.Next(src[pos:])
			pos += n
			if done || !v.OK() {
				break
			}
		}
	}); n != 0 {
		t.Errorf("ChunkedBody allocates %v times", n)
	}
}

// FuzzChunkedBody holds ChunkedBody to oracleChunked (the tracker's rules,
// written plainly, shared with FuzzChunked) on any bytes, whole and in
// pieces, and where both accept, to net/http's decoding of the same body.
func FuzzChunkedBody(f *testing.F) {
	for i, s := range chunkedSeeds() {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, step uint8) {
		data, used, done, v := decodeChunked(string(body), 0)
		checkVerdict(t, v)
		pd, pused, pdone, pv := decodeChunked(string(body), int(step))
		if pd != data || pused != used || pdone != done || pv != v {
			t.Fatalf("%q in pieces of %d: %q %d %v %+v; whole: %q %d %v %+v", body, step, pd, pused, pdone, pv, data, used, done, v)
		}
		state, n, odata := oracleChunked(string(body))
		switch state {
		case "bad":
			if v.OK() {
				t.Fatalf("%q: oracle refuses, decoder %q used %d done %v", body, data, used, done)
			}
			return
		case "more":
			if !v.OK() || done {
				t.Fatalf("%q: oracle wants more, decoder %+v done %v", body, v, done)
			}
			return
		}
		if !v.OK() || !done || used != n || data != odata {
			t.Fatalf("%q: oracle %q in %d, decoder %q in %d done %v %+v", body, odata, n, data, used, done, v)
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(chunkedHead + string(body[:n]))))
		if err != nil {
			return
		}
		if got, err := io.ReadAll(req.Body); err == nil && string(got) != data {
			t.Fatalf("%q: net/http decodes %q, decoder %q", body, got, data)
		}
	})
}

// BenchmarkChunkedBody decodes a 16 KiB body in 1 KiB chunks.
func BenchmarkChunkedBody(b *testing.B) {
	var sb strings.Builder
	for range 16 {
		sb.WriteString("400\r\n" + strings.Repeat("x", 1024) + "\r\n")
	}
	sb.WriteString("0\r\n\r\n")
	src := []byte(sb.String())
	var cb ChunkedBody
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		cb.Reset()
		for pos := 0; ; {
			_, n, done, v := cb.Next(src[pos:])
			pos += n
			if done || !v.OK() {
				break
			}
		}
	}
}
