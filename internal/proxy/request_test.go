package proxy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
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

// TestHexPairs: the table newRequestID reads holds each byte's two hex characters.
func TestHexPairs(t *testing.T) {
	for i := 0; i < 256; i++ {
		if got, want := hexPairs[2*i:2*i+2], fmt.Sprintf("%02x", i); got != want {
			t.Fatalf("hexPairs[%d] = %q, want %q", i, got, want)
		}
	}
	var st reqState
	id := st.newRequestID()
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Errorf("request id %q: want 32 lower-case hex characters", id)
	}
}
