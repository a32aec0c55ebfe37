package config

import (
	"encoding/json"
	"reflect"
	"testing"
)

const kongFieldsSrc = `_format_version: "3.0"
colour: red
services:
- name: s
  host: h
  routes:
  - name: ok
    paths: [/]
  - name: bad
    paths: [/ok, x]
    plugins:
    - name: cors
      config: {origins: 5}
- name: t
  id: 00000000-0000-4000-8000-000000000001
  tags: [a]
  routes:
  - name: empty
`

func TestKongFields(t *testing.T) {
	_, errs := loadTest(t, kongFieldsSrc)
	got := errs.KongFields()
	want := map[string]any{
		"colour": "unknown field",
		"services": []any{
			map[string]any{
				"routes": []any{
					nil,
					map[string]any{
						"paths": []any{nil, "should start with: / (fixed path) or ~/ (regex path)"},
						"plugins": []any{
							map[string]any{"config": map[string]any{"origins": "expected an array"}},
						},
					},
				},
			},
			map[string]any{
				"host": "required field missing",
				"routes": []any{
					map[string]any{"@entity": []any{"must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"}},
				},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("KongFields:\n got %s\nwant %s", g, w)
	}
}

func TestFlattened(t *testing.T) {
	_, errs := loadTest(t, kongFieldsSrc)
	got := errs.Flattened()
	b, _ := json.Marshal(got)
	want := `[` +
		`{"entity_type":"route","entity_name":"bad","entity":{"name":"bad","paths":["/ok","x"]},"errors":[{"type":"field","field":"paths.2","message":"should start with: / (fixed path) or ~/ (regex path)"}]},` +
		`{"entity_type":"plugin","entity_name":"cors","entity":{"config":{"origins":5},"name":"cors"},"errors":[{"type":"field","field":"config.origins","message":"expected an array"}]},` +
		`{"entity_type":"service","entity_id":"00000000-0000-4000-8000-000000000001","entity_name":"t","entity_tags":["a"],"entity":{"id":"00000000-0000-4000-8000-000000000001","name":"t","tags":["a"]},"errors":[{"type":"field","field":"host","message":"required field missing"}]},` +
		`{"entity_type":"route","entity_name":"empty","entity":{"name":"empty","service":{"id":"00000000-0000-4000-8000-000000000001"}},"errors":[{"type":"entity","message":"must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"}]}` +
		`]`
	if string(b) != want {
		t.Errorf("Flattened:\n got %s\nwant %s", b, want)
	}
	if ne := errs.NonEntity(); len(ne) != 1 || ne[0].Field != "colour" {
		t.Errorf("NonEntity = %v", ne)
	}
}

func TestKongBody(t *testing.T) {
	_, errs := loadTest(t, "_format_version: \"3.0\"\nservices:\n- name: s\n  port: x\n  host: h\nfoo: 1\n")
	body := errs.KongBody(false)
	if body["code"] != 14 || body["name"] != "invalid declarative configuration" {
		t.Errorf("body %v", body)
	}
	if msg := body["message"]; msg != `declarative config is invalid: {foo="unknown field",services={{port="expected an integer"}}}` {
		t.Errorf("message %q", msg)
	}
	if _, ok := body["flattened_errors"]; ok {
		t.Error("flattened_errors without flatten")
	}
	flat := errs.KongBody(true)
	if f := flat["fields"].(map[string]any); !reflect.DeepEqual(f, map[string]any{"foo": "unknown field"}) {
		t.Errorf("flatten fields %v", f)
	}
	if fe := flat["flattened_errors"].([]FlatError); len(fe) != 1 || fe[0].EntityType != "service" {
		t.Errorf("flattened_errors %v", fe)
	}

	_, syntax := loadTest(t, "a: [\n")
	if f := syntax.KongFields(); !reflect.DeepEqual(f, map[string]any{"error": "failed parsing declarative configuration: did not find expected node content"}) {
		t.Errorf("syntax fields %v", f)
	}
	if fe := syntax.KongBody(true)["flattened_errors"].([]FlatError); len(fe) != 0 {
		t.Errorf("syntax flattened %v", fe)
	}
}

func TestLuaPrettySparse(t *testing.T) {
	got := luaPretty(map[string]any{"a b": []any{nil, "x"}, "c": []any{"y", map[string]any{}}})
	if got != `{["a b"]={[2]="x"},c={"y",{}}}` {
		t.Errorf("luaPretty = %s", got)
	}
}

func TestParsePath(t *testing.T) {
	tests := map[string][]Seg{
		"":                {},
		"a":               {key("a")},
		"add.headers[2]":  {key("add"), key("headers"), index(2)},
		"a[0][1].b":       {key("a"), index(0), index(1), key("b")},
		"m[x].y":          {key("m"), key("x"), key("y")},
		"broken[":         {key("broken"), key("[")},
		"x.y.":            {key("x"), key("y")},
		"headers.X-A[10]": {key("headers"), key("X-A"), index(10)},
	}
	for in, want := range tests {
		got := parsePath(in)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parsePath(%q) = %v, want %v", in, got, want)
		}
		if in != "" && in != "m[x].y" && in != "broken[" && in != "x.y." && fieldString(got) != in {
			t.Errorf("fieldString(parsePath(%q)) = %q", in, fieldString(got))
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "k.yml", Line: 3, Kind: "route", Name: "r", Field: "paths[1]", Msg: "bad"}, `k.yml:3: route "r": paths[1]: bad`},
		{Error{File: "k.yml", Line: 1, Field: "_format_version", Msg: "required field missing"}, `k.yml:1: _format_version: required field missing`},
		{Error{File: "k.yml", Line: 2, Msg: "did not find expected key"}, `k.yml:2: did not find expected key`},
		{Error{File: "k.yml", Line: 4, Kind: "service", Name: "services[0]", Msg: "expected a record"}, `k.yml:4: service "services[0]": expected a record`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	es := Errors{&tests[0].e, &tests[1].e}
	if es.Error() != tests[0].want+"\n"+tests[1].want {
		t.Errorf("Errors.Error() = %q", es.Error())
	}
	if fe := (FieldError{Path: "a.b", Msg: "m"}); fe.Error() != "a.b: m" {
		t.Errorf("FieldError = %q", fe.Error())
	}
}
