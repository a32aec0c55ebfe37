package health

import (
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tollgate/internal/balancer"
	"tollgate/internal/config"
)

func defaults() config.Healthchecks {
	return config.Healthchecks{
		Active: config.ActiveHealthcheck{
			Type: "http", Timeout: 0.2, Concurrency: 10, HTTPPath: "/health", HTTPSVerifyCertificate: true,
			Healthy:   config.ActiveHealthy{HTTPStatuses: []int{200, 302}},
			Unhealthy: config.ActiveUnhealthy{HTTPStatuses: []int{429, 404, 500, 501, 502, 503, 504, 505}},
		},
		Passive: config.PassiveHealthcheck{
			Type:      "http",
			Healthy:   config.PassiveHealthy{HTTPStatuses: []int{200, 201, 202, 203, 204}},
			Unhealthy: config.PassiveUnhealthy{HTTPStatuses: []int{429, 500, 503}},
		},
	}
}

// switchable is an upstream whose /health answer can be changed while running.
func switchable(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var code atomic.Int32
	code.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" || code.Load() == 0 {
			time.Sleep(time.Second)
		}
		w.WriteHeader(int(max(code.Load(), 200)))
	}))
	t.Cleanup(srv.Close)
	return srv, &code
}

func targetFor(addr string) *balancer.Target {
	h, _, _ := net.SplitHostPort(addr)
	return &balancer.Target{Addr: addr, Host: h, Weight: 100}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestActiveHTTPChecks(t *testing.T) {
	srv, code := switchable(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	cfg := defaults()
	cfg.Active.Healthy.Interval, cfg.Active.Unhealthy.Interval = 0.03, 0.03
	cfg.Active.Healthy.Successes, cfg.Active.Unhealthy.HTTPFailures = 2, 3
	c := New(nil)
	defer c.Close()
	tg := targetFor(addr)
	c.Apply([]Upstream{{Name: "u", Config: cfg, Targets: []*balancer.Target{tg}}})
	code.Store(500)
	eventually(t, "unhealthy after http failures", func() bool { return !tg.Healthy() })
	if h, _ := c.Health("u"); h[0].Health != Unhealthy {
		t.Errorf("Health = %+v", h)
	}
	code.Store(200)
	eventually(t, "healthy again after successes", tg.Healthy)
}

func TestActiveTCPAndTimeouts(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	slow, code := switchable(t)
	code.Store(0) // every answer waits a second
	tests := []struct {
		name  string
		typ   string
		addr  string
		tweak func(*config.Healthchecks)
	}{
		{"http probe to a closed port: tcp failures", "http", dead, func(h *config.Healthchecks) { h.Active.Unhealthy.TCPFailures = 2 }},
		{"tcp probe to a closed port", "tcp", dead, func(h *config.Healthchecks) { h.Active.Unhealthy.TCPFailures = 1 }},
		{"slow target: timeouts", "http", strings.TrimPrefix(slow.URL, "http://"), func(h *config.Healthchecks) { h.Active.Unhealthy.Timeouts = 2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaults()
			cfg.Active.Type = tc.typ
			cfg.Active.Healthy.Interval, cfg.Active.Unhealthy.Interval = 0.03, 0.03
			tc.tweak(&cfg)
			c := New(nil)
			defer c.Close()
			tg := targetFor(tc.addr)
			c.Apply([]Upstream{{Name: "u", Config: cfg, Targets: []*balancer.Target{tg}}})
			eventually(t, "unhealthy", func() bool { return !tg.Healthy() })
		})
	}
}

func TestPassive(t *testing.T) {
	type obs struct {
		status       int
		tcp, timeout bool
	}
	tests := []struct {
		name    string
		tweak   func(*config.Healthchecks)
		seq     []obs
		healthy bool
	}{
		{"http failures trip", func(h *config.Healthchecks) { h.Passive.Unhealthy.HTTPFailures = 3 }, []obs{{status: 500}, {status: 503}, {status: 500}}, false},
		{"a success in between resets", func(h *config.Healthchecks) { h.Passive.Unhealthy.HTTPFailures = 3 }, []obs{{status: 500}, {status: 500}, {status: 200}, {status: 500}}, true},
		{"504 counts as a timeout", func(h *config.Healthchecks) { h.Passive.Unhealthy.Timeouts = 2 }, []obs{{status: 504}, {timeout: true}}, false},
		{"tcp failures", func(h *config.Healthchecks) { h.Passive.Unhealthy.TCPFailures = 2 }, []obs{{tcp: true}, {tcp: true}}, false},
		{"0 disables the trigger", func(h *config.Healthchecks) { h.Passive.Unhealthy.TCPFailures = 1 }, []obs{{status: 500}, {status: 500}, {status: 500}}, true},
		{"successes bring it back", func(h *config.Healthchecks) {
			h.Passive.Unhealthy.HTTPFailures, h.Passive.Healthy.Successes = 1, 2
		}, []obs{{status: 500}, {status: 200}, {status: 200}}, true},
		{"without healthy.successes it stays down", func(h *config.Healthchecks) { h.Passive.Unhealthy.HTTPFailures = 1 }, []obs{{status: 500}, {status: 200}, {status: 200}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaults()
			tc.tweak(&cfg)
			c := New(nil)
			defer c.Close()
			tg := targetFor("10.0.0.1:80")
			c.Apply([]Upstream{{Name: "u", Config: cfg, Targets: []*balancer.Target{tg}}})
			for _, o := range tc.seq {
				c.Report("u", tg, o.status, o.tcp, o.timeout)
			}
			if tg.Healthy() != tc.healthy {
				t.Errorf("healthy = %v, want %v", tg.Healthy(), tc.healthy)
			}
		})
	}
}

func TestApplyKeepsStateAndStopsProbes(t *testing.T) {
	base := runtime.NumGoroutine()
	srv, _ := switchable(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	cfg := defaults()
	cfg.Active.Healthy.Interval = 0.02
	cfg.Passive.Unhealthy.HTTPFailures = 1
	c := New(nil)
	t1 := targetFor(addr)
	c.Apply([]Upstream{{Name: "u", Config: cfg, Targets: []*balancer.Target{t1}}})
	c.Report("u", t1, 500, false, false)
	if t1.Healthy() {
		t.Fatal("passive failure not applied")
	}
	// a new snapshot: new Target values for the same address keep the state
	t2 := targetFor(addr)
	other := targetFor("10.9.9.9:80")
	c.Apply([]Upstream{{Name: "u", Config: cfg, Targets: []*balancer.Target{t2}}, {Name: "v", Config: defaults(), Targets: []*balancer.Target{other}}})
	if t2.Healthy() {
		t.Error("new snapshot's target lost the unhealthy state")
	}
	if h, ok := c.Health("v"); !ok || h[0].Health != HealthchecksOff {
		t.Errorf("v health %+v", h)
	}
	if err := c.SetManual("u", addr, true); err != nil || !t2.Healthy() {
		t.Errorf("manual healthy: %v %v", err, t2.Healthy())
	}
	if err := c.SetManual("u", "nope:1", true); err == nil {
		t.Error("unknown target accepted")
	}
	c.Apply(nil) // every upstream removed: probes stop
	c.Close()
	eventually(t, "probe goroutines gone", func() bool { return runtime.NumGoroutine() <= base+2 })
}

func TestIntervalZeroMeansNoProbes(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := New(nil)
	defer c.Close()
	c.Apply([]Upstream{{Name: "u", Config: defaults(), Targets: []*balancer.Target{targetFor(strings.TrimPrefix(srv.URL, "http://"))}}})
	time.Sleep(100 * time.Millisecond)
	if hits.Load() != 0 {
		t.Errorf("%d probes with interval 0", hits.Load())
	}
}

// TestThreshold: the upstream is down while its healthy weight is under the threshold
// percentage, whatever made targets unhealthy, and up again when enough come back.
func TestThreshold(t *testing.T) {
	tests := []struct {
		name      string
		threshold float64
		weights   []int
		down      []int // targets marked unhealthy
		want      bool  // upstream down
	}{
		{"threshold 0 never fails the upstream", 0, []int{100, 100}, []int{0, 1}, false},
		{"half the weight left, threshold 50", 50, []int{100, 100}, []int{0}, false},
		{"half the weight left, threshold 51", 51, []int{100, 100}, []int{0}, true},
		{"weights count, not targets", 60, []int{300, 100, 100}, []int{1, 2}, false},
		{"weights count, heavy one down", 60, []int{300, 100, 100}, []int{0}, true},
		{"nothing down", 100, []int{1, 1}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(nil)
			defer c.Close()
			hc := defaults()
			hc.Threshold = tc.threshold
			var ts []*balancer.Target
			for i, w := range tc.weights {
				tg := targetFor("127.0.0.1:" + string(rune('1'+i)) + "000")
				tg.Weight = w
				ts = append(ts, tg)
			}
			var down atomic.Bool
			c.Apply([]Upstream{{Name: "u", Config: hc, Targets: ts, Down: &down}})
			for _, i := range tc.down {
				if err := c.SetManual("u", ts[i].Addr, false); err != nil {
					t.Fatal(err)
				}
			}
			if down.Load() != tc.want {
				t.Fatalf("upstream down = %v, want %v", down.Load(), tc.want)
			}
			b, _ := c.Balancer("u")
			if (b.Health == Unhealthy) != tc.want {
				t.Fatalf("Balancer() = %+v", b)
			}
			for _, i := range tc.down {
				_ = c.SetManual("u", ts[i].Addr, true)
			}
			if down.Load() {
				t.Fatal("still down with every target healthy again")
			}
			// a reload keeps the verdict consistent with the carried-over state
			_ = c.SetManual("u", ts[0].Addr, false)
			var down2 atomic.Bool
			c.Apply([]Upstream{{Name: "u", Config: hc, Targets: ts, Down: &down2}})
			b1, _ := c.Balancer("u")
			if down2.Load() != (b1.Health == Unhealthy) {
				t.Fatalf("after Apply: flag %v, verdict %+v", down2.Load(), b1)
			}
		})
	}
}
