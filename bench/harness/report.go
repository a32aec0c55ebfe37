package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// cell: the medians of one (scenario, target) over its runs (clean runs if there are any).
type cell struct {
	rps, p50, p99, cpu, cpuMin, busy float64
	user, switches                   float64 // user-mode CPU µs and context switches, per request
	runs, clean                      int
	errs                             string
	ok                               bool
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (h *harness) cell(scen, target string) cell {
	var all, clean []sample
	for _, s := range h.samples {
		if s.scen == scen && s.target == target {
			all = append(all, s)
			if !s.noisy {
				clean = append(clean, s)
			}
		}
	}
	c := cell{runs: len(all), clean: len(clean)}
	if len(all) == 0 {
		return c
	}
	use := clean
	if len(use) == 0 {
		use = all
	}
	var rps, p50, p99, cpu, user, sw, busy []float64
	c.cpuMin = math.Inf(1)
	for _, s := range use {
		rps = append(rps, s.rps)
		p50 = append(p50, s.p50)
		p99 = append(p99, s.p99)
		cpu = append(cpu, s.cpuPerReq())
		user = append(user, s.userPerReq())
		sw = append(sw, s.switchesPerReq())
		busy = append(busy, s.busy)
	}
	for _, s := range all {
		if s.reqs > 0 {
			c.cpuMin = min(c.cpuMin, s.cpuPerReq())
		}
		if s.errs != "" && c.errs == "" {
			c.errs = s.errs
		}
	}
	if math.IsInf(c.cpuMin, 1) {
		c.cpuMin = 0
	}
	c.rps, c.p50, c.p99, c.cpu, c.busy = median(rps), median(p50), median(p99), median(cpu), median(busy)
	c.user, c.switches = median(user), median(sw)
	c.ok = c.rps > 0
	return c
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func us(v float64) string {
	if v <= 0 {
		return "–"
	}
	if v >= 10000 {
		return fmt.Sprintf("%.1f ms", v/1000)
	}
	return fmt.Sprintf("%.0f µs", v)
}

// dus formats a signed latency difference.
func dus(v float64) string {
	if math.Abs(v) >= 10000 {
		return fmt.Sprintf("%+.1f ms", v/1000)
	}
	return fmt.Sprintf("%+.0f µs", v)
}

func krps(v float64) string {
	if v <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f k", v/1000)
}

// base returns the cell of target for scenario s, or of scenario (a) when s reuses it.
func (h *harness) base(s scenario, target string) (cell, string) {
	if slices.Contains(s.fromA, target) {
		return h.cell("a", target), " (a)"
	}
	return h.cell(s.id, target), ""
}

// variantCell is scenario s's Tollgate variant. For a variant other than plain Tollgate
// ((e), (f)), measured with plain Tollgate interleaved in the same rounds, its rate and CPU per
// request are carried into scenario (a)'s time window: the variant relative to plain Tollgate in
// its own rounds, times plain Tollgate in (a). Ratios against the peers measured in (a) then do
// not include how the shared machine drifted between the two windows. scaled reports that.
func (h *harness) variantCell(s scenario) (c cell, scaled bool) {
	tv := tollgateOf(s)
	c = h.cell(s.id, tv)
	if tv == "tollgate" || !c.ok {
		return c, false
	}
	same, a := h.cell(s.id, "tollgate"), h.cell("a", "tollgate")
	if !same.ok || !a.ok || same.cpu <= 0 {
		return c, false
	}
	c.rps = c.rps / same.rps * a.rps
	c.cpu = c.cpu / same.cpu * a.cpu
	return c, true
}

// tollgateOf: the Tollgate variant measured in scenario s.
func tollgateOf(s scenario) string {
	for _, t := range s.targets {
		if strings.HasPrefix(t, "tollgate") {
			return t
		}
	}
	return "tollgate"
}

func (h *harness) report() error {
	var md strings.Builder
	date := time.Now().UTC().Format("2006-01-02 15:04 UTC")
	fmt.Fprintf(&md, "# Tollgate side-by-side benchmark\n\n")
	fmt.Fprintf(&md, "- date: %s; mode **%s**: %d round(s), %d s per run, %d s warm-up; took %.0f s\n", date, h.cfg.mode, h.cfg.rounds, h.cfg.dur, h.cfg.warm, time.Since(h.start).Seconds())
	fmt.Fprintf(&md, "- command: `%s` (from the repository root)\n", strings.TrimSpace(h.cfg.commandTxt))
	fmt.Fprintf(&md, "- machine: %s\n", machineNote())
	fmt.Fprintf(&md, "- pinning: load generator (wrk -t1 -c%d / h2load -c10 -m10 / constant-rate Go client) and the shared upstream (Go, fasthttp for HTTP/1.1, net/http for h2c) on core %d; each target alone on core %d with one worker (GOMAXPROCS=1, nginx worker_processes 1, HAProxy nbthread 1); nice -20 as root. \"direct\" is a second upstream instance on core %d.\n", h.cfg.conns, h.cfg.loadCore, h.cfg.proxyCore, h.cfg.proxyCore)
	fmt.Fprintf(&md, "- figures: medians over the clean runs (other processes ≤ %.0f%% of a core, steal ≤ %.0f%%; all runs if none was clean); CPU/req is the target's utime+stime (with children) from /proc/PID/stat over the run divided by the requests completed, and \"user + sys\" splits it into user-mode and kernel µs; \"min\" is the lowest CPU/req seen; switches/req counts the context switches of all the target's threads (/proc/PID/task/*/status) per request. p50/p99 come from wrk/h2load (closed loop) except in (g), which is open loop.\n", maxOther, maxSteal)
	fmt.Fprintf(&md, "- quote only ratios: absolute numbers depend on the machine and its neighbours.\n")
	for _, n := range h.notes {
		fmt.Fprintf(&md, "- note: %s\n", n)
	}
	for _, s := range h.skips {
		fmt.Fprintf(&md, "- %s\n", s)
	}
	md.WriteString("\n![chart](latest.png)\n\n")

	// the ratios at a glance
	md.WriteString("## Ratios (Tollgate ÷ peer, medians)\n\n")
	md.WriteString("| scenario | Tollgate variant | req/s ÷ nginx | CPU/req ÷ nginx | p99 ÷ nginx | req/s ÷ direct | CPU/req ÷ direct | req/s ÷ HAProxy | req/s ÷ nginx-lua | req/s ÷ Caddy | req/s ÷ Traefik |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	scaledNote := false
	for _, s := range h.scenarios() {
		tv := tollgateOf(s)
		tg, scaled := h.variantCell(s)
		if !tg.ok {
			continue
		}
		if scaled {
			scaledNote = true
			tv += " ¹"
		}
		ng, _ := h.base(s, "nginx")
		di, _ := h.base(s, "direct")
		other := func(n string) string {
			c, _ := h.base(s, n)
			if s.id == "e" || s.id == "f" {
				c = h.cell("a", n)
			}
			return ratio(tg.rps, c.rps)
		}
		if s.kind == "rate" {
			fmt.Fprintf(&md, "| (%s) fixed rate %d/s | %s | p50 %s | CPU %s | p99 %s | p50 %s vs direct | CPU %s | | | | |\n", s.id, h.cfg.rate, tv,
				ratio(tg.p50, ng.p50), ratio(tg.cpu, ng.cpu), ratio(tg.p99, ng.p99), dus(tg.p50-di.p50), ratio(tg.cpu, di.cpu))
			continue
		}
		fmt.Fprintf(&md, "| (%s) %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.id, shortTitle(s), tv,
			ratio(tg.rps, ng.rps), ratio(tg.cpu, ng.cpu), ratio(tg.p99, ng.p99), ratio(tg.rps, di.rps), ratio(tg.cpu, di.cpu),
			other("haproxy"), other("nginx-lua"), other("caddy"), other("traefik"))
	}
	if scaledNote {
		md.WriteString("\n¹ req/s and CPU/req of this variant relative to plain Tollgate measured in the same rounds, carried into scenario (a)'s window (× plain Tollgate in (a)), so that its ratios to the peers measured in (a) leave out the machine's drift between the two windows. p99 is as measured.\n")
	}
	md.WriteString("\n")

	for _, s := range h.scenarios() {
		fmt.Fprintf(&md, "## (%s) %s\n\n", s.id, s.title)
		switch s.kind {
		case "wrk":
			hdr := ""
			if s.close {
				hdr = " -H 'Connection: close'"
			}
			fmt.Fprintf(&md, "`wrk -t1 -c%d -d%ds --latency%s http://127.0.0.1:PORT%s`\n\n", h.cfg.conns, h.cfg.dur, hdr, s.path)
		case "h2":
			fmt.Fprintf(&md, "`h2load -c10 -m10 -t1 -D%d http://127.0.0.1:PORT%s` (HTTP/2 with prior knowledge; the proxies speak HTTP/1.1 to the upstream)\n\n", h.cfg.dur, s.path)
		case "rate":
			fmt.Fprintf(&md, "constant %d req/s for %d s over ≤64 keep-alive connections; latency counted from each request's due time\n\n", h.cfg.rate, h.cfg.dur)
		}
		md.WriteString("| target | req/s | p50 | p99 | CPU/req | user + sys | CPU/req min | switches/req | core busy | req/s ÷ nginx | CPU/req ÷ nginx | runs (clean) | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		ng, _ := h.base(s, "nginx")
		rows := append(slices.Clone(s.fromA), s.targets...)
		for _, name := range rows {
			c, from := h.base(s, name)
			if c.runs == 0 {
				if t := h.targets[name]; t != nil && t.skip != "" {
					fmt.Fprintf(&md, "| %s | skipped: %s | | | | | | | | | | | |\n", name, t.skip)
				} else if t != nil && s.kind == "h2" && t.h2port == 0 {
					fmt.Fprintf(&md, "| %s | not configured for h2c | | | | | | | | | | | |\n", name)
				}
				continue
			}
			label := name + from
			if strings.HasPrefix(name, "tollgate") {
				label = "**" + label + "**"
			}
			fmt.Fprintf(&md, "| %s | %s | %s | %s | %.1f µs | %.1f + %.1f | %.1f µs | %.2f | %.0f%% | %s | %s | %d (%d) | %s |\n", label, krps(c.rps), us(c.p50), us(c.p99),
				c.cpu, c.user, max(0, c.cpu-c.user), c.cpuMin, c.switches, c.busy, ratio(c.rps, ng.rps), ratio(c.cpu, ng.cpu), c.runs, c.clean, strings.ReplaceAll(c.errs, "|", "/"))
		}
		tv := tollgateOf(s)
		tg := h.cell(s.id, tv)
		di, _ := h.base(s, "direct")
		if tg.ok {
			fmt.Fprintf(&md, "\n%s ÷ nginx: req/s %s, CPU/req %s, p50 %s, p99 %s. %s ÷ direct: req/s %s, CPU/req %s.", tv,
				ratio(tg.rps, ng.rps), ratio(tg.cpu, ng.cpu), ratio(tg.p50, ng.p50), ratio(tg.p99, ng.p99), tv, ratio(tg.rps, di.rps), ratio(tg.cpu, di.cpu))
			if s.id == "e" || s.id == "f" {
				pl, from := h.cell(s.id, "tollgate"), "the same rounds"
				if !pl.ok {
					pl, from = h.cell("a", "tollgate"), "(a)"
				}
				fmt.Fprintf(&md, " %s ÷ tollgate in %s: req/s %s, CPU/req %s.", tv, from, ratio(tg.rps, pl.rps), ratio(tg.cpu, pl.cpu))
			}
			if s.kind == "rate" {
				ngp, dip := ng.p50, di.p50
				fmt.Fprintf(&md, " p50 added over direct: Tollgate %s, nginx %s.", dus(tg.p50-dip), dus(ngp-dip))
			}
			md.WriteString("\n")
		}
		md.WriteString("\n")
	}

	if len(h.mem) > 0 {
		fmt.Fprintf(&md, "## Memory: RSS with %d idle keep-alive client connections\n\n", h.cfg.idleConns)
		fmt.Fprintf(&md, "Each connection sent one GET and then stays open and idle. \"at first\" is read a second after the last answer, \"idle\" after the connections stayed idle %d s more (Tollgate parks a keep-alive connection idle for a second: docs/architecture.md). Tollgate is a fresh instance (GOMAXPROCS=1); nginx counts master + worker.\n\n", h.cfg.idleSettle)
		md.WriteString("| target | RSS before | RSS at first | RSS idle | per idle connection | connections (failed) |\n|---|---:|---:|---:|---:|---:|\n")
		for _, m := range h.mem {
			if m.err != "" && m.during == 0 {
				fmt.Fprintf(&md, "| %s | error: %s | | | | |\n", m.target, m.err)
				continue
			}
			per := 0.0
			if m.conns > 0 {
				per = float64(m.during-m.before) * 1024 / float64(m.conns)
			}
			fmt.Fprintf(&md, "| %s | %.1f MB | %.1f MB | %.1f MB | %.1f KiB | %d (%d) |\n", m.target, float64(m.before)/1024, float64(m.first)/1024, float64(m.during)/1024, per/1024, m.conns, m.failed)
		}
		md.WriteString("\n")
	}
	if h.allocs.cmd != "" {
		md.WriteString("## Allocations per proxied request\n\n")
		if h.allocs.err != "" {
			fmt.Fprintf(&md, "`%s`: error: %s\n\n", h.allocs.cmd, h.allocs.err)
		} else {
			fmt.Fprintf(&md, "`%s` (one GET through the HTTP/1.1 front end, router, empty plugin chain and upstream pool; the benchmark's client and upstream allocate nothing): **%d allocs/op**, %d B/op.\n\n", h.allocs.cmd, h.allocs.allocs, h.allocs.bytes)
		}
	}

	md.WriteString(h.goals())
	md.WriteString("\nRaw runs: `latest.raw.tsv` beside this file.\n")

	text := md.String()
	h.printf("\n%s", text)
	if err := os.WriteFile(filepath.Join(h.cfg.out, "latest.md"), []byte(text), 0o644); err != nil {
		return err
	}
	if err := h.writeRaw(); err != nil {
		return err
	}
	if err := h.chart(); err != nil {
		h.printf("chart: %v\n", err)
	} else {
		h.printf("wrote %s and latest.png\n", filepath.Join(h.cfg.out, "latest.md"))
	}
	return nil
}

// chartLabel is shortTitle where the chart's x axis has too little room for it.
func chartLabel(s scenario) string {
	switch s.id {
	case "c":
		return "new conn. per request"
	case "d":
		return "HTTP/2 (h2c)"
	}
	return shortTitle(s)
}

func shortTitle(s scenario) string {
	switch s.id {
	case "a":
		return "1 KiB keep-alive"
	case "b":
		return "64 KiB keep-alive"
	case "c":
		return "new connection per request"
	case "d":
		return "HTTP/2 multiplexed"
	case "e":
		return "10,000 routes"
	case "f":
		return "plugin stack"
	}
	return s.title
}

// goals checks issue 6's targets against this run.
func (h *harness) goals() string {
	var b strings.Builder
	b.WriteString("## Issue 6 targets in this run\n\n| target | measured | verdict |\n|---|---|---|\n")
	row := func(goal, measured string, ok, known bool) {
		v := "n/a"
		if known {
			v = "met"
			if !ok {
				v = "**missed**"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", goal, measured, v)
	}
	a := func(t string) cell { return h.cell("a", t) }
	tg, ng := a("tollgate"), a("nginx")
	if tg.ok && ng.ok {
		r := tg.rps / ng.rps
		row("(a) req/s ≥ 1.0× nginx (never below 0.8×)", fmt.Sprintf("%.2fx", r), r >= 1.0, true)
		c := tg.cpu / ng.cpu
		row("(a) CPU/req ≤ 1.2× nginx", fmt.Sprintf("%.2fx", c), c <= 1.2, true)
	}
	if g, n, d := h.cell("g", "tollgate"), h.cell("g", "nginx"), h.cell("g", "direct"); g.ok && n.ok && d.ok {
		row("(g) added p50 at a fixed rate ≤ nginx's", fmt.Sprintf("Tollgate %s, nginx %s over direct", dus(g.p50-d.p50), dus(n.p50-d.p50)), g.p50-d.p50 <= n.p50-d.p50, true)
	}
	var fScen scenario
	for _, s := range allScenarios {
		if s.id == "f" {
			fScen = s
		}
	}
	fv, _ := h.variantCell(fScen)
	if lua := a("nginx-lua"); fv.ok && ng.ok && lua.ok {
		row("(f) plugin stack ratio ≥ nginx+Lua's (req/s ÷ nginx)", fmt.Sprintf("Tollgate+plugins %.2fx, nginx+Lua %.2fx", fv.rps/ng.rps, lua.rps/ng.rps), fv.rps/ng.rps >= lua.rps/ng.rps, true)
	}
	f, plain := h.cell("f", "tollgate-plugins"), h.cell("f", "tollgate")
	switch {
	case f.ok && plain.ok:
		row("(f) ≥ 0.85× Tollgate without plugins (same rounds)", fmt.Sprintf("%.2fx", f.rps/plain.rps), f.rps/plain.rps >= 0.85, true)
	case f.ok && tg.ok:
		row("(f) ≥ 0.85× Tollgate without plugins (against (a))", fmt.Sprintf("%.2fx", f.rps/tg.rps), f.rps/tg.rps >= 0.85, true)
	}
	for _, p := range []string{"caddy", "traefik"} {
		c := a(p)
		if !c.ok || !tg.ok {
			row(fmt.Sprintf("(a) ≥ 3× %s", p), "not measured (not installed)", false, false)
			continue
		}
		row(fmt.Sprintf("(a) ≥ 3× %s", p), fmt.Sprintf("%.2fx", tg.rps/c.rps), tg.rps/c.rps >= 3, true)
		behind := []string{}
		for _, s := range h.scenarios() {
			if s.kind == "rate" || s.id == "e" || s.id == "f" {
				continue
			}
			t, o := h.cell(s.id, "tollgate"), h.cell(s.id, p)
			if t.ok && o.ok && t.rps < o.rps {
				behind = append(behind, s.id)
			}
		}
		row(fmt.Sprintf("ahead of %s in every scenario", p), "behind in: "+strings.Join(behind, ",")+"", len(behind) == 0, true)
	}
	for _, m := range h.mem {
		if m.target == "tollgate" && m.during > 0 {
			mb := float64(m.during) / 1024
			if m.conns >= 10000 {
				row("10,000 idle connections in ≤ 150 MB RSS", fmt.Sprintf("%.1f MB (%d connections)", mb, m.conns), mb <= 150, true)
			} else {
				row("10,000 idle connections in ≤ 150 MB RSS", fmt.Sprintf("%.1f MB with only %d connections", mb, m.conns), false, false)
			}
		}
	}
	if h.allocs.cmd != "" && h.allocs.err == "" {
		row("≤ 2 allocations per proxied request", fmt.Sprintf("%d (BenchmarkProxyFast)", h.allocs.allocs), h.allocs.allocs <= 2, true)
	} else {
		row("≤ 2 allocations per proxied request", "not measured in this mode (make bench-micro)", false, false)
	}
	return b.String()
}

func machineNote() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ":")
				model = strings.TrimSpace(model)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	v := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		o, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
		if err != nil && len(o) == 0 {
			return "-"
		}
		l, _, _ := strings.Cut(strings.TrimSpace(string(o)), "\n")
		return strings.TrimSpace(l)
	}
	return fmt.Sprintf("%d CPUs (%s), Linux %s, %s; %s; %s; %s; %s", runtime.NumCPU(), model, strings.TrimSpace(string(kernel)), runtime.Version(),
		v("nginx", "-v"), v("haproxy", "-v"), v("wrk", "-v"), v("h2load", "--version"))
}

func (h *harness) writeRaw() error {
	var b strings.Builder
	b.WriteString("round\tscenario\ttarget\trps\trequests\tp50_us\tp99_us\tcpu_s\tcpu_us_per_req\tuser_us_per_req\tswitches_per_req\tcore_busy\tother\tsteal\tnoisy\tremeasured\terrors\n")
	for _, s := range h.samples {
		fmt.Fprintf(&b, "%d\t%s\t%s\t%.0f\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.3f\t%.0f\t%.0f\t%.0f\t%v\t%v\t%s\n", s.round, s.scen, s.target, s.rps, s.reqs, s.p50, s.p99,
			s.cpuS, s.cpuPerReq(), s.userPerReq(), s.switchesPerReq(), s.busy, s.other, s.steal, s.noisy, s.remeasured, s.errs)
	}
	return os.WriteFile(filepath.Join(h.cfg.out, "latest.raw.tsv"), []byte(b.String()), 0o644)
}

// chart draws latest.png with gnuplot: req/s and CPU/req relative to nginx, per scenario.
func (h *harness) chart() error {
	gp, err := exec.LookPath("gnuplot")
	if err != nil {
		return fmt.Errorf("gnuplot not installed (apt-get install gnuplot-nox); no latest.png")
	}
	cols := []string{"direct", "tollgate", "tollgate-fasthttp", "nginx", "haproxy", "nginx-lua", "caddy", "traefik"}
	var used []string
	for _, c := range cols {
		for _, s := range h.samples {
			if s.target == c {
				used = append(used, c)
				break
			}
		}
	}
	var rows strings.Builder
	rows.WriteString("scenario")
	for _, c := range used {
		rows.WriteString("\t" + c)
	}
	rows.WriteString("\n")
	var cpuRows strings.Builder
	cpuRows.WriteString(strings.SplitN(rows.String(), "\n", 2)[0] + "\n")
	n := 0
	for _, s := range h.scenarios() {
		if s.kind == "rate" {
			continue
		}
		ng, _ := h.base(s, "nginx")
		if !ng.ok {
			continue
		}
		fmt.Fprintf(&rows, "\"(%s) %s\"", s.id, chartLabel(s))
		fmt.Fprintf(&cpuRows, "\"(%s) %s\"", s.id, chartLabel(s))
		for _, c := range used {
			name := c
			if c == "tollgate" {
				name = tollgateOf(s)
			}
			cl := h.cell(s.id, name)
			// (e) and (f) measure a Tollgate variant only; nginx (and, for the plugin stack,
			// nginx-lua) are shown from (a), which sends the same request
			if !cl.ok && (c == "nginx" || (s.id == "f" && c == "nginx-lua")) {
				cl, _ = h.base(s, c)
			}
			if cl.ok {
				fmt.Fprintf(&rows, "\t%.3f", cl.rps/ng.rps)
				fmt.Fprintf(&cpuRows, "\t%.3f", cl.cpu/ng.cpu)
			} else {
				rows.WriteString("\t?")
				cpuRows.WriteString("\t?")
			}
		}
		rows.WriteString("\n")
		cpuRows.WriteString("\n")
		n++
	}
	if n == 0 {
		return fmt.Errorf("nothing to plot")
	}
	dat := filepath.Join(h.work, "rps.dat")
	cdat := filepath.Join(h.work, "cpu.dat")
	if err := os.WriteFile(dat, []byte(rows.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(cdat, []byte(cpuRows.String()), 0o644); err != nil {
		return err
	}
	png := filepath.Join(h.cfg.out, "latest.png")
	script := fmt.Sprintf(`set terminal pngcairo size 1400,900 font ",10"
set output %q
set datafile missing "?"
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics
set yrange [0:*]
set multiplot layout 2,1 title "Tollgate side-by-side (%s mode, %s): ratios to nginx, one pinned core per target"
set title "requests/s ÷ nginx (higher is better)"
plot for [i=2:%d] %q using i:xtic(1) title columnheader(i)
set title "CPU per request ÷ nginx (lower is better)"
plot for [i=2:%d] %q using i:xtic(1) title columnheader(i)
unset multiplot
`, png, h.cfg.mode, time.Now().UTC().Format("2006-01-02"), len(used)+1, dat, len(used)+1, cdat)
	sp := filepath.Join(h.work, "chart.gp")
	if err := os.WriteFile(sp, []byte(script), 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	o, err := exec.CommandContext(ctx, gp, sp).CombinedOutput()
	if err != nil {
		// pngcairo is missing from some builds: fall back to the plain png terminal
		script = strings.Replace(script, "pngcairo size 1400,900 font \",10\"", "png size 1400,900", 1)
		_ = os.WriteFile(sp, []byte(script), 0o644)
		if o2, err2 := exec.CommandContext(ctx, gp, sp).CombinedOutput(); err2 != nil {
			return fmt.Errorf("gnuplot: %v %s %s", err2, o, o2)
		}
	}
	return nil
}
