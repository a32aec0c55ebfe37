package router

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string
		wantErr string // substring of the error; "" for success
	}{
		{name: "root", raw: "/", want: "/"},
		{name: "plain", raw: "/a/b", want: "/a/b"},
		{name: "trailing slash kept", raw: "/a/b/", want: "/a/b/"},
		{name: "dot segments", raw: "/a/./b/../c", want: "/a/c"},
		{name: "encoded dot-dot", raw: "/a/%2e%2e/b", want: "/b"},
		{name: "encoded dot-dot mixed case", raw: "/a/%2E%2e/b", want: "/b"},
		{name: "half encoded dot-dot", raw: "/a/.%2e/b", want: "/b"},
		{name: "encoded dot", raw: "/%2e/a", want: "/a"},
		{name: "final dot leaves slash", raw: "/a/b/.", want: "/a/b/"},
		{name: "final encoded dot leaves slash", raw: "/a/%2e", want: "/a/"},
		{name: "final dot-dot leaves slash", raw: "/a/b/..", want: "/a/"},
		{name: "dot-dot above root", raw: "/../../a", want: "/a"},
		{name: "only dot-dot", raw: "/..", want: "/"},
		{name: "dots inside a segment", raw: "/..a/b..", want: "/..a/b.."},
		{name: "three dots", raw: "/a/...", want: "/a/..."},
		{name: "merge slashes", raw: "//a///b//", want: "/a/b/"},
		{name: "merge before dot-dot", raw: "/a//../b", want: "/b"},
		{name: "slash-dot-slash-slash", raw: "/a/.//b", want: "/a/b"},
		{name: "encoded slash stays encoded upper-case", raw: "/a%2fb", want: "/a%2Fb"},
		{name: "encoded slash already upper", raw: "/a%2Fb", want: "/a%2Fb"},
		{name: "encoded slash is not a separator", raw: "/a%2f..%2fb", want: "/a%2F..%2Fb"},
		{name: "unreserved decoded", raw: "/%7euser/%41%62%2D%5f", want: "/~user/Ab-_"},
		{name: "other decoded", raw: "/a%20b%22", want: `/a b"`},
		{name: "non-ASCII decoded", raw: "/caf%C3%A9", want: "/café"},
		{name: "reserved kept upper-case", raw: "/%3a%40%21%2a%27%28%29%3b%26%3d%2b%24%2c%3f%23%5b%5d", want: "/%3A%40%21%2A%27%28%29%3B%26%3D%2B%24%2C%3F%23%5B%5D"},
		{name: "percent stays encoded", raw: "/%25", want: "/%25"},
		{name: "no double decoding", raw: "/%25%32%66", want: "/%252f"},
		{name: "query cut", raw: "/a?x=1", want: "/a"},
		{name: "query cut keeps trailing slash", raw: "/a/?x=/../b", want: "/a/"},
		{name: "encoded question mark is not a query", raw: "/a%3fx", want: "/a%3Fx"},
		{name: "empty query", raw: "/a?", want: "/a"},
		{name: "NUL decoded like any other byte", raw: "/a%00", want: "/a\x00"},
		{name: "bad escape letters", raw: "/a%zz", wantErr: "invalid url-encoded value: '%zz'"},
		{name: "bad escape one hex", raw: "/some%2words", wantErr: "'%2w'"},
		{name: "truncated escape", raw: "/a%2", wantErr: "'%2'"},
		{name: "lone percent", raw: "/a%", wantErr: "'%'"},
		{name: "bad escape before a good one", raw: "/a%2%41", wantErr: "'%2_'"},
		{name: "bad escape after the query is ignored", raw: "/a?%zz", want: "/a"},
		{name: "empty", raw: "", wantErr: "must start with '/'"},
		{name: "relative", raw: "a/b", wantErr: "must start with '/'"},
		{name: "asterisk form", raw: "*", wantErr: "must start with '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePath([]byte("keep"), []byte(tt.raw))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if string(got) != "keep" {
					t.Errorf("dst changed on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if string(got) != "keep"+tt.want {
				t.Errorf("got %q, want %q", got[4:], tt.want)
			}
			again, err := NormalizePath(nil, got[4:])
			if err != nil || string(again) != string(got[4:]) {
				t.Errorf("not idempotent: %q -> %q (%v)", got[4:], again, err)
			}
		})
	}
}

func TestNormalizePathErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{name: "escape", raw: "/%g0", want: ErrBadEscape},
		{name: "not absolute", raw: "x", want: ErrNotAbsolute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NormalizePath(nil, []byte(tt.raw)); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEscapeUpstreamPath(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: ""},
		{name: "space", in: "/a b", want: "/a%20b"},
		{name: "allowed set unchanged", in: "/AZaz09!#$&'()*+,/:;=?@[]-_.~", want: "/AZaz09!#$&'()*+,/:;=?@[]-_.~"},
		{name: "percent kept", in: "/a%2Fb%25", want: "/a%2Fb%25"},
		{name: "unsafe ASCII", in: "/\"<>\\^`{|}", want: "/%22%3C%3E%5C%5E%60%7B%7C%7D"},
		{name: "controls", in: "/\x00\x1f\x7f", want: "/%00%1F%7F"},
		{name: "UTF-8", in: "/café", want: "/caf%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeUpstreamPath([]byte("x"), []byte(tt.in)); string(got) != "x"+tt.want {
				t.Errorf("got %q, want %q", got[1:], tt.want)
			}
		})
	}
}

func TestUpstreamPath(t *testing.T) {
	tests := []struct {
		name    string
		service string
		req     string
		prefix  string // Match.Prefix
		strip   bool
		want    string
	}{
		// KONG_COMPAT §4.1 examples, v0 strip and v0 no-strip columns.
		{name: "ex1 strip", service: "", req: "/r", prefix: "/r", strip: true, want: "/"},
		{name: "ex1 no-strip", service: "", req: "/r", prefix: "/r", want: "/r"},
		{name: "ex2 strip", service: "", req: "/r/a", prefix: "/r", strip: true, want: "/a"},
		{name: "ex2 no-strip", service: "", req: "/r/a", prefix: "/r", want: "/r/a"},
		{name: "ex3 strip", service: "", req: "/rx", prefix: "/r", strip: true, want: "/x"},
		{name: "ex3 no-strip", service: "", req: "/rx", prefix: "/r", want: "/rx"},
		{name: "ex4 strip", service: "/s", req: "/r", prefix: "/r", strip: true, want: "/s"},
		{name: "ex4 no-strip", service: "/s", req: "/r", prefix: "/r", want: "/s/r"},
		{name: "ex5 strip", service: "/s", req: "/r/", prefix: "/r", strip: true, want: "/s/"},
		{name: "ex5 no-strip", service: "/s", req: "/r/", prefix: "/r", want: "/s/r/"},
		{name: "ex6 strip", service: "/s", req: "/r/a", prefix: "/r", strip: true, want: "/s/a"},
		{name: "ex6 no-strip", service: "/s", req: "/r/a", prefix: "/r", want: "/s/r/a"},
		{name: "ex7 strip", service: "/s", req: "/rx", prefix: "/r", strip: true, want: "/s/x"},
		{name: "ex7 no-strip", service: "/s", req: "/rx", prefix: "/r", want: "/s/rx"},
		{name: "ex8 strip", service: "/s", req: "/r/", prefix: "/r/", strip: true, want: "/s/"},
		{name: "ex8 no-strip", service: "/s", req: "/r/", prefix: "/r/", want: "/s/r/"},
		{name: "ex9 strip", service: "/s", req: "/r/a", prefix: "/r/", strip: true, want: "/s/a"},
		{name: "ex9 no-strip", service: "/s", req: "/r/a", prefix: "/r/", want: "/s/r/a"},
		{name: "ex10 strip", service: "/s/", req: "/r", prefix: "/r", strip: true, want: "/s"},
		{name: "ex10 no-strip", service: "/s/", req: "/r", prefix: "/r", want: "/s/r"},
		{name: "ex11 strip", service: "/s/", req: "/r/", prefix: "/r", strip: true, want: "/s/"},
		{name: "ex11 no-strip", service: "/s/", req: "/r/", prefix: "/r", want: "/s/r/"},
		{name: "ex12 regex strip", service: "/s", req: "/v2/x", prefix: "/v2", strip: true, want: "/s/x"},
		{name: "ex12 regex no-strip", service: "/s", req: "/v2/x", prefix: "/v2", want: "/s/v2/x"},

		// KONG_COMPAT §4.1 rule table, one case per row (row 1 and 5 have sub-cases).
		{name: "slash base, strip, empty rest, base is /", service: "/", req: "/r", prefix: "/r", strip: true, want: "/"},
		{name: "slash base, strip, empty rest, req ends /", service: "/s/", req: "/r/", prefix: "/r/", strip: true, want: "/s/"},
		{name: "slash base, strip, empty rest, req without /", service: "/s/", req: "/r", prefix: "/r", strip: true, want: "/s"},
		{name: "slash base, strip, rest starts /", service: "/s/", req: "/r/a", prefix: "/r", strip: true, want: "/s/a"},
		{name: "slash base, strip, other rest", service: "/s/", req: "/rx", prefix: "/r", strip: true, want: "/s/x"},
		{name: "slash base, no strip", service: "/s/", req: "/r/a", prefix: "/r", want: "/s/r/a"},
		{name: "base, strip, empty rest, req ends /", service: "/s", req: "/r/", prefix: "/r/", strip: true, want: "/s/"},
		{name: "base, strip, empty rest, req is /", service: "/s", req: "/", prefix: "/", strip: true, want: "/s"},
		{name: "base, strip, empty rest, req without /", service: "/s", req: "/r", prefix: "/r", strip: true, want: "/s"},
		{name: "base, strip, rest starts /", service: "/s", req: "/r/a", prefix: "/r", strip: true, want: "/s/a"},
		{name: "base, strip, other rest", service: "/s", req: "/rx", prefix: "/r", strip: true, want: "/s/x"},
		{name: "base, no strip, req is /", service: "/s", req: "/", prefix: "/", want: "/s"},
		{name: "base, no strip", service: "/s", req: "/a", prefix: "/a", want: "/s/a"},

		// rest sanitizing and the no-path case
		{name: "rest ./ dropped", service: "/s", req: "/r./x", prefix: "/r", strip: true, want: "/s/x"},
		{name: "rest ../ dropped", service: "/s", req: "/r../x", prefix: "/r", strip: true, want: "/s/x"},
		{name: "rest .. emptied", service: "/s", req: "/r..", prefix: "/r", strip: true, want: "/s"},
		{name: "rest . emptied", service: "/s/", req: "/r.", prefix: "/r", strip: true, want: "/s"},
		{name: "strip without matched path keeps req", service: "/s", req: "/a/b", strip: true, want: "/s/a/b"},
		{name: "strip without matched path, slash base", service: "/s/", req: "/a/b", strip: true, want: "/s/a/b"},
		{name: "prefix longer than req", service: "/s", req: "/a", prefix: "/abc", strip: true, want: "/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UpstreamPath([]byte("x"), tt.service, []byte(tt.req), []byte(tt.prefix), tt.strip)
			if string(got) != "x"+tt.want {
				t.Errorf("got %q, want %q", got[1:], tt.want)
			}
		})
	}
}

