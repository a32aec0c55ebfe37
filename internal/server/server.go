// Package server owns sockets and the process lifecycle: the proxy, admin and status
// listeners, HTTP/2 hand-off, config loading and reload (SIGHUP, file watch), and drain on
// shutdown. The request pipeline itself lives in internal/proxy.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"

	"tollgate/internal/circuit"
	"tollgate/internal/config"
	"tollgate/internal/discovery"
	"tollgate/internal/edge"
	"tollgate/internal/h1"
	"tollgate/internal/health"
	"tollgate/internal/plugin"
	"tollgate/internal/proxy"
	"tollgate/internal/router"
	"tollgate/internal/snapshot"
)

// Options configure a Server.
type Options struct {
	ProxyListen  string // "" disables the listener
	AdminListen  string
	StatusListen string
	DebugListen  string // Go's profiles (net/http/pprof); "" = off
	ConfigFile   string // "" starts empty
	Version      string
	NodeID       string
	Log          *slog.Logger
	Registry     *plugin.Registry
	Trust        proxy.Trust
	// RequestIDHeader names the request id header (proxy.DefaultRequestIDHeader when empty).
	RequestIDHeader string
	// RetryOnStatus: upstream statuses retried on another try (see proxy.Options).
	RetryOnStatus []int
	// ClientHeaderTimeout bounds reading a request head, ClientBodyTimeout the wait between
	// two reads of its body (nginx's client_header_timeout and client_body_timeout, both 60 s
	// when zero): slow clients cannot hold connections forever.
	ClientHeaderTimeout, ClientBodyTimeout time.Duration
	// ClientSendTimeout bounds each write of a response to an HTTP/1.1 client, between two
	// writes rather than over the whole response (nginx's send_timeout; 60 s when zero): a
	// client that stops reading cannot hold its connection, and the upstream's behind it,
	// forever. It applies on the codec; fasthttp's WriteTimeout would bound whole
	// responses, cutting long streams, so that engine goes without. Upgraded connections
	// (WebSocket) get it on both engines: the proxy's tunnel sets it per write.
	ClientSendTimeout time.Duration
	// MaxURILength bounds the request target in bytes; longer is answered 414 (8 KiB when
	// zero, nginx's large_client_header_buffers line size).
	MaxURILength int
	// DrainTimeout bounds how long shutdown waits for in-flight requests.
	DrainTimeout time.Duration
	// KeepaliveTimeout closes an HTTP/1.1 keep-alive connection idle this long (nginx's
	// keepalive_timeout; 75 s when zero).
	KeepaliveTimeout time.Duration
	// ParkAfter is how long an HTTP/1.1 connection waits for a request (between keep-alive
	// requests, or before its first) before it gives back its goroutine stack and buffers
	// (see park.go); a negative value turns parking off, zero means one second.
	ParkAfter time.Duration
	// Edge is the strictness policy for HTTP/1.1 request heads (edge.DefaultPolicy when zero).
	Edge edge.Policy
	// HTTP1Engine serves HTTP/1.1 on the proxy listener: EngineCodec, the gateway's own
	// codec (internal/h1; the default, when empty), or EngineFasthttp.
	HTTP1Engine string
	// KongPriorityQuirk reproduces Kong 3.9's 32-bit route priority arithmetic (opt-in).
	KongPriorityQuirk bool
	// Watch reloads the config file when it changes.
	Watch bool
	// Conns bounds the proxy listener's connections, in all and per client address.
	Conns ConnLimits
	// MaxBodySize is the global request body limit in bytes (0: none); see proxy.Options.
	MaxBodySize int64
	// Path is how request paths are normalised (escaped slashes, slash merging).
	Path router.PathOptions
	// DNS configures the resolution of upstream targets given as names (Kong's dns_*
	// settings); the zero value reads /etc/resolv.conf and /etc/hosts.
	DNS discovery.Config
}

// Server is one running gateway.
type Server struct {
	opts       Options
	log        *slog.Logger
	holder     snapshot.Holder
	transports *proxy.Transports
	health     *health.Checker
	breakers   *circuit.Registry
	dns        *discovery.Watcher
	dnsChanged chan struct{}
	dnsStop    sync.Once
	proxy      *proxy.Proxy

	fast   *fasthttp.Server
	h1     *h1.Server // instead of fast with EngineCodec
	parker *parker    // nil when parking is off
	//lint:ignore SA1019 see serveH2: x/net's server is the one that serves handed-over connections
	h2        *http2.Server
	h2base    *http.Server
	h2handler http.Handler
	admin     *http.Server
	status    *http.Server
	debug     *http.Server

	ctx     context.Context
	loadMu  sync.Mutex // one load at a time (admin POST /config, SIGHUP, file watch)
	serving chan struct{}

	// addresses actually bound (useful with port 0)
	ProxyAddr, AdminAddr, StatusAddr net.Addr
}

