// Package admin serves Kong's Admin API for a DB-less node: the read side of every entity
// collection, Kong's node information and status, and the whole-config load of POST /config.
//
// The answers follow Kong 3.x (kong/api/endpoints.lua and the DB-less "off" strategy) closely
// enough for Kong's own clients (decK, the Kong Manager read views, ingress controllers): the same
// paths, JSON shapes, pagination, error codes and, for writes to single entities, the same
// 405 "operation unsupported" refusals. A configuration is replaced only as a whole, through
// Backend.LoadBytes, so the admin API never holds state of its own besides a cached index of the
// configuration it last served.
package admin

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tollgate/internal/config"
	"tollgate/internal/plugin"
)

// Backend is the running node as the admin API sees it.
type Backend interface {
	// Config is the configuration serving now; never nil (an empty config has no entities).
	Config() *config.Config
	// LoadBytes validates, compiles and swaps in a configuration. An invalid one returns
	// config.Errors and the previous configuration keeps serving.
	LoadBytes(data []byte) error
	// Status is the body of GET /status (configuration_hash, server{...}).
	Status() map[string]any
}

// Options configure the handler. Version, NodeID and Hostname appear in GET /; Registry lists
// the plugins this build offers (nil = none).
type Options struct {
	Backend                   Backend
	Version, NodeID, Hostname string
	Registry                  *plugin.Registry
	Log                       *slog.Logger
}

// maxConfigBytes bounds a POST /config body. Kong's own limit is its LMDB map size (128 MiB by
// default); half of that still holds configurations with hundreds of thousands of entities while
// keeping one request from claiming unbounded memory.
const maxConfigBytes = 64 << 20

const jsonContentType = "application/json; charset=utf-8"

// handler is the admin API. The index of the configuration is rebuilt only when Backend.Config
// returns a different configuration, so that reads cost a map lookup, not a walk of the config.
type handler struct {
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	ix      atomic.Pointer[index]
	loading sync.Mutex // held while POST /config loads: Kong serves one load at a time
	now     func() time.Time
	maxBody int64 // POST /config body limit; maxConfigBytes but for tests
}

// New returns the admin API handler.
func New(opts Options) http.Handler {
	h := &handler{opts: opts, log: opts.Log, mux: http.NewServeMux(), now: time.Now, maxBody: maxConfigBytes}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.routes()
	return h
}

// ServeHTTP tolerates a trailing slash as Kong does ("/services/" is "/services") and answers
// every path nobody claims with Kong's JSON 404 instead of ServeMux's text one.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		u := *r.URL
		u.Path = strings.TrimRight(p, "/")
		if u.Path == "" {
			u.Path = "/"
		}
		if u.RawPath != "" {
			u.RawPath = strings.TrimRight(u.RawPath, "/")
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = &u
		r = r2
	}
	h.mux.ServeHTTP(w, r)
}

// index returns the index of the configuration serving now.
func (h *handler) index() *index {
	cfg := h.opts.Backend.Config()
	if cfg == nil {
		// The contract says never nil; a node answering "nothing configured" beats a panic.
		cfg = &config.Config{}
	}
	if ix := h.ix.Load(); ix != nil && ix.cfg == cfg {
		return ix
	}
	ix := buildIndex(cfg)
	h.ix.Store(ix)
	return ix
}

// methods dispatches on the HTTP method. A nil entry is a method the resource does not have:
// 405 with Kong's body. HEAD is GET without a body (net/http drops it); OPTIONS lists the methods.
type methods struct {
	get, post, put, patch, delete http.HandlerFunc
}

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var f http.HandlerFunc
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f = m.get
	case http.MethodPost:
		f = m.post
	case http.MethodPut:
		f = m.put
	case http.MethodPatch:
		f = m.patch
	case http.MethodDelete:
		f = m.delete
	case http.MethodOptions:
		allow := m.allow()
		w.Header().Set("Allow", allow)
		w.Header().Set("Access-Control-Allow-Methods", allow)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if f == nil {
		writeJSON(w, http.StatusMethodNotAllowed, message("Method not allowed"))
		return
	}
	f(w, r)
}

func (m methods) allow() string {
	var out []string
	for _, e := range []struct {
		name string
		f    http.HandlerFunc
	}{{"GET, HEAD", m.get}, {"POST", m.post}, {"PUT", m.put}, {"PATCH", m.patch}, {"DELETE", m.delete}} {
		if e.f != nil {
			out = append(out, e.name)
		}
	}
	return strings.Join(append(out, "OPTIONS"), ", ")
}

// message is Kong's body for plain errors: {"message": ...}.
func message(msg string) obj { return obj{{"message", msg}} }

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, message("Not found"))
}

// apiError is a Kong error with a code (kong/db/errors.lua) and the status endpoints.lua maps it
// to.
type apiError struct {
	status int
	body   obj
}

func (e *apiError) write(w http.ResponseWriter) { writeJSON(w, e.status, e.body) }

// Kong's error codes (kong/db/errors.lua) used here.
const (
	codeInvalidPrimaryKey    = 1
	codeInvalidOffset        = 7
	codeInvalidSize          = 9
	codeInvalidOptions       = 11
	codeOperationUnsupported = 12
)

func codeError(status, code int, name, msg string, extra ...kv) *apiError {
	body := obj{{"code", code}, {"name", name}, {"message", msg}}
	return &apiError{status: status, body: append(body, extra...)}
}

// unsupported is the DB-less refusal of a write, worded as Kong's off strategy words it; by is
// the endpoint key field when the entity was addressed by it rather than by id (Kong then calls
// the *_by_<field> DAO method, whose refusal names the field).
func unsupported(op string, k *kind, by string) *apiError {
	msg := "cannot " + op + " '" + k.table + "' entities"
	if by != "" {
		msg += " by '" + by + "'"
	}
	return codeError(http.StatusMethodNotAllowed, codeOperationUnsupported, "operation unsupported",
		msg+" when not using a database")
}

// writeJSON writes v as Kong does: JSON, UTF-8, without HTML escaping (so that "<" in a regex
// path reads as written).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalJSON(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"An unexpected error occurred"}`)
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
