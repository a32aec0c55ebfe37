package requesttransformer

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"tollgate/internal/plugin"
	"tollgate/internal/plugin/plugintest"
)

// req describes a client request for a test case.
type req struct {
	method, target string
	header         http.Header
	body           string
}

func (r req) build() *http.Request {
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	target := r.target
	if target == "" {
		target = "/"
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(method, "http://example.com"+target, body)
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	return hr
}

// want is what the upstream request must look like; empty fields are not checked. A header
// mapped to nil must be absent.
type want struct {
	method, path, query, host string
	headers                   map[string][]string
	body                      *string
	jsonBody                  string // compared as a JSON document
	match                     map[string]*regexp.Regexp
}

func str(s string) *string { return &s }

func runAccess(t *testing.T, cfg string, r req, setup func(c *plugin.Ctx), w want) {
	t.Helper()
	inst := plugintest.Build(t, Spec(), cfg).(plugin.AccessHandler)
	plugintest.Run(t, r.build, func(t *testing.T, x *plugintest.Exchange) {
		if setup != nil {
			setup(x.Ctx)
		}
		if err := inst.Access(x.Ctx); err != nil {
			t.Fatalf("Access: %v", err)
		}
		checkUp(t, x, w)
	})
}

func checkUp(t *testing.T, x *plugintest.Exchange, w want) {
	t.Helper()
	up := x.Ctx.Up
	if w.method != "" && up.Method() != w.method {
		t.Errorf("method = %q, want %q", up.Method(), w.method)
	}
	if w.path != "" && up.Path() != w.path {
		t.Errorf("path = %q, want %q", up.Path(), w.path)
	}
	if w.query != "" {
		q := up.Query()
		if w.query == "-" {
			w.query = ""
		}
		if q != w.query {
			t.Errorf("query = %q, want %q", q, w.query)
		}
	}
	if w.host != "" && up.Host() != w.host {
		t.Errorf("host = %q, want %q", up.Host(), w.host)
	}
	for name, vs := range w.headers {
		got := up.Header().Values(name)
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, vs) {
			t.Errorf("header %s = %q, want %q", name, got, vs)
		}
	}
	for name, re := range w.match {
		if got := string(up.Header().Peek(name)); !re.MatchString(got) {
			t.Errorf("header %s = %q, want match %s", name, got, re)
		}
	}
	if w.body != nil || w.jsonBody != "" {
		b, err := x.UpstreamBody()
		if err != nil {
			t.Fatalf("upstream body: %v", err)
		}
		if w.body != nil && string(b) != *w.body {
			t.Errorf("body = %q, want %q", b, *w.body)
		}
		if w.jsonBody != "" && string(b) != w.jsonBody {
			t.Errorf("body = %s, want %s", b, w.jsonBody)
		}
	}
}

const uuidRE = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

