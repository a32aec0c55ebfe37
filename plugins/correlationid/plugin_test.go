package correlationid

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"tollgate/internal/plugin"
	"tollgate/internal/plugin/plugintest"
	"tollgate/internal/proxy"
)

const uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

func reqWith(h http.Header) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest("GET", "http://example.com/", nil)
		for k, vs := range h {
			r.Header[k] = vs
		}
		return r
	}
}

func TestAccess(t *testing.T) {
	tests := []struct {
		name   string
		cfg    string
		client http.Header
		header string
		want   *regexp.Regexp
	}{
		{name: "uuid#counter", header: "Kong-Request-ID", want: regexp.MustCompile(`^` + uuidRE + `#\d+$`)},
		{name: "uuid", cfg: `generator: uuid`, header: "Kong-Request-ID", want: regexp.MustCompile(`^` + uuidRE + `$`)},
		{name: "tracker", cfg: `{generator: tracker, header_name: X-Trace}`, header: "X-Trace",
			want: regexp.MustCompile(`^127\.0\.0\.1-8000-\d+-\d+-1-\d+\.\d{3}$`)},
		{name: "client value kept", cfg: `header_name: X-Id`, client: http.Header{"X-Id": {"abc"}}, header: "X-Id",
			want: regexp.MustCompile(`^abc$`)},
		{name: "empty client value replaced", cfg: `header_name: X-Id`, client: http.Header{"X-Id": {""}}, header: "X-Id",
			want: regexp.MustCompile(`^` + uuidRE + `#\d+$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := plugintest.Build(t, Spec(), tt.cfg)
			if _, ok := inst.(plugin.HeaderFilter); ok {
				t.Error("header phase without echo_downstream")
			}
			plugintest.Run(t, reqWith(tt.client), func(t *testing.T, x *plugintest.Exchange) {
				if err := inst.(plugin.AccessHandler).Access(x.Ctx); err != nil {
					t.Fatal(err)
				}
				got := x.Ctx.Up.Header().Values(tt.header)
				if len(got) != 1 || !tt.want.MatchString(got[0]) {
					t.Errorf("%s = %q, want %s", tt.header, got, tt.want)
				}
				if id, _ := plugin.Get(x.Ctx, Key); id != got[0] {
					t.Errorf("shared %q = %q, want %q", Key.Name(), id, got[0])
				}
			})
		})
	}
}

func TestCounterIncrements(t *testing.T) {
	inst := plugintest.Build(t, Spec(), "").(plugin.AccessHandler)
	var prefix string
	last := 0
	plugintest.Run(t, reqWith(nil), func(t *testing.T, x *plugintest.Exchange) {
		for i := 0; i < 3; i++ {
			if err := inst.Access(x.Ctx); err != nil {
				t.Fatal(err)
			}
			id := string(x.Ctx.Up.Header().Peek("Kong-Request-ID"))
			x.Ctx.Up.Header().Del("Kong-Request-ID")
			p, n := id[:37], id[37:]
			if prefix == "" {
				prefix = p
			}
			if p != prefix {
				t.Errorf("uuid part changed: %q then %q", prefix, p)
			}
			k, err := strconv.Atoi(n)
			if err != nil || k != last+1 {
				t.Errorf("counter = %q after %d", n, last)
			}
			last = k
		}
	})
}

func TestTrackerTime(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `generator: tracker`).(plugin.AccessHandler)
	plugintest.Run(t, reqWith(nil), func(t *testing.T, x *plugintest.Exchange) {
		x.Ctx.Start = time.UnixMilli(1700000000007)
		if err := inst.Access(x.Ctx); err != nil {
			t.Fatal(err)
		}
		id := string(x.Ctx.Up.Header().Peek("Kong-Request-ID"))
		if !regexp.MustCompile(`-1700000000\.007$`).MatchString(id) {
			t.Errorf("tracker = %q, want time 1700000000.007", id)
		}
	})
}

func TestEchoDownstream(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `{echo_downstream: true, header_name: X-Id}`)
	hf, ok := inst.(plugin.HeaderFilter)
	if !ok {
		t.Fatal("no header phase with echo_downstream")
	}
	t.Run("generated id echoed", func(t *testing.T) {
		plugintest.Run(t, reqWith(nil), func(t *testing.T, x *plugintest.Exchange) {
			if err := inst.(plugin.AccessHandler).Access(x.Ctx); err != nil {
				t.Fatal(err)
			}
			up := string(x.Ctx.Up.Header().Peek("X-Id"))
			x.SetResponse(200, nil)
			if err := hf.HeaderFilter(x.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := string(x.Ctx.Resp.Header().Peek("X-Id")); got != up || got == "" {
				t.Errorf("response X-Id = %q, upstream %q", got, up)
			}
		})
	})
	t.Run("client id echoed", func(t *testing.T) {
		plugintest.Run(t, reqWith(http.Header{"X-Id": {"mine"}}), func(t *testing.T, x *plugintest.Exchange) {
			if err := inst.(plugin.AccessHandler).Access(x.Ctx); err != nil {
				t.Fatal(err)
			}
			x.SetResponse(200, http.Header{"X-Id": {"upstream's"}})
			if err := hf.HeaderFilter(x.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := x.Ctx.Resp.Header().Values("X-Id"); len(got) != 1 || got[0] != "mine" {
				t.Errorf("response X-Id = %q, want mine", got)
			}
		})
	})
	t.Run("no access phase: generated in the header phase", func(t *testing.T) {
		plugintest.Run(t, reqWith(nil), func(t *testing.T, x *plugintest.Exchange) {
			x.SetResponse(404, nil)
			if err := hf.HeaderFilter(x.Ctx); err != nil {
				t.Fatal(err)
			}
			if got := string(x.Ctx.Resp.Header().Peek("X-Id")); !regexp.MustCompile(uuidRE + `#\d+$`).MatchString(got) {
				t.Errorf("response X-Id = %q", got)
			}
		})
	})
}

// Many requests at once on one instance: ids stay unique (run with -race).
func TestConcurrentIDsUnique(t *testing.T) {
	inst := plugintest.Build(t, Spec(), "").(plugin.AccessHandler)
	const n = 8
	ids := make(chan string, n*50)
	done := make(chan struct{})
	for g := 0; g < n; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				x, err := newExchange()
				if err != nil {
					t.Error(err)
					return
				}
				if err := inst.Access(x.Ctx); err != nil {
					t.Error(err)
					return
				}
				ids <- string(x.Ctx.Up.Header().Peek("Kong-Request-ID"))
			}
		}()
	}
	for g := 0; g < n; g++ {
		<-done
	}
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func newExchange() (*plugintest.Exchange, error) {
	return proxy.NewTestExchange("http1", httptest.NewRequest("GET", "http://example.com/", nil), 1)
}
