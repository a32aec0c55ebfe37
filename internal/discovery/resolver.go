package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Kinds of Result: the record type the addresses came from, or where else they came from.
const (
	KindA     = "A"
	KindAAAA  = "AAAA"
	KindSRV   = "SRV"
	KindHosts = "hosts" // the hosts file (or the built-in localhost)
	KindIP    = "ip"    // the name was an IP literal
)

// Defaults, Kong's unless said otherwise (kong.conf.default, kong/resty/dns/client.lua).
const (
	// DefaultOrder is Kong's dns_order. AAAA is not in it: with it, an IPv6-only name does
	// not resolve, as in Kong.
	DefaultOrder = "LAST,SRV,A,CNAME"
	// DefaultTimeout is one query's timeout: OpenResty's 2000 ms that Kong keeps when
	// resolv.conf sets none.
	DefaultTimeout     = 2 * time.Second
	DefaultStaleTTL    = 4 * time.Second  // dns_stale_ttl
	DefaultNotFoundTTL = 30 * time.Second // dns_not_found_ttl
	DefaultErrorTTL    = time.Second      // dns_error_ttl
	// DefaultMinTTL is ours (Kong has no floor; see the package doc on TTL 0). One second is
	// the granularity of DNS TTLs, so every non-zero TTL is honoured exactly, and a record
	// with TTL 0 (Consul's default) costs one query a second per name instead of a busy loop.
	DefaultMinTTL = time.Second
	// NeverExpires is the TTL of IP literals and hosts-file answers: Kong caches them for ten
	// years and reads the hosts file once; the Watcher never asks for them again.
	NeverExpires = time.Duration(math.MaxInt64)

	defaultHostsFile  = "/etc/hosts"
	defaultResolvConf = "/etc/resolv.conf"
	// maxDepth bounds CNAME chains and SRV-target lookups together (Kong stops at the
	// first repeated name/type pair instead; see "recursion detected" in client.lua).
	maxDepth = 8
	// ednsSize is the UDP payload size we advertise (EDNS0, RFC 6891): 1232 bytes is the
	// DNS Flag Day 2020 value, small enough not to fragment; longer answers come over TCP.
	ednsSize = 1232
	// typeLast stands for Kong's "LAST" in the parsed order; 0 is no real record type.
	typeLast uint16 = 0
)

// ErrNotFound reports that a name does not resolve: NXDOMAIN, or no records of any type in
// the order (NODATA), or records that lead nowhere (a CNAME loop, SRV targets without
// addresses). Kong answers a request for such a target with 503 "name resolution failed";
// every other resolution error is transient (timeouts, SERVFAIL, REFUSED) and is the 500 case
// (KONG_COMPAT §4.7).
var ErrNotFound = errors.New("name not found")

// Addr is one address a target expands to.
type Addr struct {
	IP   netip.Addr
	Port int // the SRV record's port; the target's port for A/AAAA and for SRV port 0
	// Weight is the SRV record's weight (0 becomes 1, as Kong: "should be hit minimally"),
	// or the target's weight for A/AAAA, hosts and IP literals.
	Weight int
}

// String is "ip:port".
func (a Addr) String() string { return netip.AddrPortFrom(a.IP, uint16(a.Port)).String() }

// Key is one watched target: an upstream target's host, port and weight.
type Key struct {
	Name   string
	Port   int
	Weight int
}

// Result is the answer for one target.
type Result struct {
	Key  Key    // the target asked for
	Name string // Key.Name
	// Addrs are the addresses, sorted by IP, port, then weight, without duplicates. Empty when
	// Err is set.
	Addrs []Addr
	// TTL is how long the answer holds before it is asked again: the smallest record TTL on
	// the way (CNAMEs, SRV and its targets' records), raised to Config.MinTTL; NotFoundTTL
	// after ErrNotFound; ErrorTTL after another error or while Stale; NeverExpires for
	// KindIP and KindHosts.
	TTL time.Duration
	// Err is set when the name did not resolve and no earlier answer may stand in; wraps
	// ErrNotFound when the name is gone, otherwise the failure is transient.
	Err error
	// Kind is KindA, KindAAAA, KindSRV, KindHosts or KindIP; "" when Err is set.
	Kind string
	// Stale is set by the Watcher when Addrs is an earlier answer served past its TTL because
	// refreshing it failed transiently (Kong's dns_stale_ttl).
	Stale bool
}

