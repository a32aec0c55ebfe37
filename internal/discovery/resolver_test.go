package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"tollgate/internal/discovery/dnstest"
)

// testTimeout bounds one query in tests, so a dropped query costs little.
const testTimeout = 300 * time.Millisecond

// writeFile writes a temporary file and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newResolver makes a Resolver that asks only srv and reads no file of the host.
func newResolver(t *testing.T, srv *dnstest.Server, hosts string, mod func(*Config)) *Resolver {
	t.Helper()
	cfg := Config{
		Servers:   []string{srv.Addr()},
		HostsFile: writeFile(t, "hosts", hosts),
		Timeout:   testTimeout,
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// addrs renders Addrs as "ip:port/weight".
func addrs(as []Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = fmt.Sprintf("%s/%d", a, a.Weight)
	}
	return out
}

// errTransient in a want field means: an error that is not ErrNotFound.
var errTransient = errors.New("transient")

func checkErr(t *testing.T, got, want error) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Fatalf("err = %v, want none", got)
	case want == nil:
	case got == nil:
		t.Fatalf("err = nil, want %v", want)
	case want == errTransient && errors.Is(got, ErrNotFound):
		t.Fatalf("err = %v, want a transient error", got)
	case want != errTransient && !errors.Is(got, want):
		t.Fatalf("err = %v, want %v", got, want)
	}
}

const testHosts = `# comment
127.0.9.1   hosted.test alias.hosted.test   # trailing comment
127.0.9.2   hosted.test
::9         hosted.test
::8         v6hosted.test
127.0.9.9   shadow.test
not-an-ip   broken.test
`

func fillZone(srv *dnstest.Server) {
	srv.Set("api.test", "api.test. 30 IN A 127.0.0.3", "api.test. 30 IN A 127.0.0.2")
	srv.Set("ttl.test", "ttl.test. 60 IN A 127.0.0.2", "ttl.test. 5 IN A 127.0.0.3")
	srv.Set("zero.test", "zero.test. 0 IN A 127.0.0.2")
	srv.Set("v6.test", "v6.test. 30 IN AAAA ::2")
	srv.Set("dual.test", "dual.test. 30 IN A 127.0.0.4", "dual.test. 30 IN AAAA ::4")
	srv.Set("svc.test",
		"svc.test. 20 IN SRV 10 5 8080 a.test.",
		"svc.test. 20 IN SRV 10 0 0 b.test.",
		"svc.test. 20 IN SRV 20 100 9999 c.test.")
	srv.Set("a.test", "a.test. 10 IN A 127.0.1.1")
	srv.Set("b.test", "b.test. 30 IN A 127.0.1.2", "b.test. 30 IN A 127.0.1.3")
	srv.Set("c.test", "c.test. 30 IN A 127.0.1.9")
	srv.Set("both.test", "both.test. 30 IN SRV 10 10 9000 a.test.", "both.test. 30 IN A 127.0.2.1")
	srv.Set("self.test", "self.test. 30 IN SRV 0 0 80 self.test.", "self.test. 30 IN A 127.0.3.1")
	srv.Set("halfdead.test", "halfdead.test. 30 IN SRV 1 1 81 dead.test.", "halfdead.test. 30 IN SRV 1 1 82 a.test.")
	srv.Set("alldead.test", "alldead.test. 30 IN SRV 1 1 81 dead.test.")
	srv.Set("ipsrv.test", "ipsrv.test. 30 IN SRV 1 7 83 127.0.4.1.")
	srv.Set("alias1.test", "alias1.test. 25 IN CNAME alias2.test.")
	srv.Set("alias2.test", "alias2.test. 15 IN CNAME api.test.")
	srv.Set("srvalias.test", "srvalias.test. 30 IN CNAME svc.test.")
	srv.Set("loop1.test", "loop1.test. 30 IN CNAME loop2.test.")
	srv.Set("loop2.test", "loop2.test. 30 IN CNAME loop1.test.")
	srv.Set("nodata.test", `nodata.test. 30 IN TXT "no addresses here"`)
	srv.Set("shadow.test", "shadow.test. 30 IN A 127.0.0.99")
	srv.Set("servfail.test", "servfail.test. 30 IN A 127.0.0.5")
	srv.Fail("servfail.test", dns.RcodeServerFailure)
	srv.Set("drop.test", "drop.test. 30 IN A 127.0.0.6")
	srv.Drop("drop.test", true)
}