func TestValidatePath(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		wantErr string // exact message; "" for valid
	}{
		{name: "root", path: "/"},
		{name: "prefix", path: "/a/b"},
		{name: "trailing slash", path: "/a/"},
		{name: "regex", path: `~/v\d+`},
		{name: "regex named group", path: `~/users/(?<id>\d+)$`},
		{name: "question mark kept as Kong's normalize does", path: "/a?b"},
		{name: "space is normalized already", path: "/a b"},
		{name: "reserved escape upper-case", path: "/a%2Fb"},
		{name: "empty", path: "", wantErr: "length must be at least 1"},
		{name: "relative", path: "a", wantErr: "should start with: / (fixed path) or ~/ (regex path)"},
		{name: "regex without slash", path: "~a", wantErr: "should start with: / (fixed path) or ~/ (regex path)"},
		{name: "empty segment", path: "/a//b", wantErr: "must not have empty segments"},
		{name: "empty segment in regex", path: "~/a//b", wantErr: "must not have empty segments"},
		{name: "dot segments", path: "/a/../b", wantErr: "non-normalized path, consider use '/b' instead"},
		{name: "lower-case reserved escape", path: "/a%2fb", wantErr: "non-normalized path, consider use '/a%2Fb' instead"},
		{name: "encoded unreserved", path: "/%7euser", wantErr: "non-normalized path, consider use '/~user' instead"},
		{name: "bad escape", path: "/some%2words", wantErr: "invalid url-encoded value: '%2w'"},
		{name: "lone percent", path: "/a%", wantErr: "invalid url-encoded value: '%'"},
		{name: "bad regex", path: "~/(x", wantErr: "invalid regex: '/(x' (error parsing regexp: missing closing ): `/(x`)"},
		{name: "regex escaping its group", path: "~/a)|(/b", wantErr: "invalid regex: '/a)|(/b' (error parsing regexp: unexpected ): `/a)|(/b`)"},
		{name: "unknown escape rejected as in Rust", path: `~/\j`, wantErr: "invalid regex: '/\\j' (error parsing regexp: invalid escape sequence: `\\j`)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePath(tt.path)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("ValidatePath(%q) = %q, want %q", tt.path, got, tt.wantErr)
			}
		})
	}
}

