// Command harness is Tollgate's side-by-side benchmark (issue 6): it starts a fixed upstream
// and each target (the upstream direct, Tollgate, nginx, HAProxy, nginx+Lua, and Caddy and
// Traefik when installed) on 127.0.0.1, pins the load generator and the proxy to separate
// cores, runs the scenarios interleaved over rounds and writes the medians to
// bench/results/latest.md plus a chart at bench/results/latest.png.
//
//	go run ./bench/harness -mode quick   # under 60 s
//	go run ./bench/harness -mode full    # under 10 min
//	go run ./bench/harness -mode smoke   # a few seconds: direct, Tollgate, nginx (the CI test)
//
// The binary also carries its helpers as subcommands, started pinned to the load core:
// "upstream" (the fixed origin), "rate" (a constant-rate client) and "idle" (holds idle
// keep-alive connections).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		var err error
		switch os.Args[1] {
		case "upstream":
			err = runUpstream(os.Args[2:])
		case "rate":
			err = runRate(os.Args[2:])
		case "idle":
			err = runIdle(os.Args[2:])
		default:
			goto bench
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
bench:
	h, err := newHarness(os.Args[1:], os.Stdout)
	if err == nil {
		err = h.run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

// config is what a mode sets; flags override single fields.
type config struct {
	mode       string
	rounds     int
	dur, warm  int // seconds
	scenarios  string
	targets    map[string]bool // nil: all
	idleConns  int
	idleOn     []string // targets whose RSS with idle connections is measured
	idleSettle int      // seconds the connections stay idle before the settled RSS is read
	rate       int      // scenario (g)
	conns      int      // wrk connections
	extra      int      // seconds allowed for re-measuring noisy runs
	budget     int      // seconds of measuring the plan must fit in (durations shrink to fit)
	install    bool
	out        string
	tollgate   string
	caddy      string
	traefik    string
	compare    string // a prebuilt Tollgate binary measured beside the current one
	floor      bool   // measure the engine spike's minimal proxies too (fasthttp-min, codec-min)
	fasthttp   bool   // measure Tollgate on fasthttp, its former HTTP/1.1 engine, too (tollgate-fasthttp)
	loadCore   int
	proxyCore  int
	commandTxt string
	pgoOut     string // -mode pgo: where the profile goes
}

func modeConfig(mode string) (config, error) {
	c := config{mode: mode, conns: 50, rate: 5000, install: true}
	switch mode {
	case "smoke":
		c.rounds, c.dur, c.warm = 1, 1, 0
		c.scenarios = "a,f,g"
		c.targets = map[string]bool{"direct": true, "tollgate": true, "nginx": true, "tollgate-plugins": true}
		c.idleConns, c.idleOn = 1000, []string{"tollgate"}
		c.idleSettle = 0
		c.rate = 1000
		c.install = false
		c.budget = 30
	case "quick":
		c.rounds, c.dur, c.warm = 1, 2, 1
		c.scenarios = "a,d,e,f,g"
		c.idleConns, c.idleOn = 10000, []string{"tollgate"}
		c.idleSettle = 10
		c.budget = 48
	case "full":
		c.rounds, c.dur, c.warm = 3, 5, 1
		c.scenarios = "a,b,c,d,e,f,g"
		c.idleConns, c.idleOn = 10000, []string{"tollgate", "nginx", "haproxy", "caddy", "traefik"}
		c.idleSettle = 10
		c.extra = 30
		c.budget = 480
	case "pgo":
		// not a benchmark: the profile for profile-guided optimisation (collectPGO)
		c.rounds, c.dur, c.warm = 1, 8, 1
		c.targets = map[string]bool{}
		var ids []string
		for _, l := range pgoLoads {
			c.targets[l.target] = true
			ids = append(ids, l.scenarios...)
		}
		c.scenarios = strings.Join(ids, ",")
		c.idleConns = 0
	default:
		return c, fmt.Errorf("unknown -mode %q (quick, full, smoke or pgo)", mode)
	}
	return c, nil
}

// scenario is one workload.
type scenario struct {
	id, title string
	kind      string // wrk, h2, rate
	path      string
	close     bool
	targets   []string
	// fromA: rows of scenario (a) shown beside this one as the baseline (same request).
	// Plain Tollgate is measured again inside (e) and (f), interleaved with the variant, so the
	// variant's cost is read against it in the same time window (see variantCell).
	fromA []string
}

var peers = []string{"direct", "tollgate", "nginx", "haproxy", "nginx-lua", "caddy", "traefik"}

var allScenarios = []scenario{
	{id: "a", title: "1 KiB GET, keep-alive", kind: "wrk", path: "/1k", targets: peers},
	{id: "b", title: "64 KiB GET, keep-alive", kind: "wrk", path: "/64k", targets: peers},
	{id: "c", title: "1 KiB GET, new connection per request (Connection: close)", kind: "wrk", path: "/1k", close: true, targets: peers},
	{id: "d", title: "1 KiB GET, HTTP/2 multiplexed (h2c)", kind: "h2", path: "/1k", targets: []string{"direct", "tollgate", "nginx", "haproxy", "caddy", "traefik"}},
	{id: "e", title: "1 KiB GET, Tollgate with 10,000 routes", kind: "wrk", path: "/1k", targets: []string{"tollgate-10k", "tollgate"}, fromA: []string{"direct", "nginx"}},
	{id: "f", title: "1 KiB GET, plugin stack (request-transformer + response-transformer + correlation-id; nginx-lua: 4 trivial Lua phases)", kind: "wrk", path: "/1k", targets: []string{"tollgate-plugins", "tollgate"}, fromA: []string{"direct", "nginx", "nginx-lua"}},
	{id: "g", title: "1 KiB GET at a fixed rate (open loop, no coordinated omission)", kind: "rate", path: "/1k", targets: []string{"direct", "tollgate", "nginx", "haproxy", "nginx-lua", "caddy", "traefik"}},
}

// target is one proxy (or the upstream itself) under test.
type target struct {
	name   string
	port   int // HTTP/1.1
	h2port int // h2c; 0: does not speak it here
	prefix string
	debug  int // the profiling endpoint's port (-mode pgo); 0: off
	p      *proc
	skip   string
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

type harness struct {
	cfg      config
	out      io.Writer
	root     string
	work     string
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex
	procs    []*proc
	ports    map[int]bool
	targets  map[string]*target
	upPort   int
	upH2     int
	up       *proc
	self     string
	niceArgs []string
	samples  []sample
	mem      []memResult
	allocs   allocResult
	skips    []string
	notes    []string
	start    time.Time
	tck      float64
	nofile   int
}

func newHarness(args []string, out io.Writer) (*harness, error) {
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	mode := fs.String("mode", "quick", "quick (<60 s), full (<10 min), smoke (CI), or pgo (writes the profile-guided optimisation profile, -pgo-out)")
	pgoOut := fs.String("pgo-out", "", "-mode pgo: the profile's path (default cmd/tollgate/default.pgo)")
	rounds := fs.Int("rounds", 0, "rounds (0: the mode's)")
	dur := fs.Int("dur", 0, "seconds per measured run (0: the mode's)")
	warm := fs.Int("warm", -1, "seconds of warm-up per target and scenario (-1: the mode's)")
	scen := fs.String("scenarios", "", "comma-separated scenario ids a-g (empty: the mode's)")
	only := fs.String("targets", "", "comma-separated targets (empty: the mode's); e.g. direct,tollgate,nginx")
	rate := fs.Int("rate", 0, "requests/s of scenario (g) (0: the mode's)")
	idle := fs.Int("idle-conns", -1, "idle keep-alive connections for the memory figure (-1: the mode's, 0: off)")
	settle := fs.Int("idle-settle", -1, "seconds the idle connections stay idle before their RSS is read again (-1: the mode's)")
	install := fs.String("install", "", "apt-get install missing tools: yes/no (empty: yes except in smoke mode)")
	outDir := fs.String("out", "", "where latest.md/latest.png go (default bench/results)")
	tg := fs.String("tollgate", "", "Tollgate binary to build and run (default bin/tollgate)")
	caddy := fs.String("caddy", "", "Caddy binary (default: command -v caddy)")
	traefik := fs.String("traefik", "", "Traefik binary (default: command -v traefik)")
	budget := fs.Int("budget", 0, "seconds of measuring to fit in (0: the mode's)")
	compare := fs.String("compare", "", "a prebuilt Tollgate binary (e.g. of an earlier commit) measured as tollgate-b beside the current build: the A/B check of a change")
	fasthttp := fs.Bool("fasthttp", false, "also measure Tollgate on fasthttp, its former HTTP/1.1 engine (--http1-engine fasthttp), as tollgate-fasthttp, beside Tollgate on its own codec (HTTP/1.1 scenarios)")
	floor := fs.Bool("floor", false, "also measure the engine spike's minimal proxies (HTTP/1.1 scenarios): fasthttp-min (bench/spike/fasthttp), the engine's own cost and the floor for Tollgate's, and codec-min (bench/spike/codec), the strict hand-written codec: what a leaner engine would cost")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cfg, err := modeConfig(*mode)
	if err != nil {
		return nil, err
	}
	if *rounds > 0 {
		cfg.rounds = *rounds
	}
	if *dur > 0 {
		cfg.dur = *dur
		cfg.budget = 0
	}
	if *warm >= 0 {
		cfg.warm = *warm
	}
	if *scen != "" {
		cfg.scenarios = *scen
	}
	if *only != "" {
		cfg.targets = map[string]bool{}
		for _, t := range strings.Split(*only, ",") {
			cfg.targets[strings.TrimSpace(t)] = true
		}
	}
	if *rate > 0 {
		cfg.rate = *rate
	}
	if *settle >= 0 {
		cfg.idleSettle = *settle
	}
	if *idle >= 0 {
		cfg.idleConns = *idle
	}
	switch *install {
	case "yes":
		cfg.install = true
	case "no":
		cfg.install = false
	}
	if *budget > 0 {
		cfg.budget = *budget
	}
	cfg.caddy, cfg.traefik, cfg.tollgate = *caddy, *traefik, *tg
	cfg.compare, cfg.floor, cfg.fasthttp = *compare, *floor, *fasthttp
	cfg.commandTxt = "go run ./bench/harness " + strings.Join(args, " ")
	h := &harness{cfg: cfg, out: out, ports: map[int]bool{}, targets: map[string]*target{}}
	h.root, err = repoRoot()
	if err != nil {
		return nil, err
	}
	h.cfg.out = *outDir
	if h.cfg.out == "" {
		h.cfg.out = filepath.Join(h.root, "bench", "results")
	}
	if h.cfg.tollgate == "" {
		h.cfg.tollgate = filepath.Join(h.root, "bin", "tollgate")
	}
	h.cfg.pgoOut = *pgoOut
	if h.cfg.pgoOut == "" {
		h.cfg.pgoOut = filepath.Join(h.root, "cmd", "tollgate", "default.pgo")
	}
	return h, nil
}

func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module tollgate") {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("run from inside the tollgate repository (no go.mod of module tollgate above the working directory)")
		}
		d = p
	}
}

