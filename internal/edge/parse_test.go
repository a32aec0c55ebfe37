package edge

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// parseAll runs ParseRequest over raw at once.
func parseAll(p Policy, raw string) (RequestHead, int, Verdict) {
	var h RequestHead
	n, v := p.ParseRequest([]byte(raw), &h)
	return h, n, v
}

// parseTrickle feeds raw to ParseRequest one byte more per call, as a slow
// client would, until it answers. Each call gets the bytes in a new buffer
// and the last one is overwritten, as bufio.Reader's slide to the front
// would: nothing in the head may point into an earlier call's buffer.
func parseTrickle(p Policy, raw string) (RequestHead, int, Verdict) {
	var h RequestHead
	var prev []byte
	for i := 1; i <= len(raw); i++ {
		buf := []byte(raw[:i])
		for j := range prev {
			prev[j] = '#'
		}
		prev = buf
		n, v := p.ParseRequest(buf, &h)
		if n > 0 || !v.OK() {
			return h, n, v
		}
	}
	return h, 0, Verdict{}
}

func fieldsOf(h *RequestHead) []string {
	var out []string
	for _, f := range h.Fields {
		out = append(out, string(f.Name)+": "+string(f.Value))
	}
	return out
}

// TestParseRequestAgreesWithCheck holds ParseRequest to Check's verdicts and
// drops over Check's whole-head table.
func TestParseRequestAgreesWithCheck(t *testing.T) {
	for _, tt := range parsedCases() {
		t.Run(tt.name, func(t *testing.T) {
			h, n, v := parseAll(tt.policy, tt.raw)
			if v.Status != tt.status || v.Reason != tt.reason {
				t.Fatalf("ParseRequest = %d %q, want %d %q", v.Status, v.Reason, tt.status, tt.reason)
			}
			if !v.OK() {
				return
			}
			if n != strings.Index(tt.raw, "\r\n\r\n")+4 {
				t.Errorf("n = %d, head is %d bytes", n, strings.Index(tt.raw, "\r\n\r\n")+4)
			}
			d := h.Drops()
			if got := d.AppendNames(nil); !slices.Equal(got, tt.drops) || d.Len() != len(tt.drops) {
				t.Errorf("drops = %q (Len %d), want %q", got, d.Len(), tt.drops)
			}
		})
	}
}

// TestParseRequestAgreesWithCheckHead does the same over checkHead's table,
// whose heads fasthttp would refuse, joined into whole heads. Where joining
// changes what the bytes say, the case names the difference.
func TestParseRequestAgreesWithCheckHead(t *testing.T) {
	differs := map[string]struct {
		status     int
		reason     string
		incomplete bool
	}{
		// the request line's CRLF and the missing blank line leave the head open
		"no fields on HTTP/1.1": {incomplete: true},
		"no terminator":         {incomplete: true},
		"unterminated line":     {incomplete: true},
		// what follows the head is the body's, not the head's
		"bytes after terminator": {},
		// a SP in the target splits the line differently
		"space in target": {status: 400, reason: ReasonBadRequestLine},
	}
	for _, tt := range headCases() {
		t.Run(tt.name, func(t *testing.T) {
			method, uri, proto := tt.parts()
			raw := method + " " + uri + " " + proto + "\r\n" + tt.raw
			status, reason, incomplete := tt.status, tt.reason, false
			if d, ok := differs[tt.name]; ok {
				status, reason, incomplete = d.status, d.reason, d.incomplete
			}
			_, n, v := parseAll(DefaultPolicy(), raw)
			if v.Status != status || v.Reason != reason {
				t.Fatalf("ParseRequest = %d %q, want %d %q", v.Status, v.Reason, status, reason)
			}
			if v.OK() && (n == 0) != incomplete {
				t.Fatalf("n = %d, incomplete %v", n, incomplete)
			}
		})
	}
}

