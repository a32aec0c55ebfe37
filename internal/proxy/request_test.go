package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/valyala/fasthttp"

	"tollgate/internal/h1"
)

// engineQuery is what the engine's own URI parser makes of target's query: the oracle for
// rawQueryOf.
func engineQuery(target string) string {
	var req fasthttp.Request
	req.Header.SetHost("gw.example")
	req.SetRequestURI(target)
	return string(req.URI().QueryString())
}

func TestRawQueryOf(t *testing.T) {
	tests := []struct{ target, want string }{
		{"/", ""},
		{"/a/b", ""},
		{"/a?x=1", "x=1"},
		{"/a?", ""},
		{"/a?x=1&y=%20z", "x=1&y=%20z"},
		{"/a?x=1?y", "x=1?y"},
		{"/a?x#frag", "x"},
		{"/a#frag?x", ""},
		{"/a?#", ""},
		{"*", ""},
		{"http://h.example/a?q=1", "q=1"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			if got := string(rawQueryOf([]byte(tc.target))); got != tc.want {
				t.Errorf("rawQueryOf(%q) = %q, want %q", tc.target, got, tc.want)
			}
			if got := engineQuery(tc.target); got != tc.want {
				t.Errorf("the engine parses %q's query as %q, the table says %q", tc.target, got, tc.want)
			}
		})
	}
}

// FuzzRawQueryOf: for any origin-form target the edge lets through, rawQueryOf agrees with the engine's URI parser,
// which it replaces on the hot path.
func FuzzRawQueryOf(f *testing.F) {
	for _, s := range []string{"/", "/a?x=1", "/a?", "/a?x#f", "/a#f?x", "/?a?b", "/a%3Fb?c=%23"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if len(target) == 0 || target[0] != '/' || len(target) > 1 && target[1] == '/' {
			return // origin-form only; a "//" start reads as an authority to the engine
		}
		for i := 0; i < len(target); i++ {
			if c := target[i]; c <= ' ' || c == 0x7f {
				return // the edge refuses controls, SP and DEL in a target before the handler
			}
		}
		if got, want := string(rawQueryOf([]byte(target))), engineQuery(target); got != want {
			t.Errorf("rawQueryOf(%q) = %q, the engine's parser %q", target, got, want)
		}
	})
}

// TestRequestID: hexDigits writes a word's hex digits lowest nibble first (checked against
// fmt's, reversed, over edge values and random ones), and newRequestID makes 32 lower-case
// hex characters that differ from call to call.
func TestRequestID(t *testing.T) {
	values := []uint32{0, 1, 9, 10, 15, 16, 0x0123abcd, 0x89abcdef, 0xfedcba98, 0xffffffff, 0xa0a0a0a0, 0x9f9f9f9f}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		values = append(values, rng.Uint32())
	}
	for _, v := range values {
		var got [8]byte
		binary.LittleEndian.PutUint64(got[:], hexDigits(v))
		want := []byte(fmt.Sprintf("%08x", v))
		slices.Reverse(want)
		if string(got[:]) != string(want) {
			t.Fatalf("hexDigits(%#x) = %q, want %q", v, got, want)
		}
	}
	var st reqState
	seen := map[string]bool{}
	for range 100 {
		id := st.newRequestID()
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("request id %q: want 32 lower-case hex characters", id)
		}
		if seen[id] {
			t.Fatalf("request id %q made twice", id)
		}
		seen[id] = true
	}
}

// TestWriteRequest: the upstream request head and body as upReq writes them, read back by
// net/http's request parser as the judge of framing.
func TestWriteRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		fields string // client fields, as the front ends copy them
		body   func(u *upReq)
		head   string // the head written, after the request line
		want   string // the body net/http reads
	}{
		{name: "GET without body", method: "GET", fields: "Accept: */*\r\n", // and the client's Host, c
			head: "Host: up.example\r\nAccept: */*\r\n\r\n"},
		{name: "client framing is not passed on", method: "GET", fields: "Content-Length: 0\r\nX-A: 1\r\n",
			head: "Host: up.example\r\nX-A: 1\r\n\r\n"},
		{name: "POST without body says 0", method: "POST", fields: "X-A: 1\r\n",
			head: "Host: up.example\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"},
		{name: "DELETE without body says nothing", method: "DELETE",
			head: "Host: up.example\r\n\r\n"},
		{name: "buffered body", method: "POST", fields: "Content-Length: 99\r\n",
			body: func(u *upReq) { u.SetBody([]byte("hello")) },
			head: "Host: up.example\r\nContent-Length: 5\r\n\r\n", want: "hello"},
		{name: "stream of known length", method: "PUT",
			body: func(u *upReq) { u.body, u.bodySize = strings.NewReader("abcdef"), 6 },
			head: "Host: up.example\r\nContent-Length: 6\r\n\r\n", want: "abcdef"},
		{name: "stream of unknown length goes chunked", method: "POST",
			body: func(u *upReq) { u.body, u.bodySize = iotest.OneByteReader(strings.NewReader("abc")), -1 },
			head: "Host: up.example\r\nTransfer-Encoding: chunked\r\n\r\n", want: "abc"},
		{name: "empty stream of unknown length", method: "POST",
			body: func(u *upReq) { u.body, u.bodySize = strings.NewReader(""), -1 },
			head: "Host: up.example\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{name: "a plugin's field with CR LF stays one field", method: "GET",
			body: func(u *upReq) { u.h.Set("X-P", "a\r\nInjected: 1") },
			head: "Host: up.example\r\nX-P: a  Injected: 1\r\n\r\n"},
		{name: "a plugin's name that is not a token is dropped", method: "GET",
			body: func(u *upReq) { u.h.Set("X-P\r\nInjected", "1") },
			head: "Host: up.example\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h h1.Header
			if tc.fields != "" {
				h = *headerOf(t, "GET / HTTP/1.1\r\nHost: c\r\n"+tc.fields+"\r\n")
			}
			u := &upReq{method: tc.method}
			u.reset(&h)
			u.uri, u.sendHost = []byte("/p?q=1"), "up.example"
			if tc.body != nil {
				tc.body(u)
			}
			var out bytes.Buffer
			bw := bufio.NewWriter(&out)
			if err := u.writeRequest(bw); err != nil {
				t.Fatal(err)
			}
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
			wire := out.String()
			line := tc.method + " /p?q=1 HTTP/1.1\r\n"
			if !strings.HasPrefix(wire, line+tc.head) {
				t.Fatalf("wrote\n%q\nwant head\n%q", wire, line+tc.head)
			}
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
			if err != nil {
				t.Fatalf("net/http refuses %q: %v", wire, err)
			}
			got, err := io.ReadAll(r.Body)
			if err != nil || string(got) != tc.want {
				t.Fatalf("body %q (%v), want %q", got, err, tc.want)
			}
			if r.Host != "up.example" || r.Method != tc.method {
				t.Fatalf("host %q method %q", r.Host, r.Method)
			}
		})
	}
}

// TestWriteRequestShortBody: a client body that ends before its length is an error, not a
// request the upstream waits on.
func TestWriteRequestShortBody(t *testing.T) {
	u := &upReq{method: "POST"}
	u.reset(&h1.Header{})
	u.uri, u.sendHost = []byte("/"), "up"
	u.body, u.bodySize = strings.NewReader("abc"), 10
	if err := u.writeRequest(bufio.NewWriter(io.Discard)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v, want io.ErrUnexpectedEOF", err)
	}
}