func TestAccessHeaders(t *testing.T) {
	tests := []struct {
		name  string
		cfg   string
		req   req
		setup func(c *plugin.Ctx)
		want  want
	}{
		{
			name: "remove rename replace add append order",
			cfg: `
remove: {headers: [X-Drop]}
rename: {headers: ["X-Old:X-New"]}
replace: {headers: ["X-New:replaced", "X-Absent:nope"]}
add: {headers: ["X-New:not-added", "X-Added:yes"]}
append: {headers: ["X-Multi:2", "X-Added:again"]}
`,
			req: req{header: http.Header{"X-Drop": {"1"}, "X-Old": {"old"}, "X-Multi": {"1"}}},
			want: want{headers: map[string][]string{
				"X-Drop": nil, "X-Old": nil, "X-New": {"replaced"}, "X-Absent": nil,
				"X-Added": {"yes", "again"}, "X-Multi": {"1", "2"},
			}},
		},
		{
			name: "rename keeps every value and overwrites the target",
			cfg:  `rename: {headers: ["X-A:X-B"]}`,
			req:  req{header: http.Header{"X-A": {"1", "2"}, "X-B": {"old"}}},
			want: want{headers: map[string][]string{"X-A": nil, "X-B": {"1", "2"}}},
		},
		{
			name: "names are case-insensitive",
			cfg:  `{remove: {headers: [x-drop]}, replace: {headers: ["x-keep:new"]}, add: {headers: ["x-KEEP:no"]}}`,
			req:  req{header: http.Header{"X-Drop": {"1"}, "X-Keep": {"old"}}},
			want: want{headers: map[string][]string{"X-Drop": nil, "X-Keep": {"new"}}},
		},
		{
			name: "empty header value counts as present",
			cfg:  `add: {headers: ["X-Empty:filled"]}`,
			req:  req{header: http.Header{"X-Empty": {""}}},
			want: want{headers: map[string][]string{"X-Empty": {""}}},
		},
		{
			name: "host: replace sets it, add and remove leave it",
			cfg:  `{replace: {headers: ["Host:upstream.internal"]}, add: {headers: ["host:nope"]}, remove: {headers: [Host]}}`,
			want: want{host: "upstream.internal"},
		},
		{
			name: "host: add only",
			cfg:  `add: {headers: ["Host:nope"]}`,
			want: want{host: "example.com"},
		},
		{
			name: "templates read the client request",
			cfg: `add: {headers: [
  "X-Host:$(headers.host)",
  "X-Auth:Bearer $(headers.x_token)",
  "X-Quoted:$(headers[\"x-token\"])-$(headers['X-Token'])",
  "X-Q:$(query_params.a)|$(query_params[\"b c\"])|$(query_params.flag)|$(query_params.none)",
  "X-Cap:$(uri_captures[1])/$(uri_captures.id)/$(uri_captures[\"id\"])/$(uri_captures[7])",
  "X-Shared:$(shared.user)/$(shared[\"n\"])/$(shared.none)",
  "X-Multi-Out:$(headers.x_multi)",
  "X-Id:$(uuid)"]}`,
			req: req{target: "/users/42?a=1&a=2&b+c=x%2Fy&flag",
				header: http.Header{"X-Token": {"t0k"}, "X-Multi": {"a", "b"}}},
			setup: func(c *plugin.Ctx) {
				c.Captures = captures{idx: []string{"/users/42", "users"}, named: map[string]string{"id": "42"}}
				c.SetShared("user", "alice")
				c.SetShared("n", 7)
			},
			want: want{
				headers: map[string][]string{
					"X-Host":      {"example.com"},
					"X-Auth":      {"Bearer t0k"},
					"X-Quoted":    {"t0k-t0k"},
					"X-Q":         {"1|x/y|true|"},
					"X-Cap":       {"users/42/42/"},
					"X-Shared":    {"alice/7/"},
					"X-Multi-Out": {"a, b"},
				},
				match: map[string]*regexp.Regexp{"X-Id": regexp.MustCompile(uuidRE)},
			},
		},
		{
			name: "templates see the request as received, not earlier changes",
			cfg:  `{remove: {headers: [X-A]}, add: {headers: ["X-B:$(headers.x_a)"]}}`,
			req:  req{header: http.Header{"X-A": {"orig"}}},
			want: want{headers: map[string][]string{"X-A": nil, "X-B": {"orig"}}},
		},
		{
			name: "cookie and content-type are ordinary headers",
			cfg:  `{remove: {headers: [Cookie]}, replace: {headers: ["Content-Type:text/plain"]}}`,
			req:  req{method: "POST", body: "x", header: http.Header{"Cookie": {"a=1; b=2"}, "Content-Type": {"application/octet-stream"}}},
			want: want{headers: map[string][]string{"Cookie": nil, "Content-Type": {"text/plain"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runAccess(t, tt.cfg, tt.req, tt.setup, tt.want) })
	}
}

type captures struct {
	idx   []string
	named map[string]string
}

func (c captures) Get(i int) (string, bool) {
	if i < 0 || i >= len(c.idx) {
		return "", false
	}
	return c.idx[i], true
}

func (c captures) Named(n string) (string, bool) { v, ok := c.named[n]; return v, ok }

func TestAccessURIMethodQuery(t *testing.T) {
	tests := []struct {
		name  string
		cfg   string
		req   req
		setup func(c *plugin.Ctx)
		want  want
	}{
		{
			name:  "uri template",
			cfg:   `replace: {uri: "/v2/items/$(uri_captures.id)"}`,
			req:   req{target: "/items/9?x=1"},
			setup: func(c *plugin.Ctx) { c.Captures = captures{named: map[string]string{"id": "9"}} },
			want:  want{path: "/v2/items/9", query: "x=1"},
		},
		{
			name:  "uri gets a leading slash",
			cfg:   `replace: {uri: "$(uri_captures[1])"}`,
			setup: func(c *plugin.Ctx) { c.Captures = captures{idx: []string{"", "rest/of"}} },
			want:  want{path: "/rest/of"},
		},
		{
			name: "method",
			cfg:  `http_method: PUT`,
			req:  req{method: "POST", body: "a=1", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
			want: want{method: "PUT", query: "-", body: str("a=1")},
		},
		{
			name: "GET moves a form body into the query and keeps the body",
			cfg:  `http_method: GET`,
			req:  req{method: "POST", target: "/?a=0", body: "a=1&b=x+y", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}},
			want: want{method: "GET", query: "a=0&a=1&b=x+y", body: str("a=1&b=x+y")},
		},
		{
			name: "GET leaves other bodies alone",
			cfg:  `http_method: GET`,
			req:  req{method: "POST", target: "/?a=0", body: `{"a":1}`, header: http.Header{"Content-Type": {"application/json"}}},
			want: want{method: "GET", query: "a=0"},
		},
		{
			name: "querystring operations keep untouched arguments as sent",
			cfg: `
remove: {querystring: [drop]}
rename: {querystring: ["old:new", "absent:x"]}
replace: {querystring: ["rep:R V", "nope:1"]}
add: {querystring: ["rep:no", "added:a/b"]}
append: {querystring: ["multi:3", "fresh:1"]}
`,
			req:  req{target: "/?keep=%7Eraw+v&drop=1&old=o&new=gone&rep=1&rep=2&multi=1&multi=2&z"},
			want: want{query: "keep=%7Eraw+v&new=o&rep=R%20V&multi=1&multi=2&multi=3&z&added=a%2Fb&fresh=1"},
		},
		{
			name: "query templates and empty query",
			cfg:  `add: {querystring: ["version: v2", "from:$(headers.x_src)"]}`,
			req:  req{header: http.Header{"X-Src": {"web app"}}},
			want: want{query: "version=v2&from=web%20app"},
		},
		{
			name: "unchanged query is not rewritten",
			cfg:  `{remove: {querystring: [absent]}, replace: {querystring: ["absent:1"]}}`,
			req:  req{target: "/?a=%41&b"},
			want: want{query: "a=%41&b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runAccess(t, tt.cfg, tt.req, tt.setup, tt.want) })
	}
}

func TestAccessBody(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	formCT := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	allOps := `
remove: {body: [drop]}
rename: {body: ["old:new"]}
replace: {body: ["rep:R", "absent:x"]}
add: {body: ["rep:no", "added:$(headers.x_v)"]}
append: {body: ["list:b", "str:2", "fresh:f"]}
`
	tests := []struct {
		name string
		cfg  string
		req  req
		want want
	}{
		{
			name: "json: all operations, key order kept",
			cfg:  allOps,
			req: req{method: "POST", header: withHeader(jsonCT, "X-V", "v\"q"),
				body: `{"z":1,"drop":true,"old":{"n":[1,2]},"rep":"x","list":["a"],"str":"1"}`},
			want: want{jsonBody: `{"z":1,"new":{"n":[1,2]},"rep":"R","list":["a","b"],"str":["1","2"],"added":"v\"q","fresh":["f"]}`},
		},
		{
			name: "json: false is absent for replace and add, null is present",
			cfg:  `{replace: {body: ["f:r", "n:r"]}, add: {body: ["f:a", "n:a"]}}`,
			req:  req{method: "POST", header: jsonCT, body: `{"f":false,"n":null}`},
			want: want{jsonBody: `{"f":"a","n":"r"}`},
		},
		{
			name: "json: append to a number keeps it",
			cfg:  `append: {body: ["n:2"]}`,
			req:  req{method: "POST", header: jsonCT, body: `{"n":1}`},
			want: want{jsonBody: `{"n":[1,"2"]}`},
		},
		{
			name: "json: empty body gets add and append only",
			cfg:  allOps,
			req:  req{method: "POST", header: jsonCT},
			want: want{jsonBody: `{"rep":"no","added":"","list":["b"],"str":["2"],"fresh":["f"]}`},
		},
		{
			name: "json: invalid body untouched",
			cfg:  allOps,
			req:  req{method: "POST", header: jsonCT, body: `{"drop":1`},
			want: want{body: str(`{"drop":1`)},
		},
		{
			name: "json: array body untouched",
			cfg:  allOps,
			req:  req{method: "POST", header: jsonCT, body: `[1,2]`},
			want: want{body: str(`[1,2]`)},
		},
		{
			name: "json: nothing to change leaves bytes as sent",
			cfg:  `remove: {body: [absent]}`,
			req:  req{method: "POST", header: jsonCT, body: `{ "a" : 1 }`},
			want: want{body: str(`{ "a" : 1 }`)},
		},
		{
			name: "form: all operations",
			cfg:  allOps,
			req:  req{method: "POST", header: withHeader(formCT, "X-V", "a b"), body: "z=%7E&drop=1&old=o&rep=x&list=a&str=1"},
			want: want{body: str("z=%7E&new=o&rep=R&list=a&list=b&str=1&str=2&added=a%20b&fresh=f")},
		},
		{
			name: "other content types untouched",
			cfg:  allOps,
			req:  req{method: "POST", header: http.Header{"Content-Type": {"text/plain"}}, body: "drop=1"},
			want: want{body: str("drop=1")},
		},
		{
			name: "no content type untouched",
			cfg:  allOps,
			req:  req{method: "POST", body: `{"drop":1}`},
			want: want{body: str(`{"drop":1}`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runAccess(t, tt.cfg, tt.req, nil, tt.want) })
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	h = h.Clone()
	h.Set(k, v)
	return h
}

func TestAccessMultipart(t *testing.T) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("keep", "k")
	_ = mw.WriteField("drop", "d")
	_ = mw.WriteField("old", "o")
	_ = mw.WriteField("rep", "r")
	fw, _ := mw.CreateFormFile("file", "a.txt")
	_, _ = fw.Write([]byte("file bytes"))
	_ = mw.Close()
	body := buf.String()
	ct := mw.FormDataContentType()

	inst := plugintest.Build(t, Spec(), `
remove: {body: [drop]}
rename: {body: ["old:new", "file:upload"]}
replace: {body: ["rep:R"]}
add: {body: ["rep:no", "added:a"]}
append: {body: ["keep:k2"]}
`).(plugin.AccessHandler)
	plugintest.Run(t, req{method: "POST", body: body, header: http.Header{"Content-Type": {ct}}}.build,
		func(t *testing.T, x *plugintest.Exchange) {
			if err := inst.Access(x.Ctx); err != nil {
				t.Fatal(err)
			}
			b, err := x.UpstreamBody()
			if err != nil {
				t.Fatal(err)
			}
			r := multipart.NewReader(bytes.NewReader(b), mw.Boundary())
			var got []string
			for {
				p, err := r.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("re-parse: %v\n%s", err, b)
				}
				v, _ := io.ReadAll(p)
				got = append(got, p.FormName()+"="+string(v)+"|"+p.FileName())
			}
			wantParts := []string{"keep=k|", "new=o|", "rep=R|", "upload=file bytes|a.txt", "added=a|", "keep=k2|"}
			if !reflect.DeepEqual(got, wantParts) {
				t.Errorf("parts = %q, want %q", got, wantParts)
			}
		})
}

// The seed configs from the project's notes must load and do what they say.
func TestSeedConfigs(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		req  req
		want want
	}{
		{
			name: "add uuid and forwarded host, remove cookie, rename authorization",
			cfg: `
add:
  headers:
    - "X-Request-ID:$(uuid)"
    - "X-Forwarded-Host:$(headers.host)"
remove:
  headers:
    - Cookie
rename:
  headers:
    - "Authorization:X-Original-Auth"
`,
			req: req{header: http.Header{"Cookie": {"session=1"}, "Authorization": {"Bearer abc"}}},
			want: want{
				headers: map[string][]string{
					"X-Forwarded-Host": {"example.com"}, "Cookie": nil,
					"Authorization": nil, "X-Original-Auth": {"Bearer abc"},
				},
				match: map[string]*regexp.Regexp{"X-Request-ID": regexp.MustCompile(uuidRE)},
			},
		},
		{
			name: "spaces after colons, querystring version, rename to authorization, replace body field",
			cfg: `
add:
  headers:
    - "X-Request-Source: api-gateway"
    - "X-Forwarded-Proto: https"
  querystring:
    - "version: v2"
remove:
  headers:
    - "X-Internal-Debug"
rename:
  headers:
    - "X-Custom-Auth: Authorization"
replace:
  body:
    - "user_name: username" # Rename field
`,
			req: req{method: "POST", target: "/users?page=1",
				header: http.Header{"Content-Type": {"application/json"}, "X-Internal-Debug": {"1"}, "X-Custom-Auth": {"key-1"}},
				body:   `{"user_name":"alice","age":3}`},
			want: want{
				query: "page=1&version=v2",
				headers: map[string][]string{
					"X-Request-Source": {"api-gateway"}, "X-Forwarded-Proto": {"https"},
					"X-Internal-Debug": nil, "X-Custom-Auth": nil, "Authorization": {"key-1"},
				},
				// replace sets the value of a present field (Kong's semantics; the seed's
				// comment says rename, which is rename.body).
				jsonBody: `{"user_name":"username","age":3}`,
			},
		},
		{
			name: "correlation header from a uuid",
			cfg: `
add:
  headers: ["X-Correlation-ID:$(uuid)"]
`,
			want: want{match: map[string]*regexp.Regexp{"X-Correlation-ID": regexp.MustCompile(uuidRE)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runAccess(t, tt.cfg, tt.req, nil, tt.want) })
	}
}

// Each use of $(uuid) renders a fresh value.
func TestUUIDFreshPerUse(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `add: {headers: ["X-A:$(uuid)", "X-B:$(uuid)"]}`).(plugin.AccessHandler)
	seen := map[string]bool{}
	plugintest.Run(t, req{}.build, func(t *testing.T, x *plugintest.Exchange) {
		if err := inst.Access(x.Ctx); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"X-A", "X-B"} {
			v := string(x.Ctx.Up.Header().Peek(h))
			if seen[v] {
				t.Errorf("%s = %q seen before", h, v)
			}
			seen[v] = true
		}
	})
}

func TestAccessMultipartEdges(t *testing.T) {
	ct := http.Header{"Content-Type": {`multipart/form-data; boundary=XyZ`}}
	tests := []struct {
		name, cfg, body, want string
	}{
		{
			name: "empty body gets added fields",
			cfg:  `add: {body: ["a:1"]}`,
			want: "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n",
		},
		{
			name: "rename keeps the file name and other headers",
			cfg:  `rename: {body: ["f:g\"h"]}`,
			body: "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a b.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n",
			want: "--XyZ\r\nContent-Disposition: form-data; name=\"g\\\"h\"; filename=\"a b.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runAccess(t, tt.cfg, req{method: "POST", header: ct, body: tt.body}, nil, want{body: str(tt.want)})
		})
	}
}

// A multipart body that does not parse is left alone. (Tested on the transform itself: the
// HTTP/1.1 test front end already refuses such a request, see fasthttp's multipart pre-parse.)
func TestMultipartMalformedUntouched(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `remove: {body: [f]}`).(*transformer)
	for _, ct := range []string{`multipart/form-data; boundary=XyZ`, `multipart/form-data`, `multipart/form-data; boundary="`} {
		out, changed := inst.transformMultipart([]byte("--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nno end"), ct, nil)
		if changed || out != nil {
			t.Errorf("%s: changed=%v out=%q", ct, changed, out)
		}
	}
}
