package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"tollgate/internal/server"
)

// The demo upstreams listen on fixed loopback ports because examples/quickstart.yaml names
// them; a newcomer reads one file and sees where each request goes.
const (
	demoEchoAddr   = "127.0.0.1:9101"
	demoUsers1Addr = "127.0.0.1:9102"
	demoUsers2Addr = "127.0.0.1:9103"
)

type demoUpstreams struct{ servers []*http.Server }

func (d *demoUpstreams) Close() {
	for _, s := range d.servers {
		_ = s.Close()
	}
}

// startDemoUpstreams starts the small services the quickstart config routes to: an echo
// service (with a server-sent events endpoint) and two instances of a users service.
func startDemoUpstreams(ctx context.Context, log *slog.Logger) (*demoUpstreams, error) {
	d := &demoUpstreams{}
	handlers := map[string]http.Handler{
		demoEchoAddr:   echoHandler(),
		demoUsers1Addr: usersHandler("users-1"),
		demoUsers2Addr: usersHandler("users-2"),
	}
	for _, addr := range []string{demoEchoAddr, demoUsers1Addr, demoUsers2Addr} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("demo upstream %s: %w (is another demo running?)", addr, err)
		}
		srv := &http.Server{Handler: handlers[addr], ReadHeaderTimeout: 5 * time.Second}
		d.servers = append(d.servers, srv)
		go func() { _ = srv.Serve(ln) }()
	}
	log.Info("demo upstreams started", "echo", demoEchoAddr, "users", []string{demoUsers1Addr, demoUsers2Addr})
	return d, nil
}

// echoHandler answers with what it received, and streams events on /echo/events.
func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			w.Header().Set("Content-Type", "text/event-stream")
			rc := http.NewResponseController(w)
			for i := 1; i <= 3; i++ {
				fmt.Fprintf(w, "id: %d\ndata: tick %d\n\n", i, i)
				_ = rc.Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(500 * time.Millisecond):
				}
			}
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		headers := map[string]string{}
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			headers[k] = strings.Join(r.Header[k], ", ")
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{
			"service": "echo", "method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
			"host": r.Host, "headers": headers, "body": string(body),
		})
	})
}

// usersHandler is a tiny JSON API; internal_id is a field the gateway strips on the way out.
func usersHandler(instance string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Powered-By", "demo")
		switch r.Method {
		case http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"instance": instance, "created": true, "internal_id": 42,
				"source": r.Header.Get("X-Request-Source")})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{
				"instance": instance, "path": r.URL.Path, "internal_id": 7,
				"source": r.Header.Get("X-Request-Source"),
				"users":  []map[string]any{{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}},
			})
		}
	})
}

func printDemo(w io.Writer, srv *server.Server) {
	p := "http://" + hostForCurl(srv.ProxyAddr)
	a := "http://" + hostForCurl(srv.AdminAddr)
	fmt.Fprintf(w, `
Tollgate demo is running: proxy %[1]s, admin %[2]s (config: examples/quickstart.yaml)

Try:
  curl -i %[1]s/echo/hello?x=1                      # routed to the echo service, X-Forwarded-* added
  curl -i %[1]s/api/v1/users                        # load-balanced 2:1 over users-1/users-2, internal_id stripped
  curl -i -X POST %[1]s/api/v1/users -d '{}'        # request-transformer adds X-Request-Source
  curl -N %[1]s/echo/events                         # server-sent events stream through as they are sent
  curl -i %[1]s/maintenance                         # request-termination answers 503
  curl -i %[1]s/nowhere                             # no route: 404 with a request id
  curl -s %[2]s/routes                              # the admin API (Kong's paths and shapes)

Edit examples/quickstart.yaml and save: the gateway reloads it. Ctrl-C drains and stops.
`, p, a)
}

func hostForCurl(a net.Addr) string {
	if a == nil {
		return "off"
	}
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if t.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", t.Port)
	}
	return t.String()
}
