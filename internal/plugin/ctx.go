package plugin

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"tollgate/internal/config"
)

// HeaderReader reads a header set without allocating for the common single lookup. Names are
// case-insensitive.
type HeaderReader interface {
	// Peek returns the first value of name, or nil when absent. The slice is valid until the
	// header set changes or the request ends; copy it to keep it.
	Peek(name string) []byte
	// Values returns every value of name, one per header line (allocates).
	Values(name string) []string
	// VisitAll calls fn for every header line in order.
	VisitAll(fn func(name, value []byte))
	// Len is the number of header lines.
	Len() int
}

// Header is a header set that can be changed (the upstream request's or the response's).
// Values are copied; names are kept as given for the rest of the request, so a name must be
// a real string (a config's, a constant), never an unsafe view of a buffer that is reused.
type Header interface {
	HeaderReader
	Set(name, value string)
	Add(name, value string)
	Del(name string)
}

// Request is the client's request as received, after hop-by-hop and untrusted forwarding
// headers were removed. Plugins read it; changes go to Ctx.Up.
type Request interface {
	Method() string
	// Path is the canonical path (normalized once, used for routing and every plugin).
	Path() string
	// RawPath is the path as the client sent it, without the query.
	RawPath() string
	// Query is the raw query string without '?', as sent.
	Query() string
	// Host is the host the request was addressed to (Host header or :authority), as sent.
	Host() string
	// Scheme is "http" or "https" as seen by the gateway (not X-Forwarded-Proto).
	Scheme() string
	// ProtoMajor is 1 or 2.
	ProtoMajor() int
	Header() HeaderReader
	// ClientIP is the direct peer's address; ForwardedIP the client address after real-IP
	// recovery from trusted hops (Kong's get_forwarded_ip), used by limits and IP rules.
	ClientIP() string
	ForwardedIP() string
	// ListenPort is the port of the listener that accepted the request.
	ListenPort() int
}

// UpstreamRequest is the request being built toward the upstream. The proxy fills it before
// the access phase (method, upstream path, query, Host, forwarding headers), then plugins
// change it.
type UpstreamRequest interface {
	Method() string
	SetMethod(m string)
	// Path is the upstream path, unescaped; the proxy escapes it when sending.
	Path() string
	SetPath(p string)
	// Query is the raw encoded query string without '?'.
	Query() string
	SetQuery(q string)
	// Host is the Host header sent upstream.
	Host() string
	SetHost(h string)
	Header() Header
	// Body reads the whole request body (once; later calls return the same bytes). Calling it
	// switches the request from streaming to buffering, so only plugins that must see the body
	// call it.
	Body() ([]byte, error)
	// SetBody replaces the body; Content-Length is recomputed.
	SetBody(b []byte)
}

// Response is the response on its way to the client: from the upstream, from an exit, or from
// an error the gateway produced.
type Response interface {
	Status() int
	SetStatus(code int)
	Header() Header
}

// Captures are the regex captures of the matched route path: [0] is the whole match.
type Captures interface {
	Get(i int) (string, bool)
	Named(name string) (string, bool)
}

// ErrExit is what Exit returns: a plugin returns it to end the request phases.
var ErrExit = errors.New("plugin: request answered by a plugin")

// Reply is a response produced by the gateway instead of the upstream.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
	Headers     [][2]string
	// Error marks replies in kong.response.error style: the proxy renders Message with the
	// request id and negotiates the content type from Accept.
	Error   bool
	Message string
}

// Ctx is one request's state, passed to every phase of every plugin. It is owned by the proxy,
// reused across requests, and must not be kept after the request ends.
type Ctx struct {
	In   Request
	Up   UpstreamRequest
	Resp Response // set from the header phase on

	Route    *config.Route    // nil when no route matched
	Service  *config.Service  // nil when the route has none
	Consumer *config.Consumer // set by Authenticate
	// Credential is the credential entity that authenticated the consumer (nil if none).
	Credential any
	Captures   Captures

	Log       *slog.Logger
	RequestID string
	// Start is when the gateway read the request; UpstreamStart when it began sending it to
	// the upstream (zero until then), UpstreamFirstByte when the response head arrived.
	Start, UpstreamStart, UpstreamFirstByte time.Time

	ctx    context.Context
	reply  *Reply
	shared map[string]any
	states []any
	cur    int
}

