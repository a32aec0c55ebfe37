package requesttermination

import (
	"reflect"
	"sort"
	"testing"

	"tollgate/internal/plugin/plugintest"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want []string // "path: message", sorted
	}{
		{name: "defaults"},
		{name: "message", cfg: `{status_code: 403, message: "So long and thanks for all the fish!"}`},
		{name: "body", cfg: `{status_code: 200, body: "<h1>down</h1>", content_type: text/html}`},
		{name: "echo with trigger", cfg: `{echo: true, trigger: X-Debug, message: hi}`},
		{name: "status range", cfg: `status_code: 99`, want: []string{"status_code: value should be between 100 and 599"}},
		{name: "status range high", cfg: `status_code: 600`, want: []string{"status_code: value should be between 100 and 599"}},
		{name: "message with body", cfg: `{message: a, body: b}`, want: []string{"@entity: message cannot be used with content_type or body"}},
		{name: "message with content type", cfg: `{message: a, content_type: text/plain}`, want: []string{
			"@entity: content_type requires a body",
			"@entity: message cannot be used with content_type or body",
		}},
		{name: "content type alone", cfg: `content_type: text/plain`, want: []string{"@entity: content_type requires a body"}},
		{name: "echo with body", cfg: `{echo: true, body: x}`, want: []string{"@entity: echo cannot be used with content_type and body"}},
		{name: "empty strings and bad trigger", cfg: `{message: "", body: "", trigger: "a b"}`, want: []string{
			"body: length must be at least 1",
			"message: length must be at least 1",
			"trigger: bad header name 'a b', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
		}},
		{name: "wrong type", cfg: `status_code: "503"`, want: []string{"status_code: expected an integer"}},
		{name: "unknown field", cfg: `echo_trigger: X-A`, want: []string{"echo_trigger: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := plugintest.TryBuild(Spec(), tt.cfg)
			var got []string
			for _, e := range errs {
				got = append(got, e.Path+": "+e.Msg)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors = %q\nwant     %q", got, tt.want)
			}
		})
	}
}
