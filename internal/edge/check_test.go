package edge

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func parseHead(tb testing.TB, raw string) *fasthttp.RequestHeader {
	tb.Helper()
	var h fasthttp.RequestHeader
	if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		tb.Fatalf("fasthttp refused %q: %v", raw, err)
	}
	return &h
}

// parsedCase is a whole request head fasthttp accepts, with the verdict and
// drops of Check; ParseRequest must reach the same ones.
type parsedCase struct {
	name   string
	policy Policy
	raw    string
	status int
	reason string
	drops  []string
}

// TestCheckParsed runs Check on heads fasthttp accepts.
func TestCheckParsed(t *testing.T) {
	for _, tt := range parsedCases() {
		t.Run(tt.name, func(t *testing.T) {
			h := parseHead(t, tt.raw)
			v, d := tt.policy.Check(h)
			if v.Status != tt.status || v.Reason != tt.reason {
				t.Fatalf("Check = %d %q, want %d %q", v.Status, v.Reason, tt.status, tt.reason)
			}
			if v.Close != (v.Status != 0) {
				t.Errorf("Close = %v with status %d", v.Close, v.Status)
			}
			if got := d.AppendNames(nil); !slices.Equal(got, tt.drops) || d.Len() != len(tt.drops) {
				t.Errorf("drops = %q (Len %d), want %q", got, d.Len(), tt.drops)
			}
		})
	}
}

