// Package dnstest runs a small authoritative DNS server on 127.0.0.1 for tests, with a zone the
// test changes while it runs. It answers over UDP and TCP on the same port, truncates UDP
// answers to the size the client advertises (512 bytes without EDNS0, RFC 1035 §4.2.1; the
// OPT record's size otherwise, RFC 6891 §6.2.3), so a client's TCP fallback can be tested,
// and it can be told to fail or to stay silent for a name.
//
// It lives in a non-test file so that internal/discovery's tests and the end-to-end tests of the
// real binary share it. Only test code imports it.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// maxChase bounds the CNAME chain the server follows inside one answer.
const maxChase = 8

// Server is a running test DNS server. Its methods may be called from any goroutine, except
// Set, which reports a bad record with tb.Fatalf and so belongs on the test's goroutine.
type Server struct {
	tb   testing.TB
	addr string
	udp  *dns.Server
	tcp  *dns.Server

	mu         sync.Mutex
	zone       map[string][]dns.RR // owner (lower-case, fully qualified) → records
	fail       map[string]int      // owner → rcode to answer with
	drop       map[string]bool     // owner → do not answer at all
	queries    map[string]int      // owner → queries received, any type
	noChase    bool                // answer only the first CNAME of a chain
	additional bool                // add the A/AAAA of SRV targets to the additional section
}

// Start starts a server on a free 127.0.0.1 port (the same port for UDP and TCP) and stops it
// in tb.Cleanup. The zone starts empty: every name is NXDOMAIN until Set.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:      tb,
		zone:    map[string][]dns.RR{},
		fail:    map[string]int{},
		drop:    map[string]bool{},
		queries: map[string]int{},
	}
	pc, ln := listenPair(tb)
	s.addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h}

	var wg sync.WaitGroup
	started := make(chan struct{}, 2)
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.ActivateAndServe() // returns when Shutdown closes the socket
		}()
	}
	for range 2 {
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			tb.Fatalf("dnstest: server on %s did not start", s.addr)
		}
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.udp.ShutdownContext(ctx)
		_ = s.tcp.ShutdownContext(ctx)
		wg.Wait()
	})
	return s
}

// listenPair opens a UDP socket on a free port and a TCP listener on the same port; another
// process may hold the TCP side of a port the kernel gave us for UDP, so it retries.
func listenPair(tb testing.TB) (net.PacketConn, net.Listener) {
	tb.Helper()
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("dnstest: listen udp: %v", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		lastErr = err
		_ = pc.Close()
	}
	tb.Fatalf("dnstest: no port free for both udp and tcp: %v", lastErr)
	return nil, nil
}

// Addr is the server's "127.0.0.1:port", for UDP and TCP alike.
func (s *Server) Addr() string { return s.addr }

// Set replaces every record owned by name with rrs, zone-file lines such as
// "api.test. 1 IN A 127.0.0.2" or "_http._tcp.api.test. 1 IN SRV 10 5 8080 a.test."; each
// line's owner must be name. With no rrs the name is removed and answers NXDOMAIN.
func (s *Server) Set(name string, rrs ...string) {
	s.tb.Helper()
	owner := canonical(name)
	parsed := make([]dns.RR, 0, len(rrs))
	for _, line := range rrs {
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			s.tb.Fatalf("dnstest: bad record %q: %v", line, err)
			return
		}
		if canonical(rr.Header().Name) != owner {
			s.tb.Fatalf("dnstest: record %q is not owned by %s", line, owner)
			return
		}
		parsed = append(parsed, rr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(parsed) == 0 {
		delete(s.zone, owner)
		return
	}
	s.zone[owner] = parsed
}

// Fail makes every query for name answer with rcode (dns.RcodeServerFailure, for example);
// dns.RcodeSuccess clears it.
func (s *Server) Fail(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcode == dns.RcodeSuccess {
		delete(s.fail, canonical(name))
		return
	}
	s.fail[canonical(name)] = rcode
}

// Drop makes the server ignore queries for name, so clients time out; false answers again.
func (s *Server) Drop(name string, drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if drop {
		s.drop[canonical(name)] = true
		return
	}
	delete(s.drop, canonical(name))
}

// Queries is how many queries of any type the server received for name, dropped ones included.
func (s *Server) Queries(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[canonical(name)]
}

// SetCNAMEChasing chooses whether an answer follows a CNAME chain through the zone (on, the
// default, like most authoritative servers and every recursive one) or stops at the first
// CNAME, so the client has to ask for the target itself.
func (s *Server) SetCNAMEChasing(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noChase = !on
}

// SetSRVAdditional chooses whether SRV answers carry the targets' A and AAAA records in the
// additional section (off by default, so clients query the targets).
func (s *Server) SetSRVAdditional(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.additional = on
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		_ = w.WriteMsg(m)
		return
	}
	owner := canonical(req.Question[0].Name)

	s.mu.Lock()
	s.queries[owner]++
	drop := s.drop[owner]
	var m *dns.Msg
	if !drop {
		m = s.answerLocked(req)
	}
	s.mu.Unlock()
	if drop {
		return
	}

	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func (s *Server) answerLocked(req *dns.Msg) *dns.Msg {
	q := req.Question[0]
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = true
	cur := canonical(q.Name)
	if rcode, ok := s.fail[cur]; ok {
		m.Rcode = rcode
		return m
	}
	for i := 0; i <= maxChase; i++ {
		rrs, ok := s.zone[cur]
		if !ok {
			m.Rcode = dns.RcodeNameError
			break
		}
		var cname dns.RR
		found := false
		for _, rr := range rrs {
			switch rr.Header().Rrtype {
			case q.Qtype:
				m.Answer = append(m.Answer, dns.Copy(rr))
				found = true
			case dns.TypeCNAME:
				cname = rr
			}
		}
		if found || cname == nil {
			break // the records asked for, or NODATA
		}
		m.Answer = append(m.Answer, dns.Copy(cname))
		if s.noChase {
			break
		}
		cur = canonical(cname.(*dns.CNAME).Target)
	}
	if s.additional && q.Qtype == dns.TypeSRV {
		for _, rr := range m.Answer {
			srv, ok := rr.(*dns.SRV)
			if !ok {
				continue
			}
			for _, extra := range s.zone[canonical(srv.Target)] {
				if t := extra.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
					m.Extra = append(m.Extra, dns.Copy(extra))
				}
			}
		}
	}
	return m
}

func canonical(name string) string { return strings.ToLower(dns.Fqdn(name)) }
