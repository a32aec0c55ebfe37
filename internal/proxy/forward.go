package proxy

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// fieldSet tells which of the names the gateway removes from or sets on the upstream request
// are there: the hop-by-hop ones (sanitizeUpstream) and the gateway's own (prepareUpstream).
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
	fAll = 1<<iota - 1
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
// header's, in canonical form), from one walk over h as the engine writes it; buf is scratch
// space, returned for reuse.
//
// Looking each name up instead (PeekCanonical) cost a walk over the fields per name, twenty
// of them per request, and was not exact: the engine stores an empty value as a nil slice
// when it lands in a slot its field list never used before, so a field with an empty value
// peeked as absent, and a client that sent "X-Real-Ip:" and then "X-Real-Ip: 6.6.6.6" could
// keep its second field beside the gateway's. The written form shows every field, whatever
// its value.
//
// Fields of names announced as trailers are kept apart from the others and are not written
// with them: when the request announces trailers (a Trailer line), every name counts as
// there, so that nothing is missed (the Trailer field is removed first, which brings them
// back among the others).
func upstreamFields(h *fasthttp.RequestHeader, ridKey string, buf []byte) (fieldSet, []byte) {
	buf = h.AppendBytes(buf[:0])
	var fs fieldSet
	rest := buf
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[i+1:] // the request line
	}
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		// names are compared as stored: the engine keeps them in canonical form, as
		// PeekCanonical compares them
		name := line[:colon]
		if len(ridKey) > 0 && string(name) == ridKey {
			fs |= fRequestID
		}
		fs |= fieldBit(name)
	}
	if fs&fTrailer != 0 {
		fs = fAll
	}
	return fs, buf
}

// fieldBit is the fieldSet bit of a field name in canonical form, 0 for any other name.
func fieldBit(name []byte) fieldSet {
	switch string(name) {
	case "Connection":
		return fConnection
	case "Keep-Alive":
		return fKeepAlive
	case "Proxy-Connection":
		return fProxyConnection
	case "Proxy":
		return fProxy
	case "Proxy-Authenticate":
		return fProxyAuthenticate
	case "Proxy-Authorization":
		return fProxyAuthorization
	case "Te":
		return fTe
	case "Trailer":
		return fTrailer
	case "Transfer-Encoding":
		return fTransferEncoding
	case "Upgrade":
		return fUpgrade
	case "Expect":
		return fExpect
	case "X-Forwarded-For":
		return fXForwardedFor
	case "X-Forwarded-Proto":
		return fXForwardedProto
	case "X-Forwarded-Host":
		return fXForwardedHost
	case "X-Forwarded-Port":
		return fXForwardedPort
	case "X-Forwarded-Path":
		return fXForwardedPath
	case "X-Forwarded-Prefix":
		return fXForwardedPrefix
	case "X-Real-Ip":
		return fXRealIP
	case "Via":
		return fVia
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
		if len(tok) == 0 || bytes.EqualFold(tok, []byte("close")) || bytes.EqualFold(tok, []byte("keep-alive")) {
			continue
		}
		del(string(tok))
	}
}

// sanitizeUpstream removes hop-by-hop headers from the upstream request; fs tells which are
// there (upstreamFields). "TE: trailers" is kept when the client asked for it; upgrade keeps
// the WebSocket handshake headers.
//
// Names are deleted only when there: Del normalises its key on every call, which cost about
// 3% of the CPU per request when it ran for each hop name (bench/profiles/README.md).
func sanitizeUpstream(h *fasthttp.RequestHeader, upgrade bool, fs fieldSet) {
	var te []byte
	if fs&fTe != 0 {
		te = h.PeekCanonical(s2b("Te"))
	}
	keepTE := len(te) > 0 && containsFold(te, "trailers")
	if fs&fConnection != 0 {
		if c := h.PeekCanonical(s2b("Connection")); len(c) > 0 {
			stripConnectionListed(c, func(name string) {
				if upgrade && strings.EqualFold(name, "Upgrade") {
					return
				}
				h.Del(name)
			})
		}
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