func parsedCases() []parsedCase {
	return []parsedCase{
		{name: "clean", raw: "GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"},
		{name: "clean chunked", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"},
		{name: "clean content-length with leading zeros", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\n"},
		{name: "HTTP/1.0 without fields", raw: "GET / HTTP/1.0\r\n\r\n"},
		{name: "OPTIONS asterisk", raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "absolute form, same authority", raw: "GET https://A:443/x HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "absolute form, IPv6 literal", raw: "GET http://[::1]:8080/x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"},
		{name: "absolute form without Host on HTTP/1.0", raw: "GET http://a/x HTTP/1.0\r\n\r\n"},
		{name: "CONNECT authority form", raw: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"},
		{name: "HTTP/1.2", raw: "GET / HTTP/1.2\r\nHost: a\r\n\r\n", status: 505, reason: ReasonVersion},
		{name: "HTTP/0.9 version string", raw: "GET / HTTP/0.9\r\nHost: a\r\n\r\n", status: 505, reason: ReasonVersion},
		{name: "CL and TE", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, reason: ReasonCLAndTE},
		{name: "TE and CL", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", status: 400, reason: ReasonCLAndTE},
		{name: "TE identity", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", status: 501, reason: ReasonTEUnknown},
		{name: "bare LF field", raw: "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n", status: 400, reason: ReasonBareLF},
		{name: "bare LF blank line", raw: "GET / HTTP/1.1\r\nHost: a\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBareLF},
		{name: "obs-fold", raw: "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", status: 400, reason: ReasonObsFold},
		{name: "space in name", raw: "GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n", status: 400, reason: ReasonBadName},
		{name: "101 fields", raw: manyHeaders(101), status: 431, reason: ReasonTooManyHeaders},
		{name: "3 fields, limit 2", policy: Policy{MaxHeaderCount: 2}, raw: "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", status: 431, reason: ReasonTooManyHeaders},
		{name: "head over MaxHeaderBytes", policy: Policy{MaxHeaderBytes: 64}, raw: "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 40) + "\r\n\r\n", status: 431, reason: ReasonHeadTooLarge},
		{name: "absolute form, other host", raw: "GET http://evil/x HTTP/1.1\r\nHost: good\r\n\r\n", status: 400, reason: ReasonHostMismatch},
		{name: "absolute form, other port", raw: "GET http://good:8080/x HTTP/1.1\r\nHost: good\r\n\r\n", status: 400, reason: ReasonHostMismatch},
		{name: "absolute form, https default port against http's", raw: "GET https://good/x HTTP/1.1\r\nHost: good:80\r\n\r\n", status: 400, reason: ReasonHostMismatch},
		{name: "absolute form, userinfo", raw: "GET http://u:p@good/x HTTP/1.1\r\nHost: good\r\n\r\n", status: 400, reason: ReasonUserinfo},
		{name: "absolute form, ftp", raw: "GET ftp://good/x HTTP/1.1\r\nHost: good\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "absolute form, empty authority", raw: "GET http:///x HTTP/1.1\r\nHost: good\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "CONNECT to another authority", raw: "CONNECT evil:443 HTTP/1.1\r\nHost: good:443\r\n\r\n", status: 400, reason: ReasonHostMismatch},
		{name: "Host with path", raw: "GET / HTTP/1.1\r\nHost: good/evil\r\n\r\n", status: 400, reason: ReasonBadHost},
		{name: "Host with non-digit port", raw: "GET / HTTP/1.1\r\nHost: good:8o\r\n\r\n", status: 400, reason: ReasonBadHost},
		{name: "lower-case method", raw: "get / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBadMethod},
		{name: "extension method", raw: "M-SEARCH /a HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "fragment", raw: "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonFragment},
		{name: "fragment after the query", raw: "GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonFragment},
		{name: "fragment in absolute form", raw: "GET http://a/x#y HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonFragment},
		{name: "backslash in path", raw: "GET /public\\..\\admin HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonBackslash},
		{name: "backslash in query", raw: "GET /a?b=c\\d HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "dot-dot before encoded slash", raw: "GET /public/..%2fadmin HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonDotSegment},
		{name: "encoded dot-dot before encoded slash", raw: "GET /public/%2E%2E%2Fadmin HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonDotSegment},
		{name: "encoded dot-dot before encoded backslash", raw: "GET /public/%2e%2e%5cadmin HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonDotSegment},
		{name: "dot after encoded slash at the end", raw: "GET /a%2F. HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonDotSegment},
		{name: "dot-dot with parameters", raw: "GET /public/..;/admin HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonDotSegment},
		{name: "dot-dot in absolute form path", raw: "GET http://a/b/..%2Fc HTTP/1.1\r\nHost: a\r\n\r\n", status: 400, reason: ReasonDotSegment},
		{name: "plain dot segments are the router's", raw: "GET /a/./b/../%2e%2e/c HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "encoded slash alone", raw: "GET /r/a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "path parameters", raw: "GET /admin;x/y;z HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "three dots next to an encoded slash", raw: "GET /a/...%2Fb HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "dots in the query", raw: "GET /a?p=..%2F..%2Fb HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "non-ASCII path", raw: "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "underscore dropped", raw: "GET / HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\nA_b: 1\r\n\r\n", drops: []string{"X_User_Id", "A_b"}},
		{name: "underscore rejected", policy: Policy{UnderscoreHeaders: UnderscoreReject}, raw: "GET / HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\n\r\n", status: 400, reason: ReasonUnderscore},
		{name: "underscore allowed", policy: Policy{UnderscoreHeaders: UnderscoreAllow}, raw: "GET / HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\n\r\n"},
		{name: "unknown underscore action fails closed", policy: Policy{UnderscoreHeaders: "strip"}, raw: "GET / HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\n\r\n", status: 400, reason: ReasonUnderscore},
	}
}

// TestCheckHead hands checkHead heads fasthttp would refuse before Check
// runs, so each rule holds on its own.
func TestCheckHead(t *testing.T) {
	for _, tt := range headCases() {
		t.Run(tt.name, func(t *testing.T) {
			method, uri, proto := tt.parts()
			p := DefaultPolicy()
			v, _ := p.checkHead([]byte(method), []byte(uri), []byte(proto), []byte(tt.raw))
			if v.Status != tt.status || v.Reason != tt.reason {
				t.Fatalf("checkHead = %d %q, want %d %q", v.Status, v.Reason, tt.status, tt.reason)
			}
		})
	}
}

// headCase is a request line's parts (empty: GET, / and HTTP/1.1; "-": empty)
// and a raw field block, with checkHead's verdict.
type headCase struct {
	name   string
	method string
	uri    string
	proto  string
	raw    string
	status int
	reason string
}

func (tt headCase) parts() (method, uri, proto string) {
	method, uri, proto = "GET", "/", "HTTP/1.1"
	if tt.method == "-" {
		method = ""
	} else if tt.method != "" {
		method = tt.method
	}
	if tt.uri == "-" {
		uri = ""
	} else if tt.uri != "" {
		uri = tt.uri
	}
	if tt.proto != "" {
		proto = tt.proto
	}
	return method, uri, proto
}

func headCases() []headCase {
	return []headCase{
		{name: "clean", raw: "Host: a\r\n\r\n"},
		{name: "no fields on HTTP/1.1", raw: "", status: 400, reason: ReasonNoHost},
		{name: "duplicate CL", raw: "Host: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n", status: 400, reason: ReasonDupCL},
		{name: "comma-listed CL", raw: "Host: a\r\nContent-Length: 3, 3\r\n\r\n", status: 400, reason: ReasonListCL},
		{name: "empty CL", raw: "Host: a\r\nContent-Length:\r\n\r\n", status: 400, reason: ReasonBadCL},
		{name: "signed CL", raw: "Host: a\r\nContent-Length: -1\r\n\r\n", status: 400, reason: ReasonBadCL},
		{name: "CL overflowing int64", raw: "Host: a\r\nContent-Length: 9999999999999999999\r\n\r\n", status: 400, reason: ReasonBadCL},
		{name: "TE gzip, chunked", raw: "Host: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501, reason: ReasonTEUnknown},
		{name: "TE gzip then chunked on two lines", raw: "Host: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", status: 501, reason: ReasonTEUnknown},
		{name: "TE chunked, gzip", raw: "Host: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400, reason: ReasonTENotFinal},
		{name: "TE chunked, chunked", raw: "Host: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", status: 400, reason: ReasonTENotFinal},
		{name: "TE chunked twice on two lines", raw: "Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, reason: ReasonTENotFinal},
		{name: "TE chunked with parameter", raw: "Host: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", status: 400, reason: ReasonTENotFinal},
		{name: "TE empty", raw: "Host: a\r\nTransfer-Encoding:\r\n\r\n", status: 400, reason: ReasonTENotFinal},
		{name: "TE trailing comma", raw: "Host: a\r\nTransfer-Encoding: chunked,\r\n\r\n", status: 400, reason: ReasonTENotFinal},
		{name: "TE on HTTP/1.0", proto: "HTTP/1.0", raw: "Transfer-Encoding: chunked\r\n\r\n", status: 400, reason: ReasonTEHTTP10},
		{name: "NUL in value", raw: "Host: a\r\nX: a\x00b\r\n\r\n", status: 400, reason: ReasonBadValue},
		{name: "CR in value", raw: "Host: a\r\nX: a\rb\r\n\r\n", status: 400, reason: ReasonBadValue},
		{name: "empty name", raw: "Host: a\r\n: b\r\n\r\n", status: 400, reason: ReasonEmptyName},
		{name: "no colon", raw: "Host: a\r\nXY\r\n\r\n", status: 400, reason: ReasonBadName},
		{name: "separator in name", raw: "Host: a\r\nX@Y: 1\r\n\r\n", status: 400, reason: ReasonBadName},
		{name: "space before colon", raw: "Host: a\r\nX : 1\r\n\r\n", status: 400, reason: ReasonBadName},
		{name: "non-ASCII name", raw: "Host: a\r\nX\xc3\xa9: 1\r\n\r\n", status: 400, reason: ReasonBadName},
		{name: "missing Host", raw: "X: 1\r\n\r\n", status: 400, reason: ReasonNoHost},
		{name: "duplicate Host", raw: "Host: a\r\nhost: a\r\n\r\n", status: 400, reason: ReasonDupHost},
		{name: "empty Host", raw: "Host:\r\n\r\n", status: 400, reason: ReasonBadHost},
		{name: "empty Host on HTTP/1.0", proto: "HTTP/1.0", raw: "Host:\r\n\r\n"},
		{name: "no terminator", raw: "Host: a\r\n", status: 400, reason: ReasonTruncated},
		{name: "bytes after terminator", raw: "Host: a\r\n\r\nX", status: 400, reason: ReasonTruncated},
		{name: "unterminated line", raw: "Host: a", status: 400, reason: ReasonTruncated},
		{name: "leading bare LF", raw: "\nHost: a\r\n\r\n", status: 400, reason: ReasonBareLF},
		{name: "origin form with query", uri: "/a?b=c", raw: "Host: a\r\n\r\n"},
		{name: "relative target", uri: "a/b", raw: "Host: a\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "empty target", uri: "-", raw: "Host: a\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "control in target", uri: "/a\x01b", raw: "Host: a\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "space in target", uri: "/a b", raw: "Host: a\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "DEL in target", uri: "/a\x7f", raw: "Host: a\r\n\r\n", status: 400, reason: ReasonBadTarget},
		{name: "empty method", method: "-", raw: "Host: a\r\n\r\n", status: 400, reason: ReasonBadMethod},
		{name: "separator in method", method: "GE(T", raw: "Host: a\r\n\r\n", status: 400, reason: ReasonBadMethod},
	}
}

// TestCheckMethodTarget pins the rules the HTTP/2 front end borrows.
func TestCheckMethodTarget(t *testing.T) {
	tests := []struct {
		method, target string
		reason         string
	}{
		{"GET", "/a/b?c=d", ""},
		{"PATCH", "/a%2Fb", ""},
		{"get", "/a", ReasonBadMethod},
		{"", "/a", ReasonBadMethod},
		{"GET", "", ReasonBadTarget},
		{"GET", "*", ReasonBadTarget},
		{"GET", "http://a/b", ReasonBadTarget},
		{"GET", "/a#b", ReasonFragment},
		{"GET", "/a\\b", ReasonBackslash},
		{"GET", "/a/..%2Fb", ReasonDotSegment},
		{"GET", "/a/%2e;x/b", ReasonDotSegment},
	}
	p := DefaultPolicy()
	for _, tt := range tests {
		v := p.CheckMethodTarget([]byte(tt.method), []byte(tt.target))
		if v.Reason != tt.reason || (tt.reason == "") != v.OK() {
			t.Errorf("%q %q: %+v, want %q", tt.method, tt.target, v, tt.reason)
		}
	}
}

// TestCheckDecodeSlashes: when the router decodes encoded slashes and
// backslashes (--escaped-slashes decode), the path has one reading and the
// rules that guard the other readings step aside; path parameters on a dot
// segment, which no router setting resolves, are still refused.
func TestCheckDecodeSlashes(t *testing.T) {
	p := Policy{DecodeSlashes: true}
	for _, tt := range []struct {
		target, reason string
	}{
		{"/public/..%2Fadmin", ""},
		{"/public/%2e%2e%5Cadmin", ""},
		{"/public\\..\\admin", ""},
		{"/public/..;/admin", ReasonDotSegment},
		{"/a#b", ReasonFragment},
	} {
		h := parseHead(t, "GET "+tt.target+" HTTP/1.1\r\nHost: a\r\n\r\n")
		for name, v := range map[string]Verdict{
			"Check":             func() Verdict { v, _ := p.Check(h); return v }(),
			"CheckMethodTarget": p.CheckMethodTarget([]byte("GET"), []byte(tt.target)),
		} {
			if v.Reason != tt.reason || (tt.reason == "") != v.OK() {
				t.Errorf("%s %q: %+v, want %q", name, tt.target, v, tt.reason)
			}
		}
	}
}

func TestCheckHeaderNotFromWire(t *testing.T) {
	var h fasthttp.RequestHeader
	h.SetHost("a")
	h.SetRequestURI("/")
	p := DefaultPolicy()
	if v, _ := p.Check(&h); v.Status != 500 || v.Reason != ReasonNotWire {
		t.Fatalf("Check on a built header = %+v, want 500", v)
	}
}

// TestDropsApply checks that a dropped field is gone from every view the
// proxy forwards from, and that its hyphenated twin stays.
func TestDropsApply(t *testing.T) {
	h := parseHead(t, "GET / HTTP/1.1\r\nHost: a\r\nx_user_id: 7\r\nX-User-Id: 1\r\nX_Role: admin\r\n\r\n")
	p := DefaultPolicy()
	v, d := p.Check(h)
	if !v.OK() || d.Len() != 2 {
		t.Fatalf("Check = %+v, %d drops", v, d.Len())
	}
	d.Apply(h)
	if got := h.Peek("X_User_Id"); len(got) != 0 {
		t.Errorf("X_User_Id still %q", got)
	}
	if got := string(h.Peek("X-User-Id")); got != "1" {
		t.Errorf("X-User-Id = %q, want 1", got)
	}
	var up fasthttp.RequestHeader
	h.CopyTo(&up)
	if s := strings.ToLower(up.String()); strings.Contains(s, "_") {
		t.Errorf("forwarded head still has an underscore field:\n%s", s)
	}
	Drops{}.Apply(h) // the zero value is a no-op
}

func TestPolicyValidate(t *testing.T) {
	for _, p := range []Policy{{}, DefaultPolicy(), {UnderscoreHeaders: UnderscoreReject}, {UnderscoreHeaders: UnderscoreAllow}} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	err := (&Policy{UnderscoreHeaders: "strip", MaxHeaderCount: -1, MaxHeaderBytes: -1}).Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"underscore_headers", "max_header_count", "max_header_bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// TestRawHeadersExact pins what this package relies on in fasthttp: the raw
// block is the wire bytes after the request line, bare LFs, folds and name
// case included, with names normalised in the parsed view only.
func TestRawHeadersExact(t *testing.T) {
	for _, block := range []string{
		"host: a\r\nx-lower: 1\r\nX_Under: 2\r\n\r\n",
		"Host: a\nX: 1\r\n\r\n",
		"Host: a\r\nX: 1\r\n 2\r\n\tthree\r\nx-y: 4\r\n\r\n",
	} {
		h := parseHead(t, "GET / HTTP/1.1\r\n"+block)
		if got := string(h.RawHeaders()); got != block {
			t.Errorf("RawHeaders = %q, want %q", got, block)
		}
	}
	// The request line is not kept, so its terminator is invisible.
	h := parseHead(t, "GET / HTTP/1.1\nHost: a\r\n\r\n")
	if got := string(h.RawHeaders()); got != "Host: a\r\n\r\n" {
		t.Errorf("RawHeaders = %q", got)
	}
	// No fields: nothing is kept, not even the blank line.
	h = parseHead(t, "GET / HTTP/1.0\r\n\r\n")
	if got := h.RawHeaders(); len(got) != 0 {
		t.Errorf("RawHeaders = %q", got)
	}
}

func TestCheckNoAlloc(t *testing.T) {
	h := parseHead(t, cleanHead)
	p := DefaultPolicy()
	if n := testing.AllocsPerRun(100, func() {
		if v, _ := p.Check(h); !v.OK() {
			t.Fatal(v)
		}
	}); n != 0 {
		t.Errorf("Check allocates %v times on a clean request", n)
	}
	h = parseHead(t, "GET / HTTP/1.1\r\nHost: a\r\nX_A: 1\r\n\r\n")
	if n := testing.AllocsPerRun(100, func() {
		_, d := p.Check(h)
		d.Apply(h)
	}); n != 0 {
		t.Errorf("Check and Apply allocate %v times with an underscore field", n)
	}
}

// cleanHead is a typical browser request.
const cleanHead = "GET /api/v1/orders?limit=10 HTTP/1.1\r\n" +
	"Host: api.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: application/json\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl\r\n" +
	"Cookie: session=abc123; theme=dark\r\n" +
	"Connection: keep-alive\r\n" +
	"Sec-Fetch-Mode: cors\r\n" +
	"X-Request-Id: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n" +
	"\r\n"

func BenchmarkCheck(b *testing.B) {
	h := parseHead(b, cleanHead)
	p := DefaultPolicy()
	b.ReportAllocs()
	b.SetBytes(int64(len(cleanHead)))
	for b.Loop() {
		if v, _ := p.Check(h); !v.OK() {
			b.Fatal(v)
		}
	}
}

// BenchmarkFasthttpRead is the reference for BenchmarkCheck: what fasthttp
// spends parsing the same head before the handler runs.
func BenchmarkFasthttpRead(b *testing.B) {
	r := strings.NewReader(cleanHead)
	br := bufio.NewReader(r)
	var h fasthttp.RequestHeader
	b.ReportAllocs()
	b.SetBytes(int64(len(cleanHead)))
	for b.Loop() {
		r.Reset(cleanHead)
		br.Reset(r)
		h.Reset()
		if err := h.Read(br); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValidValue holds the word-at-a-time test against the byte rule for
// every byte value at every position of a word.
func TestValidValue(t *testing.T) {
	for c := range 256 {
		for pos := range 11 {
			v := []byte("abcdefghijk")
			v[pos] = byte(c)
			if got, want := ValidValue(v), isFieldVchar(byte(c)); got != want {
				t.Fatalf("byte %#x at %d: %v, want %v", c, pos, got, want)
			}
		}
	}
}

// TestValidAuthority pins the authority syntax shared by Host and absolute-form targets.
func TestValidAuthority(t *testing.T) {
	for _, tc := range []struct {
		a  string
		ok bool
	}{
		{"example.com", true}, {"example.com:8080", true}, {"[::1]", true}, {"[::1]:80", true},
		{"", true}, {"a:", true}, {"x:80:81", false}, {"[", false}, {"[]", false}, {"[::1", false},
		{"::1", false}, {"[a]b]", false}, {"a[b]", false}, {"a:8o", false}, {"a b", false},
	} {
		if got := validAuthority([]byte(tc.a)); got != tc.ok {
			t.Errorf("validAuthority(%q) = %v, want %v", tc.a, got, tc.ok)
		}
	}
}

// FuzzValidAuthority holds the one-pass validAuthority to the rules written one pass each
// (validAuthorityRules).
func FuzzValidAuthority(f *testing.F) {
	for _, s := range []string{"example.com", "example.com:8080", "[::1]", "[::1]:80", "", "a:",
		"x:80:81", "[", "[]", "[::1", "::1", "[a]b]", "a[b]", "a:8o", "a b", "[::1]:", "]:80",
		"[:]:80", "a]:1", "[[a]]", "[a]:1:2", ":", ":80", "[v1.x]", "%41.example", "a@b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, a []byte) {
		if got, want := validAuthority(a), validAuthorityRules(a); got != want {
			t.Fatalf("validAuthority(%q) = %v, the rules say %v", a, got, want)
		}
	})
}

// validAuthorityRules is validAuthority's rules as they read: the characters, then
// splitPort, the port's digits and the brackets of an IP literal.
func validAuthorityRules(a []byte) bool {
	for _, c := range a {
		if !isAuthorityChar(c) {
			return false
		}
	}
	host, port := splitPort(a)
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(host) > 0 && host[0] == '[' {
		return len(host) > 2 && host[len(host)-1] == ']' && !bytes.ContainsAny(host[1:len(host)-1], "[]")
	}
	return !bytes.ContainsAny(host, ":[]")
}

func TestValidToken(t *testing.T) {
	for _, tc := range []struct {
		b  string
		ok bool
	}{
		{"X-Request-Id", true}, {"!#$%&'*+-.^_`|~09azAZ", true}, {"", false}, {"a b", false},
		{"a:b", false}, {"a\r", false}, {"caf\xc3\xa9", false}, {"(x)", false},
	} {
		if got := ValidToken([]byte(tc.b)); got != tc.ok {
			t.Errorf("ValidToken(%q) = %v, want %v", tc.b, got, tc.ok)
		}
	}
}

// TestTchars: the token table is RFC 9110 §5.6.2's tchar and nothing else.
func TestTchars(t *testing.T) {
	const want = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := range 256 {
		if got := isTchar(byte(c)); got != strings.ContainsRune(want, rune(c)) || c >= 128 && got {
			t.Errorf("isTchar(%#x) = %v", c, got)
		}
	}
}
