package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sample is one measured run.
type sample struct {
	round          int
	scen, target   string
	rps            float64
	reqs           int64
	p50, p99       float64 // µs
	cpuS           float64 // CPU seconds of the target (with its children) during the run
	userS          float64 // the user-mode part of cpuS (the rest is the kernel's)
	switches       int64   // context switches of the target's threads (with its children's)
	busy           float64 // % of one core
	other, steal   float64 // % of one core used by other processes; % steal over all cores
	errs           string
	noisy          bool
	remeasured     bool
	loadCPU, upCPU float64
}

func (s sample) cpuPerReq() float64 { return s.perReq(s.cpuS * 1e6) }

// userPerReq: µs of user-mode CPU per request. The user/kernel split tells a change in the
// proxy's own work (user) from the kernel's (system calls, and loopback delivery charged to
// the writer, which also moves with what the neighbours on the shared machine do).
func (s sample) userPerReq() float64 { return s.perReq(s.userS * 1e6) }

// switchesPerReq: context switches per request, over every thread of the target. A runtime
// that hands its work between threads shows here.
func (s sample) switchesPerReq() float64 { return s.perReq(float64(s.switches)) }

func (s sample) perReq(v float64) float64 {
	if s.reqs == 0 {
		return 0
	}
	return v / float64(s.reqs)
}

const (
	maxOther = 15.0 // a run is noisy when other processes use more than this % of a core
	maxSteal = 25.0 // ... or the hypervisor steals more than this %
)

// procCPU is what a process and its direct children used so far.
type procCPU struct {
	user, sys int64 // clock ticks
	switches  int64 // voluntary and involuntary context switches over all threads
}

func (c procCPU) total() int64 { return c.user + c.sys }

// cpuOf: procCPU of pid and its direct children (nginx workers).
func cpuOf(pid int) procCPU {
	var c procCPU
	for _, p := range withChildren(pid) {
		u, s := statTicks(p)
		c.user += u
		c.sys += s
		c.switches += taskSwitches(p)
	}
	return c
}

// withChildren: pid and its direct children.
func withChildren(pid int) []int {
	pids := []int{pid}
	kids, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, k := range kids {
		b, _ := os.ReadFile(k)
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				pids = append(pids, c)
			}
		}
	}
	return pids
}

// statTicks: utime and stime of pid (all its threads), in clock ticks.
func statTicks(pid int) (user, sys int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	return parseStatTicks(string(b))
}

func parseStatTicks(s string) (user, sys int64) {
	// The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0
	}
	user, _ = strconv.ParseInt(f[11], 10, 64) // field 14 utime
	sys, _ = strconv.ParseInt(f[12], 10, 64)  // field 15 stime
	return user, sys
}

// taskSwitches: context switches summed over pid's threads. /proc/PID/status counts the
// thread group leader alone, so each task is read.
func taskSwitches(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		n += parseSwitches(string(b))
	}
	return n
}

func parseSwitches(status string) int64 {
	var n int64
	for _, l := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
			x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			n += x
		}
	}
	return n
}

// rssKB: VmRSS of pid and its direct children, in KiB.
func rssKB(pid int) int64 {
	var total int64
	for _, p := range withChildren(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				f := strings.Fields(l)
				if len(f) >= 2 {
					v, _ := strconv.ParseInt(f[1], 10, 64)
					total += v
				}
			}
		}
	}
	return total
}

// sysTicks: user+nice+system and steal over all CPUs, from /proc/stat.
func sysTicks() (busy, steal int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 {
		return 0, 0
	}
	v := func(i int) int64 { x, _ := strconv.ParseInt(f[i], 10, 64); return x }
	return v(1) + v(2) + v(3), v(8)
}

// plannedSeconds: the measuring time of the plan with durations dur and warm.
func (h *harness) plannedSeconds(dur, warm int) int {
	n := 0
	for _, s := range h.scenarios() {
		for _, t := range s.targets {
			if tg := h.targets[t]; tg != nil && tg.p != nil && (s.kind != "h2" || tg.h2port != 0) {
				n++
			}
		}
	}
	return n * h.cfg.rounds * (dur + warm + 1)
}

