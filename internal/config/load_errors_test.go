package config

import (
	"strings"
	"testing"
)

// TestLoadErrors pins the exact text of every error path: file, line, entity, field, message.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// Document level.
		{"syntax error", "_format_version: \"3.0\"\nservices: [\n", []string{
			`kong.yml:2: did not find expected node content`,
		}},
		{"bad indentation", "_format_version: \"3.0\"\nservices:\n- name: a\n host: b\n", []string{
			`kong.yml:3: did not find expected key`,
		}},
		{"empty", "  \n", []string{`kong.yml:1: expected a declarative configuration`}},
		{"comment only", "# nothing\n", []string{`kong.yml:1: expected a declarative configuration`}},
		{"not a mapping", "- a\n- b\n", []string{`kong.yml:1: expected an object`}},
		{"two documents", "_format_version: \"3.0\"\n---\n_format_version: \"3.0\"\n", []string{
			`kong.yml:2: expected a single YAML document`,
		}},
		{"format version missing", "services: []\n", []string{
			`kong.yml:1: _format_version: required field missing`,
		}},
		{"format version unquoted", "_format_version: 3.0\n", []string{
			`kong.yml:1: _format_version: expected a string (quote it: "3.0")`,
		}},
		{"format version unknown", "_format_version: \"4.0\"\n", []string{
			`kong.yml:1: _format_version: expected one of: 1.1, 2.1, 3.0`,
		}},
		{"top-level keys", `_format_version: "3.0"
_transform: "yes"
_comment: [1]
_ignore: x
_workspace: default
_info: {select_tags: [a]}
_konnect: {control_plane_name: cp}
service: []
certificates:
- cert: x
snis: []
`, []string{
			`kong.yml:2: _transform: expected a boolean`,
			`kong.yml:3: _comment: expected a string`,
			`kong.yml:4: _ignore: expected an array`,
			`kong.yml:5: _workspace: unknown field`,
			`kong.yml:8: service: unknown field`,
			`kong.yml:10: certificates: not supported yet in tollgate`,
		}},
		{"collection not an array", "_format_version: \"3.0\"\nservices: {name: a}\n", []string{
			`kong.yml:2: services: expected an array`,
		}},
		{"entity not a record", "_format_version: \"3.0\"\nservices:\n- a\nconsumers: [1]\n", []string{
			`kong.yml:3: service "services[0]": expected a record`,
			`kong.yml:4: consumer "consumers[0]": expected a record`,
		}},
		{"duplicate keys", `_format_version: "3.0"
services:
- name: a
  host: h
  host: g
`, []string{
			`kong.yml:5: service "a": host: mapping key "host" already defined at line 4`,
		}},
		{"vaults keys key_sets ca_certificates", `_format_version: "3.0"
vaults: [{name: env, prefix: e}]
keys: [{kid: a}]
key_sets: [{name: a}]
ca_certificates: [{cert: x}]
`, []string{
			`kong.yml:2: vaults: not supported yet in tollgate`,
			`kong.yml:3: keys: not supported yet in tollgate`,
			`kong.yml:4: key_sets: not supported yet in tollgate`,
			`kong.yml:5: ca_certificates: not supported yet in tollgate`,
		}},

		// Services.
		{"service fields", `_format_version: "3.0"
services:
- name: svc one
  host: a.b:80
  port: "80"
  path: api
  retries: 40000
  connect_timeout: 0
  write_timeout: 2147483647
  read_timeout: 1.5
  enabled: "true"
  protocol: ftp
  _comment: 5
  _ignore: {}
  colour: red
`, []string{
			`kong.yml:3: service "svc one": name: invalid value 'svc one': the only accepted ascii characters are alphanumerics or ., -, _, and ~`,
			`kong.yml:4: service "svc one": host: must not have a port`,
			`kong.yml:5: service "svc one": port: expected an integer`,
			`kong.yml:6: service "svc one": path: should start with: /`,
			`kong.yml:7: service "svc one": retries: value should be between 0 and 32767`,
			`kong.yml:8: service "svc one": connect_timeout: value should be between 1 and 2147483646`,
			`kong.yml:9: service "svc one": write_timeout: value should be between 1 and 2147483646`,
			`kong.yml:10: service "svc one": read_timeout: expected an integer`,
			`kong.yml:11: service "svc one": enabled: expected a boolean`,
			`kong.yml:12: service "svc one": protocol: expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp`,
			`kong.yml:13: service "svc one": _comment: expected a string`,
			`kong.yml:14: service "svc one": _ignore: expected an array`,
			`kong.yml:15: service "svc one": colour: unknown field`,
		}},
		{"service host missing and paths", `_format_version: "3.0"
services:
- name: a
  path: /a//b
- name: b
  host: "bad host"
  path: /a b
- name: c
  host: h
  path: /a%zzb
  protocol: null
- name: d
  host: ""
`, []string{
			`kong.yml:3: service "a": host: required field missing`,
			`kong.yml:4: service "a": path: must not have empty segments`,
			`kong.yml:6: service "b": host: invalid value: bad host`,
			`kong.yml:7: service "b": path: invalid path: '/a b' (characters outside of the reserved list of RFC 3986 found)`,
			`kong.yml:10: service "c": path: invalid url-encoded value: '%zz'`,
			`kong.yml:11: service "c": protocol: required field missing`,
			`kong.yml:13: service "d": host: length must be at least 1`,
		}},
		{"service not supported yet", `_format_version: "3.0"
services:
- name: a
  host: h
  protocol: grpc
  tls_verify: true
  tls_verify_depth: 2
  ca_certificates: [0855b320-0dd2-547d-891d-601e9b38647f]
  client_certificate: {id: 0855b320-0dd2-547d-891d-601e9b38647f}
`, []string{
			`kong.yml:5: service "a": protocol: 'grpc' is not supported yet in tollgate (http and https are)`,
			`kong.yml:6: service "a": tls_verify: not supported yet in tollgate`,
			`kong.yml:7: service "a": tls_verify_depth: not supported yet in tollgate`,
			`kong.yml:8: service "a": ca_certificates: not supported yet in tollgate`,
			`kong.yml:9: service "a": client_certificate: not supported yet in tollgate`,
		}},
		{"service url shorthand errors", `_format_version: "3.0"
services:
- name: a
  url: http://h:http/
- name: b
  url: tcp://h:99999
- name: c
  url: localhost:8080
- name: d
  url: http:///x
- name: e
  url: 5
`, []string{
			`kong.yml:4: service "a": port: expected an integer`,
			`kong.yml:6: service "b": protocol: 'tcp' is not supported yet in tollgate (http and https are)`,
			`kong.yml:6: service "b": port: value should be between 0 and 65535`,
			`kong.yml:8: service "c": protocol: expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp`,
			`kong.yml:8: service "c": host: required field missing`,
			`kong.yml:8: service "c": path: should start with: /`,
			`kong.yml:10: service "d": host: required field missing`,
			`kong.yml:11: service "e": host: required field missing`,
			`kong.yml:12: service "e": url: expected a string`,
		}},

		// Routes.
		{"route matchers", `_format_version: "3.0"
routes:
- name: r1
  methods: [get, GET]
  hosts: ["*.a.*", "a.*.b", "a b", "a:99999", "*.example.com:8080"]
  paths: [api, /a//b, /a/../b, "~/(", "/x%zz", /ok, "~/v\\d+/"]
`, []string{
			`kong.yml:4: route "r1": methods[0]: invalid value: get`,
			`kong.yml:5: route "r1": hosts[0]: invalid wildcard: must have at most one wildcard`,
			`kong.yml:5: route "r1": hosts[1]: invalid wildcard: must be placed at leftmost or rightmost label`,
			`kong.yml:5: route "r1": hosts[2]: invalid hostname: a b`,
			`kong.yml:5: route "r1": hosts[3]: invalid port number`,
			`kong.yml:6: route "r1": paths[0]: should start with: / (fixed path) or ~/ (regex path)`,
			`kong.yml:6: route "r1": paths[1]: must not have empty segments`,
			`kong.yml:6: route "r1": paths[2]: non-normalized path, consider use '/b' instead`,
			"kong.yml:6: route \"r1\": paths[3]: invalid regex: '/(' (error parsing regexp: missing closing ): `/(`)",
			`kong.yml:6: route "r1": paths[4]: invalid url-encoded value: '%zz'`,
		}},
		{"route headers", `_format_version: "3.0"
routes:
- name: r1
  headers:
    Host: [a]
    "bad name": [a]
    X-One: a
    X-Two: [1, ""]
    X-Three: ["~*("]
    X-Ok: [a, "~*^v[0-9]$"]
`, []string{
			`kong.yml:5: route "r1": headers.Host: cannot contain 'host' header, which must be specified in the 'hosts' attribute`,
			`kong.yml:6: route "r1": headers.bad name: bad header name 'bad name', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
			`kong.yml:7: route "r1": headers.X-One: expected an array`,
			`kong.yml:8: route "r1": headers.X-Two[0]: expected a string`,
			`kong.yml:8: route "r1": headers.X-Two[1]: length must be at least 1`,
			"kong.yml:9: route \"r1\": headers.X-Three[0]: invalid regex: '(' (error parsing regexp: missing closing ): `(`)",
		}},
		{"route options", `_format_version: "3.0"
routes:
- name: r1
  paths: [/]
  https_redirect_status_code: 300
  regex_priority: high
  strip_path: null
  preserve_host: 1
  request_buffering: true
  response_buffering: "no"
  path_handling: v2
  protocols: [http, grpc, tls_passthrough, ftp]
- name: r2
  paths: [/]
  protocols: []
- name: r3
  paths: [/]
  protocols: null
  https_redirect_status_code: null
`, []string{
			`kong.yml:5: route "r1": https_redirect_status_code: expected one of: 426, 301, 302, 307, 308`,
			`kong.yml:6: route "r1": regex_priority: expected an integer`,
			`kong.yml:7: route "r1": strip_path: required field missing`,
			`kong.yml:8: route "r1": preserve_host: expected a boolean`,
			`kong.yml:10: route "r1": response_buffering: expected a boolean`,
			`kong.yml:11: route "r1": path_handling: expected one of: v0, v1`,
			`kong.yml:12: route "r1": protocols[1]: 'grpc' is not supported yet in tollgate (http and https are)`,
			`kong.yml:12: route "r1": protocols[2]: 'tls_passthrough' is not supported yet in tollgate (http and https are)`,
			`kong.yml:12: route "r1": protocols[3]: expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp`,
			`kong.yml:15: route "r2": protocols: length must be at least 1`,
			`kong.yml:18: route "r3": protocols: required field missing`,
			`kong.yml:19: route "r3": https_redirect_status_code: required field missing`,
		}},
		{"route not supported yet", `_format_version: "3.0"
routes:
- name: r1
  paths: [/]
  snis: [a.example.com]
  sources: [{ip: 10.0.0.0/8}]
  destinations: [{port: 80}]
  expression: http.path == "/"
  priority: 1
- name: r2
  paths: [/]
  snis: []
`, []string{
			`kong.yml:5: route "r1": snis: not supported yet in tollgate`,
			`kong.yml:6: route "r1": sources: not supported yet in tollgate`,
			`kong.yml:7: route "r1": destinations: not supported yet in tollgate`,
			`kong.yml:8: route "r1": expression: not supported yet in tollgate`,
			`kong.yml:9: route "r1": priority: not supported yet in tollgate`,
		}},
		{"route needs a matcher", `_format_version: "3.0"
routes:
- name: both
- name: http-only
  protocols: [http]
  paths: []
- name: https-only
  protocols: [https]
  headers: {}
- name: ok
  protocols: [http]
  methods: [GET]
`, []string{
			`kong.yml:3: route "both": @entity: must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'`,
			`kong.yml:4: route "http-only": @entity: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'`,
			`kong.yml:7: route "https-only": @entity: must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'`,
		}},
		{"unnamed route is named by its random id", `_format_version: "3.0"
routes:
- paths: [x]
`, []string{
			`kong.yml:3: route "d9877ece-6d36-4aac-9a6f-419ec627c76b": paths[0]: should start with: / (fixed path) or ~/ (regex path)`,
		}},

		// References.
		{"route references", `_format_version: "3.0"
services:
- name: s1
  host: h
  routes:
  - name: nested-ok
    paths: [/a]
    service: s1
  - name: nested-other
    paths: [/b]
    service: s2
- name: s2
  host: h
routes:
- name: by-name
  paths: [/c]
  service: nope
- name: by-id
  paths: [/d]
  service: {id: 0855b320-0dd2-547d-891d-601e9b38647f}
- name: bad-id
  paths: [/e]
  service: {id: nope, name: x}
- name: no-id
  paths: [/f]
  service: {}
- name: number
  paths: [/g]
  service: 5
`, []string{
			`kong.yml:11: route "nested-other": service: invalid reference 'service: s2' (no such entry in 'services')`,
			`kong.yml:17: route "by-name": service: invalid reference 'service: nope' (no such entry in 'services')`,
			`kong.yml:20: route "by-id": service: invalid reference 'service: {"id":"0855b320-0dd2-547d-891d-601e9b38647f"}' (no such entry in 'services')`,
			`kong.yml:23: route "bad-id": service.id: expected a valid UUID`,
			`kong.yml:23: route "bad-id": service.name: unknown field`,
			`kong.yml:26: route "no-id": service.id: required field missing`,
			`kong.yml:29: route "number": service: expected a string`,
		}},

		// Uniqueness.
		{"no cascade from an invalid name", `_format_version: "3.0"
services:
- name: bad name
  host: h
routes:
- name: r
  paths: [/]
  service: bad name
`, []string{
			`kong.yml:3: service "bad name": name: invalid value 'bad name': the only accepted ascii characters are alphanumerics or ., -, _, and ~`,
		}},
		{"uniqueness", `_format_version: "3.0"
services:
- name: a
  host: h
- name: a
  host: h
- id: 0855B320-0DD2-547D-891D-601E9B38647F
  host: h
- name: my-service
  host: h
consumers:
- username: u
  custom_id: c
- username: u2
  custom_id: c
`, []string{
			`kong.yml:5: service "a": name: uniqueness violation: 'services' entity with name set to 'a' already declared`,
			`kong.yml:9: service "my-service": id: uniqueness violation: 'services' entity with primary key set to '0855b320-0dd2-547d-891d-601e9b38647f' already declared`,
			`kong.yml:15: consumer "u2": custom_id: uniqueness violation: 'consumers' entity with custom_id set to 'c' already declared`,
		}},
		{"ids", `_format_version: "3.0"
services:
- id: not-a-uuid
  name: a
  host: h
- id: 5
  name: b
  host: h
`, []string{
			`kong.yml:3: service "a": id: expected a valid UUID`,
			`kong.yml:6: service "b": id: expected a string`,
		}},
		{"tags", `_format_version: "3.0"
services:
- name: a
  host: h
  tags: [ok, "a,b", "a/b", 5, ""]
- name: b
  host: h
  tags: ok
`, []string{
			"kong.yml:5: service \"a\": tags[1]: invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences",
			"kong.yml:5: service \"a\": tags[2]: invalid tag 'a/b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences",
			`kong.yml:5: service "a": tags[3]: expected a string`,
			`kong.yml:5: service "a": tags[4]: length must be at least 1`,
			`kong.yml:8: service "b": tags: expected a set`,
		}},

		// Upstreams and targets.
		{"upstream fields", `_format_version: "3.0"
upstreams:
- name: 10.0.0.1
  algorithm: fastest
  hash_on: body
  slots: 5
  host_header: "a b"
  use_srv_name: 1
  client_certificate: {id: 0855b320-0dd2-547d-891d-601e9b38647f}
  hash_on_cookie: "a=b"
  hash_on_cookie_path: x
  hash_on_header: "a b"
- name: up:80
- name: "bad_name!"
- hash_on: ip
`, []string{
			`kong.yml:3: upstream "10.0.0.1": name: Invalid name ('10.0.0.1'); no ip addresses allowed`,
			`kong.yml:4: upstream "10.0.0.1": algorithm: expected one of: consistent-hashing, least-connections, round-robin, latency, random, ip-hash`,
			`kong.yml:5: upstream "10.0.0.1": hash_on: expected one of: none, consumer, ip, header, cookie, path, query_arg, uri_capture`,
			`kong.yml:6: upstream "10.0.0.1": slots: value should be between 10 and 65536`,
			`kong.yml:7: upstream "10.0.0.1": host_header: invalid hostname: a b`,
			`kong.yml:8: upstream "10.0.0.1": use_srv_name: expected a boolean`,
			`kong.yml:9: upstream "10.0.0.1": client_certificate: not supported yet in tollgate`,
			`kong.yml:10: upstream "10.0.0.1": hash_on_cookie: bad cookie name 'a=b', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
			`kong.yml:11: upstream "10.0.0.1": hash_on_cookie_path: should start with: /`,
			`kong.yml:12: upstream "10.0.0.1": hash_on_header: bad header name 'a b', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
			`kong.yml:13: upstream "up:80": name: Invalid name ('up:80'); no port allowed`,
			`kong.yml:14: upstream "bad_name!": name: Invalid name ('bad_name!'); must be a valid hostname`,
			`kong.yml:15: upstream "d9877ece-6d36-4aac-9a6f-419ec627c76b": name: required field missing`,
		}},
		{"upstream hashing rules", `_format_version: "3.0"
upstreams:
- name: a
  hash_on: header
  hash_fallback: header
  hash_fallback_header: X-A
- name: b
  hash_fallback: ip
- name: c
  hash_on: cookie
  hash_on_cookie: c
  hash_fallback: ip
- name: d
  hash_on: consumer
  hash_fallback: consumer
- name: e
  hash_on: header
  hash_on_header: X-A
  hash_fallback: header
  hash_fallback_header: X-A
- name: f
  hash_on: query_arg
  hash_fallback: uri_capture
- name: g
  hash_on: ip
  hash_fallback: cookie
- name: h
  hash_on: path
  hash_fallback: path
- name: i
  hash_on: query_arg
  hash_on_query_arg: q
  hash_fallback: query_arg
  hash_fallback_query_arg: q
`, []string{
			`kong.yml:3: upstream "a": hash_on_header: required field missing`,
			`kong.yml:8: upstream "b": hash_fallback: expected one of: none`,
			`kong.yml:12: upstream "c": hash_fallback: expected one of: none`,
			`kong.yml:15: upstream "d": hash_fallback: expected one of: none, ip, header, cookie, path, query_arg, uri_capture`,
			`kong.yml:16: upstream "e": @entity: values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'`,
			`kong.yml:21: upstream "f": hash_on_query_arg: required field missing`,
			`kong.yml:21: upstream "f": hash_fallback_uri_capture: required field missing`,
			`kong.yml:24: upstream "g": hash_on_cookie: required field missing`,
			`kong.yml:29: upstream "h": hash_fallback: expected one of: none, consumer, ip, header, cookie, query_arg, uri_capture`,
			`kong.yml:30: upstream "i": @entity: values of these fields must be distinct: 'hash_on_query_arg', 'hash_fallback_query_arg'`,
		}},
		{"resilience extensions", `_format_version: "3.0"
services:
- name: s
  url: http://h
  try_timeout: -1
  retry_budget: {percent: 120, min_concurrency: x, colour: 1}
  circuit_breaker: {error_ratio: 1.5, window: 0, half_open_requests: 0, http_statuses: [99]}
- name: t
  url: http://h
  circuit_breaker: {window: 5}
upstreams:
- name: u
  circuit_breaker: []
`, []string{
			`kong.yml:5: service "s": try_timeout: value should be between 0 and 2147483646`,
			`kong.yml:6: service "s": retry_budget.percent: value should be between 0 and 100`,
			`kong.yml:6: service "s": retry_budget.min_concurrency: expected an integer`,
			`kong.yml:6: service "s": retry_budget.colour: unknown field`,
			`kong.yml:7: service "s": circuit_breaker.error_ratio: value should be between 0 and 1`,
			`kong.yml:7: service "s": circuit_breaker.window: value should be between 1 and 3600`,
			`kong.yml:7: service "s": circuit_breaker.half_open_requests: value should be between 1 and 1000`,
			`kong.yml:7: service "s": circuit_breaker.http_statuses[0]: value should be between 100 and 999`,
			`kong.yml:7: service "s": circuit_breaker: at least one of 'consecutive_failures', 'error_ratio' must be set`,
			`kong.yml:10: service "t": circuit_breaker: at least one of 'consecutive_failures', 'error_ratio' must be set`,
			`kong.yml:13: upstream "u": circuit_breaker: expected a record`,
		}},
		{"healthchecks", `_format_version: "3.0"
upstreams:
- name: a
  healthchecks:
    threshold: 101
    active:
      type: udp
      timeout: -1
      concurrency: 0
      http_path: health
      https_sni: 10.0.0.1
      https_verify_certificate: null
      headers: {Host: [a], "b c": [x]}
      healthy: {interval: 70000, http_statuses: [200, 99, "x"], successes: 256}
      unhealthy: {tcp_failures: -1, timeouts: 1.5, http_failures: x, interval: 1, colour: 1}
    passive:
      type: tcp
      healthy: {successes: 1, http_statuses: 200}
      unhealthy: {http_statuses: [1000]}
      colour: 1
    colour: 1
- name: b
  healthchecks: []
- name: c
  healthchecks:
    active: {https_sni: "a:1"}
    passive: []
`, []string{
			`kong.yml:5: upstream "a": healthchecks.threshold: value should be between 0 and 100`,
			`kong.yml:7: upstream "a": healthchecks.active.type: expected one of: tcp, http, https, grpc, grpcs`,
			`kong.yml:8: upstream "a": healthchecks.active.timeout: value should be between 0 and 65535`,
			`kong.yml:9: upstream "a": healthchecks.active.concurrency: value should be between 1 and 2147483648`,
			`kong.yml:10: upstream "a": healthchecks.active.http_path: should start with: /`,
			`kong.yml:11: upstream "a": healthchecks.active.https_sni: must not be an IP`,
			`kong.yml:12: upstream "a": healthchecks.active.https_verify_certificate: required field missing`,
			`kong.yml:13: upstream "a": healthchecks.active.headers.b c: bad header name 'b c', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
			`kong.yml:14: upstream "a": healthchecks.active.healthy.interval: value should be between 0 and 65535`,
			`kong.yml:14: upstream "a": healthchecks.active.healthy.http_statuses[1]: value should be between 100 and 999`,
			`kong.yml:14: upstream "a": healthchecks.active.healthy.http_statuses[2]: expected an integer`,
			`kong.yml:14: upstream "a": healthchecks.active.healthy.successes: value should be between 0 and 255`,
			`kong.yml:15: upstream "a": healthchecks.active.unhealthy.tcp_failures: value should be between 0 and 255`,
			`kong.yml:15: upstream "a": healthchecks.active.unhealthy.timeouts: expected an integer`,
			`kong.yml:15: upstream "a": healthchecks.active.unhealthy.http_failures: expected an integer`,
			`kong.yml:15: upstream "a": healthchecks.active.unhealthy.colour: unknown field`,
			`kong.yml:18: upstream "a": healthchecks.passive.healthy.http_statuses: expected an array`,
			`kong.yml:19: upstream "a": healthchecks.passive.unhealthy.http_statuses[0]: value should be between 100 and 999`,
			`kong.yml:20: upstream "a": healthchecks.passive.colour: unknown field`,
			`kong.yml:21: upstream "a": healthchecks.colour: unknown field`,
			`kong.yml:23: upstream "b": healthchecks: expected a record`,
			`kong.yml:26: upstream "c": healthchecks.active.https_sni: must not have a port`,
			`kong.yml:27: upstream "c": healthchecks.passive: expected a record`,
		}},
		{"targets", `_format_version: "3.0"
upstreams:
- name: up
  targets:
  - target: a:1
  - target: a:1
  - target: "a b"
    weight: 70000
  - weight: 1
  - target: 1.2.3.4:99999
  - target: a:1
    upstream: other
targets:
- target: b:1
- target: c:1
  upstream: nope
- target: a:1
  upstream: up
- target: d
  upstream: up
- target: d:8000
  upstream: up
`, []string{
			`kong.yml:6: target "a:1": id: uniqueness violation: 'targets' entity with primary key set to '7f1fd52a-debe-512d-b06f-8f10594af49d' already declared`,
			`kong.yml:7: target "a b": target: Invalid target ('a b'); not a valid hostname or ip address`,
			`kong.yml:8: target "a b": weight: value should be between 0 and 65535`,
			`kong.yml:9: target "d9877ece-6d36-4aac-9a6f-419ec627c76b": target: required field missing`,
			`kong.yml:10: target "1.2.3.4:99999": target: Invalid target ('1.2.3.4:99999'); not a valid hostname or ip address`,
			`kong.yml:12: target "a:1": upstream: invalid reference 'upstream: other' (no such entry in 'upstreams')`,
			`kong.yml:14: target "b:1": upstream: required field missing`,
			`kong.yml:16: target "c:1": upstream: invalid reference 'upstream: nope' (no such entry in 'upstreams')`,
			`kong.yml:17: target "a:1": target: uniqueness violation: 'targets' entity with target set to 'a:1' already declared for the same upstream`,
			`kong.yml:21: target "d:8000": target: uniqueness violation: 'targets' entity with target set to 'd:8000' already declared for the same upstream`,
		}},

		// Consumers.
		{"consumers", `_format_version: "3.0"
consumers:
- tags: [a]
- username: ""
- username: null
  custom_id: null
- username: 5
`, []string{
			`kong.yml:3: consumer "d9877ece-6d36-4aac-9a6f-419ec627c76b": @entity: at least one of these fields must be non-empty: 'custom_id', 'username'`,
			`kong.yml:4: consumer "5c988f23-77e8-53b5-add0-d4f19c90740c": username: length must be at least 1`,
			`kong.yml:5: consumer "1bfb1fa3-7c41-411e-a46a-dd6a48d89474": @entity: at least one of these fields must be non-empty: 'custom_id', 'username'`,
			`kong.yml:7: consumer "4d2e566f-8ddd-48f3-8cf4-929ef54f635d": username: expected a string`,
		}},

		// Plugins.
		{"plugin names", `_format_version: "3.0"
plugins:
- name: nope
  config: {a: 1}
- name: basic-auth
- config: {}
- name: ""
- name: 5
`, []string{
			`kong.yml:3: plugin "nope": name: plugin 'nope' not enabled; add it to the 'plugins' configuration property`,
			`kong.yml:5: plugin "basic-auth": name: plugin 'basic-auth' is not available yet in tollgate`,
			`kong.yml:6: plugin "d9877ece-6d36-4aac-9a6f-419ec627c76b": name: required field missing`,
			`kong.yml:7: plugin "1ded4e33-8be2-5d82-b3f7-0c20b09fe854": name: length must be at least 1`,
			`kong.yml:8: plugin "5ddbc16d-89cc-5127-941a-2835cbb5e908": name: expected a string`,
		}},
		{"plugin fields and config", `_format_version: "3.0"
plugins:
- name: request-transformer
  instance_name: "a b"
  enabled: "no"
  protocols: [http, tcp, smtp]
  ordering: {before: {access: [acl]}}
  config:
    add:
      headers: ["ok:1", "bad", 5]
    colour: red
- name: rate-limiting
  config: [1]
- name: rate-limiting
  service: s
  config:
    minute: many
- name: jwt
  route: r
  config:
    claims_to_verify: [exp, iat]
services:
- name: s
  host: h
  routes:
  - name: r
    paths: [/]
`, []string{
			`kong.yml:4: plugin "request-transformer": instance_name: invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~`,
			`kong.yml:5: plugin "request-transformer": enabled: expected a boolean`,
			`kong.yml:6: plugin "request-transformer": protocols[1]: 'tcp' is not supported yet in tollgate (grpc, grpcs, http and https are)`,
			`kong.yml:6: plugin "request-transformer": protocols[2]: expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp`,
			`kong.yml:7: plugin "request-transformer": ordering: unknown field`,
			`kong.yml:10: plugin "request-transformer": config.add.headers[2]: expected a string`,
			`kong.yml:11: plugin "request-transformer": config.colour: unknown field`,
			`kong.yml:13: plugin "rate-limiting": config: expected a record`,
			`kong.yml:17: plugin "rate-limiting": config.minute: expected an integer`,
			`kong.yml:20: plugin "jwt": config.claims_to_verify[1]: expected one of: exp, nbf`,
		}},
		{"plugin validate errors without line use config line", `_format_version: "3.0"
plugins:
- name: acl
  config:
    hide_groups_header: true
- name: acl
  route: r
  config: {allow: [a]}
routes:
- name: r
  paths: [/]
`, []string{
			`kong.yml:4: plugin "acl": config: at least one of these fields must be non-empty: 'allow', 'deny'`,
		}},
		{"plugin scopes", `_format_version: "3.0"
consumers:
- username: bob
  plugins:
  - name: key-auth
  - name: rate-limiting
    config: {minute: 1}
plugins:
- name: cors
  consumer: bob
- name: acme
  route: r
  service: s
  consumer: null
routes:
- name: r
  paths: [/]
services:
- name: s
  host: h
`, []string{
			`kong.yml:5: plugin "key-auth": consumer: value must be null`,
			`kong.yml:10: plugin "cors": consumer: value must be null`,
			`kong.yml:12: plugin "acme": route: value must be null`,
			`kong.yml:13: plugin "acme": service: value must be null`,
		}},
		{"plugin uniqueness", `_format_version: "3.0"
services:
- name: s
  host: h
  plugins:
  - name: rate-limiting
    config: {minute: 1}
  - name: rate-limiting
    config: {minute: 2}
plugins:
- name: rate-limiting
  service: s
  config: {minute: 3}
- name: rate-limiting
  instance_name: one
  config: {minute: 1}
- name: prometheus
  instance_name: one
`, []string{
			`kong.yml:8: plugin "rate-limiting": id: uniqueness violation: 'plugins' entity with primary key set to '4833e074-5620-54b7-9cdc-b04b538476d9' already declared`,
			`kong.yml:11: plugin "rate-limiting": @entity: uniqueness violation: 'plugins' entity with name set to 'rate-limiting' already declared for the same route, service and consumer`,
			`kong.yml:18: plugin "prometheus": instance_name: uniqueness violation: 'plugins' entity with instance_name set to 'one' already declared`,
		}},

		// Credentials.
		{"credentials", `_format_version: "3.0"
consumers:
- username: bob
  keyauth_credentials:
  - key: k1
    ttl: -1
  - key: k1
  - key: ""
  basicauth_credentials:
  - username: bob
  - password: x
  jwt_secrets:
  - algorithm: RS256
  - algorithm: RS512
    rsa_public_key: "not a key"
  - algorithm: XX1
  acls:
  - group: null
  hmacauth_credentials:
  - secret: s
  oauth2_credentials:
  - name: app
    redirect_uris: ["not a url", "http://a/b#frag", "https://ok.example.com/cb"]
    client_type: secret
    hash_secret: true
  - redirect_uris: []
keyauth_credentials:
- key: k2
- key: k3
  consumer: alice
- key: k4
  consumer: {id: 4b1b701d-de2b-5588-9aa2-3b97061d9f52}
`, []string{
			`kong.yml:6: keyauth_credential "d9877ece-6d36-4aac-9a6f-419ec627c76b": ttl: value should be between 0 and 100000000`,
			`kong.yml:7: keyauth_credential "1bfb1fa3-7c41-411e-a46a-dd6a48d89474": key: uniqueness violation: 'keyauth_credentials' entity with key set to 'k1' already declared`,
			`kong.yml:8: keyauth_credential "4d2e566f-8ddd-48f3-8cf4-929ef54f635d": key: length must be at least 1`,
			`kong.yml:10: basicauth_credential "bob": password: required field missing`,
			`kong.yml:11: basicauth_credential "aba38436-8d8c-4542-9cb8-a99468ef7de3": username: required field missing`,
			`kong.yml:13: jwt_secret "2c840ec3-c0fd-4812-83ce-a3e828a15c70": rsa_public_key: required field missing`,
			`kong.yml:14: jwt_secret "ce9a7f3b-59f9-42aa-a3eb-28cb670f0e97": @entity: 'rsa_public_key' format is invalid`,
			`kong.yml:16: jwt_secret "181be188-dcf2-4f8f-98d1-001f787c1704": algorithm: expected one of: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA`,
			`kong.yml:18: acl "ef711a1e-d566-426b-a8b5-c68785829264": group: required field missing`,
			`kong.yml:20: hmacauth_credential "984ce172-5032-4c38-95b9-70d3ecbf14bd": username: required field missing`,
			`kong.yml:23: oauth2_credential "app": redirect_uris[0]: cannot parse 'not a url'`,
			`kong.yml:23: oauth2_credential "app": redirect_uris[1]: fragment not allowed in 'http://a/b#frag'`,
			`kong.yml:24: oauth2_credential "app": client_type: expected one of: confidential, public`,
			`kong.yml:25: oauth2_credential "app": hash_secret: true is not supported yet in tollgate`,
			`kong.yml:26: oauth2_credential "9f445367-ee0c-4f56-93e5-9bdef423e884": name: required field missing`,
			`kong.yml:28: keyauth_credential "456d5619-8b87-4a65-aadc-8f829e0ce35c": consumer: required field missing`,
			`kong.yml:30: keyauth_credential "314a42a3-9f8a-4f25-a775-a4810dd20a80": consumer: invalid reference 'consumer: alice' (no such entry in 'consumers')`,
			`kong.yml:32: keyauth_credential "da86b001-1deb-41bb-9f31-b5282bbc3d9a": consumer: invalid reference 'consumer: {"id":"4b1b701d-de2b-5588-9aa2-3b97061d9f52"}' (no such entry in 'consumers')`,
		}},
		{"credential fields per collection", `_format_version: "3.0"
consumers:
- username: bob
  acls:
  - group: g
    updated_at: 1
    key: x
  basicauth_credentials:
  - username: u
    password: p
    ttl: 5
`, []string{
			`kong.yml:6: acl "g": updated_at: unknown field`,
			`kong.yml:7: acl "g": key: unknown field`,
			`kong.yml:11: basicauth_credential "u": ttl: unknown field`,
		}},
		{"nesting in the wrong place", `_format_version: "3.0"
services:
- name: s
  host: h
  targets: []
  routes:
  - name: r
    paths: [/]
    routes: []
upstreams:
- name: u
  routes: x
  targets: x
`, []string{
			`kong.yml:5: service "s": targets: unknown field`,
			`kong.yml:9: route "r": routes: unknown field`,
			`kong.yml:12: upstream "u": routes: unknown field`,
			`kong.yml:13: upstream "u": targets: expected an array`,
		}},
		{"timestamps", `_format_version: "3.0"
services:
- name: s
  host: h
  created_at: -5
  updated_at: soon
`, []string{
			`kong.yml:5: service "s": created_at: expected a valid timestamp`,
			`kong.yml:6: service "s": updated_at: expected an integer`,
		}},
		{"legacy format paths", `_format_version: "1.1"
routes:
- name: r
  paths: ["/a/(b"]
`, []string{
			"kong.yml:4: route \"r\": paths[0]: invalid regex: '/a/(b' (error parsing regexp: missing closing ): `/a/(b`)",
		}},
		{"YAML 1.1 booleans are not strings, as in Kong", `_format_version: "3.0"
services:
- name: s
  host: h
  tags: [on, "on", 'no', yes]
`, []string{
			`kong.yml:5: service "s": tags[0]: expected a string`,
			`kong.yml:5: service "s": tags[3]: expected a string`,
		}},
		{"aliases and merge keys", `_format_version: "3.0"
x-base: &base
  host: h
  port: "80"
services:
- <<: *base
  name: a
- <<: [*base]
  name: b
  port: 81
- <<: 5
  name: c
  host: h
`, []string{
			`kong.yml:2: x-base: unknown field`,
			`kong.yml:4: service "a": port: expected an integer`,
			`kong.yml:11: service "c": <<: merge key needs a mapping or a sequence of mappings`,
		}},
		{"seed: upload service without host", `_format_version: "3.0"
# Set reasonable limits
services:
- name: upload-service
  plugins:
  - name: request-size-limiting
    config:
      allowed_payload_size: 10 # MB
      require_content_length: true
`, []string{
			`kong.yml:4: service "upload-service": host: required field missing`,
		}},
		{"seed: transformer with a repeated key", `_format_version: "3.0"
plugins:
- name: response-transformer
  config:
    remove:
      headers: [X-Powered-By]
    add:
      headers: ["X-Response-Time:$(latency)"]
    remove:
      json: [internal_id]
`, []string{
			`kong.yml:9: plugin "response-transformer": config.remove: mapping key "remove" already defined at line 5`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameLines(t, errLines(t, tt.src), tt.want)
		})
	}
}

// TestErrorsAreSortedAndComplete checks that problems found in different passes still come out
// in line order, and that the Errors value carries the structured fields.
func TestErrorsAreSortedAndComplete(t *testing.T) {
	_, errs := loadTest(t, `_format_version: "3.0"
routes:
- name: r
  paths: [x]
  service: nope
services:
- name: s
  port: x
`)
	got := strings.Split(errs.Error(), "\n")
	sameLines(t, got, []string{
		`kong.yml:4: route "r": paths[0]: should start with: / (fixed path) or ~/ (regex path)`,
		`kong.yml:5: route "r": service: invalid reference 'service: nope' (no such entry in 'services')`,
		`kong.yml:7: service "s": host: required field missing`,
		`kong.yml:8: service "s": port: expected an integer`,
	})
	e := errs[0]
	if e.File != "kong.yml" || e.Line != 4 || e.Kind != "route" || e.Name != "r" || e.Field != "paths[0]" {
		t.Errorf("structured fields: %+v", e)
	}
	if len(e.Entity) != 1 || e.Entity[0] != (Step{"routes", 0}) {
		t.Errorf("Entity = %v", e.Entity)
	}
	if len(e.Path) != 2 || e.Path[0] != key("paths") || e.Path[1] != index(0) {
		t.Errorf("Path = %v", e.Path)
	}
}
