package responsetransformer

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tollgate/internal/plugin"
	"tollgate/internal/plugin/plugintest"
)

func newReq() *http.Request { return httptest.NewRequest("GET", "http://example.com/", nil) }

// runFilters runs the header phase, then the body phase over chunks (when the instance has
// one), and returns the body sent to the client.
func runFilters(t *testing.T, inst any, x *plugintest.Exchange, chunks []string) string {
	t.Helper()
	if err := inst.(plugin.HeaderFilter).HeaderFilter(x.Ctx); err != nil {
		t.Fatalf("HeaderFilter: %v", err)
	}
	bf, ok := inst.(plugin.BodyFilter)
	if !ok {
		return strings.Join(chunks, "")
	}
	var out []byte
	for i, ch := range chunks {
		b, err := bf.BodyFilter(x.Ctx, []byte(ch), i == len(chunks)-1)
		if err != nil {
			t.Fatalf("BodyFilter: %v", err)
		}
		out = append(out, b...)
	}
	return string(out)
}

func TestHeaderFilter(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		resp http.Header
		want map[string][]string // nil = absent
	}{
		{
			name: "order remove rename replace add append",
			cfg: `
remove: {headers: [X-Drop, "X-Drop2:ignored"]}
rename: {headers: ["X-Old:X-New", "X-Absent:X-Nope"]}
replace: {headers: ["X-New:replaced", "X-None:no"]}
add: {headers: ["X-New:no", "X-Added:yes"]}
append: {headers: ["X-Added:again", "X-Multi:2"]}
`,
			resp: http.Header{"X-Drop": {"1"}, "X-Drop2": {"1"}, "X-Old": {"o"}, "X-Multi": {"1"}},
			want: map[string][]string{
				"X-Drop": nil, "X-Drop2": nil, "X-Old": nil, "X-New": {"replaced"}, "X-Nope": nil,
				"X-None": nil, "X-Added": {"yes", "again"}, "X-Multi": {"1", "2"},
			},
		},
		{
			name: "rename keeps every value and overwrites the target",
			cfg:  `rename: {headers: ["X-Link:X-Links"]}`,
			resp: http.Header{"X-Link": {"a", "b"}, "X-Links": {"old"}},
			want: map[string][]string{"X-Link": nil, "X-Links": {"a", "b"}},
		},
		{
			name: "content-length stays without json operations",
			cfg:  `add: {headers: ["X-A:1"]}`,
			resp: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"2"}},
			want: map[string][]string{"Content-Length": {"2"}},
		},
		{
			name: "content-length goes for json with json operations",
			cfg:  `remove: {json: [a]}`,
			resp: http.Header{"Content-Type": {"application/problem+json; charset=utf-8"}, "Content-Length": {"2"}},
			want: map[string][]string{"Content-Length": nil},
		},
		{
			name: "content-length stays for other types",
			cfg:  `remove: {json: [a]}`,
			resp: http.Header{"Content-Type": {"text/json"}, "Content-Length": {"2"}},
			want: map[string][]string{"Content-Length": {"2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := plugintest.Build(t, Spec(), tt.cfg)
			plugintest.Run(t, newReq, func(t *testing.T, x *plugintest.Exchange) {
				x.SetResponse(200, tt.resp)
				runFilters(t, inst, x, []string{"{}"})
				for name, want := range tt.want {
					got := x.Ctx.Resp.Header().Values(name)
					if len(got) == 0 {
						got = nil
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s = %q, want %q", name, got, want)
					}
				}
			})
		})
	}
}

func TestLatency(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `{add: {headers: ["X-Response-Time:$(latency)"]}, append: {headers: ["X-T:took $(latency)!"]}}`)
	re := regexp.MustCompile(`^(\d+)ms$`)
	plugintest.Run(t, newReq, func(t *testing.T, x *plugintest.Exchange) {
		x.Ctx.Start = time.Now().Add(-1500 * time.Millisecond)
		x.SetResponse(200, nil)
		runFilters(t, inst, x, nil)
		got := string(x.Ctx.Resp.Header().Peek("X-Response-Time"))
		m := re.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("X-Response-Time = %q", got)
		}
		if ms, _ := strconv.Atoi(m[1]); ms < 1500 || ms > 60000 {
			t.Errorf("latency %dms, want about 1500ms", ms)
		}
		if got := string(x.Ctx.Resp.Header().Peek("X-T")); !regexp.MustCompile(`^took \d+ms!$`).MatchString(got) {
			t.Errorf("X-T = %q", got)
		}
	})
}