func (h *harness) measureAll() {
	// fit the plan into the budget by shortening the runs (never below 1 s)
	if h.cfg.budget > 0 {
		for h.cfg.dur > 1 && h.plannedSeconds(h.cfg.dur, h.cfg.warm) > h.cfg.budget {
			h.cfg.dur--
		}
		for h.cfg.warm > 0 && h.plannedSeconds(h.cfg.dur, h.cfg.warm) > h.cfg.budget {
			h.cfg.warm--
		}
	}
	h.printf("mode %s: %d round(s), %d s per run, %d s warm-up, scenarios %s; planned ~%d s of measuring\n",
		h.cfg.mode, h.cfg.rounds, h.cfg.dur, h.cfg.warm, h.cfg.scenarios, h.plannedSeconds(h.cfg.dur, h.cfg.warm))
	extraUsed := 0
	for r := 1; r <= h.cfg.rounds; r++ {
		for _, s := range h.scenarios() {
			var ts []*target
			for _, name := range s.targets {
				t := h.targets[name]
				if t == nil || t.p == nil {
					continue
				}
				if s.kind == "h2" && t.h2port == 0 {
					continue
				}
				ts = append(ts, t)
			}
			if len(ts) == 0 {
				continue
			}
			for i := range ts {
				if h.ctx.Err() != nil {
					return
				}
				t := ts[(i+r-1)%len(ts)] // rotate the order each round
				h.warmUp(s, t)
				sm := h.measure(r, s, t)
				if sm.noisy && extraUsed < h.cfg.extra {
					extraUsed += h.cfg.dur
					h.printf("  (noisy: other %.0f%%, steal %.0f%% during %s %s: measuring again)\n", sm.other, sm.steal, s.id, t.name)
					sm = h.measure(r, s, t)
					sm.remeasured = true
				}
				h.samples = append(h.samples, sm)
				h.printf("round %d (%s) %-16s %9.0f req/s  p50 %7.0f µs  p99 %7.0f µs  CPU %6.1f µs/req  core %3.0f%%  other %3.0f%%  steal %3.0f%%%s\n",
					r, s.id, t.name, sm.rps, sm.p50, sm.p99, sm.cpuPerReq(), sm.busy, sm.other, sm.steal, errNote(sm.errs))
			}
		}
	}
}

func errNote(e string) string {
	if e == "" {
		return ""
	}
	return "  errors: " + e
}

func (h *harness) url(s scenario, t *target) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s%s", t.port, t.prefix, s.path)
}

func (h *harness) loadCmd(ctx context.Context, s scenario, t *target, dur int) *exec.Cmd {
	argv := append(append([]string{}, h.niceArgs...), "taskset", "-c", strconv.Itoa(h.cfg.loadCore))
	switch s.kind {
	case "h2":
		argv = append(argv, "h2load", "-c", "10", "-m", "10", "-t", "1", "-D", strconv.Itoa(dur),
			"--log-file", filepath.Join(h.work, "h2load.log"),
			fmt.Sprintf("http://127.0.0.1:%d%s%s", t.h2port, t.prefix, s.path))
	case "rate":
		argv = append(argv, h.self, "rate", "-url", h.url(s, t), "-rate", strconv.Itoa(h.cfg.rate),
			"-dur", fmt.Sprintf("%ds", dur), "-conns", "64")
	default:
		argv = append(argv, "wrk", "-t1", "-c"+strconv.Itoa(h.cfg.conns), "-d"+strconv.Itoa(dur)+"s", "--timeout", "2s", "--latency")
		if s.close {
			argv = append(argv, "-H", "Connection: close")
		}
		argv = append(argv, h.url(s, t))
	}
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Env = append(os.Environ(), "GOMAXPROCS=1")
	return c
}

func (h *harness) warmUp(s scenario, t *target) {
	if h.cfg.warm <= 0 {
		return
	}
	ws := s
	if s.kind == "rate" {
		ws.kind = "wrk"
	}
	ctx, cancel := context.WithTimeout(h.ctx, time.Duration(h.cfg.warm+15)*time.Second)
	defer cancel()
	_ = h.loadCmd(ctx, ws, t, h.cfg.warm).Run()
}