// TestParseRequestWireCases runs the first head of every raw server case: the
// parser refuses it when fasthttp, Check or the wire tracker refused it for
// its head, and accepts it when only its body is at fault.
func TestParseRequestWireCases(t *testing.T) {
	for _, tc := range wireCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			switch tc.policy {
			case UnderscoreReject, UnderscoreAllow:
				p.UnderscoreHeaders = tc.policy
			}
			_, n, v := parseAll(p, tc.raw)
			last := tc.want[len(tc.want)-1]
			headOK := last < 400 || strings.Contains(tc.body, ReasonWireChunk) ||
				tc.name == "head over ReadBufferSize" // fasthttp's buffer; our bound is 60 KiB
			if v.OK() != headOK || (v.OK() && n == 0) {
				t.Fatalf("ParseRequest = %d %q, n = %d; want ok %v", v.Status, v.Reason, n, headOK)
			}
			body := tc.body
			if body == ReasonWireBareLF {
				body = ReasonBareLF // one parser, one reason wherever the LF is
			}
			if !v.OK() && tc.who != "fasthttp" && (v.Status != last || !strings.Contains(body, v.Reason)) {
				t.Errorf("ParseRequest = %d %q, server answered %d %q", v.Status, v.Reason, last, tc.body)
			}
		})
	}
}

