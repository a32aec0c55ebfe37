package requesttransformer

import (
	"net/http/httptest"
	"testing"

	"tollgate/internal/plugin"
	"tollgate/internal/plugin/plugintest"
	"tollgate/internal/proxy"
)

// BenchmarkAccessHeaders is the common case: header operations with static values and one
// template over a request header.
func BenchmarkAccessHeaders(b *testing.B) {
	for _, eng := range proxy.Engines {
		b.Run(eng, func(b *testing.B) {
			built, errs := plugintest.TryBuild(Spec(), `
remove: {headers: [Cookie]}
rename: {headers: ["Authorization:X-Original-Auth"]}
add: {headers: ["X-Source:gateway", "X-Forwarded-Host:$(headers.host)"]}
`)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			inst := built.(plugin.AccessHandler)
			r := httptest.NewRequest("GET", "http://example.com/p?a=1", nil)
			r.Header.Set("Authorization", "Bearer x")
			x, err := proxy.NewTestExchange(eng, r, 1)
			if err != nil {
				b.Fatal(err)
			}
			h := x.Ctx.Up.Header()
			b.ReportAllocs()
			for b.Loop() {
				h.Set("Authorization", "Bearer x")
				h.Del("X-Original-Auth")
				h.Del("X-Source")
				h.Del("X-Forwarded-Host")
				if err := inst.Access(x.Ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
