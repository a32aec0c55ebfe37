package edge

import (
	"errors"
	"fmt"
)

// Underscore actions for Policy.UnderscoreHeaders, named after Envoy's
// headers_with_underscores_action (ALLOW, REJECT_REQUEST, DROP_HEADER).
const (
	UnderscoreDrop   = "drop"
	UnderscoreReject = "reject"
	UnderscoreAllow  = "allow"
)

// Defaults, as strict as Envoy's edge guidance
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/best_practices/edge).
const (
	// DefaultMaxHeaderCount is Envoy's max_headers_count default.
	DefaultMaxHeaderCount = 100
	// DefaultMaxHeaderBytes is Envoy's max_request_headers_kb default (60 KiB),
	// counted over the request line and the header block as received.
	DefaultMaxHeaderBytes = 60 << 10
)

// Policy says how strictly Check treats a request head. The zero value is the
// default policy: every zero field means its default, so a Policy embedded in
// a config struct is safe before defaults are filled in.
type Policy struct {
	// UnderscoreHeaders is what happens to a header whose name contains '_':
	// "drop" (default; Envoy's and nginx's behaviour), "reject" (400) or
	// "allow". Dropping stops `X_User_Id` from reaching an upstream that
	// folds '_' into '-' (CGI, WSGI, Rack, PHP do) and reads it as the
	// `X-User-Id` a plugin set.
	UnderscoreHeaders string
	// MaxHeaderCount is the most header fields a request may carry; more is
	// answered 431. 0 means DefaultMaxHeaderCount (100, Envoy's default).
	MaxHeaderCount int
	// MaxHeaderBytes bounds the request line plus header block, in bytes;
	// more is answered 431. 0 means DefaultMaxHeaderBytes (60 KiB, Envoy's
	// default). fasthttp's Server.ReadBufferSize usually refuses first.
	MaxHeaderBytes int
	// DecodeSlashes says the router reads %2F, %5C and a raw backslash in a path as '/'
	// before it removes dot segments (--escaped-slashes decode, internal/router
	// SlashesDecode). The path then has one reading for the gateway and the upstream, so
	// Check lets a backslash, or a dot segment next to an encoded slash, through to the
	// router instead of refusing it. False (the default) matches the router's default,
	// which keeps them as they are.
	DecodeSlashes bool
	// AllowUnwired lets CheckRequest pass a request whose connection was not
	// accepted through NewListener. By default such a request is answered
	// 500: without the wire tracker a bare LF ending the request line and a
	// lenient chunked body on an earlier request go unseen, and a silently
	// weaker check is worse than a loud wiring error.
	AllowUnwired bool
}