func (h *harness) printf(format string, a ...any) { fmt.Fprintf(h.out, format, a...) }

func (h *harness) run() error {
	h.start = time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// a hard bound on the whole run
	limit := time.Duration(h.cfg.budget)*time.Second*2 + 5*time.Minute
	if h.cfg.budget == 0 {
		limit = 30 * time.Minute
	}
	h.ctx, h.cancel = context.WithTimeout(ctx, limit)
	defer h.cancel()
	defer h.cleanup()
	var err error
	if h.self, err = os.Executable(); err != nil {
		return err
	}
	h.tck = 100 // USER_HZ is 100 on Linux
	if os.Geteuid() == 0 {
		h.niceArgs = []string{"nice", "-n", "-20"}
	}
	if runtime.NumCPU() >= 2 {
		h.cfg.loadCore, h.cfg.proxyCore = 0, 1
	} else {
		h.notes = append(h.notes, "only one CPU: load generator and proxies share core 0, figures are not meaningful")
	}
	h.nofile = raiseNofile(65536)
	h.work, err = os.MkdirTemp("", "tollgate-bench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(h.work)
	if err := os.MkdirAll(h.cfg.out, 0o755); err != nil {
		return err
	}
	h.ensureTools()
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not installed (apt-get install wrk): %w", err)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("taskset not installed (util-linux): %w", err)
	}
	h.printf("building %s ...\n", h.cfg.tollgate)
	bctx, bcancel := context.WithTimeout(h.ctx, 5*time.Minute)
	b := exec.CommandContext(bctx, "go", "build", "-o", h.cfg.tollgate, "./cmd/tollgate")
	b.Dir = h.root
	b.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if o, err := b.CombinedOutput(); err != nil {
		bcancel()
		return fmt.Errorf("go build ./cmd/tollgate: %v\n%s", err, o)
	}
	bcancel()
	if err := h.startAll(); err != nil {
		return err
	}
	if h.cfg.mode == "pgo" {
		return h.collectPGO()
	}
	h.measureAll()
	h.measureMemory()
	h.measureAllocs()
	return h.report()
}

