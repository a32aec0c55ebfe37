package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	_ = os.WriteFile(good, []byte("_format_version: \"3.0\"\nservices:\n- name: a\n  url: http://127.0.0.1:1\n"), 0o644)
	_ = os.WriteFile(bad, []byte("_format_version: \"3.0\"\nservices:\n- name: a\n  port: -1\n  retries: x\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
		errLines int
	}{
		{name: "no command", args: nil, code: 2, err: "usage:"},
		{name: "unknown", args: []string{"fly"}, code: 2, err: `unknown command "fly"`},
		{name: "version", args: []string{"version"}, code: 0, out: "tollgate " + version},
		{name: "help", args: []string{"help"}, code: 0, out: "tollgate validate"},
		{name: "validate needs a file", args: []string{"validate"}, code: 2, err: "--config FILE is required"},
		{name: "validate good", args: []string{"validate", "--config", good}, code: 0, out: "valid"},
		{name: "validate bad: every error on its own line", args: []string{"validate", "--config", bad}, code: 1, err: bad + ":4: service \"a\": port:", errLines: 3},
		{name: "validate missing file", args: []string{"validate", "--config", filepath.Join(dir, "nope.yml")}, code: 1, err: "no such file"},
		{name: "run bad log format", args: []string{"run", "--log-format", "xml"}, code: 2, err: "--log-format"},
		{name: "run bad trusted ips", args: []string{"run", "--trusted-ips", "10.0.0.0/99"}, code: 2, err: "--trusted-ips"},
		{name: "run bad config refuses to start", args: []string{"run", "--config", bad, "--proxy-listen", "127.0.0.1:0", "--admin-listen", ""}, code: 1, err: "port:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tc.out)
			}
			if !strings.Contains(errb.String(), tc.err) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.err)
			}
			if tc.errLines > 0 {
				if n := len(strings.Split(strings.TrimSpace(errb.String()), "\n")); n < tc.errLines {
					t.Errorf("%d error lines, want at least %d:\n%s", n, tc.errLines, errb.String())
				}
			}
		})
	}
}

func TestParseTrusted(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{in: "", want: "[]"},
		{in: "10.0.0.0/8, 127.0.0.1", want: "[10.0.0.0/8 127.0.0.1/32]"},
		{in: "::1", want: "[::1/128]"},
		{in: "10.1.2.3/8", want: "[10.0.0.0/8]"},
		{in: "nope", err: true},
	}
	for _, tc := range tests {
		got, err := parseTrusted(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parseTrusted(%q) err = %v", tc.in, err)
			continue
		}
		if !tc.err {
			s := "["
			for i, p := range got {
				if i > 0 {
					s += " "
				}
				s += p.String()
			}
			s += "]"
			if s != tc.want {
				t.Errorf("parseTrusted(%q) = %s, want %s", tc.in, s, tc.want)
			}
		}
	}
}

func TestEnvDefaults(t *testing.T) {
	t.Setenv("TOLLGATE_PROXY_LISTEN", "127.0.0.1:9999")
	t.Setenv("TOLLGATE_WATCH", "off")
	if got := env("proxy-listen", "x"); got != "127.0.0.1:9999" {
		t.Errorf("env = %q", got)
	}
	if envBool("watch", true) {
		t.Error("TOLLGATE_WATCH=off not honoured")
	}
	if got := env("admin-listen", "def"); got != "def" {
		t.Errorf("unset env = %q", got)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1024", 1024, true}, {"8k", 8 << 10, true}, {"10M", 10 << 20, true},
		{" 2g ", 2 << 30, true}, {"-1", 0, false}, {"1.5m", 0, false}, {"m", 0, false}, {"99999999999g", 0, false},
	}
	for _, tc := range tests {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