// DefaultPolicy returns the policy with every default spelled out.
func DefaultPolicy() Policy {
	return Policy{
		UnderscoreHeaders: UnderscoreDrop,
		MaxHeaderCount:    DefaultMaxHeaderCount,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

// Validate reports every problem with p, joined; the field paths follow the
// struct so a config loader can prefix them.
func (p *Policy) Validate() error {
	var errs []error
	switch p.UnderscoreHeaders {
	case "", UnderscoreDrop, UnderscoreReject, UnderscoreAllow:
	default:
		errs = append(errs, fmt.Errorf("underscore_headers: %q is not one of drop, reject, allow", p.UnderscoreHeaders))
	}
	if p.MaxHeaderCount < 0 {
		errs = append(errs, fmt.Errorf("max_header_count: %d is negative", p.MaxHeaderCount))
	}
	if p.MaxHeaderBytes < 0 {
		errs = append(errs, fmt.Errorf("max_header_bytes: %d is negative", p.MaxHeaderBytes))
	}
	return errors.Join(errs...)
}

func (p *Policy) maxHeaderCount() int {
	if p.MaxHeaderCount > 0 {
		return p.MaxHeaderCount
	}
	return DefaultMaxHeaderCount
}

// HeaderBytes is the head bound in effect (MaxHeaderBytes or its default), for the engine
// buffers and the HTTP/2 header list limit that must agree with it.
func (p *Policy) HeaderBytes() int { return p.maxHeaderBytes() }

func (p *Policy) maxHeaderBytes() int {
	if p.MaxHeaderBytes > 0 {
		return p.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

// UnderscoreAction is the action for header names with '_': UnderscoreDrop,
// UnderscoreReject or UnderscoreAllow, defaults applied. The HTTP/2 front end,
// which Check does not see, applies it to its own header map.
func (p *Policy) UnderscoreAction() string { return p.underscore() }

// underscore returns the action to take; an unknown value, which Validate
// reports, is treated as reject so a typo fails closed.
func (p *Policy) underscore() string {
	switch p.UnderscoreHeaders {
	case "", UnderscoreDrop:
		return UnderscoreDrop
	case UnderscoreAllow:
		return UnderscoreAllow
	}
	return UnderscoreReject
}

// Verdict is the outcome of a check. Status 0 means the request may go on;
// otherwise the handler answers Status and ends the request there.
type Verdict struct {
	// Status is the HTTP status to answer with, 0 when the request is fine.
	Status int
	// Reason is a fixed, client-safe text naming the rule that was broken;
	// it never echoes request bytes, so it can go to a log or a body as is.
	Reason string
	// Close asks for the connection to be closed after the answer. Every
	// refusal closes: Envoy, HAProxy and nginx close after a codec error,
	// and the body of a refused request is not trusted to frame the next one
	// (RFC 9112 §6.3 requires it for Content-Length with Transfer-Encoding).
	Close bool
}

// OK reports whether the request may go on.
func (v Verdict) OK() bool { return v.Status == 0 }

func refuse(status int, reason string) Verdict {
	return Verdict{Status: status, Reason: reason, Close: true}
}

// Reasons. They are constants so a verdict costs no allocation and tests can
// compare them.
const (
	ReasonVersion          = "unsupported HTTP version"
	ReasonBadRequestLine   = "malformed request line"
	ReasonHeadTooLarge     = "request header block too large"
	ReasonTooManyHeaders   = "too many header fields"
	ReasonNotWire          = "request head was not parsed from the wire"
	ReasonTruncated        = "header block not terminated"
	ReasonBareLF           = "bare LF line ending"
	ReasonObsFold          = "obsolete line folding"
	ReasonEmptyName        = "empty header name"
	ReasonBadName          = "invalid character in header name"
	ReasonBadValue         = "invalid character in header value"
	ReasonDupCL            = "duplicate Content-Length"
	ReasonListCL           = "comma-separated Content-Length"
	ReasonBadCL            = "invalid Content-Length"
	ReasonCLAndTE          = "both Content-Length and Transfer-Encoding"
	ReasonTENotFinal       = "chunked is not the only and final transfer coding"
	ReasonTEUnknown        = "unsupported transfer coding"
	ReasonTEHTTP10         = "Transfer-Encoding in an HTTP/1.0 request"
	ReasonNoHost           = "missing Host"
	ReasonDupHost          = "duplicate Host"
	ReasonBadHost          = "invalid Host"
	ReasonBadTarget        = "invalid request target"
	ReasonUserinfo         = "userinfo in request target"
	ReasonHostMismatch     = "request target authority differs from Host"
	ReasonBadMethod        = "invalid method"
	ReasonFragment         = "fragment in request target"
	ReasonBackslash        = "backslash in request path"
	ReasonDotSegment       = "dot segment next to an encoded slash or with parameters"
	ReasonUnderscore       = "underscore in header name"
	ReasonUnwired          = "connection not accepted through edge.NewListener"
	ReasonWireBareLF       = "bare LF in request head"
	ReasonWireBareCR       = "bare CR in request head"
	ReasonWireHeadTooLarge = "request head too large on the wire"
	ReasonWireFraming      = "ambiguous body framing"
	ReasonWireChunk        = "malformed chunked body on this connection"
	ReasonWireDesync       = "request boundaries out of sync"
)
