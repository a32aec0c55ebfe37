package requesttermination

import (
	"net/url"
	"strings"

	"tollgate/internal/plugin"
)

// Access answers the request, unless a trigger is configured and the request carries neither
// a header nor a query argument of that name.
func (t *terminator) Access(c *plugin.Ctx) error {
	if t.trigger != "" && !triggered(c, t.trigger) {
		return nil
	}
	switch {
	case t.echo:
		return c.ExitWith(&plugin.Reply{Status: t.status, ContentType: jsonUTF8, Body: t.echoBody(c)})
	case t.body != nil:
		// t.body is shared by every request: replies are only read by the proxy.
		return c.ExitWith(&plugin.Reply{Status: t.status, ContentType: t.ctype, Body: t.body})
	}
	return c.Exit(t.status, t.message)
}

// triggered tells whether the client's request has a header or a query argument named name
// (an empty value counts, as in Kong).
func triggered(c *plugin.Ctx, name string) bool {
	h := c.In.Header()
	if h.Peek(name) != nil || len(h.Values(name)) > 0 {
		return true
	}
	return hasQueryArg(c.In.Query(), name)
}

// hasQueryArg scans a raw query for an argument named name without building a map.
func hasQueryArg(q, name string) bool {
	for q != "" {
		var piece string
		if i := strings.IndexByte(q, '&'); i >= 0 {
			piece, q = q[:i], q[i+1:]
		} else {
			piece, q = q, ""
		}
		k, _, _ := strings.Cut(piece, "=")
		if k == name {
			return true
		}
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil && u == name {
				return true
			}
		}
	}
	return false
}
