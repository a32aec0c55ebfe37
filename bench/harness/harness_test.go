package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickSmoke builds the harness and runs it in smoke mode (1 s runs; direct, Tollgate and
// nginx if installed; a tiny idle-connection count). It checks that the run prints the table
// and writes latest.md, never the ratios: it must pass on a slow or busy machine.
func TestQuickSmoke(t *testing.T) {
	ctx, dir, bin := harnessBinary(t, "the smoke run")
	outDir := filepath.Join(dir, "results")
	// the Tollgate binary goes to the temp dir too: the test leaves bin/ alone
	c := exec.CommandContext(ctx, bin, "-mode", "smoke", "-out", outDir, "-tollgate", filepath.Join(dir, "tollgate"))
	out, err := c.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("harness -mode smoke: %v\n%s", err, text)
	}
	for _, want := range []string{
		"## (a) 1 KiB GET, keep-alive",
		"| target | req/s | p50 | p99 | CPU/req |",
		"| **tollgate** |",
		"| direct |",
		"## Ratios",
		"## Issue 6 targets in this run",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q\n%s", want, text)
		}
	}
	if _, err := exec.LookPath("nginx"); err == nil && !strings.Contains(text, "| nginx |") {
		t.Errorf("nginx is installed but has no row\n%s", text)
	}
	md, err := os.ReadFile(filepath.Join(outDir, "latest.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| **tollgate** |") || !strings.Contains(string(md), "mode **smoke**") {
		t.Errorf("latest.md lacks the table:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(outDir, "latest.raw.tsv")); err != nil {
		t.Error(err)
	}
	t.Logf("smoke run:\n%s", lastLines(text, 40))
}

// TestPGOProfile runs -mode pgo with one-second loads into a temp file and checks that what it
// writes is a CPU profile of the proxy's code, as go build takes it for cmd/tollgate/default.pgo.
func TestPGOProfile(t *testing.T) {
	ctx, dir, bin := harnessBinary(t, "the pgo run")
	prof := filepath.Join(dir, "default.pgo")
	c := exec.CommandContext(ctx, bin, "-mode", "pgo", "-dur", "1", "-install", "no", "-pgo-out", prof,
		"-tollgate", filepath.Join(dir, "tollgate"))
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("harness -mode pgo: %v\n%s", err, out)
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount", "400", prof).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top: %v\n%s", err, top)
	}
	for _, want := range []string{"Type: cpu", "tollgate/internal/proxy.", "tollgate/internal/h1."} {
		if !strings.Contains(string(top), want) {
			t.Errorf("the profile lacks %q:\n%s", want, lastLines(string(top), 30))
		}
	}
}

// harnessBinary skips the test under -short or without the tools the harness needs, and
// builds the harness into a temp dir. It returns a context bounding the test's run, the dir
// and the binary.
func harnessBinary(t *testing.T, what string) (context.Context, string, string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipped because -short is set (testing.Short()): %s starts real processes for ~15 s; make test runs it", what)
	}
	for _, tool := range []struct{ name, from string }{{"wrk", "apt-get install wrk"}, {"taskset", "util-linux"}} {
		if _, err := exec.LookPath(tool.name); err != nil {
			t.Skipf("exec.LookPath(%q): %v: the harness needs %s (%s)", tool.name, err, tool.name, tool.from)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "harness")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return ctx, dir, bin
}
