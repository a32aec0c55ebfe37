package proxy

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"tollgate/internal/config"
	"tollgate/internal/h1"
	"tollgate/internal/plugin"
	"tollgate/internal/snapshot"
	"tollgate/plugins/all"
)

// Test plugins exercising the pipeline's contract: phase order, exits, panics.
type probeConfig struct {
	Mode string `json:"mode" yaml:"mode"`
}

type probe struct {
	mode string
	log  *atomic.Int64
}

func (p *probe) Access(c *plugin.Ctx) error {
	switch p.mode {
	case "panic":
		panic("plugin bug")
	case "exit":
		return c.Exit(403, "go away")
	case "error":
		return errors.New("secret internal detail")
	case "set":
		c.Up.Header().Set("X-Probe", "1")
		c.Up.SetPath("/rewritten")
	}
	return nil
}

func (p *probe) HeaderFilter(c *plugin.Ctx) error {
	c.Resp.Header().Set("X-Probe-Header", p.mode)
	if p.mode == "rid" { // a field named as the gateway's request id
		c.Resp.Header().Add(DefaultRequestIDHeader, "plugin")
	}
	return nil
}

func (p *probe) Log(c *plugin.Ctx) { p.log.Add(1) }

func probeSpec(logs *atomic.Int64) plugin.Spec {
	return plugin.Define("probe", plugin.Options{Priority: 1000},
		func() *probeConfig { return &probeConfig{} },
		func(cfg *probeConfig, env plugin.Env) (any, error) { return &probe{mode: cfg.Mode, log: logs}, nil })
}

// rig is a proxy on the HTTP/1.1 engine over in-memory listeners, with a fasthttp upstream.
type rig struct {
	client *fasthttp.Client
	logs   *atomic.Int64
	seen   atomic.Value // last upstream request URI
	// quiet stops the upstream recording what it saw, so that a benchmark's allocations
	// are the gateway's alone
	quiet atomic.Bool
	xff   atomic.Value // the last upstream request's X-Forwarded-For
	head  atomic.Value // the last upstream request's header fields, as "Name: value" lines
}

func newRig(tb testing.TB, cfgYAML string, specs ...plugin.Spec) *rig {
	tb.Helper()
	return newRigWith(tb, cfgYAML, nil, specs...)
}

// newRigWith is newRig with the proxy's options changed by opt first (nil: none). The
// upstream answers with the fields the request's X-Respond-With lists ("Name=value", joined
// by "|"), besides its own.
func newRigWith(tb testing.TB, cfgYAML string, opt func(*Options), specs ...plugin.Spec) *rig {
	tb.Helper()
	r := &rig{logs: &atomic.Int64{}}
	upLn := fasthttputil.NewInmemoryListener()
	upSrv := &fasthttp.Server{NoDefaultServerHeader: true, Handler: func(rc *fasthttp.RequestCtx) {
		if list := string(rc.Request.Header.Peek("X-Respond-With")); list != "" {
			for f := range strings.SplitSeq(list, "|") {
				k, v, _ := strings.Cut(f, "=")
				rc.Response.Header.Add(k, v)
			}
		}
		if !r.quiet.Load() {
			r.seen.Store(string(rc.RequestURI()) + " probe=" + string(rc.Request.Header.Peek("X-Probe")))
			r.xff.Store(string(rc.Request.Header.Peek("X-Forwarded-For")))
			var lines []string
			for k, v := range rc.Request.Header.All() {
				lines = append(lines, string(k)+": "+string(v))
			}
			r.head.Store(lines)
		}
		rc.SetContentType("text/plain")
		rc.SetBodyString("hello from upstream")
	}}
	go func() { _ = upSrv.Serve(upLn) }()
	tb.Cleanup(func() { _ = upLn.Close() })

	reg := plugin.NewRegistry(append([]plugin.Spec{probeSpec(r.logs)}, specs...))
	cfg, err := config.Load("test.yml", []byte(cfgYAML), reg)
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	ts := NewTransports()
	ts.Dial = func(string, time.Time) (net.Conn, error) { return upLn.Dial() }
	snap, err := snapshot.Compile(cfg, reg, snapshot.Options{Transport: ts.For})
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	var h snapshot.Holder
	h.Swap(snap)
	o := Options{Holder: &h, Transports: ts, Version: "test"}
	if opt != nil {
		opt(&o)
	}
	p := New(o)
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(rc *fasthttp.RequestCtx) { p.ServeFast(rc, "http", 8000) }, StreamRequestBody: true, NoDefaultServerHeader: true}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = ln.Close() })
	r.client = &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }, DisablePathNormalizing: true}
	return r
}

