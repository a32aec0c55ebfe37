package requesttermination

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"strings"

	"tollgate/internal/config"
	"tollgate/internal/plugin"
)

// echoReply is Kong's echo document. Fields that are nil are left out, as cjson leaves out nil
// table entries; the entities' own null fields are written as null.
type echoReply struct {
	Message        string       `json:"message,omitempty"`
	Kong           echoKong     `json:"kong"`
	Request        echoRequest  `json:"request"`
	MatchedRoute   *echoRoute   `json:"matched_route,omitempty"`
	MatchedService *echoService `json:"matched_service,omitempty"`
}

type echoKong struct {
	NodeID    string `json:"node_id"`
	WorkerPID int    `json:"worker_pid"`
	Hostname  string `json:"hostname"`
}

type echoRequest struct {
	Scheme  string         `json:"scheme"`
	Host    string         `json:"host"`
	Port    int            `json:"port"`
	Headers map[string]any `json:"headers"`
	Query   map[string]any `json:"query"`
	Body    any            `json:"body,omitempty"`
	RawBody string         `json:"raw_body,omitempty"`
	Method  string         `json:"method"`
	Path    string         `json:"path"`
}

// echoRef is how Kong writes a foreign key: {"id": ...}.
type echoRef struct {
	ID string `json:"id"`
}

// echoRoute is Kong's routes entity.
type echoRoute struct {
	ID                      string              `json:"id"`
	Name                    *string             `json:"name"`
	Protocols               []string            `json:"protocols"`
	Methods                 []string            `json:"methods"`
	Hosts                   []string            `json:"hosts"`
	Paths                   []string            `json:"paths"`
	Headers                 map[string][]string `json:"headers"`
	SNIs                    []string            `json:"snis"`
	Sources                 []config.CIDRPort   `json:"sources"`
	Destinations            []config.CIDRPort   `json:"destinations"`
	HTTPSRedirectStatusCode int                 `json:"https_redirect_status_code"`
	RegexPriority           int                 `json:"regex_priority"`
	StripPath               bool                `json:"strip_path"`
	PreserveHost            bool                `json:"preserve_host"`
	PathHandling            string              `json:"path_handling"`
	RequestBuffering        bool                `json:"request_buffering"`
	ResponseBuffering       bool                `json:"response_buffering"`
	Service                 *echoRef            `json:"service"`
	Tags                    []string            `json:"tags"`
	CreatedAt               int64               `json:"created_at"`
	UpdatedAt               int64               `json:"updated_at"`
}

