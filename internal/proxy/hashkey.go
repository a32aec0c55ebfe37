package proxy

import (
	"bytes"
	"net/url"

	"github.com/google/uuid"

	"tollgate/internal/balancer"
	"tollgate/internal/snapshot"
)

// hashKey is the balancer key of a request (Kong §2.3): for consistent-hashing the value named
// by the upstream's hash_on, or hash_fallback when that is empty; for ip-hash the client
// address; nothing for the other algorithms. A cookie-hashed request without its cookie gets
// a fresh UUID, which the response then sets (Kong's behaviour), so the client sticks from
// its next request on.
func (p *Proxy) hashKey(st *reqState, svc *snapshot.Service) balancer.Key {
	up := svc.Upstream
	if up == nil {
		return balancer.Key{}
	}
	switch up.Algorithm {
	case balancer.AlgorithmIPHash:
		st.scratch = st.fwdIP().AppendTo(st.scratch[:0])
		return balancer.KeyOf(st.scratch)
	case balancer.AlgorithmConsistentHashing:
	default:
		return balancer.Key{}
	}
	if v := p.hashInput(st, up.HashOn, up.HashOnHeader, up.HashOnCookie, up.HashOnQueryArg, up.HashOnURICapture); len(v) > 0 {
		return balancer.KeyOf(v)
	}
	if up.HashOn == "cookie" {
		id := uuid.NewString()
		st.setCookie = up.HashOnCookie + "=" + id + "; Path=" + up.HashOnCookiePath + "; SameSite=Lax; HttpOnly"
		return balancer.KeyOfString(id)
	}
	if v := p.hashInput(st, up.HashFallback, up.HashFallbackHeader, up.HashOnCookie, up.HashFallbackQueryArg, up.HashFallbackURICapture); len(v) > 0 {
		return balancer.KeyOf(v)
	}
	// Kong hashes the empty string when no input is present; so does the ring.
	return balancer.Key{}
}

// hashInput returns the bytes one hash_on mode names for this request (nil when absent).
func (p *Proxy) hashInput(st *reqState, mode, header, cookie, queryArg, capture string) []byte {
	c := &st.pc
	switch mode {
	case "consumer":
		if c.Consumer != nil {
			return s2b(c.Consumer.ID)
		}
	case "ip":
		st.scratch = st.fwdIP().AppendTo(st.scratch[:0])
		return st.scratch
	case "header":
		// several lines of the header are concatenated, as Kong does with its table value
		vs := c.In.Header().Values(header)
		if len(vs) == 1 {
			return s2b(vs[0])
		}
		st.scratch = st.scratch[:0]
		for _, v := range vs {
			st.scratch = append(st.scratch, v...)
		}
		return st.scratch
	case "cookie":
		return cookieValue(c.In.Header().Values("Cookie"), cookie)
	case "path":
		return st.path
	case "query_arg":
		q, err := url.ParseQuery(c.In.Query())
		if err != nil {
			return nil
		}
		st.scratch = st.scratch[:0]
		for _, v := range q[queryArg] {
			st.scratch = append(st.scratch, v...)
		}
		return st.scratch
	case "uri_capture":
		if c.Captures == nil {
			return nil
		}
		if v, ok := c.Captures.Named(capture); ok {
			return s2b(v)
		}
	}
	return nil
}

// cookieValue finds name among Cookie header lines ("a=1; b=2").
func cookieValue(lines []string, name string) []byte {
	for _, line := range lines {
		b := s2b(line)
		for len(b) > 0 {
			var part []byte
			if i := bytes.IndexByte(b, ';'); i >= 0 {
				part, b = b[:i], b[i+1:]
			} else {
				part, b = b, nil
			}
			part = bytes.TrimSpace(part)
			if k, v, ok := bytes.Cut(part, []byte("=")); ok && string(k) == name {
				return v
			}
		}
	}
	return nil
}