// New builds a server with an empty config. Call Load, then Run.
func New(opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.KeepaliveTimeout == 0 {
		opts.KeepaliveTimeout = 75 * time.Second
	}
	if opts.ParkAfter == 0 {
		opts.ParkAfter = time.Second
	}
	if opts.ClientHeaderTimeout == 0 {
		opts.ClientHeaderTimeout = 60 * time.Second
	}
	if opts.MaxURILength == 0 {
		opts.MaxURILength = 8 << 10
	}
	if opts.ClientBodyTimeout == 0 {
		opts.ClientBodyTimeout = 60 * time.Second
	}
	if opts.ClientSendTimeout == 0 {
		opts.ClientSendTimeout = 60 * time.Second
	}
	if h := opts.RequestIDHeader; h != "" && !edge.ValidToken([]byte(h)) {
		// the proxy writes it as a field name on every request and response, unchecked
		return nil, fmt.Errorf("request id header %q: not a valid field name", h)
	}
	switch opts.HTTP1Engine {
	case "":
		opts.HTTP1Engine = EngineCodec
	case EngineFasthttp, EngineCodec:
	default:
		return nil, fmt.Errorf("http1 engine %q: want %s or %s", opts.HTTP1Engine, EngineFasthttp, EngineCodec)
	}
	s := &Server{opts: opts, log: opts.Log, transports: proxy.NewTransports(), health: health.New(opts.Log), serving: make(chan struct{})}
	s.breakers = circuit.NewRegistry(circuit.Options{OnChange: func(c circuit.Change) {
		level := slog.LevelInfo
		if c.To == circuit.Open {
			level = slog.LevelWarn
		}
		s.log.Log(context.Background(), level, "circuit breaker state changed", "breaker", c.Name,
			"from", c.From.String(), "to", c.To.String(), "reason", c.Reason)
	}})
	resolver, err := discovery.NewResolver(opts.DNS)
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	// The watcher calls back on its own goroutine and must not wait on a load in progress
	// (a load waits on the watcher for new names): the callback only signals, and dnsLoop
	// recompiles.
	s.dnsChanged = make(chan struct{}, 1)
	s.dns = discovery.NewWatcher(resolver, func(r discovery.Result) {
		s.log.Info("target addresses changed", "name", r.Name, "port", r.Key.Port, "addresses", len(r.Addrs), "error", errString(r.Err))
		select {
		case s.dnsChanged <- struct{}{}:
		default:
		}
	}, discovery.WatcherOptions{Logger: opts.Log})
	go s.dnsLoop()
	empty, err := s.compile(&config.Config{Hash: emptyHash})
	if err != nil {
		return nil, fmt.Errorf("compile empty config: %w", err)
	}
	s.holder.Swap(empty)
	s.proxy = proxy.New(proxy.Options{
		Log: opts.Log, Version: opts.Version, Trust: opts.Trust, RequestIDHeader: opts.RequestIDHeader, RetryOnStatus: opts.RetryOnStatus,
		ClientBodyTimeout: opts.ClientBodyTimeout,
		ClientSendTimeout: opts.ClientSendTimeout,
		MaxBodySize:       opts.MaxBodySize,
		Path:              opts.Path,
		Health:            s.health,
		Holder:            &s.holder, Transports: s.transports,
	})
	return s, nil
}

const emptyHash = "00000000000000000000000000000000"

func (s *Server) compile(cfg *config.Config) (*snapshot.Snapshot, error) {
	return snapshot.Compile(cfg, s.opts.Registry, snapshot.Options{
		Log: s.log, NodeID: s.opts.NodeID, KongPriorityQuirk: s.opts.KongPriorityQuirk,
		Transport: s.transports.For, Breakers: s.breakers, Resolve: s.dns.Current,
	})
}