// raiseNofile raises the descriptor limit (inherited by every process started) to n, or to
// the hard limit when that cannot be raised (no CAP_SYS_RESOURCE), and returns the limit.
func raiseNofile(n uint64) int {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 1024
	}
	if l.Max < n {
		nl := syscall.Rlimit{Cur: n, Max: n}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl) == nil {
			return int(n)
		}
	}
	l.Cur = l.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	return int(min(l.Max, 1<<20))
}

const luaModule = "/usr/lib/nginx/modules/ngx_http_lua_module.so"

// ensureTools installs the Debian packages of missing tools (quick/full modes, as root).
func (h *harness) ensureTools() {
	want := map[string]string{"wrk": "wrk", "h2load": "nghttp2-client", "nginx": "nginx-light", "haproxy": "haproxy", "gnuplot": "gnuplot-nox"}
	var pkgs []string
	for bin, pkg := range want {
		if _, err := exec.LookPath(bin); err != nil {
			pkgs = append(pkgs, pkg)
		}
	}
	if _, err := os.Stat(luaModule); err != nil {
		pkgs = append(pkgs, "libnginx-mod-http-lua")
	}
	if len(pkgs) == 0 || !h.cfg.install {
		return
	}
	if os.Geteuid() != 0 {
		h.printf("missing packages %v; not root, so not installing\n", pkgs)
		return
	}
	h.printf("installing %s ...\n", strings.Join(pkgs, " "))
	ctx, cancel := context.WithTimeout(h.ctx, 6*time.Minute)
	defer cancel()
	if o, err := exec.CommandContext(ctx, "apt-get", "update", "-qq").CombinedOutput(); err != nil {
		h.printf("apt-get update failed: %v %s\n", err, o)
	}
	args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)
	c := exec.CommandContext(ctx, "apt-get", args...)
	c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if o, err := c.CombinedOutput(); err != nil {
		h.printf("apt-get install failed: %v %s\n", err, lastLines(string(o), 5))
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// freePort: a random port below the ephemeral range that nothing listens on, so outgoing
// connections of the benchmark cannot take it.
func (h *harness) freePort() int {
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 11000 {
				lo = v
			}
		}
	}
	for {
		p := 10000 + rand.IntN(lo-10000)
		if h.ports[p] {
			continue
		}
		ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ln.Close()
		h.ports[p] = true
		return p
	}
}