func (r *rig) get(tb testing.TB, path string) (int, http.Header, string) {
	tb.Helper()
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI("http://gw" + path)
	req.URI().DisablePathNormalizing = true
	if err := r.client.DoTimeout(&req, &resp, 5*time.Second); err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	h := http.Header{}
	for k, v := range resp.Header.All() {
		h.Add(string(k), string(v))
	}
	return resp.StatusCode(), h, string(resp.Body())
}

// rigConfig is benchPlainConfig's plain route plus one route per probe mode.
const rigConfig = benchPlainConfig + `      - name: panic
        paths: [/panic]
        plugins: [{name: probe, config: {mode: panic}}]
      - name: exit
        paths: [/exit]
        plugins: [{name: probe, config: {mode: exit}}]
      - name: error
        paths: [/error]
        plugins: [{name: probe, config: {mode: error}}]
      - name: set
        paths: [/set]
        plugins: [{name: probe, config: {mode: set}}]
`

func TestPipelinePhases(t *testing.T) {
	r := newRig(t, rigConfig)
	tests := []struct {
		path       string
		status     int
		bodyHas    string
		bodyHasNot string
		header     string
		upstream   string
	}{
		{path: "/plain/x", status: 200, bodyHas: "hello from upstream", upstream: "/x probe="},
		{path: "/panic", status: 500, bodyHas: "An unexpected error occurred", bodyHasNot: "plugin bug", header: "panic"},
		{path: "/exit", status: 403, bodyHas: `{"message":"go away"}`, header: "exit"},
		{path: "/error", status: 500, bodyHas: "request_id", bodyHasNot: "secret", header: "error"},
		{path: "/set/y", status: 200, upstream: "/rewritten probe=1", header: "set"},
		{path: "/none", status: 404, bodyHas: "no Route matched with those values"},
		{path: "/plain/%zz", status: 400, bodyHas: "Bad request"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			before := r.logs.Load()
			status, h, body := r.get(t, tc.path)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.bodyHas != "" && !strings.Contains(body, tc.bodyHas) {
				t.Errorf("body %q lacks %q", body, tc.bodyHas)
			}
			if tc.bodyHasNot != "" && strings.Contains(body, tc.bodyHasNot) {
				t.Errorf("body %q leaks %q", body, tc.bodyHasNot)
			}
			// the header and log phases run after exits and errors too (Kong's rule)
			if got := h.Get("X-Probe-Header"); got != tc.header {
				t.Errorf("X-Probe-Header %q, want %q", got, tc.header)
			}
			if tc.header != "" && r.logs.Load() != before+1 {
				t.Errorf("log phase ran %d times", r.logs.Load()-before)
			}
			if tc.upstream != "" {
				if got, _ := r.seen.Load().(string); got != tc.upstream {
					t.Errorf("upstream saw %q, want %q", got, tc.upstream)
				}
			}
			if h.Get(DefaultRequestIDHeader) == "" {
				t.Error("no request id header")
			}
		})
	}
	// the engine survived the panic: a plain request still works
	if status, _, _ := r.get(t, "/plain"); status != 200 {
		t.Fatalf("after panic: %d", status)
	}
}

// BenchmarkProxyFast measures one proxied GET through the HTTP/1.1 front end, the router, an
// empty chain and the upstream pool (in-memory sockets on both sides). The client and the
// upstream allocate nothing per request, so allocs/op is the gateway's plain path: the
// figure the side-by-side harness reports beside its table.
func BenchmarkProxyFast(b *testing.B) {
	benchGet(b, newRig(b, rigConfig), "")
}

// benchGet sends GET /plain/bench b.N times through r, each answered 200 (and carrying
// wantHeader when it is set).
func benchGet(b *testing.B, r *rig, wantHeader string) {
	r.quiet.Store(true)
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI("http://gw/plain/bench")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.client.Do(&req, &resp); err != nil || resp.StatusCode() != 200 ||
			(wantHeader != "" && len(resp.Header.Peek(wantHeader)) == 0) {
			b.Fatalf("%v %d", err, resp.StatusCode())
		}
	}
}