func TestRegexLiteralPrefix(t *testing.T) {
	tests := []struct {
		name string
		re   string
		want string
	}{
		{name: "literal then class", re: `/users/\d+`, want: "/users/"},
		{name: "capture of literal extends", re: `/(api)/v\d`, want: "/api/v"},
		{name: "capture with alternation stops", re: `/(a|b)c`, want: "/"},
		{name: "optional first slash", re: `/?x`, want: ""},
		{name: "case folding stops", re: `/a(?i)bc`, want: "/a"},
		{name: "top-level alternation", re: `/ab|/ac`, want: "/a"},
		{name: "non-ASCII literal", re: `/café`, want: "/café"},
		{name: "replacement rune stops", re: "/a\uFFFDb", want: "/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rx, err := CompileRegex(tt.re)
			if err != nil {
				t.Fatal(err)
			}
			if got := regexLiteralPrefix(rx); string(got) != tt.want {
				t.Errorf("prefix %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNormalizePathSlashOptions: the escaped-slash action and slash merging.
func TestNormalizePathSlashOptions(t *testing.T) {
	keep, reject, decode := PathOptions{}, PathOptions{Slashes: SlashesReject}, PathOptions{Slashes: SlashesDecode}
	noMerge := PathOptions{NoMergeSlashes: true}
	decodeNoMerge := PathOptions{Slashes: SlashesDecode, NoMergeSlashes: true}
	tests := []struct {
		raw  string
		opt  PathOptions
		want string // "" = ErrSlashRefused
	}{
		{"/a%2Fb", keep, "/a%2Fb"},
		{"/a%2fb", keep, "/a%2Fb"},
		{"/a%5Cb", keep, "/a\\b"},
		{"/a\\b", keep, "/a\\b"},
		{"/public/..%2Fadmin", keep, "/public/..%2Fadmin"},
		{"/public\\..\\admin", keep, "/public\\..\\admin"},
		{"/a%2Fb", reject, ""},
		{"/a%5cb", reject, ""},
		{"/a\\b", reject, ""},
		{"/a/b", reject, "/a/b"},
		{"/a%2Fb", decode, "/a/b"},
		{"/public/..%2Fadmin", decode, "/admin"},
		{"/public/%2e%2e%2fadmin", decode, "/admin"},
		{"/public\\..\\admin", decode, "/admin"},
		{"/public%5C..%5Cadmin", decode, "/admin"},
		{"/a%2F%2Fb", decode, "/a/b"},
		{"/a%2F%2Fb", decodeNoMerge, "/a//b"},
		{"//a//b", noMerge, "//a//b"},
		{"/a//b/../c", noMerge, "/a//c"},
		{"//a//b", keep, "/a/b"},
	}
	for _, tc := range tests {
		got, err := NormalizePathWith(nil, []byte(tc.raw), tc.opt)
		if tc.want == "" {
			if !errors.Is(err, ErrSlashRefused) {
				t.Errorf("%q %+v: got %q, %v; want ErrSlashRefused", tc.raw, tc.opt, got, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q %+v: got %q, %v; want %q", tc.raw, tc.opt, got, err, tc.want)
		}
	}
	for _, s := range []string{"keep", "reject", "decode"} {
		if _, err := ParseSlashes(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseSlashes("drop"); err == nil {
		t.Error("ParseSlashes accepted drop")
	}
}
