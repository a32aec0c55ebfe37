package requesttransformer

import (
	"net/http/httptest"
	"strings"
	"testing"

	"tollgate/internal/proxy"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in      string
		static  bool
		segs    []segment
		wantErr string
	}{
		{in: "", static: true},
		{in: "plain value", static: true},
		{in: "costs $5 (or $ 6)", static: true},
		{in: "$(uuid)", segs: []segment{{kind: segUUID}}},
		{in: "$( uuid() )", segs: []segment{{kind: segUUID}}},
		{in: "Bearer $(headers.x_token)!", segs: []segment{
			{kind: segLiteral, text: "Bearer "}, {kind: segHeader, text: "x_token", alt: "x-token"}, {kind: segLiteral, text: "!"}}},
		{in: `$(headers["X-A"])`, segs: []segment{{kind: segHeader, text: "x-a"}}},
		{in: `$(headers['a)b'])`, segs: []segment{{kind: segHeader, text: "a)b"}}},
		{in: `$(headers["q\"s"])`, segs: []segment{{kind: segHeader, text: `q"s`}}},
		{in: "$(query_params.page)", segs: []segment{{kind: segQuery, text: "page"}}},
		{in: `$(query_params [ "a b" ])`, segs: []segment{{kind: segQuery, text: "a b"}}},
		{in: "$(uri_captures[0])$(uri_captures.id)", segs: []segment{{kind: segCaptureIndex, idx: 0}, {kind: segCaptureName, text: "id"}}},
		{in: `$(shared.user)`, segs: []segment{{kind: segShared, text: "user"}}},
		{in: "$(", wantErr: "unterminated"},
		{in: "a $(headers.x", wantErr: "unterminated"},
		{in: "$()", wantErr: "empty"},
		{in: "$(foo)", wantErr: "unknown name"},
		{in: "$(headers)", wantErr: "expected '.' or '['"},
		{in: "$(headers.)", wantErr: "expected a name"},
		{in: "$(headers[1])", wantErr: "indexed by name"},
		{in: "$(query_params[2])", wantErr: "indexed by name"},
		{in: "$(shared[2])", wantErr: "indexed by name"},
		{in: `$(headers["x)`, wantErr: "unterminated string"},
		{in: `$(headers["x"`, wantErr: "expected ']'"},
		{in: `$(headers["\n"])`, wantErr: "unsupported escape"},
		{in: "$(headers.a or 'b')", wantErr: "only simple lookups"},
		{in: "$(uri_captures[99999999999999999999])", wantErr: "out of range"},
		{in: "$(#)", wantErr: "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tp, err := parseTemplate(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tp.static != tt.static {
				t.Errorf("static = %v, want %v", tp.static, tt.static)
			}
			if tt.static {
				if tp.lit != tt.in {
					t.Errorf("lit = %q", tp.lit)
				}
				return
			}
			if len(tp.segs) != len(tt.segs) {
				t.Fatalf("segs = %+v, want %+v", tp.segs, tt.segs)
			}
			for i := range tt.segs {
				if tp.segs[i] != tt.segs[i] {
					t.Errorf("seg %d = %+v, want %+v", i, tp.segs[i], tt.segs[i])
				}
			}
		})
	}
}

// FuzzTemplate checks that parsing never panics, that text without "$(" is kept verbatim,
// and that a parsed template renders without panicking.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"", "plain", "$(uuid)", "Bearer $(headers.x_token)", `$(headers["x-a"])`,
		"$(query_params.a)$(uri_captures[1])$(uri_captures.n)$(shared.s)", "$(", "$()",
		`$(headers['a\'b'])`, "$$((", "$(headers . x)", "$(uri_captures [ 0 ] )",
	} {
		f.Add(s)
	}
	x, err := proxy.NewTestExchange("http1", httptest.NewRequest("GET", "http://example.com/p?a=1&b", nil), 1)
	if err != nil {
		f.Fatal(err)
	}
	x.Ctx.Captures = captures{idx: []string{"/p", "p"}, named: map[string]string{"n": "v"}}
	x.Ctx.SetShared("s", "shared")
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := parseTemplate(s)
		if !strings.Contains(s, "$(") {
			if err != nil || !tp.static || tp.lit != s {
				t.Fatalf("literal %q: err=%v tp=%+v", s, err, tp)
			}
		}
		if err != nil {
			return
		}
		e := env{c: x.Ctx}
		out := tp.render(&e)
		if tp.static && out != tp.lit {
			t.Fatalf("static render %q != %q", out, tp.lit)
		}
	})
}
