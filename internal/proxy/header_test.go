package proxy

import (
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
	// through the adapter: the same value, whichever path a name takes
	for _, name := range names {
		var b fasthttp.RequestHeader
		b.Set(name, "v")
		if got, want := string(fastReqHeader{&b}.Peek(name)), string(b.Peek(name)); got != want {
			t.Errorf("Peek(%q) = %q, engine's Peek %q", name, got, want)
		}
	}
}
