package proxy

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// hopHeaders are removed from both directions (RFC 9110 §7.6.1), with the legacy names nginx
// and Kong also drop (KONG_COMPAT §4.4). Transfer-Encoding and Content-Length are framing the
// engines set themselves.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
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
		if len(tok) == 0 || bytes.EqualFold(tok, []byte("close")) || bytes.EqualFold(tok, []byte("keep-alive")) {
			continue
		}
		del(string(tok))
	}
}

// sanitizeUpstream removes hop-by-hop headers from the upstream request. wantTrailers keeps
// "TE: trailers" when the client asked for it; upgrade keeps the WebSocket handshake headers.
//
// Names are looked up in the engine's canonical form (it canonicalises every name it
// parses) and deleted only when present: Del normalises its key on every call, which cost
// about 3% of the CPU per request when it ran for each hop name (bench/profiles/README.md).
func sanitizeUpstream(h *fasthttp.RequestHeader, upgrade bool) {
	te := h.PeekCanonical(s2b("Te"))
	keepTE := len(te) > 0 && containsFold(te, "trailers")
	if c := h.PeekCanonical(s2b("Connection")); len(c) > 0 {
		stripConnectionListed(c, func(name string) {
			if upgrade && strings.EqualFold(name, "Upgrade") {
				return
			}
			h.Del(name)
		})
	}
	for _, k := range hopHeaders {
		if upgrade && k == "Upgrade" {
			continue
		}
		if h.PeekCanonical(s2b(k)) != nil {
			h.Del(k)
		}
	}
	if h.PeekCanonical(s2b("Expect")) != nil {
		h.Del("Expect")
	}
	if keepTE {
		h.SetCanonical(s2b("Te"), s2b("trailers"))
	}
	if upgrade {
		h.SetCanonical(s2b("Connection"), s2b("Upgrade"))
	}
}

// containsFold reports whether v contains the lower-case ASCII word w in any case.
func containsFold(v []byte, w string) bool {
	for i := 0; i+len(w) <= len(v); i++ {
		if strings.EqualFold(b2s(v[i:i+len(w)]), w) {
			return true
		}
	}
	return false
}

// sanitizeResponse removes hop-by-hop headers from an upstream response (looked up as
// sanitizeUpstream does).
func sanitizeResponse(h *fasthttp.ResponseHeader) {
	if c := h.PeekCanonical(s2b("Connection")); len(c) > 0 {
		stripConnectionListed(c, h.Del)
	}
	for _, k := range [...]string{"Keep-Alive", "Proxy-Connection", "Upgrade"} {
		if h.PeekCanonical(s2b(k)) != nil {
			h.Del(k)
		}
	}
	if len(h.PeekCanonical(s2b("Trailer"))) > 0 {
		h.Del("Trailer")
	}
	h.ResetConnectionClose()
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