func TestResolve(t *testing.T) {
	srv := dnstest.Start(t)
	fillZone(srv)

	tests := []struct {
		name      string
		host      string
		port      int
		weight    int
		order     []string
		wantKind  string
		wantAddrs []string
		wantTTL   time.Duration
		wantErr   error
		noQuery   bool // answered without asking the server
	}{
		{name: "A records get the target's port and weight", host: "api.test", port: 8000, weight: 100,
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:8000/100", "127.0.0.3:8000/100"}, wantTTL: 30 * time.Second},
		{name: "names are case-insensitive", host: "API.Test", port: 80, weight: 1,
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:80/1", "127.0.0.3:80/1"}, wantTTL: 30 * time.Second},
		{name: "fully qualified name", host: "api.test.", port: 80, weight: 1,
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:80/1", "127.0.0.3:80/1"}, wantTTL: 30 * time.Second},
		{name: "target weight 0 is kept", host: "api.test", port: 80, weight: 0,
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:80/0", "127.0.0.3:80/0"}, wantTTL: 30 * time.Second},
		{name: "TTL is the smallest of the records", host: "ttl.test", port: 80, weight: 1,
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:80/1", "127.0.0.3:80/1"}, wantTTL: 5 * time.Second},
		{name: "TTL 0 is raised to MinTTL", host: "zero.test", port: 80, weight: 1,
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:80/1"}, wantTTL: DefaultMinTTL},
		{name: "AAAA is not in the default order", host: "v6.test", port: 80, weight: 1,
			wantErr: ErrNotFound, wantTTL: DefaultNotFoundTTL},
		{name: "AAAA when the order has it", host: "v6.test", port: 80, weight: 1, order: []string{"LAST", "SRV", "A", "AAAA", "CNAME"},
			wantKind: KindAAAA, wantAddrs: []string{"[::2]:80/1"}, wantTTL: 30 * time.Second},
		{name: "A before AAAA", host: "dual.test", port: 80, weight: 1, order: []string{"A", "AAAA"},
			wantKind: KindA, wantAddrs: []string{"127.0.0.4:80/1"}, wantTTL: 30 * time.Second},
		{name: "AAAA before A", host: "dual.test", port: 80, weight: 1, order: []string{"aaaa", "a"},
			wantKind: KindAAAA, wantAddrs: []string{"[::4]:80/1"}, wantTTL: 30 * time.Second},
		{name: "SRV port and weight, port 0 and weight 0, top priority only", host: "svc.test", port: 8000, weight: 100,
			wantKind:  KindSRV,
			wantAddrs: []string{"127.0.1.1:8080/5", "127.0.1.2:8000/1", "127.0.1.3:8000/1"}, wantTTL: 10 * time.Second},
		{name: "SRV before A in the default order", host: "both.test", port: 8000, weight: 100,
			wantKind: KindSRV, wantAddrs: []string{"127.0.1.1:9000/10"}, wantTTL: 10 * time.Second},
		{name: "A before SRV when ordered so", host: "both.test", port: 8000, weight: 100, order: []string{"A", "SRV"},
			wantKind: KindA, wantAddrs: []string{"127.0.2.1:8000/100"}, wantTTL: 30 * time.Second},
		{name: "SRV pointing to itself falls through to A", host: "self.test", port: 8000, weight: 100,
			wantKind: KindA, wantAddrs: []string{"127.0.3.1:8000/100"}, wantTTL: 30 * time.Second},
		{name: "SRV target that does not resolve is left out", host: "halfdead.test", port: 8000, weight: 100,
			wantKind: KindSRV, wantAddrs: []string{"127.0.1.1:82/1"}, wantTTL: 10 * time.Second},
		{name: "SRV whose targets do not resolve", host: "alldead.test", port: 8000, weight: 100,
			wantErr: ErrNotFound, wantTTL: DefaultNotFoundTTL},
		{name: "SRV target given as an IP", host: "ipsrv.test", port: 8000, weight: 100,
			wantKind: KindSRV, wantAddrs: []string{"127.0.4.1:83/7"}, wantTTL: 30 * time.Second},
		{name: "CNAME chain", host: "alias1.test", port: 80, weight: 1,
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:80/1", "127.0.0.3:80/1"}, wantTTL: 15 * time.Second},
		{name: "CNAME step of the order", host: "alias1.test", port: 80, weight: 1, order: []string{"CNAME", "A"},
			wantKind: KindA, wantAddrs: []string{"127.0.0.2:80/1", "127.0.0.3:80/1"}, wantTTL: 15 * time.Second},
		{name: "CNAME to an SRV name", host: "srvalias.test", port: 8000, weight: 100,
			wantKind:  KindSRV,
			wantAddrs: []string{"127.0.1.1:8080/5", "127.0.1.2:8000/1", "127.0.1.3:8000/1"}, wantTTL: 10 * time.Second},
		{name: "CNAME loop", host: "loop1.test", port: 80, weight: 1,
			wantErr: ErrNotFound, wantTTL: DefaultNotFoundTTL},
		{name: "NXDOMAIN", host: "missing.test", port: 80, weight: 1,
			wantErr: ErrNotFound, wantTTL: DefaultNotFoundTTL},
		{name: "NODATA", host: "nodata.test", port: 80, weight: 1,
			wantErr: ErrNotFound, wantTTL: DefaultNotFoundTTL},
		{name: "SERVFAIL is transient", host: "servfail.test", port: 80, weight: 1,
			wantErr: errTransient, wantTTL: DefaultErrorTTL},
		{name: "server timeout is transient", host: "drop.test", port: 80, weight: 1,
			wantErr: errTransient, wantTTL: DefaultErrorTTL},
		{name: "hosts file first", host: "shadow.test", port: 80, weight: 3,
			wantKind: KindHosts, wantAddrs: []string{"127.0.9.9:80/3"}, wantTTL: NeverExpires, noQuery: true},
		{name: "hosts file keeps the first address per family", host: "HOSTED.test", port: 80, weight: 3,
			wantKind: KindHosts, wantAddrs: []string{"127.0.9.1:80/3"}, wantTTL: NeverExpires, noQuery: true},
		{name: "hosts file alias", host: "alias.hosted.test", port: 80, weight: 3,
			wantKind: KindHosts, wantAddrs: []string{"127.0.9.1:80/3"}, wantTTL: NeverExpires, noQuery: true},
		{name: "hosts file IPv6 when AAAA comes first", host: "hosted.test", port: 80, weight: 3, order: []string{"AAAA", "A"},
			wantKind: KindHosts, wantAddrs: []string{"[::9]:80/3"}, wantTTL: NeverExpires, noQuery: true},
		{name: "localhost is built in", host: "localhost", port: 80, weight: 3,
			wantKind: KindHosts, wantAddrs: []string{"127.0.0.1:80/3"}, wantTTL: NeverExpires, noQuery: true},
		{name: "IPv4 literal", host: "10.1.2.3", port: 8000, weight: 100,
			wantKind: KindIP, wantAddrs: []string{"10.1.2.3:8000/100"}, wantTTL: NeverExpires, noQuery: true},
		{name: "IPv6 literal in brackets", host: "[::1]", port: 8000, weight: 100,
			wantKind: KindIP, wantAddrs: []string{"[::1]:8000/100"}, wantTTL: NeverExpires, noQuery: true},
		{name: "IPv6 literal", host: "fd00::1", port: 8000, weight: 100,
			wantKind: KindIP, wantAddrs: []string{"[fd00::1]:8000/100"}, wantTTL: NeverExpires, noQuery: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResolver(t, srv, testHosts, func(c *Config) { c.Order = tt.order })
			before := srv.Queries(tt.host)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			res := r.Resolve(ctx, tt.host, tt.port, tt.weight)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Resolve took %v", d)
			}
			checkErr(t, res.Err, tt.wantErr)
			want := Key{Name: tt.host, Port: tt.port, Weight: tt.weight}
			if res.Key != want || res.Name != tt.host {
				t.Errorf("Key, Name = %+v, %q, want %+v", res.Key, res.Name, want)
			}
			if res.Kind != tt.wantKind {
				t.Errorf("Kind = %q, want %q", res.Kind, tt.wantKind)
			}
			if got := addrs(res.Addrs); !slices.Equal(got, tt.wantAddrs) && (len(got)+len(tt.wantAddrs) > 0) {
				t.Errorf("Addrs = %v, want %v", got, tt.wantAddrs)
			}
			if res.TTL != tt.wantTTL {
				t.Errorf("TTL = %v, want %v", res.TTL, tt.wantTTL)
			}
			if q := srv.Queries(tt.host) - before; tt.noQuery && q != 0 {
				t.Errorf("%d queries, want none", q)
			}
		})
	}
}

func TestResolveCNAMENotChasedByServer(t *testing.T) {
	srv := dnstest.Start(t)
	fillZone(srv)
	srv.SetCNAMEChasing(false)
	r := newResolver(t, srv, "", nil)

	res := r.Resolve(context.Background(), "alias1.test", 80, 1)
	checkErr(t, res.Err, nil)
	if got, want := addrs(res.Addrs), []string{"127.0.0.2:80/1", "127.0.0.3:80/1"}; !slices.Equal(got, want) {
		t.Errorf("Addrs = %v, want %v", got, want)
	}
	if res.TTL != 15*time.Second {
		t.Errorf("TTL = %v, want 15s", res.TTL)
	}
	if srv.Queries("alias2.test") == 0 || srv.Queries("api.test") == 0 {
		t.Errorf("the chain's names were not asked for: alias2 %d, api %d", srv.Queries("alias2.test"), srv.Queries("api.test"))
	}

	res = r.Resolve(context.Background(), "loop1.test", 80, 1)
	checkErr(t, res.Err, ErrNotFound)
}

func TestResolveSRVAdditionalSection(t *testing.T) {
	srv := dnstest.Start(t)
	fillZone(srv)
	srv.SetSRVAdditional(true)
	r := newResolver(t, srv, "", nil)

	res := r.Resolve(context.Background(), "svc.test", 8000, 100)
	checkErr(t, res.Err, nil)
	if got, want := addrs(res.Addrs), []string{"127.0.1.1:8080/5", "127.0.1.2:8000/1", "127.0.1.3:8000/1"}; !slices.Equal(got, want) {
		t.Errorf("Addrs = %v, want %v", got, want)
	}
	if q := srv.Queries("a.test") + srv.Queries("b.test"); q != 0 {
		t.Errorf("%d queries for targets in the additional section, want 0", q)
	}
}

func TestResolveTruncatedFallsBackToTCP(t *testing.T) {
	srv := dnstest.Start(t)
	var rrs []string
	for i := range 150 {
		rrs = append(rrs, fmt.Sprintf("big.test. 30 IN A 127.0.%d.%d", 20+i/200, 1+i%200))
	}
	srv.Set("big.test", rrs...)
	r := newResolver(t, srv, "", func(c *Config) { c.Order = []string{"A"} })

	res := r.Resolve(context.Background(), "big.test", 80, 1)
	checkErr(t, res.Err, nil)
	if len(res.Addrs) != 150 {
		t.Fatalf("%d addresses, want 150 (a truncated UDP answer holds about 70)", len(res.Addrs))
	}
	if q := srv.Queries("big.test"); q != 2 {
		t.Errorf("%d queries, want 2 (UDP, then TCP)", q)
	}
}

func TestResolveLastType(t *testing.T) {
	srv := dnstest.Start(t)
	fillZone(srv)
	srv.Set("last.test", "last.test. 30 IN A 127.0.5.1")
	r := newResolver(t, srv, "", nil)
	ctx := context.Background()

	if res := r.Resolve(ctx, "last.test", 80, 1); res.Kind != KindA {
		t.Fatalf("first: Kind %q, err %v, want A", res.Kind, res.Err)
	}
	srv.Set("last.test", "last.test. 30 IN A 127.0.5.1", "last.test. 30 IN SRV 1 1 90 a.test.")
	before := srv.Queries("last.test")
	if res := r.Resolve(ctx, "last.test", 80, 1); res.Kind != KindA {
		t.Errorf("LAST: Kind %q, want A, the last successful type", res.Kind)
	}
	if q := srv.Queries("last.test") - before; q != 1 {
		t.Errorf("LAST: %d queries, want 1", q)
	}

	noLast := newResolver(t, srv, "", func(c *Config) { c.Order = []string{"SRV", "A"} })
	if res := noLast.Resolve(ctx, "last.test", 80, 1); res.Kind != KindSRV {
		t.Errorf("without LAST: Kind %q, want SRV", res.Kind)
	}

	// A failure forgets the last type: once the name comes back, the order starts over.
	srv.Set("last.test")
	if res := r.Resolve(ctx, "last.test", 80, 1); !errors.Is(res.Err, ErrNotFound) {
		t.Fatalf("gone: err %v, want ErrNotFound", res.Err)
	}
	srv.Set("last.test", "last.test. 30 IN A 127.0.5.1", "last.test. 30 IN SRV 1 1 90 a.test.")
	if res := r.Resolve(ctx, "last.test", 80, 1); res.Kind != KindSRV {
		t.Errorf("after a failure: Kind %q, want SRV", res.Kind)
	}
}

func TestResolveSearchList(t *testing.T) {
	srv := dnstest.Start(t)
	fillZone(srv)
	srv.Set("web.svc.test", "web.svc.test. 30 IN A 127.0.6.1")
	conf := writeFile(t, "resolv.conf", "nameserver 192.0.2.1\nsearch svc.test\noptions ndots:2\n")
	r := newResolver(t, srv, "", func(c *Config) {
		c.ResolvConf = conf
		c.Order = []string{"A"}
	})
	if got := r.servers; !slices.Equal(got, []string{srv.Addr()}) {
		t.Errorf("servers = %v: Servers must win over resolv.conf", got)
	}
	ctx := context.Background()

	res := r.Resolve(ctx, "web", 80, 1)
	checkErr(t, res.Err, nil)
	if got := addrs(res.Addrs); !slices.Equal(got, []string{"127.0.6.1:80/1"}) {
		t.Errorf("web: Addrs = %v", got)
	}

	// One dot, fewer than ndots: the search domain first, then the name as given.
	res = r.Resolve(ctx, "api.test", 80, 1)
	checkErr(t, res.Err, nil)
	if srv.Queries("api.test.svc.test") != 1 {
		t.Errorf("api.test.svc.test asked %d times, want 1", srv.Queries("api.test.svc.test"))
	}
	// A trailing dot: no search.
	r.Resolve(ctx, "nodata.test.", 80, 1)
	if srv.Queries("nodata.test.svc.test") != 0 {
		t.Errorf("a fully qualified name went through the search list")
	}
}

func TestResolveServers(t *testing.T) {
	srv := dnstest.Start(t)
	fillZone(srv)
	dead := dnstest.Start(t)
	dead.Drop("api.test", true)
	failing := dnstest.Start(t)
	failing.Fail("api.test", dns.RcodeRefused)

	r := newResolver(t, srv, "", func(c *Config) {
		c.Servers = []string{dead.Addr(), failing.Addr(), srv.Addr()}
		c.Order = []string{"A"}
	})
	res := r.Resolve(context.Background(), "api.test", 80, 1)
	checkErr(t, res.Err, nil)
	if dead.Queries("api.test") != 1 || failing.Queries("api.test") != 1 {
		t.Errorf("servers asked %d and %d times, want once each", dead.Queries("api.test"), failing.Queries("api.test"))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = r.Resolve(ctx, "api.test", 80, 1)
	checkErr(t, res.Err, errTransient)
}

func TestNewResolver(t *testing.T) {
	empty := writeFile(t, "hosts", "")
	conf := writeFile(t, "resolv.conf", "nameserver 192.0.2.53\nnameserver ::1\n")
	noNS := writeFile(t, "resolv.conf", "search example.test\n")

	r, err := NewResolver(Config{ResolvConf: conf, HostsFile: empty})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.53:53", "[::1]:53"}; !slices.Equal(r.servers, want) {
		t.Errorf("servers from resolv.conf = %v, want %v", r.servers, want)
	}
	r, err = NewResolver(Config{Servers: []string{"192.0.2.1", "[2001:db8::1]:5353"}, HostsFile: empty})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.1:53", "[2001:db8::1]:5353"}; !slices.Equal(r.servers, want) {
		t.Errorf("servers = %v, want %v", r.servers, want)
	}
	if r.search != nil {
		t.Errorf("resolv.conf read although Servers was given and ResolvConf was not")
	}

	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown type in order", Config{Servers: []string{"192.0.2.1"}, HostsFile: empty, Order: []string{"A", "MX"}}, `unknown record type "MX"`},
		{"server is not an IP", Config{Servers: []string{"dns.example:53"}, HostsFile: empty}, "not an IP address"},
		{"missing hosts file", Config{Servers: []string{"192.0.2.1"}, HostsFile: filepath.Join(t.TempDir(), "nope")}, "read hosts file"},
		{"no nameservers", Config{ResolvConf: noNS, HostsFile: empty}, "no DNS nameservers"},
		{"missing resolv.conf", Config{ResolvConf: filepath.Join(t.TempDir(), "nope"), HostsFile: empty}, "read resolv.conf"},
		{"negative timeout", Config{Servers: []string{"192.0.2.1"}, HostsFile: empty, Timeout: -time.Second}, "Timeout -1s must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewResolver(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseHosts(t *testing.T) {
	hosts, err := parseHosts(strings.NewReader(testHosts + "\n10.0.0.1 semi.test ; after semicolon.test\n[::7] bracket.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"hosted.test":       "127.0.9.1 ::9",
		"alias.hosted.test": "127.0.9.1 invalid IP",
		"v6hosted.test":     "invalid IP ::8",
		"semi.test":         "10.0.0.1 invalid IP",
		"bracket.test":      "invalid IP ::7",
	} {
		h, ok := hosts[name]
		if got := h.v4.String() + " " + h.v6.String(); !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"broken.test", "after", "semicolon.test", "#", "comment"} {
		if _, ok := hosts[name]; ok {
			t.Errorf("%s should not be in the table", name)
		}
	}
}