// TestParseRequest pins what the parsed head says, and the rules that only
// the codec needs (incomplete heads, request-line syntax).
func TestParseRequest(t *testing.T) {
	type want struct {
		method, target, proto string
		fields                []string
		host                  string
		hasHost               bool
		cl                    int64
		chunked, http11       bool
		close, upgrade        bool
		expect100, expectElse bool
	}
	get := want{method: "GET", target: "/", proto: "HTTP/1.1", fields: []string{"Host: a"}, host: "a", hasHost: true, cl: -1, http11: true}
	with := func(f func(w *want)) want { w := get; f(&w); return w }
	tests := []struct {
		name   string
		policy Policy
		raw    string
		n      int // 0: the whole of raw
		want   want
		status int
		reason string
	}{
		{name: "GET", raw: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", want: get},
		{name: "fields in order, OWS trimmed, case kept", raw: "GET /p?q=1 HTTP/1.1\r\nhost:a\r\nX-B: \t 2 \t\r\nx-a:1\r\nX-B: 3\r\nEmpty:\r\n\r\n",
			want: with(func(w *want) {
				w.target = "/p?q=1"
				w.fields = []string{"host: a", "X-B: 2", "x-a: 1", "X-B: 3", "Empty: "}
			})},
		{name: "body follows", raw: "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello", n: 50,
			want: with(func(w *want) {
				w.method, w.target, w.cl = "POST", "/u", 5
				w.fields = []string{"Host: a", "Content-Length: 005"}
			})},
		{name: "largest Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n",
			want: with(func(w *want) {
				w.method, w.cl = "POST", 999999999999999999
				w.fields = append(w.fields, "Content-Length: 999999999999999999")
			})},
		{name: "chunked", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
			want: with(func(w *want) {
				w.method, w.chunked = "POST", true
				w.fields = append(w.fields, "Transfer-Encoding: Chunked")
			})},
		{name: "empty lines before the request line", raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", want: get},
		{name: "HTTP/1.0 closes", raw: "GET / HTTP/1.0\r\n\r\n",
			want: want{method: "GET", target: "/", proto: "HTTP/1.0", cl: -1, close: true}},
		{name: "HTTP/1.0 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: \r\n\r\n",
			want: want{method: "GET", target: "/", proto: "HTTP/1.0", cl: -1, fields: []string{"Connection: Keep-Alive", "Host: "}, hasHost: true}},
		{name: "Connection close among options", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo ,CLOSE\r\n\r\n",
			want: with(func(w *want) { w.close = true; w.fields = append(w.fields, "Connection: foo ,CLOSE") })},
		{name: "close in a second Connection field", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
			want: with(func(w *want) {
				w.close = true
				w.fields = append(w.fields, "Connection: keep-alive", "Connection: close")
			})},
		{name: "closed is not close", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n",
			want: with(func(w *want) { w.fields = append(w.fields, "Connection: closed") })},
		{name: "upgrade", raw: "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
			want: with(func(w *want) {
				w.target, w.upgrade = "/ws", true
				w.fields = append(w.fields, "Connection: keep-alive, Upgrade", "Upgrade: websocket")
			})},
		{name: "Upgrade field without the option", raw: "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
			want: with(func(w *want) { w.fields = append(w.fields, "Upgrade: websocket") })},
		{name: "upgrade ignored on HTTP/1.0", raw: "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
			want: want{method: "GET", target: "/", proto: "HTTP/1.0", cl: -1, close: true, fields: []string{"Connection: upgrade", "Upgrade: websocket"}}},
		{name: "expect 100-continue", raw: "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
			want: with(func(w *want) {
				w.method, w.cl, w.expect100 = "PUT", 1, true
				w.fields = append(w.fields, "Expect: 100-Continue", "Content-Length: 1")
			})},
		{name: "unknown expectation", raw: "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n",
			want: with(func(w *want) { w.expectElse = true; w.fields = append(w.fields, "Expect: 200-ok") })},
		{name: "expectation ignored on HTTP/1.0", raw: "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
			want: want{method: "GET", target: "/", proto: "HTTP/1.0", cl: -1, close: true, fields: []string{"Expect: 100-continue"}}},
		{name: "underscore field dropped", raw: "GET / HTTP/1.1\r\nX_A: 1\r\nHost: a\r\nX-A: 2\r\n\r\n",
			want: with(func(w *want) { w.fields = []string{"Host: a", "X-A: 2"} })},
		{name: "underscore field allowed", policy: Policy{UnderscoreHeaders: UnderscoreAllow}, raw: "GET / HTTP/1.1\r\nX_A: 1\r\nHost: a\r\n\r\n",
			want: with(func(w *want) { w.fields = []string{"X_A: 1", "Host: a"} })},

		{name: "asterisk form on GET", raw: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "Host with two ports", raw: "GET / HTTP/1.1\r\nHost: x:80:81\r\n\r\n", status: 400, reason: ReasonBadHost},
		{name: "HTTP/0.9 line", raw: "GET /\r\n\r\n", status: 400, reason: ReasonBadRequestLine},
		{name: "two spaces", raw: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBadRequestLine},
		{name: "trailing space", raw: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", status: 400, reason: ReasonBadRequestLine},
		{name: "tab separator", raw: "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBadRequestLine},
		{name: "lower-case version", raw: "GET / http/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBadRequestLine},
		{name: "HTTP/2.0", raw: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", status: 505, reason: ReasonVersion},
		{name: "bare LF ending the request line", raw: "GET / HTTP/1.1\nHost: a\r\n\r\n", status: 400, reason: ReasonBareLF},
		{name: "bare LF before the request line", raw: "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBareLF},
		{name: "bare LF head without fields", raw: "GET / HTTP/1.0\n\n", status: 400, reason: ReasonBareLF},
		{name: "bare CR in the request line", raw: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "empty line as request line", policy: Policy{MaxHeaderBytes: 8}, raw: "\r\n\r\n\r\n\r\n\r\n\r\n", status: 400, reason: ReasonBadRequestLine},
		{name: "request line over the bound", policy: Policy{MaxHeaderBytes: 16}, raw: "GET /0123456789ab HTTP/1.1\r\n", status: 431, reason: ReasonHeadTooLarge},
		{name: "head over the bound by its blank line", policy: Policy{MaxHeaderBytes: 25}, raw: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 431, reason: ReasonHeadTooLarge},
		{name: "head at the bound", policy: Policy{MaxHeaderBytes: 27}, raw: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", want: get},
	}
	for _, tt := range tests {
		for _, mode := range []string{"whole", "trickle"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				parse := parseAll
				if mode == "trickle" {
					parse = parseTrickle
				}
				h, n, v := parse(tt.policy, tt.raw)
				if v.Status != tt.status || v.Reason != tt.reason {
					t.Fatalf("ParseRequest = %d %q, want %d %q", v.Status, v.Reason, tt.status, tt.reason)
				}
				if !v.OK() {
					if v.Close != true || n != 0 {
						t.Fatalf("refusal with Close %v, n %d", v.Close, n)
					}
					return
				}
				wantN := tt.n
				if wantN == 0 {
					wantN = len(tt.raw)
				}
				if n != wantN {
					t.Fatalf("n = %d, want %d", n, wantN)
				}
				got := want{
					method: string(h.Method), target: string(h.Target), proto: string(h.Proto),
					fields: fieldsOf(&h), host: string(h.Host), hasHost: h.HasHost, cl: h.ContentLength,
					chunked: h.Chunked, http11: h.HTTP11, close: h.Close, upgrade: h.Upgrade,
					expect100: h.Expect100, expectElse: h.ExpectOther,
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("parsed\n %+v\nwant\n %+v", got, tt.want)
				}
			})
		}
	}
}

// TestParseRequestIncomplete: every proper prefix of a head asks for more,
// and a head that grows past the bound is refused before it is complete.
func TestParseRequestIncomplete(t *testing.T) {
	p := DefaultPolicy()
	for i := range len(cleanHead) {
		if _, n, v := parseAll(p, cleanHead[:i]); n != 0 || !v.OK() {
			t.Fatalf("prefix of %d bytes: n %d, %+v", i, n, v)
		}
	}
	small := Policy{MaxHeaderBytes: 64}
	long := "GET /" + strings.Repeat("a", 100)
	if _, _, v := parseAll(small, long[:64]); !v.OK() {
		t.Fatalf("64 bytes without a line end: %+v", v)
	}
	if _, _, v := parseAll(small, long[:65]); v.Status != 431 {
		t.Fatalf("65 bytes without a line end: %+v", v)
	}
	// A client sending empty lines forever is stopped at the bound too.
	if _, _, v := parseAll(small, strings.Repeat("\r\n", 100)); v.Status != 400 {
		t.Fatalf("endless empty lines: %+v", v)
	}
}

// TestParseRequestReuse parses two heads with one RequestHead, as a
// connection does, and checks Reset leaves nothing of the first behind.
func TestParseRequestReuse(t *testing.T) {
	p := DefaultPolicy()
	first := "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\nX: 1\r\n\r\n"
	second := "GET /b HTTP/1.1\r\nHost: b\r\n\r\n"
	var h RequestHead
	if n, v := p.ParseRequest([]byte(first), &h); n != len(first) || !v.OK() {
		t.Fatalf("first: %d %+v", n, v)
	}
	h.Reset()
	if n, v := p.ParseRequest([]byte(second), &h); n != len(second) || !v.OK() {
		t.Fatalf("second: %d %+v", n, v)
	}
	if string(h.Target) != "/b" || h.ContentLength != -1 || h.Close || len(h.Fields) != 1 || string(h.Host) != "b" {
		t.Fatalf("second head kept state of the first: %+v", h)
	}
}

func TestParseRequestNoAlloc(t *testing.T) {
	p := DefaultPolicy()
	buf := []byte(cleanHead)
	var h RequestHead
	if n := testing.AllocsPerRun(100, func() {
		h.Reset()
		if n, v := p.ParseRequest(buf, &h); n != len(buf) || !v.OK() {
			t.Fatal(n, v)
		}
	}); n != 0 {
		t.Errorf("ParseRequest allocates %v times on a reused head", n)
	}
}

// BenchmarkParseRequest parses cleanHead and applies every rule: compare
// with BenchmarkFasthttpRead plus BenchmarkCheck, what the same head costs
// today (and the wire tracker, BenchmarkConnRead, on top).
func BenchmarkParseRequest(b *testing.B) {
	p := DefaultPolicy()
	buf := []byte(cleanHead)
	var h RequestHead
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h.Reset()
		if n, v := p.ParseRequest(buf, &h); n != len(buf) || !v.OK() {
			b.Fatal(n, v)
		}
	}
}

// FuzzParseRequest holds ParseRequest to the oracle (a plain restatement of
// the rules, shared with FuzzCheck) on any bytes, and what it parses to
// fasthttp's and net/http's readings of the same head. A byte-at-a-time feed
// must end exactly as a whole one.
func FuzzParseRequest(f *testing.F) {
	for _, tc := range wireCases() {
		f.Add([]byte(tc.raw))
	}
	for _, tc := range parsedCases() {
		f.Add([]byte(tc.raw))
	}
	for _, s := range []string{
		cleanHead,
		"\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive, upgrade\r\nUpgrade: x\r\n\r\n",
		"PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
		"GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := DefaultPolicy()
		var h RequestHead
		n, v := p.ParseRequest(data, &h)
		checkVerdict(t, v)
		if n < 0 || n > len(data) || (!v.OK() && n != 0) {
			t.Fatalf("n = %d of %d with %+v", n, len(data), v)
		}
		th, tn, tv := parseTrickle(p, string(data))
		if tn != n || tv != v || (v.OK() && !slices.Equal(fieldsOf(&th), fieldsOf(&h))) {
			t.Fatalf("byte by byte: %d %+v %q; whole: %d %+v %q", tn, tv, fieldsOf(&th), n, v, fieldsOf(&h))
		}

		// The head the oracle sees: up to the first blank line after
		// leading empty lines.
		start := 0
		for bytes.HasPrefix(data[start:], []byte("\r\n")) {
			start += 2
		}
		candidate := -1
		if i := bytes.Index(data[start:], []byte("\r\n\r\n")); i >= 0 {
			candidate = start + i + 4
		}
		switch {
		case !v.OK():
			if candidate >= 0 && len(data[:candidate]) <= DefaultMaxHeaderBytes {
				if ok, _ := oracle(data[:candidate]); ok {
					t.Fatalf("refused %+v, oracle accepts %q", v, data[:candidate])
				}
			}
			return
		case n == 0:
			if candidate >= 0 {
				t.Fatalf("incomplete, but %q is a whole head", data[:candidate])
			}
			return
		}
		if n != candidate {
			t.Fatalf("n = %d, the blank line ends at %d", n, candidate)
		}
		ok, drops := oracle(data[:n])
		if !ok {
			t.Fatalf("accepted %q, oracle refuses", data[:n])
		}
		if got := h.Drops().AppendNames(nil); !slices.Equal(got, drops) {
			t.Fatalf("drops %q, oracle %q", got, drops)
		}
		for _, fl := range h.Fields {
			if bytes.IndexByte(fl.Name, '_') >= 0 {
				t.Fatalf("field %q kept under the drop policy", fl.Name)
			}
		}
		compareFasthttp(t, data[:n], &h)
		compareNetHTTP(t, data[:n], &h)
	})
}

// compareFasthttp holds a parsed head to fasthttp's reading, where fasthttp
// reads it at all (its read buffer is smaller than our head bound).
func compareFasthttp(t *testing.T, head []byte, h *RequestHead) {
	t.Helper()
	var fh fasthttp.RequestHeader
	if err := fh.Read(bufio.NewReader(bytes.NewReader(head))); err != nil {
		return
	}
	if string(fh.Method()) != string(h.Method) || string(fh.RequestURI()) != string(h.Target) ||
		string(fh.Protocol()) != string(h.Proto) {
		t.Fatalf("%q: fasthttp reads %q %q %q", head, fh.Method(), fh.RequestURI(), fh.Protocol())
	}
	switch {
	case h.Chunked && fh.ContentLength() != -1:
		t.Fatalf("%q: chunked, fasthttp's length %d", head, fh.ContentLength())
	case h.ContentLength >= 0 && int64(fh.ContentLength()) != h.ContentLength:
		t.Fatalf("%q: length %d, fasthttp's %d", head, h.ContentLength, fh.ContentLength())
	}
}

// compareNetHTTP holds a parsed head to net/http's reading: method, target,
// version, Host, whether the connection closes, and every field's values in
// order (net/http keeps fields with '_', which ours drops).
func compareNetHTTP(t *testing.T, head []byte, h *RequestHead) {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return // net/http refuses some targets we pass on (an invalid %-escape, say)
	}
	if req.Method != string(h.Method) || req.RequestURI != string(h.Target) || req.Proto != string(h.Proto) {
		t.Fatalf("%q: net/http reads %q %q %q", head, req.Method, req.RequestURI, req.Proto)
	}
	if req.Close != h.Close {
		t.Fatalf("%q: Close %v, net/http's %v", head, h.Close, req.Close)
	}
	if h.HasHost && req.URL.Host == "" && req.Host != string(h.Host) {
		t.Fatalf("%q: Host %q, net/http's %q", head, h.Host, req.Host)
	}
	ours := map[string][]string{}
	for _, fl := range h.Fields {
		k := textproto.CanonicalMIMEHeaderKey(string(fl.Name))
		ours[k] = append(ours[k], string(fl.Value))
	}
	delete(ours, "Host")
	if h.Chunked {
		delete(ours, "Transfer-Encoding") // net/http moves it to TransferEncoding
	}
	if req.Close && !h.HTTP11 {
		delete(ours, "Connection") // and drops Connection: close on HTTP/1.0
		delete(req.Header, "Connection")
	}
	theirs := map[string][]string{}
	for k, vs := range req.Header {
		if !strings.Contains(k, "_") {
			theirs[k] = vs
		}
	}
	for k, vs := range ours {
		if !slices.Equal(vs, theirs[k]) {
			t.Fatalf("%q: %s = %q, net/http's %q", head, k, vs, theirs[k])
		}
	}
	for k := range theirs {
		if _, ok := ours[k]; !ok {
			t.Fatalf("%q: net/http has %s = %q, we have none", head, k, theirs[k])
		}
	}
}