// Reset prepares c for a new request. The proxy calls it; plugins do not.
func (c *Ctx) Reset(ctx context.Context, nStates int) {
	states := c.states[:0]
	for i := 0; i < nStates; i++ {
		states = append(states, nil)
	}
	shared := c.shared
	clear(shared)
	*c = Ctx{ctx: ctx, states: states, shared: shared}
}

// Context is the request's context, for calls a plugin makes on the request's behalf. On
// HTTP/2 it is cancelled when the client resets the stream or goes away. On HTTP/1.1 it is
// not cancelled when the client goes away: the engines do not watch a client's connection
// while its request is handled (the codec's is never cancelled, fasthttp's at shutdown), so
// bound such calls with a timeout of their own.
func (c *Ctx) Context() context.Context {
	if c.ctx == nil {
		return context.Background()
	}
	return c.ctx
}

// Enter marks that the plugin at chain slot i is running, so that State addresses its slot.
func (c *Ctx) Enter(i int) { c.cur = i }

// State is the running plugin instance's per-request slot (Kong's kong.ctx.plugin).
func (c *Ctx) State() *any {
	if c.cur < 0 || c.cur >= len(c.states) {
		var none any
		return &none
	}
	return &c.states[c.cur]
}

// Exit answers the client with status and Kong's {"message": ...} JSON body
// (kong.response.exit). An empty message sends no body. Return its result from the phase.
func (c *Ctx) Exit(status int, message string) error {
	r := &Reply{Status: status}
	if message != "" {
		r.ContentType = "application/json; charset=utf-8"
		r.Body = appendJSONMessage(nil, message)
	}
	c.reply = r
	return ErrExit
}

// ExitError answers like kong.response.error: the body carries the request id and its type
// follows the client's Accept header.
func (c *Ctx) ExitError(status int, message string) error {
	c.reply = &Reply{Status: status, Error: true, Message: message}
	return ErrExit
}

// ExitWith answers with a reply built by the plugin.
func (c *Ctx) ExitWith(r *Reply) error {
	c.reply = r
	return ErrExit
}

// Reply is the reply recorded by an exit, or nil.
func (c *Ctx) Reply() *Reply { return c.reply }

// Authenticate records the consumer a credential belongs to. It is the one place consumer
// identity is set; the proxy derives X-Consumer-* headers from it.
func (c *Ctx) Authenticate(consumer *config.Consumer, credential any) {
	c.Consumer = consumer
	c.Credential = credential
}

// Key names a typed value shared between plugins for one request (Kong's kong.ctx.shared).
type Key[T any] struct{ name string }

// NewKey declares a shared value; declare keys as package-level values of the plugin that owns
// them.
func NewKey[T any](name string) Key[T] { return Key[T]{name: name} }

// Name is the key's name, as templates address it ($(shared.name)).
func (k Key[T]) Name() string { return k.name }

// Set stores v under k for this request.
func Set[T any](c *Ctx, k Key[T], v T) { c.SetShared(k.name, v) }

// Get reads the value stored under k.
func Get[T any](c *Ctx, k Key[T]) (T, bool) {
	v, ok := c.shared[k.name]
	if !ok {
		var zero T
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// SetShared stores an untyped shared value (for templates and plugins that take names from
// config).
func (c *Ctx) SetShared(name string, v any) {
	if c.shared == nil {
		c.shared = make(map[string]any, 4)
	}
	c.shared[name] = v
}

// Shared reads a shared value by name.
func (c *Ctx) Shared(name string) (any, bool) {
	v, ok := c.shared[name]
	return v, ok
}

// appendJSONMessage appends {"message":"<msg>"} with msg JSON-escaped. Hand-written because
// encoding/json would allocate a map and reflect for a two-field constant shape on every exit.
func appendJSONMessage(dst []byte, msg string) []byte {
	dst = append(dst, `{"message":`...)
	dst = AppendJSONString(dst, msg)
	return append(dst, '}')
}

// AppendJSONString appends s as a JSON string literal.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"' || b == '\\':
			dst = append(dst, '\\', b)
		case b == '\n':
			dst = append(dst, '\\', 'n')
		case b == '\r':
			dst = append(dst, '\\', 'r')
		case b == '\t':
			dst = append(dst, '\\', 't')
		case b < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
		default:
			dst = append(dst, b)
		}
	}
	return append(dst, '"')
}