// BenchmarkProxyFastPlugins is BenchmarkProxyFast with the side-by-side harness's plugin
// stack (scenario f) on the route.
func BenchmarkProxyFastPlugins(b *testing.B) {
	r := newRig(b, benchPluginsConfig, all.Specs()...)
	benchGet(b, r, "X-Bench-Response")
}

// benchPluginsConfig is benchPlainConfig with the side-by-side harness's plugin stack
// (scenario f) on its route.
const benchPluginsConfig = benchPlainConfig + `        plugins:
          - name: request-transformer
            config:
              add:
                headers: ["X-Bench-Request:1"]
          - name: response-transformer
            config:
              add:
                headers: ["X-Bench-Response:1"]
          - name: correlation-id
            config:
              header_name: X-Correlation-ID
              generator: uuid#counter
              echo_downstream: true
`

// TestXForwardedForAppend: the client's X-Forwarded-For values, over one or several fields,
// are joined and the peer appended (Kong §4.4), without allocating for them.
func TestXForwardedForAppend(t *testing.T) {
	r := newRig(t, rigConfig)
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"none", nil, ""},
		{"one", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a list", []string{"203.0.113.9, 198.51.100.2"}, "203.0.113.9, 198.51.100.2"},
		{"two fields", []string{"203.0.113.9", "198.51.100.2"}, "203.0.113.9, 198.51.100.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			var resp fasthttp.Response
			req.SetRequestURI("http://gw/plain/xff")
			for _, v := range tc.in {
				req.Header.Add("X-Forwarded-For", v)
			}
			if err := r.client.DoTimeout(&req, &resp, 5*time.Second); err != nil || resp.StatusCode() != 200 {
				t.Fatalf("%v %d", err, resp.StatusCode())
			}
			got, _ := r.xff.Load().(string)
			// the in-memory pipe has no IP address, so the appended peer is empty here (the
			// e2e tests see a real one): what matters is the client's part and the separator
			if tc.want != "" && !strings.HasPrefix(got, tc.want+",") {
				t.Errorf("X-Forwarded-For %q, want %q, then the peer", got, tc.want)
			}
			if tc.want == "" && strings.Contains(got, ",") {
				t.Errorf("X-Forwarded-For %q: no client value was sent", got)
			}
		})
	}
}

// TestGatewayHeadersReplaceClients: every forwarding header the gateway sets reaches the
// upstream once, with the gateway's value, and no hop-by-hop header reaches it, whether the
// client sent none, one, an empty one or several of it. The requests reuse the pooled request
// state in many orders, some of which land an empty value in a slot the engine's field list
// had not used before, where the engine stores it as nil (see TestUpstreamFieldsEmptyValue):
// before upstreamFields, such a field looked absent and stayed (an empty Proxy-Authorization,
// say, or the first of two X-Forwarded-Path fields, with the client's second one beside the
// gateway's).
func TestGatewayHeadersReplaceClients(t *testing.T) {
	r := newRig(t, rigConfig)
	gateway := []string{"X-Forwarded-For", "Via", "X-Forwarded-Proto", "X-Forwarded-Host",
		"X-Forwarded-Port", "X-Forwarded-Path", "X-Forwarded-Prefix", "X-Real-Ip", DefaultRequestIDHeader}
	hop := []string{"Keep-Alive", "Proxy", "Proxy-Authorization", "Proxy-Authenticate", "Proxy-Connection"}
	sends := map[string][]string{
		"none":  nil,
		"one":   {"evil"},
		"empty": {""},
		"two":   {"", "evil"},
		"three": {"evil", "", "evil"},
	}
	kinds := []string{"none", "one", "empty", "two", "three"}
	for seed := range 64 {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		for i := range 12 {
			kind := kinds[rng.IntN(len(kinds))]
			var req fasthttp.Request
			var resp fasthttp.Response
			req.SetRequestURI("http://gw/plain/a")
			for _, name := range append(gateway, hop...) {
				for _, v := range sends[kind] {
					req.Header.Add(name, v)
				}
			}
			if err := r.client.DoTimeout(&req, &resp, 5*time.Second); err != nil || resp.StatusCode() != 200 {
				t.Fatalf("seed %d request %d (%s): %v %d", seed, i, kind, err, resp.StatusCode())
			}
			lines, _ := r.head.Load().([]string)
			got := map[string][]string{}
			for _, l := range lines {
				k, v, _ := strings.Cut(l, ": ")
				got[k] = append(got[k], v)
			}
			for _, name := range gateway {
				vs := got[name]
				if len(vs) != 1 {
					t.Errorf("seed %d request %d (%s): %d %s fields upstream %q, want 1", seed, i, kind, len(vs), name, vs)
					continue
				}
				switch name {
				case "X-Forwarded-For", "Via":
					// the client's values joined, then the gateway's entry
					if want := strings.Join(sends[kind], ", "); !strings.HasPrefix(vs[0], want) {
						t.Errorf("seed %d request %d (%s): %s %q, want it to begin with %q", seed, i, kind, name, vs[0], want)
					}
				case "X-Real-Ip":
					// the in-memory pipe has no address: the gateway's value is empty here
					if vs[0] != "" {
						t.Errorf("seed %d request %d (%s): %s %q is the client's", seed, i, kind, name, vs[0])
					}
				default:
					if vs[0] == "evil" || vs[0] == "" {
						t.Errorf("seed %d request %d (%s): %s %q is the client's", seed, i, kind, name, vs[0])
					}
				}
			}
			for _, name := range hop {
				if vs := got[name]; len(vs) != 0 {
					t.Errorf("seed %d request %d (%s): hop-by-hop %s reached the upstream: %q", seed, i, kind, name, vs)
				}
			}
		}
	}
}