// dnsLoop recompiles the running config when targets' addresses change, until the watcher is
// closed. The config is the same, so it cannot fail but for a bug; if it does, the running
// snapshot stays.
func (s *Server) dnsLoop() {
	for range s.dnsChanged {
		s.loadMu.Lock()
		cur := s.holder.Load()
		snap, err := s.compile(cur.Config)
		if err != nil {
			s.log.Error("recompile after a DNS change failed", "error", err)
		} else {
			s.install(snap)
		}
		s.loadMu.Unlock()
	}
}

// stopDNS stops re-resolving and ends dnsLoop (once).
func (s *Server) stopDNS() {
	s.dnsStop.Do(func() {
		s.dns.Close() // no callback runs after Close returns
		close(s.dnsChanged)
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Current is the snapshot serving now.
func (s *Server) Current() *snapshot.Snapshot { return s.holder.Load() }

// LoadFile reads, validates, compiles and installs the config file.
func (s *Server) LoadFile(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	return s.LoadBytes(file, data)
}

// LoadBytes validates, compiles and swaps in a config; on any error the current snapshot
// keeps serving. The previous snapshot is retired once its requests are done.
func (s *Server) LoadBytes(file string, data []byte) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	cfg, err := config.Load(file, data, s.opts.Registry)
	if err != nil {
		return err
	}
	// targets given as names are resolved before the config serves (the watcher answers
	// new names at once); on failure the watch goes back to the running config's names
	s.dns.Set(snapshot.NamedTargets(cfg))
	snap, err := s.compile(cfg)
	if err != nil {
		s.dns.Set(snapshot.NamedTargets(s.holder.Load().Config))
		return fmt.Errorf("compile config: %w", err)
	}
	s.install(snap)
	s.log.Info("config applied", "file", file, "config_hash", cfg.Hash,
		"services", len(cfg.Services), "routes", len(cfg.Routes), "plugins", len(cfg.Plugins))
	return nil
}

// install makes snap the serving snapshot (loadMu held): health state and breakers carry
// over to its targets first, and the previous snapshot is retired once its requests end.
func (s *Server) install(snap *snapshot.Snapshot) {
	ups := make([]health.Upstream, 0, len(snap.Pools))
	for _, pool := range snap.Pools {
		ups = append(ups, health.Upstream{Name: pool.Config.Name, Config: pool.Config.Healthchecks,
			Targets: pool.Targets, HostHeader: pool.Config.HostHeader, Down: &pool.Down})
	}
	s.health.Apply(ups)
	old := s.holder.Swap(snap)
	s.breakers.Retain(snap.BreakerNames)
	if old != nil {
		go old.Retire()
	}
}

// Serving is closed once every listener accepts connections.
func (s *Server) Serving() <-chan struct{} { return s.serving }

// Run listens and serves until ctx ends, then drains: it stops accepting, lets in-flight
// requests finish up to DrainTimeout, closes idle keep-alive connections and returns.
func (s *Server) Run(ctx context.Context) error {
	s.ctx = ctx
	var lns []net.Listener
	closeAll := func() {
		for _, l := range lns {
			_ = l.Close()
		}
	}
	listen := func(addr string, lc net.ListenConfig) (net.Listener, error) {
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		lns = append(lns, l)
		return l, nil
	}
	var proxyLn, adminLn, statusLn, debugLn net.Listener
	var err error
	if s.opts.ProxyListen != "" {
		if proxyLn, err = listen(s.opts.ProxyListen, proxyListenConfig()); err != nil {
			return err
		}
		s.ProxyAddr = proxyLn.Addr()
	}
	if s.opts.AdminListen != "" {
		if adminLn, err = listen(s.opts.AdminListen, net.ListenConfig{}); err != nil {
			return err
		}
		s.AdminAddr = adminLn.Addr()
	}
	if s.opts.StatusListen != "" {
		if statusLn, err = listen(s.opts.StatusListen, net.ListenConfig{}); err != nil {
			return err
		}
		s.StatusAddr = statusLn.Addr()
	}

	if s.opts.DebugListen != "" {
		if debugLn, err = listen(s.opts.DebugListen, net.ListenConfig{}); err != nil {
			return err
		}
	}

	errc := make(chan error, 5)
	if proxyLn != nil {
		port := proxyLn.Addr().(*net.TCPAddr).Port
		s.h2handler = proxy.StdHandler{P: s.proxy, Scheme: "http", ListenPort: port, Edge: &s.opts.Edge}
		//lint:ignore SA1019 see serveH2; settings come from h2base.HTTP2 below
		s.h2 = &http2.Server{}
		s.h2base = &http.Server{
			Handler:     s.h2handler,
			ErrorLog:    slogStd(s.log),
			IdleTimeout: 60 * time.Second,
			// the same head limit as HTTP/1.1, advertised as SETTINGS_MAX_HEADER_LIST_SIZE
			// instead of x/net's 1 MiB default
			MaxHeaderBytes: s.opts.Edge.HeaderBytes(),
			HTTP2: &http.HTTP2Config{
				// RFC 9113's default frame size: what peers and h2spec expect
				MaxReadFrameSize: 16 << 10,
				// a client that floods SETTINGS or PING and never reads their ACKs is cut
				// once a write to it stalls this long
				WriteByteTimeout:     30 * time.Second,
				MaxConcurrentStreams: 100,
				// Envoy's edge defaults: 64 KiB per stream, 1 MiB per connection.
				MaxReceiveBufferPerStream:     64 << 10,
				MaxReceiveBufferPerConnection: 1 << 20,
			},
		}
		//lint:ignore SA1019 registers the graceful-shutdown hook that sends GOAWAY to handed-over connections
		if err := http2.ConfigureServer(s.h2base, s.h2); err != nil {
			closeAll()
			return fmt.Errorf("configure http2: %w", err)
		}
		if s.opts.HTTP1Engine == EngineCodec {
			// The codec applies the edge rules in its parser, so it needs no edge tracker;
			// the parker sits right under it, as under the tracker for fasthttp.
			s.h1 = s.newH1(port)
			var ln net.Listener = sniffListener{Listener: newLimitListener(lingerListener{proxyLn}, s.opts.Conns, s.log), s: s}
			if s.parker = newParker(s.h1.ServeConn, s.opts.ParkAfter, s.opts.KeepaliveTimeout, s.log); s.parker != nil {
				ln = parkListener{Listener: ln, p: s.parker}
			}
			s.h1.ConnState = s.h1State
			go func() { errc <- s.h1.Serve(ln) }()
		}
	}
	if proxyLn != nil && s.h1 == nil {
		port := proxyLn.Addr().(*net.TCPAddr).Port
		s.fast = &fasthttp.Server{
			Handler:                       s.fastHandler(port),
			ErrorHandler:                  s.proxy.ParseError,
			Name:                          "",
			NoDefaultServerHeader:         true,
			NoDefaultContentType:          true,
			NoDefaultDate:                 false,
			StreamRequestBody:             true,
			DisablePreParseMultipartForm:  true,
			DisableHeaderNamesNormalizing: false,
			// A request head must fit the read buffer, so the buffer is the head limit
			// (plus room for the request line); fasthttp keeps it per keep-alive
			// connection, so raising the limit raises idle memory by as much.
			ReadBufferSize:  max(s.opts.Edge.HeaderBytes()+1<<10, 4<<10),
			WriteBufferSize: 16 << 10,
			// Bounds reading each request head; the body has its own between-reads bound
			// (proxy's slowBodyReader), which replaces this deadline once the handler runs.
			ReadTimeout:     s.opts.ClientHeaderTimeout,
			IdleTimeout:     s.opts.KeepaliveTimeout,
			CloseOnShutdown: true,
			// Off: idle connections give their buffers back by parking (park.go), and with
			// it on the engine reads a new connection's first byte alone, a read syscall more
			// per connection (and a request whose head fits that first read would start its
			// handler before the edge tracker saw the rest of what the client sent).
			ReduceMemoryUsage: false,
			Logger:            fastLogger{s.log},
		}
		// The edge tracker wraps outermost, right under the engine, so it sees exactly the
		// bytes the engine parses; the parker right under it, so it sees the engine's reads,
		// deadlines and Close.
		// The connection limits wrap innermost, so a connection handed to HTTP/2 or parked
		// still holds its slot until it closes.
		limited := newLimitListener(lingerListener{proxyLn}, s.opts.Conns, s.log)
		var ln net.Listener = sniffListener{Listener: limited, s: s}
		if s.parker = newParker(s.fast.ServeConn, s.opts.ParkAfter, s.opts.KeepaliveTimeout, s.log); s.parker != nil {
			ln = parkListener{Listener: ln, p: s.parker}
			// The engine's goroutines that served parked connections end after as long:
			// their stacks are what parking gives back.
			s.fast.MaxIdleWorkerDuration = s.opts.ParkAfter
		}
		s.fast.ConnState = s.fastState
		go func() { errc <- s.fast.Serve(edge.NewListener(ln)) }()
	}
	if adminLn != nil {
		s.admin = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slogStd(s.log)}
		go func() { errc <- s.admin.Serve(adminLn) }()
	}
	if statusLn != nil {
		s.status = &http.Server{Handler: s.statusHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slogStd(s.log)}
		go func() { errc <- s.status.Serve(statusLn) }()
	}
	if debugLn != nil {
		s.debug = &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slogStd(s.log)}
		go func() { errc <- s.debug.Serve(debugLn) }()
		s.log.Warn("profiling endpoints on", "debug", debugLn.Addr().String())
	}
	close(s.serving)
	s.log.Info("tollgate started", "version", s.opts.Version, "node_id", s.opts.NodeID,
		"proxy", addrString(s.ProxyAddr), "admin", addrString(s.AdminAddr), "status", addrString(s.StatusAddr))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, h1.ErrServerClosed) {
			closeAll()
			s.parker.stop()
			return err
		}
	}
	return s.drain()
}

