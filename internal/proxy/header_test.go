package proxy

import (
	"bufio"
	"reflect"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestRespHeaderSetCookie: each Set-Cookie field of a response stays a value of its own
// (a joined list of cookies is something no client can parse).
func TestRespHeaderSetCookie(t *testing.T) {
	var r upResp
	r.reset()
	a := r.Header()
	a.Add("Set-Cookie", "a=1; Path=/")
	a.Add("Set-Cookie", "b=2; HttpOnly")
	a.Add("X-Multi", "x")
	a.Add("X-Multi", "y")
	tests := []struct {
		name string
		want []string
	}{
		{"Set-Cookie", []string{"a=1; Path=/", "b=2; HttpOnly"}},
		{"set-cookie", []string{"a=1; Path=/", "b=2; HttpOnly"}},
		{"X-Multi", []string{"x", "y"}},
		{"X-None", nil},
	}
	for _, tc := range tests {
		if got := a.Values(tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Values(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := string(a.Peek("Set-Cookie")); got != "a=1; Path=/" {
		t.Errorf("Peek(Set-Cookie) = %q", got)
	}
	if got, want := string(r.appendHead(nil)), "HTTP/1.1 0 \r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; HttpOnly\r\nX-Multi: x\r\nX-Multi: y\r\n\r\n"; got != want {
		t.Errorf("head %q, want %q", got, want)
	}
}

// hasNames are looked up by TestHeaderHas: the names the engine keeps apart, in several
// spellings, and ordinary ones, present, empty, absent or not valid as names.
var hasNames = []string{
	"Host", "host", "Content-Type", "content-type", "Content-Length", "CONTENT-LENGTH",
	"User-Agent", "Connection", "Cookie", "Trailer", "Server", "Content-Encoding", "Set-Cookie",
	"set-cookie", "X-A", "x-a", "X-Empty", "x-EMPTY", "X-None", "Bad Name", "X-A\r", "Via", "",
}

// TestHeaderHas: Has answers what Peek(name) != nil || len(Values(name)) > 0 does (the
// transformer plugins' present), for fresh, parsed and copied headers, also over a reused
// header whose buffers for Content-Type and Content-Length are empty but not nil.
func TestHeaderHas(t *testing.T) {
	const rawReq = "GET / HTTP/1.1\r\nHost: gw\r\nUser-Agent: ua\r\nX-A: 1\r\nX-Empty:\r\nX-A: 2\r\nCookie: c=1\r\nConnection: keep-alive\r\n\r\n"
	const rawReqCT = "POST / HTTP/1.1\r\nHost: gw\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nTrailer: X-T\r\n\r\n"
	parseReq := func(raw string) *fasthttp.RequestHeader {
		var h fasthttp.RequestHeader
		if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatalf("parse: %v", err)
		}
		return &h
	}
	var reused fasthttp.RequestHeader
	parseReq(rawReqCT).CopyTo(&reused)
	parseReq(rawReq).CopyTo(&reused) // Content-Type and Content-Length left empty, not nil
	var setReq fasthttp.RequestHeader
	setReq.Set("X-Empty", "")
	setReq.Set("Content-Type", "")
	setReq.Add("X-A", "v")
	reqs := map[string]*fasthttp.RequestHeader{
		"fresh": {}, "parsed": parseReq(rawReq), "parsed with body": parseReq(rawReqCT),
		"reused": &reused, "set": &setReq,
	}
	for state, h := range reqs {
		a := fastReqHeader{h}
		for _, name := range hasNames {
			want := a.Peek(name) != nil || len(a.Values(name)) > 0
			if got := a.Has(name); got != want {
				t.Errorf("request %s: Has(%q) = %v, Peek/Values say %v", state, name, got, want)
			}
		}
	}
}

// TestHeaderSetValue: Set stores the value as the engine's Set does, CR and LF blanked.
func TestHeaderSetValue(t *testing.T) {
	var rq fasthttp.RequestHeader
	for _, v := range []string{"plain", "", "a\r\nInjected: 1", "\n"} {
		fastReqHeader{&rq}.Set("x-v", v)
		var wq fasthttp.RequestHeader
		wq.Set("x-v", v)
		if got, want := string(rq.Peek("X-V")), string(wq.Peek("X-V")); got != want {
			t.Errorf("request Set(%q): %q, engine's Set %q", v, got, want)
		}
	}
}

// TestCanonicalName: a name canonicalName accepts is one the engine's normalisation keeps as
// it is, so that the *Canonical calls it selects act as the normalising ones would; every
// name of valid bytes the engine keeps is accepted (names with invalid bytes, which the engine
// leaves alone, may take the normalising path).
func TestCanonicalName(t *testing.T) {
	names := []string{
		"", "X", "x", "X-A", "X-a", "x-A", "Via", "VIA", "via", "X-Forwarded-For", "X-Forwarded-for",
		"Kong-Request-ID", "Kong-Request-Id", "Content-Type", "Te", "TE", "-A", "-a", "A--B", "A--b",
		"A-1b", "A-1B", "X_Under_Score", "X_under_score", "Bad Name", "bad name", "X-A\r", "X\nY",
		"X-\x80", "x-\x80", "Ä", "X-Ünicode", "A:b", "a:b",
	}
	for _, name := range names {
		norm := string(fasthttp.AppendNormalizedHeaderKey(nil, name))
		valid := !strings.ContainsFunc(name, func(r rune) bool {
			return !(r == '-' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
		})
		if canonicalName(name) && norm != name {
			t.Errorf("canonicalName(%q) = true, the engine makes it %q", name, norm)
		}
		if valid && norm == name && !canonicalName(name) {
			t.Errorf("canonicalName(%q) = false for a name the engine keeps", name)
		}
	}
	// through the adapters: the same fields, whichever path a name takes
	for _, name := range names {
		var a, b fasthttp.RequestHeader
		fastReqHeader{&a}.Set(name, "v")
		b.Set(name, "v")
		if got, want := a.String(), b.String(); got != want {
			t.Errorf("Set(%q):\n%q\nengine's Set:\n%q", name, got, want)
		}
		if got, want := string(fastReqHeader{&a}.Peek(name)), string(b.Peek(name)); got != want {
			t.Errorf("Peek(%q) = %q, engine's Peek %q", name, got, want)
		}
	}
}
