package correlationid

import (
	"reflect"
	"testing"

	"tollgate/internal/plugin/plugintest"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want []string // "path: message"
	}{
		{name: "defaults"},
		{name: "all fields", cfg: `{header_name: X-Correlation-ID, generator: tracker, echo_downstream: true}`},
		{name: "uuid", cfg: `generator: uuid`},
		{name: "bad header and generator", cfg: `{header_name: "X Id", generator: counter}`, want: []string{
			"header_name: bad header name 'X Id', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
			"generator: expected one of: uuid, uuid#counter, tracker",
		}},
		{name: "empty header", cfg: `header_name: ""`, want: []string{"header_name: length must be at least 1"}},
		{name: "wrong type", cfg: `echo_downstream: "yes"`, want: []string{"echo_downstream: expected a boolean"}},
		{name: "unknown field", cfg: `header: X-Id`, want: []string{"header: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := plugintest.TryBuild(Spec(), tt.cfg)
			var got []string
			for _, e := range errs {
				got = append(got, e.Path+": "+e.Msg)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors = %q\nwant     %q", got, tt.want)
			}
		})
	}
	spec := Spec()
	cfg, _ := spec.DecodeConfig(nil)
	if want := (&Config{HeaderName: "Kong-Request-ID", Generator: "uuid#counter"}); !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults = %+v, want %+v", cfg, want)
	}
}