// measure runs the load generator once and reads the target's CPU time around it.
func (h *harness) measure(r int, s scenario, t *target) sample {
	sm := sample{round: r, scen: s.id, target: t.name}
	ctx, cancel := context.WithTimeout(h.ctx, time.Duration(h.cfg.dur+20)*time.Second)
	defer cancel()
	c := h.loadCmd(ctx, s, t, h.cfg.dur)
	var out strings.Builder
	c.Stdout, c.Stderr = &out, &out
	pid, upPid := t.p.pid(), h.up.pid()
	c0, u0 := cpuOf(pid), cpuOf(upPid).total()
	b0, st0 := sysTicks()
	w0 := time.Now()
	err := c.Run()
	c1, u1 := cpuOf(pid), cpuOf(upPid).total()
	b1, st1 := sysTicks()
	el := time.Since(w0).Seconds()
	sm.cpuS = float64(c1.total()-c0.total()) / h.tck
	sm.userS = float64(c1.user-c0.user) / h.tck
	sm.switches = c1.switches - c0.switches
	sm.upCPU = float64(u1-u0) / h.tck
	if c.ProcessState != nil {
		sm.loadCPU = (c.ProcessState.UserTime() + c.ProcessState.SystemTime()).Seconds()
	}
	sm.busy = 100 * sm.cpuS / el
	other := float64(b1-b0)/h.tck - sm.cpuS - sm.upCPU - sm.loadCPU
	sm.other = max(0, 100*other/el)
	sm.steal = 100 * float64(st1-st0) / h.tck / el
	sm.noisy = sm.other > maxOther || sm.steal > maxSteal
	text := out.String()
	if err != nil {
		sm.errs = fmt.Sprintf("%v: %s", err, strings.ReplaceAll(lastLines(text, 2), "\n", " | "))
	}
	switch s.kind {
	case "wrk":
		parseWrk(text, &sm)
	case "h2":
		parseH2load(text, filepath.Join(h.work, "h2load.log"), &sm)
	case "rate":
		parseRate(text, &sm, h.cfg.dur)
	}
	return sm
}