// TestUpstreamFieldsEmptyValue: a field with an empty value counts as there, and setOnly
// replaces it with the client's second field of that name.
func TestUpstreamFieldsEmptyValue(t *testing.T) {
	h := headerOf(t, "GET / HTTP/1.1\r\nHost: gw\r\nX-A: 1\r\nX-Real-Ip:\r\nx-real-ip: 6.6.6.6\r\n\r\n")
	fs := upstreamFields(h, DefaultRequestIDHeader)
	if fs&fXRealIP == 0 {
		t.Fatalf("upstreamFields misses X-Real-Ip: %b", fs)
	}
	setOnly(h, "X-Real-Ip", []byte("127.0.0.1"), true)
	if got := h.Values("X-Real-Ip"); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("X-Real-Ip fields after setOnly: %q", got)
	}
}

// TestUpstreamFields: every name of fieldSet is found in any case, the request id header
// under its configured name, and no other name.
func TestUpstreamFields(t *testing.T) {
	names := map[string]fieldSet{
		"Connection": fConnection, "Keep-Alive": fKeepAlive, "Proxy-Connection": fProxyConnection,
		"Proxy": fProxy, "Proxy-Authenticate": fProxyAuthenticate, "Proxy-Authorization": fProxyAuthorization,
		"Te": fTe, "Trailer": fTrailer, "Upgrade": fUpgrade, "Expect": fExpect,
		"X-Forwarded-For": fXForwardedFor, "X-Forwarded-Proto": fXForwardedProto,
		"X-Forwarded-Host": fXForwardedHost, "X-Forwarded-Port": fXForwardedPort,
		"X-Forwarded-Path": fXForwardedPath, "X-Forwarded-Prefix": fXForwardedPrefix,
		"X-Real-Ip": fXRealIP, "Via": fVia, "X-Request-Id": fRequestID, "Server": fServer,
		"X-Tollgate-Upstream-Latency": fUpstreamLatency, "X-Tollgate-Proxy-Latency": fProxyLatency,
		"X-Forwarded-Prefixes": 0, "Vias": 0, "T": 0, "X-Request-Ids": 0, "Servers": 0,
		"X-Tollgate-Upstream-Latencyy": 0,
	}
	for name, bit := range names {
		for _, spelling := range []string{name, strings.ToLower(name), strings.ToUpper(name)} {
			h := headerOf(t, "GET / HTTP/1.1\r\nHost: gw\r\nX-Other: Via: x\r\n"+spelling+": v\r\n\r\n")
			if fs := upstreamFields(h, "X-Request-Id"); fs != bit {
				t.Errorf("%s: fields %b, want %b", spelling, fs, bit)
			}
		}
	}
	var h h1.Header
	h.Add("Transfer-Encoding", "chunked") // the edge rules refuse it in a head with no body
	if fs := upstreamFields(&h, ""); fs != fTransferEncoding {
		t.Errorf("Transfer-Encoding: fields %b", fs)
	}
}