func TestBodyFilter(t *testing.T) {
	allOps := `
remove: {json: [internal_id, debug_info]}
rename: {json: ["old:new", "absent:x"]}
replace: {json: ["rep:R", "n:42", "f:x", "none:1"], json_types: [string, number]}
add: {json: ["rep:no", "f:added", "b:true", "added:1e3"], json_types: [string, string, boolean, number]}
append: {json: ["list:b", "str:2", "fresh:f", "num:1"]}
`
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		cfg    string
		header http.Header
		chunks []string
		want   string
	}{
		{
			name:   "all operations across chunks, order kept",
			cfg:    allOps,
			header: jsonCT,
			chunks: []string{`{"z":{"a":[1, 2]},"internal_id":7,"old":"o",`, `"rep":"x","n":1,"f":false,"debug_info":{},`, `"list":["a"],"str":"1","num":3}`, ""},
			want:   `{"z":{"a":[1, 2]},"new":"o","rep":"R","n":42,"f":"added","list":["a","b"],"str":["1","2"],"num":[3,"1"],"b":true,"added":1000,"fresh":["f"]}`,
		},
		{
			name:   "invalid json untouched",
			cfg:    allOps,
			header: jsonCT,
			chunks: []string{`{"internal_id":`, `7`, ""},
			want:   `{"internal_id":7`,
		},
		{
			name:   "array body untouched",
			cfg:    allOps,
			header: jsonCT,
			chunks: []string{`[{"internal_id":7}]`, ""},
			want:   `[{"internal_id":7}]`,
		},
		{
			name:   "not json: streamed through",
			cfg:    allOps,
			header: http.Header{"Content-Type": {"text/plain"}},
			chunks: []string{`{"internal_id":7}`, ""},
			want:   `{"internal_id":7}`,
		},
		{
			name:   "header-only config has no body phase",
			cfg:    `add: {headers: ["X-A:1"]}`,
			header: jsonCT,
			chunks: []string{`{"a":1}`},
			want:   `{"a":1}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := plugintest.Build(t, Spec(), tt.cfg)
			plugintest.Run(t, newReq, func(t *testing.T, x *plugintest.Exchange) {
				x.SetResponse(200, tt.header)
				if got := runFilters(t, inst, x, tt.chunks); got != tt.want {
					t.Errorf("body = %s\nwant   %s", got, tt.want)
				}
			})
		})
	}
}

// A chunk handed to BodyFilter may be reused by the caller after the call returns.
func TestBodyFilterCopiesChunks(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `remove: {json: [a]}`).(plugin.BodyFilter)
	plugintest.Run(t, newReq, func(t *testing.T, x *plugintest.Exchange) {
		x.SetResponse(200, http.Header{"Content-Type": {"application/json"}})
		if err := inst.(plugin.HeaderFilter).HeaderFilter(x.Ctx); err != nil {
			t.Fatal(err)
		}
		buf := []byte(`{"a":1,`)
		if out, _ := inst.BodyFilter(x.Ctx, buf, false); out != nil {
			t.Fatalf("got %q before eof", out)
		}
		copy(buf, "XXXXXXX")
		out, _ := inst.BodyFilter(x.Ctx, []byte(`"b":2}`), true)
		if string(out) != `{"b":2}` {
			t.Errorf("body = %s", out)
		}
	})
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"Application/JSON; charset=utf-8":   true,
		"application/vnd.api+json":          true,
		"text/html, application/json":       true,
		"application/jsonp":                 false,
		"text/json":                         false,
		"application/x-www-form-urlencoded": false,
		"":                                  false,
	} {
		if got := isJSON([]byte(ct)); got != want {
			t.Errorf("isJSON(%q) = %v", ct, got)
		}
	}
}

// The seed configs from the project's notes must load and do what they say.
func TestSeedConfigs(t *testing.T) {
	tests := []struct {
		name    string
		cfg     string
		latency bool // X-Response-Time added
	}{
		{name: "strip headers and fields, add response time", latency: true, cfg: `
remove:
  headers:
    - X-Powered-By
    - Server
    - X-Internal-Trace
  json:
    - internal_id
    - debug_info
add:
  headers:
    - "X-Response-Time:$(latency)"
`},
		{name: "strip headers and fields", cfg: `
remove:
  headers:
    - "X-Powered-By"
    - "Server"
    - "X-Internal-Trace"
  json:
    - "internal_id" # Strip internal field from response
    - "debug_info"
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := plugintest.Build(t, Spec(), tt.cfg)
			plugintest.Run(t, newReq, func(t *testing.T, x *plugintest.Exchange) {
				x.SetResponse(200, http.Header{
					"Content-Type": {"application/json"}, "Content-Length": {"60"},
					"X-Powered-By": {"Express"}, "Server": {"nginx"}, "X-Internal-Trace": {"t1"},
				})
				body := runFilters(t, inst, x, []string{`{"id":1,"internal_id":"i-9",`, `"name":"a","debug_info":{"sql":"..."}}`, ""})
				if body != `{"id":1,"name":"a"}` {
					t.Errorf("body = %s", body)
				}
				h := x.Ctx.Resp.Header()
				for _, gone := range []string{"X-Powered-By", "Server", "X-Internal-Trace", "Content-Length"} {
					if v := h.Values(gone); len(v) > 0 {
						t.Errorf("%s = %q, want it removed", gone, v)
					}
				}
				v := string(h.Peek("X-Response-Time"))
				if tt.latency != regexp.MustCompile(`^\d+ms$`).MatchString(v) {
					t.Errorf("X-Response-Time = %q", v)
				}
			})
		})
	}
}