// Config configures a Resolver. Zero values select the defaults.
type Config struct {
	// Servers are the nameservers, "ip:port" or "ip" (port 53, as Kong's dns_resolver), tried
	// in order. Empty: the nameservers of ResolvConf.
	Servers []string
	// ResolvConf is read for nameservers when Servers is empty, and for the search list and
	// ndots whenever it is read: when Servers is empty or ResolvConf is set. Default
	// /etc/resolv.conf. (Kong reads it always; skipping it when only Servers is given keeps a
	// test or a pinned setup independent of the host.)
	ResolvConf string
	// HostsFile is read once, at NewResolver, and consulted before DNS (Kong's dns_hostsfile,
	// default /etc/hosts; a missing default file is an empty one, as in Kong).
	HostsFile string
	// Order is Kong's dns_order: record types to try, in order, among "LAST", "SRV", "A",
	// "AAAA", "CNAME" (case-insensitive). Default DefaultOrder.
	Order []string
	// Timeout bounds one query to one server (UDP, then TCP if the answer was truncated, each
	// get it). Default DefaultTimeout.
	Timeout time.Duration
	// StaleTTL is how long past its TTL the Watcher keeps serving an answer while refreshing
	// it fails transiently (dns_stale_ttl, default 4 s). Negative: never serve stale.
	StaleTTL time.Duration
	// NotFoundTTL is when a name that did not resolve is asked again (dns_not_found_ttl,
	// default 30 s).
	NotFoundTTL time.Duration
	// ErrorTTL is when a name is asked again after a transient error (dns_error_ttl,
	// default 1 s).
	ErrorTTL time.Duration
	// MinTTL is the floor of a record TTL, so that TTL 0 does not spin. Default
	// DefaultMinTTL (1 s).
	MinTTL time.Duration
}

// Resolver resolves upstream target names the way Kong's DNS client and ring-balancer do.
// It caches nothing but Kong's "last successful type" per name: every Resolve queries the
// nameservers, except for IP literals and hosts-file names. It is safe for concurrent use.
type Resolver struct {
	servers   []string
	search    *dns.ClientConfig // search list and ndots; nil: names are tried as given
	hosts     map[string]hostAddrs
	order     []uint16 // may hold typeLast
	addrTypes []uint16 // A and AAAA in the order's order: SRV targets and hosts use these
	timeout   time.Duration
	staleTTL  time.Duration
	notFound  time.Duration
	errorTTL  time.Duration
	minTTL    time.Duration
	udp, tcp  *dns.Client

	mu   sync.Mutex
	last map[string]uint16 // canonical name → type of the last successful lookup (LAST)
}

// NewResolver checks cfg and reads the hosts file and, when needed, resolv.conf.
func NewResolver(cfg Config) (*Resolver, error) {
	r := &Resolver{
		timeout:  orDefault(cfg.Timeout, DefaultTimeout),
		staleTTL: orDefault(cfg.StaleTTL, DefaultStaleTTL),
		notFound: orDefault(cfg.NotFoundTTL, DefaultNotFoundTTL),
		errorTTL: orDefault(cfg.ErrorTTL, DefaultErrorTTL),
		minTTL:   orDefault(cfg.MinTTL, DefaultMinTTL),
		last:     map[string]uint16{},
	}
	if r.staleTTL < 0 {
		r.staleTTL = 0
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"Timeout", r.timeout}, {"NotFoundTTL", r.notFound}, {"ErrorTTL", r.errorTTL}, {"MinTTL", r.minTTL}} {
		if d.d < 0 {
			return nil, fmt.Errorf("dns config: %s %v must not be negative", d.name, d.d)
		}
	}

	order := cfg.Order
	if len(order) == 0 {
		order = strings.Split(DefaultOrder, ",")
	}
	for _, o := range order {
		t, err := parseType(o)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(r.order, t) {
			r.order = append(r.order, t)
		}
		if (t == dns.TypeA || t == dns.TypeAAAA) && !slices.Contains(r.addrTypes, t) {
			r.addrTypes = append(r.addrTypes, t)
		}
	}
	if len(r.addrTypes) == 0 {
		r.addrTypes = []uint16{dns.TypeA}
	}

	for _, s := range cfg.Servers {
		addr, err := serverAddr(s)
		if err != nil {
			return nil, err
		}
		r.servers = append(r.servers, addr)
	}
	if len(cfg.Servers) == 0 || cfg.ResolvConf != "" {
		path := cmp.Or(cfg.ResolvConf, defaultResolvConf)
		cc, err := dns.ClientConfigFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("read resolv.conf: %w", err)
		}
		r.search = cc
		if len(cfg.Servers) == 0 {
			for _, s := range cc.Servers {
				addr, err := serverAddr(net.JoinHostPort(s, cc.Port))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", path, err)
				}
				r.servers = append(r.servers, addr)
			}
		}
	}
	if len(r.servers) == 0 {
		return nil, errors.New("no DNS nameservers: set Servers or give a resolv.conf with nameserver lines")
	}

	hostsPath := cmp.Or(cfg.HostsFile, defaultHostsFile)
	hosts, err := readHosts(hostsPath, cfg.HostsFile != "")
	if err != nil {
		return nil, err
	}
	r.hosts = hosts

	r.udp = &dns.Client{Net: "udp", Timeout: r.timeout, UDPSize: ednsSize}
	r.tcp = &dns.Client{Net: "tcp", Timeout: r.timeout}
	return r, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func parseType(s string) (uint16, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LAST":
		return typeLast, nil
	case "SRV":
		return dns.TypeSRV, nil
	case "A":
		return dns.TypeA, nil
	case "AAAA":
		return dns.TypeAAAA, nil
	case "CNAME":
		return dns.TypeCNAME, nil
	}
	return 0, fmt.Errorf("dns order: unknown record type %q (want LAST, SRV, A, AAAA or CNAME)", s)
}

func serverAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.Trim(s, "[]"), "53"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("dns server %q: not an IP address", s)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// Resolve resolves name for a target with the given port and weight. IP literals return at once
// with KindIP, hosts-file names with KindHosts; other names are asked of the nameservers in the
// configured order. The error, if any, is in Result.Err.
func (r *Resolver) Resolve(ctx context.Context, name string, port, weight int) Result {
	k := Key{Name: name, Port: port, Weight: weight}
	a, err := r.lookup(ctx, name)
	return r.result(k, a, err)
}

// result turns a lookup into the Result for k.
func (r *Resolver) result(k Key, a answer, err error) Result {
	res := Result{Key: k, Name: k.Name}
	switch {
	case err == nil:
		res.Kind, res.TTL, res.Addrs = a.kind, a.ttl, a.expand(k.Port, k.Weight)
	case errors.Is(err, ErrNotFound):
		res.Err, res.TTL = err, r.notFound
	default:
		res.Err, res.TTL = err, r.errorTTL
	}
	return res
}

// rawAddr is an address before a target's port and weight are applied.
type rawAddr struct {
	ip     netip.Addr
	port   int // 0: the target's port
	weight int // -1: the target's weight
}

// answer is a successful lookup of a name, independent of port and weight, so the Watcher
// resolves a name once for every target that uses it.
type answer struct {
	kind  string
	addrs []rawAddr
	ttl   time.Duration
}

// expand applies a target's port and weight, as Kong's balancer:addAddress does.
func (a answer) expand(port, weight int) []Addr {
	out := make([]Addr, 0, len(a.addrs))
	for _, ra := range a.addrs {
		ad := Addr{IP: ra.ip, Port: ra.port, Weight: ra.weight}
		if ad.Port == 0 {
			ad.Port = port
		}
		if ad.Weight < 0 {
			ad.Weight = weight
		}
		out = append(out, ad)
	}
	slices.SortFunc(out, compareAddr)
	return slices.Compact(out)
}

func compareAddr(a, b Addr) int {
	if c := a.IP.Compare(b.IP); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	return cmp.Compare(a.Weight, b.Weight)
}

// netError is a query that got no answer from any server (timeout, refused connection). As in
// Kong, it ends the lookup: trying the next record type could answer with the wrong one.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func (r *Resolver) lookup(ctx context.Context, name string) (answer, error) {
	if ip, ok := parseIP(name); ok {
		return answer{kind: KindIP, addrs: []rawAddr{{ip: ip, weight: -1}}, ttl: NeverExpires}, nil
	}
	if name == "" {
		return answer{}, fmt.Errorf("resolve \"\": %w", ErrNotFound)
	}
	a, err := r.lookupName(ctx, name, 0)
	if err != nil {
		return answer{}, fmt.Errorf("resolve %s: %w", name, err)
	}
	a.ttl = max(a.ttl, r.minTTL)
	return a, nil
}

