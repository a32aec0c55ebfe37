package requesttermination

import (
	"os"

	"tollgate/internal/plugin"
)

// Name is Kong's plugin name.
const Name = "request-termination"

// Spec declares the plugin.
func Spec() plugin.Spec {
	return plugin.Define[Config](Name, plugin.Options{Priority: plugin.KongPriorities[Name]}, defaults, New)
}

// jsonUTF8 is the type of kong.response.exit's JSON bodies.
const jsonUTF8 = "application/json; charset=utf-8"

// terminator is a compiled config.
type terminator struct {
	status  int
	message string // "" = no body (message mode)
	body    []byte // body mode when non-nil
	ctype   string
	echo    bool
	trigger string

	nodeID, hostname string
	pid              int
}

var _ plugin.AccessHandler = (*terminator)(nil)

// defaultMessage is Kong's DEFAULT_RESPONSE table of this plugin; other statuses have none.
func defaultMessage(status int) string {
	switch status {
	case 401:
		return "Unauthorized"
	case 404:
		return "Not found"
	case 405:
		return "Method not allowed"
	case 500:
		return "An unexpected error occurred"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service unavailable"
	}
	return ""
}

// New builds an instance.
func New(cfg *Config, env plugin.Env) (any, error) {
	t := &terminator{status: cfg.StatusCode, echo: cfg.Echo, nodeID: env.NodeID, pid: os.Getpid()}
	t.message = defaultMessage(t.status)
	if present(cfg.Message) {
		t.message = *cfg.Message
	}
	if present(cfg.Trigger) {
		t.trigger = *cfg.Trigger
	}
	if present(cfg.Body) {
		t.body = []byte(*cfg.Body)
		t.ctype = jsonUTF8
		if present(cfg.ContentType) {
			t.ctype = *cfg.ContentType
		}
	}
	if t.echo {
		t.hostname, _ = os.Hostname()
	}
	if !bodyAllowed(t.status) {
		t.message, t.body = "", nil
	}
	return t, nil
}

// bodyAllowed: 1xx, 204 and 304 responses have no body (RFC 9110 §6.4.1).
func bodyAllowed(status int) bool {
	return status >= 200 && status != 204 && status != 304
}
