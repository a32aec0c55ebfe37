package requesttermination

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"tollgate/internal/config"
	"tollgate/internal/plugin"
	"tollgate/internal/plugin/plugintest"
)

func TestAccess(t *testing.T) {
	tests := []struct {
		name   string
		cfg    string
		target string
		header http.Header
		passes bool // no answer: the request goes on
		status int
		ctype  string
		body   string
	}{
		{name: "defaults", status: 503, ctype: jsonUTF8, body: `{"message":"Service unavailable"}`},
		{name: "default message 401", cfg: `status_code: 401`, status: 401, ctype: jsonUTF8, body: `{"message":"Unauthorized"}`},
		{name: "default message 404", cfg: `status_code: 404`, status: 404, ctype: jsonUTF8, body: `{"message":"Not found"}`},
		{name: "default message 405", cfg: `status_code: 405`, status: 405, ctype: jsonUTF8, body: `{"message":"Method not allowed"}`},
		{name: "default message 500", cfg: `status_code: 500`, status: 500, ctype: jsonUTF8, body: `{"message":"An unexpected error occurred"}`},
		{name: "default message 502", cfg: `status_code: 502`, status: 502, ctype: jsonUTF8, body: `{"message":"Bad Gateway"}`},
		{name: "no default message", cfg: `status_code: 418`, status: 418},
		{name: "message escaped", cfg: `{status_code: 403, message: "say \"no\""}`, status: 403, ctype: jsonUTF8, body: `{"message":"say \"no\""}`},
		{name: "204 never has a body", cfg: `{status_code: 204, message: gone}`, status: 204},
		{name: "raw body", cfg: `{status_code: 200, body: "<h1>down</h1>", content_type: "text/html; charset=utf-8"}`,
			status: 200, ctype: "text/html; charset=utf-8", body: "<h1>down</h1>"},
		{name: "raw body default type", cfg: `{body: '{"down":true}'}`, status: 503, ctype: jsonUTF8, body: `{"down":true}`},
		{name: "trigger absent", cfg: `trigger: X-Stop`, passes: true},
		{name: "trigger header", cfg: `trigger: X-Stop`, header: http.Header{"X-Stop": {""}}, status: 503, ctype: jsonUTF8, body: `{"message":"Service unavailable"}`},
		{name: "trigger query", cfg: `trigger: stop`, target: "/?a=1&stop", status: 503, ctype: jsonUTF8, body: `{"message":"Service unavailable"}`},
		{name: "trigger query escaped", cfg: `trigger: x-stop`, target: "/?x%2Dstop=1", status: 503, ctype: jsonUTF8, body: `{"message":"Service unavailable"}`},
		{name: "trigger query value does not count", cfg: `trigger: stop`, target: "/?a=stop", passes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := plugintest.Build(t, Spec(), tt.cfg).(plugin.AccessHandler)
			newReq := func() *http.Request {
				target := tt.target
				if target == "" {
					target = "/"
				}
				r := httptest.NewRequest("GET", "http://example.com"+target, nil)
				for k, vs := range tt.header {
					r.Header[k] = vs
				}
				return r
			}
			plugintest.Run(t, newReq, func(t *testing.T, x *plugintest.Exchange) {
				err := inst.Access(x.Ctx)
				if tt.passes {
					if err != nil || x.Ctx.Reply() != nil {
						t.Fatalf("err = %v, reply = %+v; want the request to go on", err, x.Ctx.Reply())
					}
					return
				}
				if err != plugin.ErrExit {
					t.Fatalf("err = %v, want ErrExit", err)
				}
				r := x.Ctx.Reply()
				if r.Status != tt.status || r.ContentType != tt.ctype || string(r.Body) != tt.body || r.Error {
					t.Errorf("reply = %d %q %q error=%v; want %d %q %q", r.Status, r.ContentType, r.Body, r.Error, tt.status, tt.ctype, tt.body)
				}
			})
		})
	}
}