func (s *Server) drain() error {
	s.log.Info("draining", "in_flight", s.proxy.Inflight.Load(), "grace", s.opts.DrainTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	s.parker.stop() // parked connections are idle keep-alives: closed at once, as the engine's are
	if s.fast != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.fast.ShutdownWithContext(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				s.log.Warn("proxy listener shutdown", "error", err)
			}
		}()
		_ = s.h2base.Shutdown(ctx) // sends GOAWAY to HTTP/2 connections
	}
	if s.h1 != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.h1.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				s.log.Warn("proxy listener shutdown", "error", err)
			}
		}()
		_ = s.h2base.Shutdown(ctx)
	}
	for _, hs := range []*http.Server{s.admin, s.status, s.debug} {
		if hs != nil {
			_ = hs.Shutdown(ctx)
		}
	}
	// Hijacked (HTTP/2, WebSocket) connections are not tracked by the HTTP/1.1 engine: wait
	// for the in-flight counter, which covers every front end.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.proxy.Inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			s.log.Warn("drain grace period over", "in_flight", s.proxy.Inflight.Load())
			wg.Wait()
			s.transports.CloseIdle()
			_ = s.health.Close()
			s.stopDNS()
			return nil
		case <-tick.C:
		}
	}
	wg.Wait()
	s.transports.CloseIdle()
	_ = s.health.Close()
	s.stopDNS()
	s.log.Info("stopped")
	return nil
}

