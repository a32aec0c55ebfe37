// Command tollgate is the gateway: `tollgate run`, `validate`, `demo` and `version`.
// This file is wiring only: flags and environment to options, options to the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"tollgate/internal/config"
	"tollgate/internal/discovery"
	"tollgate/internal/edge"
	"tollgate/internal/plugin"
	"tollgate/internal/proxy"
	"tollgate/internal/router"
	"tollgate/internal/server"
	"tollgate/plugins/all"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `tollgate — an API gateway speaking Kong's declarative config

usage:
  tollgate run [flags]                 start the gateway
  tollgate validate --config FILE      check a config file; every error on its own line
  tollgate demo [flags]                the gateway on examples/quickstart.yaml with demo upstreams
  tollgate version                     print the version

Run 'tollgate run -h' for the flags; each flag can also be set from the environment
(TOLLGATE_PROXY_LISTEN, TOLLGATE_ADMIN_LISTEN, ...).
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr, false)
	case "demo":
		return cmdRun(args[1:], stdout, stderr, true)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "tollgate %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tollgate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// runFlags are the flags of run and demo.
type runFlags struct {
	config, proxyListen, adminListen, statusListen string
	debugListen                                    string
	logFormat, logLevel                            string
	trustedIPs, realIPHeader, requestIDHeader      string
	realIPRecursive, watch, priorityQuirk          bool
	underscoreHeaders, retryOnStatus               string
	escapedSlashes, maxBody, maxHeaderBytes        string
	maxHeaderCount                                 int
	dnsResolver, dnsOrder, dnsHostsFile            string
	dnsStaleTTL, dnsNotFoundTTL, dnsErrorTTL       time.Duration
	mergeSlashes                                   bool
	http1Engine                                    string
	maxURI, maxConns, maxConnsPerIP                int
	drain, headerTimeout, bodyTimeout, sendTimeout time.Duration
	keepalive, parkAfter                           time.Duration
}

// env returns the environment value for a flag name (proxy-listen → TOLLGATE_PROXY_LISTEN).
func env(name, def string) string {
	if v, ok := os.LookupEnv("TOLLGATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	v := env(name, "")
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(env(name, "")); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(name, "")); err == nil {
		return d
	}
	return def
}

func (f *runFlags) register(fs *flag.FlagSet, demo bool) {
	defCfg := ""
	if demo {
		defCfg = "examples/quickstart.yaml"
	}
	fs.StringVar(&f.config, "config", env("config", defCfg), "declarative config file (YAML or JSON); empty starts with no routes")
	fs.StringVar(&f.proxyListen, "proxy-listen", env("proxy-listen", "0.0.0.0:8000"), "proxy listener address")
	fs.StringVar(&f.adminListen, "admin-listen", env("admin-listen", "127.0.0.1:8001"), "admin API listener address (empty: off)")
	fs.StringVar(&f.statusListen, "status-listen", env("status-listen", ""), "status listener address (empty: off)")
	fs.StringVar(&f.debugListen, "debug-listen", env("debug-listen", ""), "Go profiling endpoints (/debug/pprof/) address, e.g. 127.0.0.1:6060 (empty: off; never expose it)")
	fs.StringVar(&f.logFormat, "log-format", env("log-format", "json"), "log format: json or text")
	fs.StringVar(&f.logLevel, "log-level", env("log-level", "info"), "log level: debug, info, warn, error")
	fs.StringVar(&f.trustedIPs, "trusted-ips", env("trusted-ips", ""), "comma-separated IPs/CIDRs whose X-Forwarded-* and real-IP headers are believed (Kong's trusted_ips)")
	fs.StringVar(&f.realIPHeader, "real-ip-header", env("real-ip-header", "X-Real-IP"), "header carrying the client address from a trusted peer (Kong's real_ip_header)")
	fs.StringVar(&f.requestIDHeader, "request-id-header", env("request-id-header", proxy.DefaultRequestIDHeader), "header carrying the request id upstream and to the client (kept when a trusted peer sends one)")
	fs.BoolVar(&f.realIPRecursive, "real-ip-recursive", envBool("real-ip-recursive", false), "skip trusted addresses from the right of the real-IP header (Kong's real_ip_recursive)")
	fs.StringVar(&f.underscoreHeaders, "underscore-headers", env("underscore-headers", edge.UnderscoreDrop), "request headers whose name has '_': drop (as Envoy and nginx), reject (400) or allow")
	fs.StringVar(&f.retryOnStatus, "retry-on-status", env("retry-on-status", ""), "comma-separated upstream statuses retried on another target for idempotent requests (nginx's proxy_next_upstream http_502 ...); empty = Kong's behaviour")
	fs.BoolVar(&f.watch, "watch", envBool("watch", true), "reload the config file when it changes (SIGHUP always reloads)")
	fs.BoolVar(&f.priorityQuirk, "kong-priority-quirk", envBool("kong-priority-quirk", false), "reproduce Kong 3.9's 32-bit route priority arithmetic")
	fs.DurationVar(&f.headerTimeout, "client-header-timeout", envDuration("client-header-timeout", 60*time.Second), "longest time to read a request head (nginx's client_header_timeout)")
	fs.DurationVar(&f.bodyTimeout, "client-body-timeout", envDuration("client-body-timeout", 60*time.Second), "longest wait between two reads of a request body (nginx's client_body_timeout)")
	fs.DurationVar(&f.sendTimeout, "client-send-timeout", envDuration("client-send-timeout", 60*time.Second), "longest wait for an HTTP/1.1 client to take a response's next bytes (codec engine only) or an upgraded connection's (both engines); then the connection closes (nginx's send_timeout)")
	fs.DurationVar(&f.keepalive, "keepalive-timeout", envDuration("keepalive-timeout", 75*time.Second), "how long an idle HTTP/1.1 keep-alive connection stays open (nginx's keepalive_timeout)")
	fs.DurationVar(&f.parkAfter, "park-idle-after", envDuration("park-idle-after", time.Second), "how long an HTTP/1.1 connection waits for a request (between keep-alive requests, or before its first) before it gives back its goroutine stack and read buffer (0, or not shorter than --keepalive-timeout: never)")
	fs.StringVar(&f.http1Engine, "http1-engine", env("http1-engine", server.EngineCodec), "HTTP/1.1 engine of the proxy listener: codec (the gateway's own strict codec), or fasthttp (the former engine, docs/decisions/0002-http1-engine-revisited.md)")
	fs.IntVar(&f.maxURI, "max-uri-length", envInt("max-uri-length", 8<<10), "longest request target in bytes; longer is answered 414")
	fs.StringVar(&f.escapedSlashes, "escaped-slashes", env("escaped-slashes", "keep"), "encoded slashes (%2F, %5C) and backslashes in request paths: keep (Kong: never a separator), reject (400) or decode (a '/', before dot segments are removed)")
	fs.BoolVar(&f.mergeSlashes, "merge-slashes", envBool("merge-slashes", true), "merge repeated slashes in request paths (Kong always does)")
	fs.StringVar(&f.maxHeaderBytes, "max-header-bytes", env("max-header-bytes", "16k"), "largest request head (request line and headers; HTTP/2 header list), bytes or with a k suffix; more is answered 431. Each keep-alive connection holds a read buffer this large (Envoy's edge default is 60k)")
	fs.IntVar(&f.maxHeaderCount, "max-header-count", envInt("max-header-count", edge.DefaultMaxHeaderCount), "most request header fields; more is answered 431 (Envoy's default)")
	fs.StringVar(&f.maxBody, "max-body-size", env("max-body-size", "0"), "global request body limit, bytes or with a k/m/g suffix; 0 = none (Kong's default); over it is answered 413")
	fs.IntVar(&f.maxConns, "max-conns", envInt("max-conns", 50000), "most open connections on the proxy listener (0 = no limit); more are answered 503 and closed")
	fs.IntVar(&f.maxConnsPerIP, "max-conns-per-ip", envInt("max-conns-per-ip", 0), "most open connections from one client address (0 = no limit; behind a load balancer every client shares its address); more are answered 429 and closed")
	fs.StringVar(&f.dnsResolver, "dns-resolver", env("dns-resolver", ""), "comma-separated DNS servers (ip or ip:port) for upstream targets given as names; empty = /etc/resolv.conf (Kong's dns_resolver)")
	fs.StringVar(&f.dnsOrder, "dns-order", env("dns-order", discovery.DefaultOrder), "record types tried for target names, in order (Kong's dns_order)")
	fs.StringVar(&f.dnsHostsFile, "dns-hostsfile", env("dns-hostsfile", "/etc/hosts"), "hosts file consulted before DNS (Kong's dns_hostsfile)")
	fs.DurationVar(&f.dnsStaleTTL, "dns-stale-ttl", envDuration("dns-stale-ttl", discovery.DefaultStaleTTL), "how long an expired answer keeps serving while the DNS server fails (Kong's dns_stale_ttl)")
	fs.DurationVar(&f.dnsNotFoundTTL, "dns-not-found-ttl", envDuration("dns-not-found-ttl", discovery.DefaultNotFoundTTL), "how long before a name that did not resolve is asked again (Kong's dns_not_found_ttl)")
	fs.DurationVar(&f.dnsErrorTTL, "dns-error-ttl", envDuration("dns-error-ttl", discovery.DefaultErrorTTL), "how long before a failed query is retried (Kong's dns_error_ttl)")
	fs.DurationVar(&f.drain, "drain-timeout", envDuration("drain-timeout", 30*time.Second), "how long shutdown waits for in-flight requests")
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}

func parseTrusted(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("--trusted-ips: %w", err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("--trusted-ips: %w", err)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func parseStatuses(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("%q is not an HTTP status", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func registry() *plugin.Registry { return plugin.NewRegistry(all.Specs()) }

func cmdRun(args []string, stdout, stderr io.Writer, demo bool) int {
	name := "run"
	if demo {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.register(fs, demo)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(f.logFormat, f.logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tollgate:", err)
		return 2
	}
	trusted, err := parseTrusted(f.trustedIPs)
	if err != nil {
		fmt.Fprintln(stderr, "tollgate:", err)
		return 2
	}
	retryOn, err := parseStatuses(f.retryOnStatus)
	if err != nil {
		fmt.Fprintln(stderr, "tollgate: --retry-on-status:", err)
		return 2
	}
	pol := edge.DefaultPolicy()
	pol.UnderscoreHeaders = f.underscoreHeaders
	pol.MaxHeaderCount = f.maxHeaderCount
	hb, err := parseSize(f.maxHeaderBytes)
	if err != nil || hb < 1<<10 || hb > 1<<20 {
		fmt.Fprintln(stderr, "tollgate: --max-header-bytes: want 1k to 1m, got", f.maxHeaderBytes)
		return 2
	}
	pol.MaxHeaderBytes = int(hb)
	if err := pol.Validate(); err != nil {
		fmt.Fprintln(stderr, "tollgate: --underscore-headers:", err)
		return 2
	}
	slashes, err := router.ParseSlashes(f.escapedSlashes)
	if err != nil {
		fmt.Fprintln(stderr, "tollgate: --escaped-slashes:", err)
		return 2
	}
	// with decode, what the edge would refuse as a hidden dot segment is resolved instead
	pol.DecodeSlashes = slashes == router.SlashesDecode
	maxBody, err := parseSize(f.maxBody)
	if err != nil {
		fmt.Fprintln(stderr, "tollgate: --max-body-size:", err)
		return 2
	}
	if f.keepalive <= 0 {
		fmt.Fprintln(stderr, "tollgate: --keepalive-timeout: want a positive duration, got", f.keepalive)
		return 2
	}
	parkAfter := f.parkAfter
	if parkAfter <= 0 {
		parkAfter = -1 // the server's "off"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	if demo {
		d, err := startDemoUpstreams(ctx, log)
		if err != nil {
			fmt.Fprintln(stderr, "tollgate demo:", err)
			return 1
		}
		defer d.Close()
	}

	srv, err := server.New(server.Options{
		ProxyListen: f.proxyListen, AdminListen: f.adminListen, StatusListen: f.statusListen, DebugListen: f.debugListen,
		ConfigFile: f.config, Version: version, NodeID: uuid.NewString(), Log: log,
		Registry:            registry(),
		Trust:               proxy.Trust{Prefixes: trusted, RealIPHeader: f.realIPHeader, Recursive: f.realIPRecursive},
		RequestIDHeader:     f.requestIDHeader,
		Edge:                pol,
		RetryOnStatus:       retryOn,
		ClientHeaderTimeout: f.headerTimeout, ClientBodyTimeout: f.bodyTimeout, MaxURILength: f.maxURI,
		ClientSendTimeout: f.sendTimeout,
		DrainTimeout:      f.drain, KongPriorityQuirk: f.priorityQuirk, Watch: f.watch,
		KeepaliveTimeout: f.keepalive, ParkAfter: parkAfter, HTTP1Engine: f.http1Engine,
		Conns:       server.ConnLimits{Max: f.maxConns, PerIP: f.maxConnsPerIP},
		MaxBodySize: maxBody,
		Path:        router.PathOptions{Slashes: slashes, NoMergeSlashes: !f.mergeSlashes},
		DNS: discovery.Config{Servers: splitList(f.dnsResolver), Order: splitList(f.dnsOrder), HostsFile: f.dnsHostsFile,
			StaleTTL: f.dnsStaleTTL, NotFoundTTL: f.dnsNotFoundTTL, ErrorTTL: f.dnsErrorTTL},
	})
	if err != nil {
		fmt.Fprintln(stderr, "tollgate:", err)
		return 1
	}
	if f.config != "" {
		if err := srv.LoadFile(f.config); err != nil {
			printLoadError(stderr, err)
			return 1
		}
	}
	go srv.WatchReload(ctx)
	if demo {
		go func() {
			select {
			case <-srv.Serving():
				printDemo(stdout, srv)
			case <-ctx.Done():
			}
		}()
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("server failed", "error", err)
		return 1
	}
	return 0
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseSize reads a byte count with an optional k, m or g suffix (nginx's size syntax).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	shift := 0
	switch {
	case strings.HasSuffix(s, "k"):
		shift, s = 10, s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		shift, s = 20, s[:len(s)-1]
	case strings.HasSuffix(s, "g"):
		shift, s = 30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<(62-shift) {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with k, m or g)", s)
	}
	return n << shift, nil
}

func printLoadError(w io.Writer, err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintln(w, "tollgate:", err)
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", env("config", ""), "declarative config file to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "tollgate validate: --config FILE is required")
		return 2
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(stderr, "tollgate validate:", err)
		return 1
	}
	if _, err := config.Load(*file, data, registry()); err != nil {
		printLoadError(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid\n", *file)
	return 0
}
