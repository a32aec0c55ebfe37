// Package plugintest runs plugin phases against requests prepared by both front ends, so that
// every plugin test proves the plugin engine-neutral.
package plugintest

import (
	"net/http"
	"testing"

	"tollgate/internal/plugin"
	"tollgate/internal/proxy"
)

// Exchange is one prepared request; see proxy.TestExchange.
type Exchange = proxy.TestExchange

// Run calls fn once per engine ("http1", "http2") as a subtest, with a fresh exchange built
// from a clone of req made by newReq.
func Run(t *testing.T, newReq func() *http.Request, fn func(t *testing.T, x *Exchange)) {
	t.Helper()
	for _, eng := range proxy.Engines {
		t.Run(eng, func(t *testing.T) {
			x, err := proxy.NewTestExchange(eng, newReq(), 1)
			if err != nil {
				t.Fatalf("prepare %s request: %v", eng, err)
			}
			x.Ctx.Enter(0)
			fn(t, x)
		})
	}
}

// Build decodes cfgYAML (the plugin's `config` object as YAML; "" = defaults) through spec, as
// the config loader does, and builds an instance. It fails the test on any field error.
func Build(t *testing.T, spec plugin.Spec, cfgYAML string) any {
	t.Helper()
	inst, errs := TryBuild(spec, cfgYAML)
	if len(errs) > 0 {
		t.Fatalf("config errors: %v", errs)
	}
	return inst
}
