package proxy

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"syscall"

	"tollgate/internal/balancer"
	"tollgate/internal/plugin"
	"tollgate/internal/upstream"
)

// Kong's wording for the errors the gateway itself produces (KONG_COMPAT §3.7, §4.7, §5).
const (
	msgNoRoute        = "no Route matched with those values"
	msgNoService      = "no Service found with those values"
	msgBadRequest     = "Bad request"
	msgBadGateway     = "An invalid response was received from the upstream server"
	msgUnavailable    = "The upstream server is currently unavailable"
	msgTimeout        = "The upstream server is timing out"
	msgNoPeer         = "failure to get a peer from the ring-balancer"
	msgInternal       = "An unexpected error occurred"
	msgHTTPSRequired  = "Please use HTTPS protocol"
	msgPayloadTooBig  = "Payload too large"
	msgUpgradeTimeout = "The upstream server is timing out"
)

// defaultMessage is Kong's message for a status when a plugin gives none (§5.1).
func defaultMessage(status int) string {
	switch status {
	case 400:
		return msgBadRequest
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not found"
	case 405:
		return "Method not allowed"
	case 408:
		return "Request timeout"
	case 409:
		return "Conflict"
	case 411:
		return "Length required"
	case 413:
		return msgPayloadTooBig
	case 414:
		return "URI too long"
	case 415:
		return "Unsupported media type"
	case 417:
		return "Expectation failed"
	case 426:
		return "Upgrade required"
	case 429:
		return "Too many requests"
	case 500:
		return msgInternal
	case 502:
		return msgBadGateway
	case 503:
		return msgUnavailable
	case 504:
		return msgTimeout
	}
	return "The upstream server responded with " + string(itoa(nil, status))
}

// upstreamStatus maps an error from calling the upstream to the status and message the
// client gets: 504 for timeouts (connect or read), 503 when no target can be picked, 502 for
// refused or reset connections and malformed responses. This is the one place that decides.
func upstreamStatus(err error) (int, string) {
	switch {
	case errors.Is(err, balancer.ErrNoTarget):
		return 503, msgNoPeer
	case isTimeout(err):
		return 504, msgTimeout
	case errors.Is(err, errBodyTooLarge):
		return 413, msgPayloadTooBig
	default:
		return 502, msgBadGateway
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, upstream.ErrDialTimeout)
}

// isRefused tells connection-level failures before any request byte was accepted: safe to
// retry on another try.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// isReset tells a connection the upstream reset or closed under a request in progress.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// appendErrorBody renders a gateway error like kong.response.error: the type follows the
// client's Accept header (JSON when absent, */*, or unknown), the body carries the request id.
// JSON is the default for every error, also for upstream failures where Kong falls back to
// text/plain: clients of an API gateway expect JSON.
func appendErrorBody(dst []byte, accept []byte, msg, requestID string) ([]byte, string) {
	switch negotiate(accept) {
	case "text/plain":
		dst = append(dst, msg...)
		dst = append(dst, "\nrequest_id: "...)
		dst = append(dst, requestID...)
		return append(dst, '\n'), "text/plain; charset=utf-8"
	case "text/html":
		dst = append(dst, "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<h1>Error</h1>\n<p>"...)
		dst = appendHTMLEscaped(dst, msg)
		dst = append(dst, ".</p>\n<p>request_id: "...)
		dst = append(dst, requestID...)
		return append(dst, "</p>\n</body>\n</html>\n"...), "text/html; charset=utf-8"
	case "application/xml":
		dst = append(dst, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>"...)
		dst = appendHTMLEscaped(dst, msg)
		dst = append(dst, "</message>\n  <requestid>"...)
		dst = append(dst, requestID...)
		return append(dst, "</requestid>\n</error>\n"...), "application/xml; charset=utf-8"
	}
	dst = append(dst, "{\n  \"message\":"...)
	dst = plugin.AppendJSONString(dst, msg)
	dst = append(dst, ",\n  \"request_id\":\""...)
	dst = append(dst, requestID...)
	return append(dst, "\"\n}"...), "application/json; charset=utf-8"
}

// negotiate picks the media type with the highest q among those Kong renders.
func negotiate(accept []byte) string {
	if len(accept) == 0 {
		return "application/json"
	}
	best, bestQ := "application/json", -1.0
	for len(accept) > 0 {
		var part []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			part, accept = accept[:i], accept[i+1:]
		} else {
			part, accept = accept, nil
		}
		mt, q := parseMediaRange(part)
		var typ string
		switch mt {
		case "application/json", "application/*", "*/*":
			typ = "application/json"
		case "text/plain", "text/*":
			typ = "text/plain"
		case "text/html":
			typ = "text/html"
		case "application/xml", "text/xml":
			typ = "application/xml"
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = typ, q
		}
	}
	return best
}

func parseMediaRange(part []byte) (string, float64) {
	part = bytes.TrimSpace(part)
	q := 1.0
	if i := bytes.IndexByte(part, ';'); i >= 0 {
		params := part[i+1:]
		part = bytes.TrimSpace(part[:i])
		for _, p := range bytes.Split(params, []byte(";")) {
			p = bytes.TrimSpace(p)
			if len(p) > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' {
				q = parseQ(p[2:])
			}
		}
	}
	return string(bytes.ToLower(part)), q
}

func parseQ(b []byte) float64 {
	// q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )  (RFC 9110 §12.4.2)
	if len(b) == 0 {
		return 0
	}
	v := float64(b[0] - '0')
	if v < 0 || v > 1 {
		return 0
	}
	scale := 0.1
	for _, c := range b[min(2, len(b)):] {
		if c < '0' || c > '9' {
			break
		}
		v += float64(c-'0') * scale
		scale /= 10
	}
	return min(v, 1)
}

func appendHTMLEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '&':
			dst = append(dst, "&amp;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		default:
			dst = append(dst, s[i])
		}
	}
	return dst
}

// failErr answers with the status and message upstreamStatus picks for err.
func (p *Proxy) failErr(st *reqState, err error) {
	status, msg := upstreamStatus(err)
	p.fail(st, status, msg)
}