// startProc starts argv pinned to core at nice -20 (as root); nice and taskset exec, so the
// PID is the program's own. It is killed by PID at the end (and by the kernel if the harness
// dies: Pdeathsig).
func (h *harness) startProc(name string, core int, env []string, argv ...string) (*proc, error) {
	full := append(append([]string{}, h.niceArgs...), "taskset", "-c", strconv.Itoa(core))
	full = append(full, argv...)
	logPath := filepath.Join(h.work, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	c := exec.Command(full[0], full[1:]...)
	c.Env = append(os.Environ(), env...)
	c.Stdout, c.Stderr = f, f
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: c, done: make(chan struct{}), log: logPath}
	go func() { _ = c.Wait(); f.Close(); close(p.done) }()
	h.mu.Lock()
	h.procs = append(h.procs, p)
	h.mu.Unlock()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (h *harness) cleanup() {
	h.mu.Lock()
	ps := h.procs
	h.procs = nil
	h.mu.Unlock()
	for i := len(ps) - 1; i >= 0; i-- {
		ps[i].stop()
	}
}

// waitUp waits for a listener and a 200 answer with the 1 KiB body on path.
func (h *harness) waitUp(p *proc, port int, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			return fmt.Errorf("exited: %s", lastLines(string(b), 5))
		case <-h.ctx.Done():
			return h.ctx.Err()
		default:
		}
		r, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err == nil {
			n, _ := io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if r.StatusCode == 200 && n == 1024 {
				return nil
			}
			err = fmt.Errorf("GET %s: status %d, %d bytes", path, r.StatusCode, n)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not answering within %v: %v", timeout, last)
}

func (h *harness) wanted(name string) bool {
	if h.cfg.targets != nil && !h.cfg.targets[name] {
		return false
	}
	for _, s := range h.scenarios() {
		for _, t := range s.targets {
			if t == name {
				return true
			}
		}
		for _, t := range s.fromA {
			if t == name {
				return true
			}
		}
	}
	return false
}

func (h *harness) scenarios() []scenario {
	var out []scenario
	for _, s := range allScenarios {
		if !strings.Contains(","+h.cfg.scenarios+",", ","+s.id+",") {
			continue
		}
		// the optional targets go beside plain Tollgate where it is the variant measured (not
		// in (e) and (f), where plain Tollgate runs only as the same-window reference)
		if tollgateOf(s) == "tollgate" {
			if h.cfg.compare != "" {
				s.targets = append(slices.Clone(s.targets), "tollgate-b")
			}
			if h.cfg.fasthttp && s.kind != "h2" {
				s.targets = append(slices.Clone(s.targets), "tollgate-fasthttp")
			}
			if h.cfg.floor && s.kind != "h2" {
				s.targets = append(slices.Clone(s.targets), "fasthttp-min", "codec-min")
			}
		}
		out = append(out, s)
	}
	return out
}

func (h *harness) skip(name, why string) {
	why = strings.Join(strings.Fields(why), " ")
	line := fmt.Sprintf("skip %s: %s", name, why)
	h.skips = append(h.skips, line)
	h.printf("%s\n", line)
	h.targets[name] = &target{name: name, skip: why}
}

// startAll starts the upstream (load core) and every wanted target (proxy core).
func (h *harness) startAll() error {
	lc, pc := h.cfg.loadCore, h.cfg.proxyCore
	g1 := []string{"GOMAXPROCS=1"}
	h.upPort, h.upH2 = h.freePort(), h.freePort()
	var err error
	h.up, err = h.startProc("upstream", lc, g1, h.self, "upstream", "-h1", strconv.Itoa(h.upPort), "-h2c", strconv.Itoa(h.upH2))
	if err != nil {
		return err
	}
	if err := h.waitUp(h.up, h.upPort, "/1k", 10*time.Second); err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	type starter struct {
		name string
		fn   func(t *target) (*proc, error)
	}
	tollgate := func(name, conf string, extra ...string) func(t *target) (*proc, error) {
		return func(t *target) (*proc, error) {
			f := filepath.Join(h.work, name+".yaml")
			if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
				return nil, err
			}
			t.h2port = t.port
			args := append([]string{h.cfg.tollgate, "run", "--config", f, "--proxy-listen",
				fmt.Sprintf("127.0.0.1:%d", t.port), "--admin-listen", "", "--log-level", "warn", "--watch=false"}, extra...)
			if h.cfg.mode == "pgo" {
				t.debug = h.freePort()
				args = append(args, "--debug-listen", fmt.Sprintf("127.0.0.1:%d", t.debug))
			}
			return h.startProc(name, pc, g1, args...)
		}
	}
	nginx := func(name string, lua bool) func(t *target) (*proc, error) {
		return func(t *target) (*proc, error) {
			if _, err := exec.LookPath("nginx"); err != nil {
				return nil, errSkip("nginx not installed (apt-get install nginx-light)")
			}
			if lua {
				if _, err := os.Stat(luaModule); err != nil {
					return nil, errSkip("libnginx-mod-http-lua not installed")
				}
			} else {
				t.h2port = h.freePort()
			}
			dir := filepath.Join(h.work, name)
			conf, err := nginxConfig(dir, t.port, t.h2port, h.upPort, lua, h.nofile)
			if err != nil {
				return nil, err
			}
			return h.startProc(name, pc, nil, "nginx", "-p", dir, "-c", conf, "-g", "daemon off;")
		}
	}
	// spike builds one of the engine spike's minimal proxies (bench/spike) and runs it.
	spike := func(name, pkg string) func(t *target) (*proc, error) {
		return func(t *target) (*proc, error) {
			bin := filepath.Join(h.work, name)
			b := exec.CommandContext(h.ctx, "go", "build", "-o", bin, pkg)
			b.Dir = h.root
			b.Env = append(os.Environ(), "GOTOOLCHAIN=local")
			if o, err := b.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("go build %s: %v: %s", pkg, err, o)
			}
			return h.startProc(name, pc, g1, bin, "-port", strconv.Itoa(t.port), "-upstream", fmt.Sprintf("127.0.0.1:%d", h.upPort))
		}
	}
	starters := []starter{
		{"direct", func(t *target) (*proc, error) {
			t.h2port = h.freePort()
			return h.startProc("direct", pc, g1, h.self, "upstream", "-h1", strconv.Itoa(t.port), "-h2c", strconv.Itoa(t.h2port))
		}},
		{"tollgate", tollgate("tollgate", tollgateConfig(h.upPort, false))},
		{"tollgate-fasthttp", tollgate("tollgate-fasthttp", tollgateConfig(h.upPort, false), "--http1-engine", "fasthttp")},
		{"tollgate-plugins", tollgate("tollgate-plugins", tollgateConfig(h.upPort, true))},
		{"tollgate-10k", tollgate("tollgate-10k", tollgateManyRoutes(h.upPort, 10000))},
		{"tollgate-b", func(t *target) (*proc, error) {
			f := filepath.Join(h.work, "tollgate-b.yaml")
			if err := os.WriteFile(f, []byte(tollgateConfig(h.upPort, false)), 0o644); err != nil {
				return nil, err
			}
			t.h2port = t.port
			return h.startProc("tollgate-b", pc, g1, h.cfg.compare, "run", "--config", f, "--proxy-listen",
				fmt.Sprintf("127.0.0.1:%d", t.port), "--admin-listen", "", "--log-level", "warn", "--watch=false")
		}},
		{"fasthttp-min", spike("fasthttp-min", "./bench/spike/fasthttp")},
		{"codec-min", spike("codec-min", "./bench/spike/codec")},
		{"nginx", nginx("nginx", false)},
		{"nginx-lua", nginx("nginx-lua", true)},
		{"haproxy", func(t *target) (*proc, error) {
			if _, err := exec.LookPath("haproxy"); err != nil {
				return nil, errSkip("haproxy not installed (apt-get install haproxy)")
			}
			conf, err := haproxyConfig(h.work, t.port, h.upPort, h.nofile)
			if err != nil {
				return nil, err
			}
			t.h2port = t.port
			return h.startProc("haproxy", pc, nil, "haproxy", "-f", conf, "-db")
		}},
		{"caddy", func(t *target) (*proc, error) {
			bin, err := findBin(h.cfg.caddy, "caddy")
			if err != nil {
				return nil, errSkip("not installed (command -v caddy failed; pass -caddy PATH; not built during the run)")
			}
			conf, err := caddyConfig(h.work, t.port, h.upPort)
			if err != nil {
				return nil, err
			}
			t.h2port = t.port
			return h.startProc("caddy", pc, g1, bin, "run", "--config", conf, "--adapter", "caddyfile")
		}},
		{"traefik", func(t *target) (*proc, error) {
			bin, err := findBin(h.cfg.traefik, "traefik")
			if err != nil {
				return nil, errSkip("not installed (command -v traefik failed; pass -traefik PATH; not built during the run)")
			}
			conf, err := traefikConfig(h.work, t.port, h.upPort)
			if err != nil {
				return nil, err
			}
			t.h2port = t.port
			return h.startProc("traefik", pc, g1, bin, "--configFile="+conf)
		}},
	}
	for _, s := range starters {
		if !h.wanted(s.name) {
			continue
		}
		t := &target{name: s.name, port: h.freePort()}
		if s.name == "tollgate-10k" {
			t.prefix = routePath(10000)
		}
		p, err := s.fn(t)
		var sk skipError
		if errors.As(err, &sk) {
			h.skip(s.name, string(sk))
			continue
		}
		if err != nil {
			h.skip(s.name, "could not start: "+err.Error())
			continue
		}
		t.p = p
		if err := h.waitUp(p, t.port, t.prefix+"/1k", 30*time.Second); err != nil {
			p.stop()
			h.skip(s.name, "did not come up: "+err.Error())
			continue
		}
		h.targets[s.name] = t
		h.printf("started %-16s pid %-7d port %d (h2c %d) on core %d\n", s.name, p.pid(), t.port, t.h2port, pc)
	}
	if t := h.targets["tollgate"]; t == nil || t.p == nil {
		return errors.New("tollgate did not start (see the skip line above)")
	}
	return nil
}

type skipError string

func (e skipError) Error() string { return string(e) }
func errSkip(s string) error      { return skipError(s) }

func findBin(flagPath, name string) (string, error) {
	if flagPath != "" {
		if _, err := os.Stat(flagPath); err != nil {
			return "", err
		}
		return flagPath, nil
	}
	return exec.LookPath(name)
}