func TestEcho(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `{echo: true, status_code: 404, trigger: X-Debug}`).(plugin.AccessHandler)
	svcPath := "/base"
	svc := &config.Service{Meta: config.Meta{ID: "s-1", CreatedAt: 10, UpdatedAt: 11}, Name: "orders-svc",
		Protocol: "http", Host: "orders.internal", Port: 8080, Path: &svcPath, Retries: 5,
		ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000, Enabled: true}
	route := &config.Route{Meta: config.Meta{ID: "r-1", Tags: []string{"t"}}, Protocols: []string{"http", "https"},
		Paths: []string{"/orders"}, HTTPSRedirectStatusCode: 426, StripPath: true, PathHandling: "v0",
		RequestBuffering: true, ResponseBuffering: true, Service: svc}

	newReq := func() *http.Request {
		r := httptest.NewRequest("POST", "http://Example.com:8000/orders/1?a=1&a=2&flag&b=x+y", strings.NewReader(`{"n":1}`))
		r.Header.Set("X-Debug", "1")
		r.Header.Add("X-Multi", "a")
		r.Header.Add("X-Multi", "b")
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	plugintest.Run(t, newReq, func(t *testing.T, x *plugintest.Exchange) {
		x.Ctx.Route, x.Ctx.Service = route, svc
		if err := inst.Access(x.Ctx); err != plugin.ErrExit {
			t.Fatalf("err = %v", err)
		}
		r := x.Ctx.Reply()
		if r.Status != 404 || r.ContentType != jsonUTF8 {
			t.Errorf("reply %d %q", r.Status, r.ContentType)
		}
		var doc map[string]any
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatalf("echo body %s: %v", r.Body, err)
		}
		if doc["message"] != "Not found" {
			t.Errorf("message = %v", doc["message"])
		}
		req := doc["request"].(map[string]any)
		wantReq := map[string]any{
			"scheme": "http", "host": "example.com", "port": float64(8000), "method": "POST", "path": "/orders/1",
			"query":    map[string]any{"a": []any{"1", "2"}, "flag": true, "b": "x y"},
			"raw_body": `{"n":1}`, "body": map[string]any{"n": float64(1)},
		}
		for k, v := range wantReq {
			if !reflect.DeepEqual(req[k], v) {
				t.Errorf("request.%s = %#v, want %#v", k, req[k], v)
			}
		}
		hdr := req["headers"].(map[string]any)
		if !reflect.DeepEqual(hdr["x-multi"], []any{"a", "b"}) || hdr["x-debug"] != "1" || hdr["host"] != "Example.com:8000" {
			t.Errorf("request.headers = %v", hdr)
		}
		mr := doc["matched_route"].(map[string]any)
		if mr["id"] != "r-1" || mr["name"] != nil || !reflect.DeepEqual(mr["service"], map[string]any{"id": "s-1"}) ||
			!reflect.DeepEqual(mr["paths"], []any{"/orders"}) || mr["methods"] != nil || mr["strip_path"] != true {
			t.Errorf("matched_route = %v", mr)
		}
		ms := doc["matched_service"].(map[string]any)
		if ms["name"] != "orders-svc" || ms["path"] != "/base" || ms["port"] != float64(8080) || ms["tls_verify"] != nil ||
			ms["client_certificate"] != nil {
			t.Errorf("matched_service = %v", ms)
		}
		kong := doc["kong"].(map[string]any)
		if kong["node_id"] != "test-node" || kong["worker_pid"].(float64) <= 0 {
			t.Errorf("kong = %v", kong)
		}
	})
}

// Without a route (a global plugin on an unmatched request) echo leaves the entities out.
func TestEchoNoRoute(t *testing.T) {
	inst := plugintest.Build(t, Spec(), `echo: true`).(plugin.AccessHandler)
	plugintest.Run(t, func() *http.Request { return httptest.NewRequest("GET", "http://example.com/", nil) },
		func(t *testing.T, x *plugintest.Exchange) {
			if err := inst.Access(x.Ctx); err != plugin.ErrExit {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(x.Ctx.Reply().Body, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"matched_route", "matched_service"} {
				if _, ok := doc[k]; ok {
					t.Errorf("%s present: %v", k, doc[k])
				}
			}
			if _, ok := doc["request"].(map[string]any)["raw_body"]; ok {
				t.Error("raw_body present without a body")
			}
		})
}
