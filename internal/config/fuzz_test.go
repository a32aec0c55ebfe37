package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load: it must never panic, and it must either return a
// consistent Config or well-formed Errors (file, line, message; sorted; renderable for the
// admin API).
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"_format_version: \"3.0\"\n",
		"{\"_format_version\": \"3.0\", \"services\": [{\"name\": \"a\", \"url\": \"http://h\"}]}",
		"_format_version: \"1.1\"\nroutes:\n- paths: [\"/a/(.*)\", /b/../c]\n",
		"_format_version: \"3.0\"\nupstreams:\n- name: u\n  hash_on: header\n  targets: [{target: \"[::1]:80\"}]\n",
		"_format_version: \"3.0\"\na: &a [1]\nb: *a\nservices: [{<<: {host: h}, name: s}]\n",
		"_format_version: \"3.0\"\nconsumers:\n- username: u\n  basicauth_credentials: [{username: u, password: p}]\n  plugins: [{name: key-auth}]\n",
	} {
		f.Add([]byte(s))
	}
	plugins := testPlugins()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load("fuzz.yml", data, plugins)
		if err != nil {
			checkErrors(t, err)
			return
		}
		checkConfig(t, cfg, data)
	})
}

func checkErrors(t *testing.T, err error) {
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("error %T %v is not a non-empty Errors", err, err)
	}
	prev := 0
	for _, e := range es {
		if e.File != "fuzz.yml" || e.Line < 1 || e.Msg == "" {
			t.Fatalf("malformed error %+v", e)
		}
		if e.Line < prev {
			t.Fatalf("errors not sorted by line: %d after %d", e.Line, prev)
		}
		prev = e.Line
		if !strings.HasPrefix(e.Error(), "fuzz.yml:"+strconv.Itoa(e.Line)+": ") {
			t.Fatalf("error text %q", e.Error())
		}
		if e.Kind != "" && e.Name == "" && e.ent != nil {
			t.Fatalf("entity error without name: %+v", e)
		}
		if strings.Contains(e.Error(), "\n") && !strings.Contains(e.File, "\n") {
			t.Fatalf("multi-line error %q", e.Error())
		}
	}
	if _, err := json.Marshal(es.KongBody(false)); err != nil {
		t.Fatalf("KongBody: %v", err)
	}
	if _, err := json.Marshal(es.KongBody(true)); err != nil {
		t.Fatalf("KongBody flattened: %v", err)
	}
}

func checkConfig(t *testing.T, cfg *Config, data []byte) {
	if cfg.Hash != Hash(data) {
		t.Fatalf("hash %s", cfg.Hash)
	}
	ids := map[string]bool{}
	checkID := func(kind, id string) {
		if !isUUID(id) || strings.ToLower(id) != id {
			t.Fatalf("%s id %q", kind, id)
		}
		if ids[kind+id] {
			t.Fatalf("duplicate %s id %s", kind, id)
		}
		ids[kind+id] = true
	}
	services := map[*Service]bool{}
	for _, s := range cfg.Services {
		checkID("service", s.ID)
		services[s] = true
	}
	for _, r := range cfg.Routes {
		checkID("route", r.ID)
		if r.Service != nil && !services[r.Service] {
			t.Fatalf("route %s points outside the config", r.ID)
		}
		if len(r.Protocols) == 0 {
			t.Fatalf("route %s without protocols", r.ID)
		}
	}
	for _, u := range cfg.Upstreams {
		checkID("upstream", u.ID)
	}
	for _, tg := range cfg.Targets {
		checkID("target", tg.ID)
		if tg.Upstream == nil || tg.Port < 0 || tg.Port > 65535 {
			t.Fatalf("target %+v", tg)
		}
	}
	for _, c := range cfg.Consumers {
		checkID("consumer", c.ID)
		if c.Username == "" && c.CustomID == "" {
			t.Fatalf("consumer %s without username and custom_id", c.ID)
		}
	}
	for _, p := range cfg.Plugins {
		checkID("plugin", p.ID)
		if p.Name == "" || p.Config == nil {
			t.Fatalf("plugin %+v", p)
		}
	}
}
