package plugin

// The phases, in the order the proxy runs them. A plugin instance implements any subset; the
// chain keeps one slice per phase so that a request only pays for the phases in use.
//
// Every phase method runs concurrently on an instance that never changes after New: per-request
// state belongs in Ctx (see Ctx.State), never in the instance.

// Rewriter runs before routing. As in Kong, only globally configured plugins run it.
type Rewriter interface{ Rewrite(c *Ctx) error }

// AccessHandler runs after routing and before the upstream is called: authentication, ACLs,
// limits and request transformations. Returning c.Exit(...) answers the client directly.
type AccessHandler interface{ Access(c *Ctx) error }

// HeaderFilter runs once the response status and headers are known (from the upstream, or from
// an exit or an error produced by the gateway), before anything is sent to the client.
type HeaderFilter interface{ HeaderFilter(c *Ctx) error }

// BodyFilter sees the response body chunk by chunk as it streams to the client; eof is true
// exactly once, on the last call (whose chunk may be empty). It returns what to send in place of
// chunk. A filter that needs the whole body keeps chunks in its State and returns nil until eof.
type BodyFilter interface {
	BodyFilter(c *Ctx, chunk []byte, eof bool) ([]byte, error)
}

// LogHandler runs after the last byte was sent. It must not block: hand work to a bounded queue.
type LogHandler interface{ Log(c *Ctx) }

// Closer is implemented by instances that own goroutines or sockets; Close is called once the
// snapshot that holds the instance is retired and its requests are done.
type Closer interface{ Close() error }
