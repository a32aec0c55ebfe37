package proxy

import (
	"bytes"
	"net/netip"

	"tollgate/internal/edge"
	"tollgate/internal/h1"
)

// fieldSet tells which of the names the gateway removes or sets are there: on the upstream
// request the hop-by-hop ones (sanitizeUpstream) and the gateway's own (prepareUpstream); on
// the upstream's response the hop-by-hop ones (sanitizeResponse) and those the gateway adds
// (forward, head).
type fieldSet uint32

const (
	fConnection fieldSet = 1 << iota
	fKeepAlive
	fProxyConnection
	fProxy
	fProxyAuthenticate
	fProxyAuthorization
	fTe
	fTrailer
	fTransferEncoding
	fUpgrade
	fExpect
	fXForwardedFor
	fXForwardedProto
	fXForwardedHost
	fXForwardedPort
	fXForwardedPath
	fXForwardedPrefix
	fXRealIP
	fVia
	fRequestID
	fServer
	fUpstreamLatency
	fProxyLatency
)

// hopHeaders are removed from both directions (RFC 9110 §7.6.1), with the legacy names nginx
// and Kong also drop (KONG_COMPAT §4.4). Transfer-Encoding and Content-Length are framing the
// engines set themselves.
var hopHeaders = [...]struct {
	name string
	bit  fieldSet
}{
	{"Connection", fConnection}, {"Keep-Alive", fKeepAlive}, {"Proxy-Connection", fProxyConnection},
	{"Proxy", fProxy}, {"Proxy-Authenticate", fProxyAuthenticate},
	{"Proxy-Authorization", fProxyAuthorization}, {"Te", fTe}, {"Trailer", fTrailer},
	{"Transfer-Encoding", fTransferEncoding}, {"Upgrade", fUpgrade},
}

// upstreamFields tells which of the names of fieldSet h has (ridKey is the request id
// header's), from one walk over its fields.
func upstreamFields(h *h1.Header, ridKey string) fieldSet {
	var fs fieldSet
	for i := range h.Len() {
		name, _ := h.Field(i)
		if edge.EqualFold(name, ridKey) {
			fs |= fRequestID
		}
		fs |= fieldBit(name)
	}
	return fs
}

// fieldBit is the fieldSet bit of a field name in any case, 0 for any other name. It
// switches on the length first: most names a request or response carries (Host,
// Content-Type, Content-Length, Date, Accept) have no candidate of their length, and the
// others are told apart by a case-folding compare that stops at the first byte that differs.
// In the proxy's profile a switch on the lower-cased name cost about 110 instructions per
// field, this about a fifth of that.
func fieldBit(name []byte) fieldSet {
	eq := func(s string) bool { return edge.EqualFold(name, s) }
	switch len(name) {
	case 2:
		if eq("te") {
			return fTe
		}
	case 3:
		if eq("via") {
			return fVia
		}
	case 5:
		if eq("proxy") {
			return fProxy
		}
	case 6:
		switch {
		case eq("expect"):
			return fExpect
		case eq("server"):
			return fServer
		}
	case 7:
		switch {
		case eq("trailer"):
			return fTrailer
		case eq("upgrade"):
			return fUpgrade
		}
	case 9:
		if eq("x-real-ip") {
			return fXRealIP
		}
	case 10:
		switch {
		case eq("connection"):
			return fConnection
		case eq("keep-alive"):
			return fKeepAlive
		}
	case 15:
		if eq("x-forwarded-for") {
			return fXForwardedFor
		}
	case 16:
		switch {
		case eq("proxy-connection"):
			return fProxyConnection
		case eq("x-forwarded-host"):
			return fXForwardedHost
		case eq("x-forwarded-port"):
			return fXForwardedPort
		case eq("x-forwarded-path"):
			return fXForwardedPath
		}
	case 17:
		switch {
		case eq("transfer-encoding"):
			return fTransferEncoding
		case eq("x-forwarded-proto"):
			return fXForwardedProto
		}
	case 18:
		switch {
		case eq("proxy-authenticate"):
			return fProxyAuthenticate
		case eq("x-forwarded-prefix"):
			return fXForwardedPrefix
		}
	case 19:
		if eq("proxy-authorization") {
			return fProxyAuthorization
		}
	case 24:
		if eq("x-tollgate-proxy-latency") {
			return fProxyLatency
		}
	case 27:
		if eq("x-tollgate-upstream-latency") {
			return fUpstreamLatency
		}
	}
	return 0
}

// stripConnectionListed removes the headers named in the Connection header (before the
// standard hop headers go), so a client cannot smuggle a header past the gateway's own.
func stripConnectionListed(conn []byte, del func(string)) {
	for len(conn) > 0 {
		var tok []byte
		if i := bytes.IndexByte(conn, ','); i >= 0 {
			tok, conn = conn[:i], conn[i+1:]
		} else {
			tok, conn = conn, nil
		}
		tok = bytes.TrimSpace(tok)
		if len(tok) == 0 || edge.EqualFold(tok, "close") || edge.EqualFold(tok, "keep-alive") {
			continue
		}
		del(string(tok))
	}
}

