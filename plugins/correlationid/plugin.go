package correlationid

import (
	"net/textproto"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"tollgate/internal/plugin"
)

// Name is Kong's plugin name.
const Name = "correlation-id"

// Key is the shared value holding the request's correlation id, for plugins that run later
// (log plugins), as Kong's serializer field correlation_id.
var Key = plugin.NewKey[string]("correlation_id")

// Spec declares the plugin.
func Spec() plugin.Spec {
	return plugin.Define[Config](Name, plugin.Options{Priority: plugin.KongPriorities[Name]}, defaults, New)
}

// handler is a compiled config. Without echo_downstream it has no header phase.
type handler struct {
	header    string
	generator string
	echo      bool

	prefix  string        // uuid#counter: the instance's UUID and "#"
	counter atomic.Uint64 // uuid#counter: ids made so far; tracker: requests seen
	pid     int
}

// echoHandler adds the header phase that copies the id to the response.
type echoHandler struct{ *handler }

var (
	_ plugin.AccessHandler = (*handler)(nil)
	_ plugin.HeaderFilter  = echoHandler{}
)

// New builds an instance; uuid#counter draws its UUID here.
func New(cfg *Config, _ plugin.Env) (any, error) {
	// Header names are matched without regard to case and sent in this form anyway; held in
	// it, the name lets the gateway's header calls skip normalising a copy of it per request.
	name := textproto.CanonicalMIMEHeaderKey(cfg.HeaderName)
	h := &handler{header: name, generator: cfg.Generator, echo: cfg.EchoDownstream, pid: os.Getpid()}
	if h.generator == GenUUIDCounter {
		h.prefix = uuid.NewString() + "#"
	}
	if h.echo {
		return echoHandler{h}, nil
	}
	return h, nil
}

// Access keeps the client's id when it sent a non-empty one, else sets a new one upstream.
func (h *handler) Access(c *plugin.Ctx) error {
	var id string
	if v := c.In.Header().Peek(h.header); len(v) > 0 {
		id = string(v)
	} else {
		id = h.generate(c)
		c.Up.Header().Set(h.header, id)
	}
	// box the id once for both stores: each conversion to an interface would allocate
	boxed := any(id)
	c.SetShared(Key.Name(), boxed)
	if h.echo {
		*c.State() = boxed
	}
	return nil
}

// HeaderFilter echoes the id to the client: the one the access phase used, else the client's,
// else a new one (a request answered before the access phase), as Kong does.
func (h echoHandler) HeaderFilter(c *plugin.Ctx) error {
	id, _ := (*c.State()).(string)
	if id == "" {
		if v := c.In.Header().Peek(h.header); len(v) > 0 {
			id = string(v)
		} else {
			id = h.generate(c)
		}
	}
	c.Resp.Header().Set(h.header, id)
	return nil
}

func (h *handler) generate(c *plugin.Ctx) string {
	switch h.generator {
	case GenUUID:
		return uuid.NewString()
	case GenTracker:
		return h.tracker(c)
	}
	n := h.counter.Add(1)
	var buf [96]byte // the id is built on the stack: one allocation, for the string
	b := append(buf[:0], h.prefix...)
	return string(strconv.AppendUint(b, n, 10))
}

// tracker builds <client ip>-<listen port>-<pid>-<request seq>-1-<unix seconds>.<ms>; see the
// package doc for how it departs from Kong's fields.
func (h *handler) tracker(c *plugin.Ctx) string {
	start := c.Start
	if start.IsZero() {
		start = time.Now()
	}
	ms := start.UnixMilli()
	var buf [96]byte
	b := buf[:0]
	b = append(b, c.In.ClientIP()...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(c.In.ListenPort()), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(h.pid), 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, h.counter.Add(1), 10)
	b = append(b, "-1-"...)
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.')
	frac := ms % 1000
	if frac < 100 {
		b = append(b, '0')
	}
	if frac < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, frac, 10)
	return string(b)
}
