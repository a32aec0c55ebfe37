package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// pgoLoads is what each Tollgate target is profiled under in -mode pgo: the benchmark's
// workloads for that target, each for the mode's run length. Plain Tollgate carries the
// keep-alive, new-connection and HTTP/2 paths, the plugin-stack variant the plugin chain.
var pgoLoads = []struct {
	target    string
	scenarios []string
}{
	{"tollgate", []string{"a", "c", "d"}},
	{"tollgate-plugins", []string{"f"}},
}

// collectPGO writes the CPU profile that go build uses for profile-guided optimisation
// (cmd/tollgate/default.pgo, which go build reads for the main package by itself: -pgo=auto).
// Each target of pgoLoads runs with its profiling endpoint on while its workloads run one
// after another, pinned as the benchmark pins them; the profiles are merged with go tool
// pprof. The binary profiled is built with the profile already there, which Go's PGO is
// designed to take (a profile of an optimised build guides the next build as well).
func (h *harness) collectPGO() error {
	byID := map[string]scenario{}
	for _, s := range allScenarios {
		byID[s.id] = s
	}
	var parts []string
	for _, l := range pgoLoads {
		t := h.targets[l.target]
		if t == nil || t.p == nil || t.debug == 0 {
			return fmt.Errorf("%s is not running with its profiling endpoint", l.target)
		}
		secs := len(l.scenarios)*h.cfg.dur + 1
		prof := filepath.Join(h.work, l.target+".pprof")
		got := make(chan error, 1)
		go func() { got <- fetchProfile(h.ctx, t.debug, secs, prof) }()
		time.Sleep(300 * time.Millisecond) // the profile has started before the load does
		for _, id := range l.scenarios {
			s := byID[id]
			if _, err := exec.LookPath("h2load"); s.kind == "h2" && err != nil {
				h.printf("pgo: %s without (%s): h2load not installed\n", l.target, id)
				continue
			}
			ctx, cancel := context.WithTimeout(h.ctx, time.Duration(h.cfg.dur+15)*time.Second)
			out, err := h.loadCmd(ctx, s, t, h.cfg.dur).CombinedOutput()
			cancel()
			if err != nil {
				return fmt.Errorf("pgo: %s (%s): %v\n%s", l.target, id, err, lastLines(string(out), 5))
			}
			h.printf("pgo: %s under (%s) %s\n", l.target, id, s.title)
		}
		if err := <-got; err != nil {
			return fmt.Errorf("pgo: profile of %s: %w", l.target, err)
		}
		parts = append(parts, prof)
	}
	merged, err := exec.CommandContext(h.ctx, "go", append([]string{"tool", "pprof", "-proto"}, parts...)...).Output()
	if err != nil {
		return fmt.Errorf("go tool pprof -proto: %w", err)
	}
	if len(merged) == 0 {
		return errors.New("go tool pprof -proto wrote nothing")
	}
	if err := os.WriteFile(h.cfg.pgoOut, merged, 0o644); err != nil {
		return err
	}
	h.printf("wrote %s (%d bytes); rebuild (make build) and measure before committing it\n", h.cfg.pgoOut, len(merged))
	return nil
}

// fetchProfile saves a CPU profile of secs seconds from a Tollgate started with --debug-listen.
func fetchProfile(ctx context.Context, port, secs int, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs+30)*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