// sanitizeUpstream removes hop-by-hop headers from the upstream request; fs tells which are
// there (upstreamFields). "TE: trailers" is kept when the client asked for it; upgrade keeps
// the WebSocket handshake headers. The names every Connection field lists go too: their
// values are gathered into scratch first (returned for reuse), as deleting fields while
// walking them would skip some.
func sanitizeUpstream(h *h1.Header, upgrade bool, fs fieldSet, scratch []byte) []byte {
	keepTE := false
	if fs&fTe != 0 {
		for i := range h.Len() {
			if name, v := h.Field(i); edge.EqualFold(name, "te") && containsFold(v, "trailers") {
				keepTE = true
			}
		}
	}
	if fs&fConnection != 0 {
		scratch = scratch[:0]
		for i := range h.Len() {
			if name, v := h.Field(i); edge.EqualFold(name, "connection") {
				scratch = append(append(scratch, v...), ',')
			}
		}
		stripConnectionListed(scratch, func(name string) {
			if upgrade && edge.EqualFold(s2b(name), "Upgrade") {
				return
			}
			h.Del(name)
		})
	}
	for _, k := range hopHeaders {
		if fs&k.bit == 0 || upgrade && k.bit == fUpgrade {
			continue
		}
		h.Del(k.name)
	}
	if fs&fExpect != 0 {
		h.Del("Expect")
	}
	if keepTE {
		h.Set("TE", "trailers")
	}
	if upgrade {
		h.Set("Connection", "Upgrade")
	}
	return scratch
}

// containsFold reports whether v contains the lower-case ASCII word w in any case.
func containsFold(v []byte, w string) bool {
	for i := 0; i+len(w) <= len(v); i++ {
		if edge.EqualFold(v[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// sanitizeResponse removes hop-by-hop headers from an upstream response, with the names every
// Connection field lists (gathered into scratch first, returned for reuse), and
// Transfer-Encoding: the front end frames the body for its own client. Content-Length stays
// for the plugins to read; the front ends do not copy it. fs tells which names are there
// (upstreamFields): a response carries a handful of fields and none of these as a rule, so
// one walk to find them costs less than a walk per name to remove them.
func sanitizeResponse(h *h1.Header, fs fieldSet, scratch []byte) []byte {
	scratch = scratch[:0]
	if fs&fConnection != 0 {
		for i := range h.Len() {
			if name, v := h.Field(i); edge.EqualFold(name, "connection") {
				scratch = append(append(scratch, v...), ',')
			}
		}
		stripConnectionListed(scratch, h.Del)
	}
	for _, k := range responseHop {
		if fs&k.bit != 0 {
			h.Del(k.name)
		}
	}
	return scratch
}

// responseHop are the names sanitizeResponse removes besides the Connection-listed ones.
var responseHop = [...]struct {
	name string
	bit  fieldSet
}{
	{"Connection", fConnection}, {"Keep-Alive", fKeepAlive}, {"Proxy-Connection", fProxyConnection},
	{"Upgrade", fUpgrade}, {"Trailer", fTrailer}, {"Transfer-Encoding", fTransferEncoding},
}

// Trust decides which peers' forwarding headers are believed (Kong's trusted_ips).
type Trust struct {
	Prefixes []netip.Prefix
	// RealIPHeader carries the client address from a trusted peer (Kong's real_ip_header,
	// default X-Real-IP); "X-Forwarded-For" takes the last untrusted hop of that list when
	// Recursive, else its last entry, as nginx's realip module does.
	RealIPHeader string
	Recursive    bool
}

// Trusted reports whether addr is a trusted hop.
func (t *Trust) Trusted(addr netip.Addr) bool {
	for _, p := range t.Prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// realIP returns the client address: the peer, or, when the peer is trusted, the address the
// real-IP header names.
func (t *Trust) realIP(peer netip.Addr, peek func(string) []byte) netip.Addr {
	if !peer.IsValid() || !t.Trusted(peer) || t.RealIPHeader == "" {
		return peer
	}
	v := peek(t.RealIPHeader)
	if len(v) == 0 {
		return peer
	}
	// walk the list from the right: nginx's realip takes the last address, or with
	// real_ip_recursive the last one that is not trusted.
	for len(v) > 0 {
		var tok []byte
		if i := bytes.LastIndexByte(v, ','); i >= 0 {
			tok, v = v[i+1:], v[:i]
		} else {
			tok, v = v, nil
		}
		a, err := netip.ParseAddr(string(bytes.TrimSpace(tok)))
		if err != nil {
			return peer
		}
		if !t.Recursive || !t.Trusted(a) || len(v) == 0 {
			return a.Unmap()
		}
	}
	return peer
}