// echoService is Kong's services entity.
type echoService struct {
	ID                string   `json:"id"`
	Name              *string  `json:"name"`
	Protocol          string   `json:"protocol"`
	Host              string   `json:"host"`
	Port              int      `json:"port"`
	Path              *string  `json:"path"`
	Retries           int      `json:"retries"`
	ConnectTimeout    int      `json:"connect_timeout"`
	WriteTimeout      int      `json:"write_timeout"`
	ReadTimeout       int      `json:"read_timeout"`
	Enabled           bool     `json:"enabled"`
	TLSVerify         *bool    `json:"tls_verify"`
	TLSVerifyDepth    *int     `json:"tls_verify_depth"`
	CACertificates    []string `json:"ca_certificates"`
	ClientCertificate *echoRef `json:"client_certificate"`
	Tags              []string `json:"tags"`
	CreatedAt         int64    `json:"created_at"`
	UpdatedAt         int64    `json:"updated_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func routeOf(r *config.Route) *echoRoute {
	if r == nil {
		return nil
	}
	e := &echoRoute{
		ID: r.ID, Name: nullable(r.Name), Protocols: r.Protocols, Methods: r.Methods, Hosts: r.Hosts,
		Paths: r.Paths, Headers: r.Headers, SNIs: r.SNIs, Sources: r.Sources, Destinations: r.Destinations,
		HTTPSRedirectStatusCode: r.HTTPSRedirectStatusCode, RegexPriority: r.RegexPriority,
		StripPath: r.StripPath, PreserveHost: r.PreserveHost, PathHandling: r.PathHandling,
		RequestBuffering: r.RequestBuffering, ResponseBuffering: r.ResponseBuffering,
		Tags: r.Tags, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.Service != nil {
		e.Service = &echoRef{ID: r.Service.ID}
	}
	return e
}

func serviceOf(s *config.Service) *echoService {
	if s == nil {
		return nil
	}
	e := &echoService{
		ID: s.ID, Name: nullable(s.Name), Protocol: s.Protocol, Host: s.Host, Port: s.Port, Path: s.Path,
		Retries: s.Retries, ConnectTimeout: s.ConnectTimeout, WriteTimeout: s.WriteTimeout,
		ReadTimeout: s.ReadTimeout, Enabled: s.Enabled, TLSVerify: s.TLSVerify,
		TLSVerifyDepth: s.TLSVerifyDepth, CACertificates: s.CACertificates,
		Tags: s.Tags, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.ClientCertificate != "" {
		e.ClientCertificate = &echoRef{ID: s.ClientCertificate}
	}
	return e
}

// echoBody builds the echo document for c. It runs only in echo mode, a debugging aid, so it
// favours plainness over allocations.
func (t *terminator) echoBody(c *plugin.Ctx) []byte {
	in := c.In
	doc := echoReply{
		Message: t.message,
		Kong:    echoKong{NodeID: t.nodeID, WorkerPID: t.pid, Hostname: t.hostname},
		Request: echoRequest{
			Scheme:  in.Scheme(),
			Host:    hostOnly(in.Host()),
			Port:    in.ListenPort(),
			Headers: headersOf(in),
			Query:   argsOf(in.Query()),
			Method:  in.Method(),
			Path:    in.Path(),
		},
		MatchedRoute:   routeOf(c.Route),
		MatchedService: serviceOf(c.Service),
	}
	if raw, err := c.Up.Body(); err == nil && len(raw) > 0 {
		doc.Request.RawBody = string(raw)
		doc.Request.Body = parsedBody(c.Up.Header().Peek("Content-Type"), raw)
	}
	b, err := json.Marshal(&doc)
	if err != nil {
		// Kong's fallback when encoding fails; with the types above it cannot.
		return append(plugin.AppendJSONString([]byte(`{"message":`), "[Request termination plugin] failed to encode content: "+err.Error()), '}')
	}
	return b
}

// hostOnly is nginx's $host: the host without port, lower-cased.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(h)
}

// headersOf is kong.request.get_headers(): lower-case names, a string per header, an array for
// a header sent several times.
func headersOf(in plugin.Request) map[string]any {
	out := make(map[string]any, in.Header().Len()+1)
	in.Header().VisitAll(func(name, value []byte) {
		k := strings.ToLower(string(name))
		v := string(value)
		switch old := out[k].(type) {
		case nil:
			out[k] = v
		case string:
			out[k] = []string{old, v}
		case []string:
			out[k] = append(old, v)
		}
	})
	if _, ok := out["host"]; !ok && in.Host() != "" {
		out["host"] = in.Host() // HTTP/2 :authority
	}
	return out
}

// argsOf is kong.request.get_query() (and get_body() for url-encoded bodies): a string per
// argument, true for one without '=', an array for repeated names.
func argsOf(q string) map[string]any {
	out := map[string]any{}
	for q != "" {
		var piece string
		if i := strings.IndexByte(q, '&'); i >= 0 {
			piece, q = q[:i], q[i+1:]
		} else {
			piece, q = q, ""
		}
		if piece == "" {
			continue
		}
		k, v, hasEq := strings.Cut(piece, "=")
		k = unescape(k)
		var val any = true
		if hasEq {
			val = unescape(v)
		}
		switch old := out[k].(type) {
		case nil:
			out[k] = val
		case []any:
			out[k] = append(old, val)
		default:
			out[k] = []any{old, val}
		}
	}
	return out
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// parsedBody is kong.request.get_body() for JSON and url-encoded bodies; nil otherwise.
func parsedBody(ct, raw []byte) any {
	lower := bytes.ToLower(ct)
	switch {
	case bytes.Contains(lower, []byte("application/json")):
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return nil
		}
		return v
	case bytes.Contains(lower, []byte("application/x-www-form-urlencoded")):
		return argsOf(string(raw))
	}
	return nil
}
