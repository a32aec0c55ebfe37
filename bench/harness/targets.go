package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Configs for every target: the equivalent minimal reverse proxy (one keep-alive pool to the
// upstream, no access log, one worker), listening on 127.0.0.1.

func tollgateConfig(upPort int, withPlugins bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `_format_version: "3.0"
services:
  - name: up
    url: http://127.0.0.1:%d
    routes:
      - name: all
        paths: [/]
        strip_path: false
`, upPort)
	if withPlugins {
		b.WriteString(`        plugins:
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
`)
	}
	return b.String()
}

// tollgateManyRoutes: n routes over n/100 services, paths /s<S>/r<R>; half of them also
// restricted to GET and POST. The benchmarked request goes to routePath(n).
func tollgateManyRoutes(upPort, n int) string {
	var b strings.Builder
	b.WriteString("_format_version: \"3.0\"\nservices:\n")
	per := 100
	for s := 0; s*per < n; s++ {
		fmt.Fprintf(&b, "  - name: svc%d\n    url: http://127.0.0.1:%d\n    routes:\n", s, upPort)
		for r := 0; r < per && s*per+r < n; r++ {
			fmt.Fprintf(&b, "      - name: s%dr%d\n        paths: [/s%d/r%d]\n", s, r, s, r)
			if r%2 == 1 {
				b.WriteString("        methods: [GET, POST]\n")
			}
		}
	}
	return b.String()
}

// routePath is the prefix of the request sent to the 10k-route config: a route in the middle.
func routePath(n int) string {
	s := n / 100 / 2
	return fmt.Sprintf("/s%d/r%d", s, 51)
}

const luaPhases = `
            rewrite_by_lua_block { ngx.ctx.bench = 1 }
            access_by_lua_block { ngx.req.set_header("X-Bench-Request", "1") }
            header_filter_by_lua_block { ngx.header["X-Bench-Response"] = "1" }
            log_by_lua_block { local _ = ngx.ctx.bench }`

// nginxConfig writes dir/nginx.conf: one worker, keep-alive pool of 64 to the upstream.
// h2Port (if not 0) is an extra listener for HTTP/2 with prior knowledge; lua adds a few
// trivial Lua phases (libnginx-mod-http-lua: the OpenResty design Kong and APISIX run on).
func nginxConfig(dir string, port, h2Port, upPort int, lua bool, nofile int) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", err
	}
	var mods, phases, h2 string
	if lua {
		mods = "load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n"
		phases = luaPhases
	}
	if h2Port != 0 {
		h2 = fmt.Sprintf("        listen 127.0.0.1:%d http2;\n", h2Port)
	}
	conf := fmt.Sprintf(`%sworker_processes 1;
worker_rlimit_nofile %[7]d;
user root;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections %[8]d; }
http {
    access_log off;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    http2_max_requests 1000000;
    upstream u {
        server 127.0.0.1:%[3]d;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:%[4]d;
%[5]s        location / {%[6]s
            proxy_pass http://u;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }
    }
}
`, mods, dir, upPort, port, h2, phases, nofile, min(12000, nofile-100))
	p := filepath.Join(dir, "nginx.conf")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

// haproxyConfig: one thread, HTTP mode, keep-alive both sides, "http-reuse always". HAProxy
// recognises the HTTP/2 preface on a clear-text bind, so the same port serves h2c.
// haproxyMaxconn: HAProxy wants about two descriptors per connection.
func haproxyMaxconn(nofile int) int { return min(30000, (nofile-200)/2) }

func haproxyConfig(dir string, port, upPort, nofile int) (string, error) {
	conf := fmt.Sprintf(`global
    nbthread 1
    maxconn %d
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
    option http-keep-alive
    http-reuse always
frontend f
    bind 127.0.0.1:%d
    default_backend b
backend b
    server s1 127.0.0.1:%d
`, haproxyMaxconn(nofile), port, upPort)
	p := filepath.Join(dir, "haproxy.cfg")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

// caddyConfig: reverse_proxy with a raised idle pool, h1 + h2c, admin and auto-HTTPS off, no
// access log (Caddy logs none unless told).
func caddyConfig(dir string, port, upPort int) (string, error) {
	conf := fmt.Sprintf(`{
    admin off
    auto_https off
    servers {
        protocols h1 h2c
    }
}
http://127.0.0.1:%d {
    reverse_proxy 127.0.0.1:%d {
        transport http {
            keepalive_idle_conns 1024
            keepalive_idle_conns_per_host 1024
        }
    }
}
`, port, upPort)
	p := filepath.Join(dir, "Caddyfile")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

// traefikConfig: one entry point, file provider, maxIdleConnsPerHost raised, no access log.
func traefikConfig(dir string, port, upPort int) (string, error) {
	dyn := filepath.Join(dir, "traefik-dynamic.yml")
	static := fmt.Sprintf(`entryPoints:
  web:
    address: "127.0.0.1:%d"
providers:
  file:
    filename: %s
serversTransport:
  maxIdleConnsPerHost: 1024
log:
  level: ERROR
global:
  checkNewVersion: false
  sendAnonymousUsage: false
`, port, dyn)
	dynamic := fmt.Sprintf(`http:
  routers:
    all:
      rule: "PathPrefix(`+"`/`"+`)"
      service: up
      entryPoints: [web]
  services:
    up:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:%d"
`, upPort)
	if err := os.WriteFile(dyn, []byte(dynamic), 0o644); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "traefik.yml")
	return p, os.WriteFile(p, []byte(static), 0o644)
}