// fastHandler is the HTTP/1.1 entry: HTTP/2 hand-off first, then the proxy. A panic anywhere
// below is recovered here, once, and answered 500 without killing the connection pool.
func (s *Server) fastHandler(port int) fasthttp.RequestHandler {
	pol := &s.opts.Edge
	return func(rc *fasthttp.RequestCtx) {
		// Strict framing and header checks first: a head the upstream could read differently
		// must never reach routing, plugins or the upstream (see internal/edge).
		v, drops := pol.CheckRequest(rc)
		if !v.OK() {
			s.proxy.Refuse(rc, v.Status, v.Reason)
			s.log.Debug("request refused at the edge", "status", v.Status, "reason", v.Reason, "remote", rc.RemoteAddr().String())
			return
		}
		if len(rc.Request.Header.RequestURI()) > s.opts.MaxURILength {
			s.proxy.Refuse(rc, 414, "URI too long")
			return
		}
		drops.Apply(&rc.Request.Header)
		if isH2CUpgrade(rc) && s.serveH2CUpgrade(rc) {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic while serving a request", "panic", fmt.Sprint(r), "uri", string(rc.RequestURI()))
				rc.Response.Reset()
				rc.SetStatusCode(500)
				rc.SetContentType("application/json; charset=utf-8")
				rc.SetBodyString(`{"message":"An unexpected error occurred"}`)
			}
		}()
		s.proxy.ServeFast(rc, "http", port)
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// fastLogger routes the HTTP/1.1 engine's own messages (malformed requests, I/O errors) to
// slog at debug level: they are per-connection noise, not operator events.
type fastLogger struct{ l *slog.Logger }

func (f fastLogger) Printf(format string, args ...any) {
	if f.l.Enabled(context.Background(), slog.LevelDebug) {
		f.l.Debug(fmt.Sprintf(format, args...), "component", "http1")
	}
}