// parseIP accepts "10.0.0.1", "::1" and "[::1]".
func parseIP(name string) (netip.Addr, bool) {
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// canonicalName is the lower-case name without the root dot: the key of the hosts table and
// of the LAST memory.
func canonicalName(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// lookupName is Kong's resolve(): the hosts file, then for each type in the order (LAST first
// when known), each name of the search list. NXDOMAIN, NODATA and error rcodes fall through to
// the next try; a query no server answered ends the lookup.
func (r *Resolver) lookupName(ctx context.Context, name string, depth int) (answer, error) {
	if depth > maxDepth {
		return answer{}, fmt.Errorf("%w: chain of CNAME/SRV longer than %d", ErrNotFound, maxDepth)
	}
	cname := canonicalName(name)
	if a, ok := r.fromHosts(cname); ok {
		return a, nil
	}
	names := []string{dns.Fqdn(name)}
	if r.search != nil {
		names = r.search.NameList(name)
	}
	var transient, notFound error
	for _, t := range r.typesFor(cname) {
		for _, qn := range names {
			a, err := r.query(ctx, qn, t, depth)
			if err == nil {
				r.setLast(cname, t)
				return a, nil
			}
			if _, ok := errors.AsType[*netError](err); ok || ctx.Err() != nil {
				r.setLast(cname, 0)
				return answer{}, err
			}
			if errors.Is(err, ErrNotFound) {
				notFound = cmp.Or(notFound, err)
			} else {
				transient = cmp.Or(transient, err)
			}
		}
	}
	r.setLast(cname, 0)
	if transient != nil {
		// Some type failed for a reason other than absence: the name may well exist.
		return answer{}, transient
	}
	if notFound == nil { // an order of only LAST, nothing known yet
		notFound = ErrNotFound
	}
	return answer{}, notFound
}

// typesFor is the order with LAST replaced by the name's last successful type, duplicates
// dropped.
func (r *Resolver) typesFor(cname string) []uint16 {
	out := make([]uint16, 0, len(r.order))
	for _, t := range r.order {
		if t == typeLast {
			r.mu.Lock()
			t = r.last[cname]
			r.mu.Unlock()
			if t == 0 {
				continue
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// setLast records the type of a successful lookup; 0 forgets it, as Kong does after a failure.
func (r *Resolver) setLast(cname string, t uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t == 0 {
		delete(r.last, cname)
		return
	}
	r.last[cname] = t
}

func (r *Resolver) fromHosts(cname string) (answer, bool) {
	h, ok := r.hosts[cname]
	if !ok {
		return answer{}, false
	}
	for _, t := range r.addrTypes {
		ip := h.v4
		if t == dns.TypeAAAA {
			ip = h.v6
		}
		if ip.IsValid() {
			return answer{kind: KindHosts, addrs: []rawAddr{{ip: ip, weight: -1}}, ttl: NeverExpires}, true
		}
	}
	return answer{}, false
}

func (r *Resolver) query(ctx context.Context, qn string, t uint16, depth int) (answer, error) {
	switch t {
	case dns.TypeSRV:
		return r.querySRV(ctx, qn, depth)
	case dns.TypeCNAME:
		return r.queryCNAME(ctx, qn, depth)
	default:
		return r.queryAddr(ctx, qn, t, depth)
	}
}

// queryAddr asks for the A or AAAA records of qn, following CNAMEs in the answer, and asking
// again for the end of the chain when the server did not follow it.
func (r *Resolver) queryAddr(ctx context.Context, qn string, t uint16, depth int) (answer, error) {
	rrs, _, ttl, err := r.records(ctx, qn, t, depth)
	if err != nil {
		return answer{}, err
	}
	a := addrAnswer(rrs, t)
	a.ttl = ttl
	if len(a.addrs) == 0 {
		return answer{}, fmt.Errorf("%w: no %s records for %s", ErrNotFound, dns.TypeToString[t], qn)
	}
	return a, nil
}

// addrAnswer takes the A or AAAA records (of type t) of rrs, with their smallest TTL.
func addrAnswer(rrs []dns.RR, t uint16) answer {
	a := answer{kind: dns.TypeToString[t], ttl: NeverExpires}
	for _, rr := range rrs {
		var ip netip.Addr
		switch rr := rr.(type) {
		case *dns.A:
			ip, _ = netip.AddrFromSlice(rr.A.To4())
		case *dns.AAAA:
			ip, _ = netip.AddrFromSlice(rr.AAAA.To16())
		default:
			continue
		}
		if ip.IsValid() {
			a.addrs = append(a.addrs, rawAddr{ip: ip, weight: -1})
			a.ttl = min(a.ttl, ttlOf(rr))
		}
	}
	return a
}

func (a answer) ips() []netip.Addr {
	ips := make([]netip.Addr, len(a.addrs))
	for i, ra := range a.addrs {
		ips[i] = ra.ip
	}
	return ips
}

// querySRV asks for the SRV records of qn and resolves the targets of the lowest priority to
// addresses (Kong's balancer only uses the top priority).
func (r *Resolver) querySRV(ctx context.Context, qn string, depth int) (answer, error) {
	rrs, extra, ttl, err := r.records(ctx, qn, dns.TypeSRV, depth)
	if err != nil {
		return answer{}, err
	}
	var srvs []*dns.SRV
	self := 0
	for _, rr := range rrs {
		if s, ok := rr.(*dns.SRV); ok {
			srvs = append(srvs, s)
			if strings.EqualFold(s.Target, qn) {
				self++
			}
		}
	}
	if len(srvs) == 0 {
		return answer{}, fmt.Errorf("%w: no SRV records for %s", ErrNotFound, qn)
	}
	if self == len(srvs) {
		// Kubernetes answers SRV for every service name with records pointing to the name
		// itself; Kong calls it recursion and moves on to the next type. So do we.
		return answer{}, fmt.Errorf("%w: SRV records of %s point to itself", ErrNotFound, qn)
	}
	top := slices.MinFunc(srvs, func(a, b *dns.SRV) int { return cmp.Compare(a.Priority, b.Priority) }).Priority
	a := answer{kind: KindSRV, ttl: ttl}
	var transient, notFound error
	for _, s := range srvs {
		if s.Priority != top {
			continue
		}
		ips, tttl, err := r.srvTarget(ctx, s.Target, extra, depth+1)
		if err != nil {
			if _, ok := errors.AsType[*netError](err); ok || ctx.Err() != nil {
				return answer{}, err
			}
			if errors.Is(err, ErrNotFound) {
				notFound = cmp.Or(notFound, err)
			} else {
				transient = cmp.Or(transient, err)
			}
			continue
		}
		a.ttl = min(a.ttl, tttl)
		weight := max(int(s.Weight), 1) // Kong's SRV_0_WEIGHT
		for _, ip := range ips {
			a.addrs = append(a.addrs, rawAddr{ip: ip, port: int(s.Port), weight: weight})
		}
	}
	if len(a.addrs) == 0 {
		return answer{}, cmp.Or(transient, notFound)
	}
	return a, nil
}

// srvTarget resolves an SRV target: an IP literal, the answer's additional section, the hosts
// file, then A/AAAA queries in the order's order. Kong resolves it per request with the full
// order; a target is a host, so we skip SRV.
func (r *Resolver) srvTarget(ctx context.Context, target string, extra []dns.RR, depth int) ([]netip.Addr, time.Duration, error) {
	if ip, ok := parseIP(strings.TrimSuffix(target, ".")); ok {
		return []netip.Addr{ip}, NeverExpires, nil
	}
	for _, t := range r.addrTypes {
		if hits, _ := scanAnswer(extra, target, t); len(hits) > 0 {
			if a := addrAnswer(hits, t); len(a.addrs) > 0 {
				return a.ips(), a.ttl, nil
			}
		}
	}
	if a, ok := r.fromHosts(canonicalName(target)); ok {
		return a.ips(), a.ttl, nil
	}
	var err error
	for _, t := range r.addrTypes {
		var a answer
		a, err = r.queryAddr(ctx, dns.Fqdn(target), t, depth)
		if err == nil {
			return a.ips(), a.ttl, nil
		}
		if !errors.Is(err, ErrNotFound) {
			break
		}
	}
	return nil, 0, fmt.Errorf("SRV target %s: %w", target, err)
}

// queryCNAME is the CNAME step of the order: when qn is an alias, its target is resolved with
// the whole order, as Kong does.
func (r *Resolver) queryCNAME(ctx context.Context, qn string, depth int) (answer, error) {
	msg, err := r.exchange(ctx, qn, dns.TypeCNAME)
	if err != nil {
		return answer{}, err
	}
	for _, rr := range msg.Answer {
		c, ok := rr.(*dns.CNAME)
		if !ok || !strings.EqualFold(c.Hdr.Name, qn) {
			continue
		}
		a, err := r.lookupName(ctx, c.Target, depth+1)
		if err != nil {
			return answer{}, err
		}
		a.ttl = min(a.ttl, ttlOf(c))
		return a, nil
	}
	return answer{}, fmt.Errorf("%w: no CNAME record for %s", ErrNotFound, qn)
}

// records asks for the records of type t owned by qn, following a CNAME chain through the
// answer and asking for the end of the chain when the server stopped early. ttl is the
// smallest TTL on the way; extra is the additional section of the answer that had the records.
func (r *Resolver) records(ctx context.Context, qn string, t uint16, depth int) (hits, extra []dns.RR, ttl time.Duration, err error) {
	ttl = NeverExpires
	cur := qn
	for {
		msg, err := r.exchange(ctx, cur, t)
		if err != nil {
			return nil, nil, 0, err
		}
		asked := cur
		for {
			hits, cname := scanAnswer(msg.Answer, cur, t)
			if len(hits) > 0 {
				for _, rr := range hits {
					ttl = min(ttl, ttlOf(rr))
				}
				return hits, msg.Extra, ttl, nil
			}
			if cname == nil {
				break
			}
			if depth++; depth > maxDepth {
				return nil, nil, 0, fmt.Errorf("%w: chain of CNAME from %s longer than %d", ErrNotFound, qn, maxDepth)
			}
			ttl = min(ttl, ttlOf(cname))
			cur = cname.Target
		}
		if strings.EqualFold(cur, asked) {
			return nil, nil, 0, fmt.Errorf("%w: no %s records for %s", ErrNotFound, dns.TypeToString[t], qn)
		}
		// The server answered with a CNAME but not with its target's records: ask for them.
	}
}

// scanAnswer finds the records of type t owned by name, or else the CNAME owned by name.
func scanAnswer(answer []dns.RR, name string, t uint16) (hits []dns.RR, cname *dns.CNAME) {
	for _, rr := range answer {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		if rr.Header().Rrtype == t {
			hits = append(hits, rr)
		} else if c, ok := rr.(*dns.CNAME); ok {
			cname = c
		}
	}
	return hits, cname
}

func ttlOf(rr dns.RR) time.Duration { return time.Duration(rr.Header().Ttl) * time.Second }

// exchange sends one question to the servers in turn until one answers with something other
// than SERVFAIL or REFUSED, over UDP and, when the answer is truncated, again over TCP.
// NXDOMAIN becomes ErrNotFound; another error rcode is returned as a transient error.
func (r *Resolver) exchange(ctx context.Context, qn string, t uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(qn), t)
	m.RecursionDesired = true
	m.SetEdns0(ednsSize, false)

	var in *dns.Msg
	var lastErr error
	for _, srv := range r.servers {
		resp, err := r.exchangeOne(ctx, m, srv)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		in = resp
		if resp.Rcode != dns.RcodeServerFailure && resp.Rcode != dns.RcodeRefused {
			break
		}
	}
	if in == nil {
		return nil, &netError{fmt.Errorf("query %s %s: %w", dns.TypeToString[t], qn, lastErr)}
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
		return in, nil
	case dns.RcodeNameError:
		return nil, fmt.Errorf("%w: %s %s: NXDOMAIN", ErrNotFound, dns.TypeToString[t], qn)
	default:
		return nil, fmt.Errorf("query %s %s: server answered %s", dns.TypeToString[t], qn, dns.RcodeToString[in.Rcode])
	}
}

func (r *Resolver) exchangeOne(ctx context.Context, m *dns.Msg, srv string) (*dns.Msg, error) {
	in, err := exchangeConn(ctx, r.udp, m, srv, r.timeout)
	if err != nil {
		return nil, fmt.Errorf("udp %s: %w", srv, err)
	}
	if !in.Truncated {
		return in, nil
	}
	in, err = exchangeConn(ctx, r.tcp, m, srv, r.timeout)
	if err != nil {
		return nil, fmt.Errorf("tcp %s (udp answer truncated): %w", srv, err)
	}
	return in, nil
}

// exchangeConn is one exchange on its own connection. miekg/dns only honours a context's
// deadline; closing the connection when ctx is cancelled also ends a read in progress, so
// Watcher.Close does not wait out a query's timeout.
func exchangeConn(ctx context.Context, c *dns.Client, m *dns.Msg, srv string, timeout time.Duration) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := c.DialContext(ctx, srv)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	in, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return in, err
}
