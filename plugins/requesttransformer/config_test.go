package requesttransformer

import (
	"sort"
	"strings"
	"testing"

	"tollgate/internal/plugin/plugintest"
)

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want []string // "path: message fragment", sorted by path then message
	}{
		{name: "defaults", cfg: ""},
		{name: "all lists", cfg: `
http_method: POST
remove: {headers: [Cookie, "X-A:ignored"], querystring: [a], body: [b]}
rename: {headers: ["Authorization:X-Original-Auth"], querystring: ["a:b"], body: ["c:d"]}
replace: {headers: ["host:example.org"], querystring: ["a:1"], body: ["b:2"], uri: "/v2$(uri_captures[1])"}
add: {headers: ["X-Request-ID:$(uuid)", "X-Forwarded-Host:$(headers.host)"], querystring: ["q:$(query_params.x)"], body: ["s:$(shared.user)"]}
append: {headers: ["X-B:1", "X-B:2"], querystring: ["a:2"], body: ["c:$(headers[\"x-c\"])"]}
`},
		{name: "lower-case method", cfg: `http_method: get`, want: []string{"http_method: invalid value 'get'"}},
		{name: "method with digit", cfg: `http_method: GET2`, want: []string{"http_method: invalid value"}},
		{name: "bad header names", cfg: `
remove: {headers: ["X A"]}
rename: {headers: ["X-A:X B", "X(:Y"]}
add: {headers: ["ok:1", "bad header:1"]}
`, want: []string{
			"add.headers[1]: 'bad header' is not a valid header",
			"remove.headers[0]: 'X A' is not a valid header",
			"rename.headers[0]: 'X B' is not a valid header",
			"rename.headers[1]: 'X(' is not a valid header",
		}},
		{name: "missing values", cfg: `
rename: {querystring: ["a"], body: ["b:"]}
replace: {headers: ["X-A"], body: ["c: "]}
add: {querystring: ["q:"]}
append: {headers: ["X-B:"]}
`, want: []string{
			"add.querystring[0]: key 'q' has no value",
			"append.headers[0]: key 'X-B' has no value",
			"rename.body[0]: key 'b' has no value",
			"rename.querystring[0]: key 'a' has no value",
			"replace.body[0]: key 'c' has no value",
			"replace.headers[0]: key 'X-A' has no value",
		}},
		{name: "empty entries and names", cfg: `
remove: {body: [""]}
add: {body: [":v"], headers: [""]}
replace: {uri: ""}
`, want: []string{
			"add.body[0]: ':v' has no name",
			"add.headers[0]: length must be at least 1",
			"remove.body[0]: length must be at least 1",
			"replace.uri: length must be at least 1",
		}},
		{name: "bad templates", cfg: `
add: {headers: ["X-A:$(headers.x", "X-B:$(os.exit())", "X-C:ok $(uuid)"], body: ["b:$()"]}
append: {querystring: ["q:$(headers[1])"]}
replace: {uri: "/$(uri_captures[x])"}
`, want: []string{
			"add.body[0]: value '$()' is not in supported format",
			"add.headers[0]: value '$(headers.x' is not in supported format",
			"add.headers[1]: value '$(os.exit())' is not in supported format",
			"append.querystring[0]: value '$(headers[1])' is not in supported format",
			"replace.uri: value '/$(uri_captures[x])' is not in supported format",
		}},
		{name: "bad header value", cfg: "add: {headers: [\"X-A:a\\u0001b\"]}", want: []string{"add.headers[0]: 'a\x01b' is not a valid header value"}},
		// Decoding is config.DecodeNode's: strict, every problem with its path.
		{name: "unknown field", cfg: `add: {cookies: ["a:b"]}`, want: []string{"add.cookies: unknown field"}},
		{name: "wrong type", cfg: `{add: {headers: "X-A:b"}, append: {body: [1]}}`, want: []string{
			"add.headers: expected an array", "append.body[0]: expected a string"}},
		{name: "nulls keep defaults", cfg: `{http_method: null, add: null, replace: {uri: null, headers: null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := plugintest.TryBuild(Spec(), tt.cfg)
			var got []string
			for _, e := range errs {
				got = append(got, e.Path+": "+e.Msg)
			}
			sort.Strings(got)
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}