var (
	reWrkRPS  = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reWrkReqs = regexp.MustCompile(`(\d+) requests in`)
	reWrkPct  = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$`)
	reWrkErr  = regexp.MustCompile(`(?m)^\s*(Non-2xx or 3xx responses: \d+|Socket errors: .*)$`)
)

func parseWrk(text string, sm *sample) {
	if m := reWrkRPS.FindStringSubmatch(text); m != nil {
		sm.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reWrkReqs.FindStringSubmatch(text); m != nil {
		sm.reqs, _ = strconv.ParseInt(m[1], 10, 64)
	}
	for _, m := range reWrkPct.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "ms":
			v *= 1e3
		case "s":
			v *= 1e6
		}
		if m[1] == "50" {
			sm.p50 = v
		} else {
			sm.p99 = v
		}
	}
	var errs []string
	for _, m := range reWrkErr.FindAllStringSubmatch(text, -1) {
		errs = append(errs, strings.TrimSpace(m[1]))
	}
	if len(errs) > 0 {
		sm.errs = strings.TrimSpace(sm.errs + " " + strings.Join(errs, "; "))
	}
}

var (
	reH2Fin  = regexp.MustCompile(`finished in [0-9.]+m?s, ([0-9.]+) req/s`)
	reH2Reqs = regexp.MustCompile(`requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored`)
)

func parseH2load(text, logFile string, sm *sample) {
	if m := reH2Fin.FindStringSubmatch(text); m != nil {
		sm.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reH2Reqs.FindStringSubmatch(text); m != nil {
		sm.reqs, _ = strconv.ParseInt(m[1], 10, 64)
		if m[2] != "0" || m[3] != "0" {
			sm.errs = strings.TrimSpace(sm.errs + fmt.Sprintf(" failed %s, errored %s", m[2], m[3]))
		}
	}
	f, err := os.Open(logFile)
	if err != nil {
		return
	}
	defer f.Close()
	defer os.Remove(logFile)
	var lat []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) >= 3 {
			if v, err := strconv.ParseFloat(p[2], 64); err == nil {
				lat = append(lat, v)
			}
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		sm.p50 = lat[int(0.5*float64(len(lat)-1))]
		sm.p99 = lat[int(0.99*float64(len(lat)-1))]
	}
}

func parseRate(text string, sm *sample, dur int) {
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) == 8 && f[0] == "RATE" {
			n := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
			sm.reqs = int64(n(2))
			sm.rps = n(2) / float64(dur)
			sm.p50, sm.p99 = n(4), n(5)
			if n(3) > 0 {
				sm.errs = strings.TrimSpace(sm.errs + fmt.Sprintf(" %d of %d requests failed", int(n(3)), int(n(1))))
			}
		}
	}
}

// memResult: RSS of a target before and while holding idle keep-alive connections.
type memResult struct {
	target        string
	conns, failed int
	before        int64 // KiB, before the connections
	first         int64 // KiB, a second after the last connection's answer
	during        int64 // KiB, after the connections stayed idle idleSettle seconds (= first without)
	err           string
}

func (h *harness) measureMemory() {
	if h.cfg.idleConns <= 0 || h.ctx.Err() != nil {
		return
	}
	for _, name := range h.cfg.idleOn {
		t := h.targets[name]
		if t == nil || t.p == nil {
			continue
		}
		p := t.p
		port := t.port
		if name == "tollgate" {
			// a fresh instance: RSS without the heap the load runs grew
			conf := filepath.Join(h.work, "tollgate.yaml")
			port = h.freePort()
			var err error
			p, err = h.startProc("tollgate-mem", h.cfg.proxyCore, []string{"GOMAXPROCS=1"}, h.cfg.tollgate, "run", "--config", conf,
				"--proxy-listen", fmt.Sprintf("127.0.0.1:%d", port), "--admin-listen", "", "--log-level", "warn", "--watch=false")
			if err == nil {
				err = h.waitUp(p, port, "/1k", 20*time.Second)
			}
			if err != nil {
				h.mem = append(h.mem, memResult{target: name, err: err.Error()})
				continue
			}
		}
		n := h.cfg.idleConns
		switch name {
		case "haproxy":
			n = min(n, haproxyMaxconn(h.nofile)-50)
		case "nginx":
			n = min(n, min(12000, h.nofile-100)-50)
		default:
			n = min(n, h.nofile-100)
		}
		h.mem = append(h.mem, h.idleRSS(name, p, port, n))
		if name == "tollgate" {
			p.stop()
		}
		m := h.mem[len(h.mem)-1]
		h.printf("memory %-10s RSS %6.1f MB idle, %6.1f MB with %d idle keep-alive connections (%d failed; %6.1f MB at first) %s\n",
			m.target, float64(m.before)/1024, float64(m.during)/1024, m.conns, m.failed, float64(m.first)/1024, m.err)
	}
}

func (h *harness) idleRSS(name string, p *proc, port, n int) memResult {
	m := memResult{target: name, before: rssKB(p.pid())}
	ctx, cancel := context.WithTimeout(h.ctx, 90*time.Second)
	defer cancel()
	argv := append(append([]string{}, h.niceArgs...), "taskset", "-c", strconv.Itoa(h.cfg.loadCore),
		h.self, "idle", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-n", strconv.Itoa(n))
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	stdin, err := c.StdinPipe()
	if err != nil {
		m.err = err.Error()
		return m
	}
	stdout, err := c.StdoutPipe()
	if err != nil {
		m.err = err.Error()
		return m
	}
	if err := c.Start(); err != nil {
		m.err = err.Error()
		return m
	}
	defer func() { stdin.Close(); _ = c.Wait() }()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "READY" {
			m.conns, _ = strconv.Atoi(f[1])
			m.failed, _ = strconv.Atoi(f[2])
			break
		}
	}
	if m.conns == 0 {
		m.err = "no connection opened"
		return m
	}
	time.Sleep(time.Second)
	m.first = rssKB(p.pid())
	m.during = m.first
	// Then the steady state of connections that stay idle: what a server frees from an
	// idle connection (buffers, a goroutine parked in Tollgate's case) shows here.
	for end := time.Now().Add(time.Duration(h.cfg.idleSettle) * time.Second); time.Now().Before(end) && h.ctx.Err() == nil; {
		time.Sleep(500 * time.Millisecond)
		m.during = rssKB(p.pid())
	}
	return m
}

// allocResult is the plain path's allocations per request, from the Go benchmark beside it.
type allocResult struct {
	cmd           string
	allocs, bytes int
	err           string
}

// measureAllocs runs BenchmarkProxyFast with -benchmem (full mode only: it takes a few
// seconds of a core and compiles the test binary).
func (h *harness) measureAllocs() {
	if h.cfg.mode != "full" || h.ctx.Err() != nil {
		return
	}
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkProxyFast$", "-benchmem", "-benchtime", "20000x", "./internal/proxy/"}
	h.allocs.cmd = "go " + strings.Join(args, " ")
	ctx, cancel := context.WithTimeout(h.ctx, 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "go", args...)
	c.Dir = h.root
	c.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := c.CombinedOutput()
	if err != nil {
		h.allocs.err = fmt.Sprintf("%v: %s", err, lastLines(string(out), 5))
		return
	}
	var ok bool
	h.allocs.allocs, h.allocs.bytes, ok = parseBenchmem(string(out))
	if !ok {
		h.allocs.err = "no allocs/op in the output: " + lastLines(string(out), 5)
		return
	}
	h.printf("allocations: %d allocs/op, %d B/op (BenchmarkProxyFast)\n", h.allocs.allocs, h.allocs.bytes)
}

// parseBenchmem reads "N B/op  M allocs/op" from go test -benchmem output.
func parseBenchmem(out string) (allocs, bytes int, ok bool) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			switch f[i] {
			case "allocs/op":
				allocs, _ = strconv.Atoi(f[i-1])
				ok = true
			case "B/op":
				bytes, _ = strconv.Atoi(f[i-1])
			}
		}
		if ok {
			return allocs, bytes, true
		}
	}
	return 0, 0, false
}
