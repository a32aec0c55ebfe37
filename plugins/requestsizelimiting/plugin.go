package requestsizelimiting

import (
	"bytes"
	"strconv"

	"tollgate/internal/plugin"
)

// Name is Kong's plugin name.
const Name = "request-size-limiting"

// Spec declares the plugin.
func Spec() plugin.Spec {
	return plugin.Define[Config](Name, plugin.Options{Priority: plugin.KongPriorities[Name]}, defaults, New)
}

// Kong's messages.
const (
	msgTooLarge       = "Request size limit exceeded"
	msgLengthRequired = "A valid Content-Length header is required"
)

type limiter struct {
	limit      int64
	requireLen bool
}

var _ plugin.AccessHandler = (*limiter)(nil)

// New builds the plugin.
func New(cfg *Config, _ plugin.Env) (any, error) {
	return &limiter{limit: cfg.limit(), requireLen: cfg.RequireContentLength}, nil
}

// Access checks the announced length first and reads the body only when none is announced.
func (l *limiter) Access(c *plugin.Ctx) error {
	h := c.In.Header()
	if cl := h.Peek("Content-Length"); len(cl) > 0 {
		if n, err := strconv.ParseInt(string(bytes.TrimSpace(cl)), 10, 64); err == nil {
			if n > l.limit {
				return l.tooLarge(c)
			}
			return nil
		}
	}
	chunked := bytes.Contains(bytes.ToLower(h.Peek("Transfer-Encoding")), []byte("chunked"))
	if l.requireLen && !chunked {
		return c.Exit(411, msgLengthRequired)
	}
	// no length announced: read the body and count it, as Kong does (kong.request.get_raw_body)
	body, err := c.Up.Body()
	if err != nil || int64(len(body)) > l.limit {
		return l.tooLarge(c)
	}
	return nil
}

func (l *limiter) tooLarge(c *plugin.Ctx) error {
	if bytes.EqualFold(c.In.Header().Peek("Expect"), []byte("100-continue")) {
		return c.Exit(417, msgTooLarge)
	}
	return c.Exit(413, msgTooLarge)
}
