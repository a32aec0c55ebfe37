package responsetransformer

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
		want []string // "path: message fragment", sorted
	}{
		{name: "defaults", cfg: ""},
		{name: "all lists", cfg: `
remove: {headers: [Server, "X-A:ignored"], json: [internal_id]}
rename: {headers: ["X-Old:X-New"], json: ["a:b"]}
replace: {headers: ["X-R:1"], json: ["n:1", "b:true", "s:x"], json_types: [number, boolean, string]}
add: {headers: ["X-Response-Time:$(latency)", "X-T:took $( latency ) total"], json: ["k:v"]}
append: {headers: ["X-Multi:2"], json: ["list:3.5"], json_types: [number]}
`},
		{name: "bad header names", cfg: `
remove: {headers: ["X A"]}
rename: {headers: ["X-A:X B", "X-C", "(:X"]}
add: {headers: ["bad name:1"]}
`, want: []string{
			"add.headers[0]: 'bad name' is not a valid header",
			"remove.headers[0]: 'X A' is not a valid header",
			"rename.headers[0]: 'X B' is not a valid header",
			"rename.headers[1]: key 'X-C' has no value",
			"rename.headers[2]: '(' is not a valid header",
		}},
		{name: "missing values and names", cfg: `
rename: {json: ["a", ":b"]}
replace: {headers: ["X-A:"], json: ["j"]}
append: {json: ["k: "]}
remove: {json: [""]}
`, want: []string{
			"append.json[0]: key 'k' has no value",
			"remove.json[0]: length must be at least 1",
			"rename.json[0]: key 'a' has no value",
			"rename.json[1]: ':b' has no name",
			"replace.headers[0]: key 'X-A' has no value",
			"replace.json[0]: key 'j' has no value",
		}},
		{name: "templates other than latency", cfg: `
add: {headers: ["X-A:$(uuid)", "X-B:$(latency", "X-C:$(headers.host)"]}
append: {headers: ["X-D:ok $(latency) $(latency)"]}
replace: {headers: ["X-E:$()"]}
`, want: []string{
			"add.headers[0]: value '$(uuid)': the only template is $(latency)",
			"add.headers[1]: value '$(latency': the only template is $(latency)",
			"add.headers[2]: value '$(headers.host)': the only template is $(latency)",
			"replace.headers[0]: value '$()': the only template is $(latency)",
		}},
		{name: "json types", cfg: `
add: {json: ["a:1", "b:x", "c:yes", "d:2"], json_types: [number, number, boolean, integer]}
replace: {json: ["e:NaN"], json_types: [number]}
`, want: []string{
			"add.json[1]: 'x' is not a number",
			"add.json[2]: 'yes' is not a boolean",
			"add.json_types[3]: expected one of: boolean, number, string",
			"replace.json[0]: 'NaN' is not a number",
		}},
		{name: "unknown field", cfg: `remove: {body: [a]}`, want: []string{"remove.body: unknown field"}},
		{name: "replace has no uri", cfg: `replace: {uri: /x}`, want: []string{"replace.uri: unknown field"}},
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
