package config

import "time"

// Config is one loaded declarative configuration: plain data, every reference resolved to a
// pointer, every default filled. It is never modified after Load returns; the snapshot compiler
// reads it and builds its own runtime types.
type Config struct {
	// FormatVersion is `_format_version` as written ("3.0", or a legacy "1.1"/"2.1" whose route
	// paths were migrated at load).
	FormatVersion string
	// Transform is `_transform` (default true): when true, write transformations ran at load
	// (basic-auth passwords are stored hashed).
	Transform bool
	// Hash is the MD5 of the raw input bytes in hex, as Kong's /status configuration_hash; 32
	// zeros for an empty input.
	Hash string
	// LoadedAt is the instant every CreatedAt/UpdatedAt was stamped with. Kong reports targets'
	// timestamps as float seconds with milliseconds; they can be derived from it.
	LoadedAt time.Time

	Services  []*Service
	Routes    []*Route // all routes: nested under services and top-level, in document order
	Upstreams []*Upstream
	Targets   []*Target // all targets of all upstreams, in document order
	Consumers []*Consumer
	Plugins   []*Plugin // all plugins: global, nested and top-level, in document order

	KeyAuthCredentials   []*KeyAuthCredential
	BasicAuthCredentials []*BasicAuthCredential
	JWTSecrets           []*JWTSecret
	ACLs                 []*ACL
	HMACAuthCredentials  []*HMACAuthCredential
	OAuth2Credentials    []*OAuth2Credential
}

// Meta holds what every entity has. CreatedAt and UpdatedAt are Unix seconds stamped at load
// unless the input gives them (Kong's auto timestamps).
type Meta struct {
	ID        string   `json:"id" yaml:"id"` // lower-case UUID, given or derived (see Load)
	Tags      []string `json:"tags" yaml:"tags"`
	CreatedAt int64    `json:"created_at" yaml:"created_at"`
	UpdatedAt int64    `json:"updated_at" yaml:"updated_at"`
	// Line is where the entity starts in the source, for messages raised after load.
	Line int `json:"-" yaml:"-"`
}

// Service is an upstream API (Kong's services entity).
type Service struct {
	Meta
	Name     string  `json:"name" yaml:"name"`         // "" = null
	Protocol string  `json:"protocol" yaml:"protocol"` // http (default) or https in this build
	Host     string  `json:"host" yaml:"host"`         // hostname, IP or upstream name, no port
	Port     int     `json:"port" yaml:"port"`         // default 80
	Path     *string `json:"path" yaml:"path"`         // nil = null: no path prefix upstream
	Retries  int     `json:"retries" yaml:"retries"`   // default 5, 0-32767
	// Timeouts in milliseconds, default 60000, 1 to 2^31-2.
	ConnectTimeout int  `json:"connect_timeout" yaml:"connect_timeout"`
	WriteTimeout   int  `json:"write_timeout" yaml:"write_timeout"`
	ReadTimeout    int  `json:"read_timeout" yaml:"read_timeout"`
	Enabled        bool `json:"enabled" yaml:"enabled"` // false: its routes are left out of the router (404)
	// TLS toward the upstream; not supported yet, so always null here.
	TLSVerify         *bool    `json:"tls_verify" yaml:"tls_verify"`
	TLSVerifyDepth    *int     `json:"tls_verify_depth" yaml:"tls_verify_depth"`
	CACertificates    []string `json:"ca_certificates" yaml:"ca_certificates"`
	ClientCertificate string   `json:"-" yaml:"-"` // certificate id; "" = null

	// Extensions (resilience.go): a breaker for the service as a whole, the budget that
	// bounds its retries, and a bound on each try (milliseconds, 0 = none) on top of Kong's
	// between-reads timeouts.
	CircuitBreaker *CircuitBreaker `json:"circuit_breaker,omitempty" yaml:"circuit_breaker,omitempty"`
	RetryBudget    *RetryBudget    `json:"retry_budget,omitempty" yaml:"retry_budget,omitempty"` // nil: DefaultRetryBudget
	TryTimeout     int             `json:"try_timeout,omitempty" yaml:"try_timeout,omitempty"`

	// Routes are the routes whose service is this one, in document order.
	Routes []*Route `json:"-" yaml:"-"`
}

// Route matches requests and sends them to its service (Kong's routes entity).
type Route struct {
	Meta
	Name      string              `json:"name" yaml:"name"` // "" = null
	Protocols []string            `json:"protocols" yaml:"protocols"`
	Methods   []string            `json:"methods" yaml:"methods"`
	Hosts     []string            `json:"hosts" yaml:"hosts"`
	Paths     []string            `json:"paths" yaml:"paths"` // prefix "/..." or regex "~/..."
	Headers   map[string][]string `json:"headers" yaml:"headers"`
	// SNIs, Sources and Destinations are not supported yet: always empty here.
	SNIs         []string   `json:"snis" yaml:"snis"`
	Sources      []CIDRPort `json:"sources" yaml:"sources"`
	Destinations []CIDRPort `json:"destinations" yaml:"destinations"`

	HTTPSRedirectStatusCode int    `json:"https_redirect_status_code" yaml:"https_redirect_status_code"` // default 426
	RegexPriority           int    `json:"regex_priority" yaml:"regex_priority"`
	StripPath               bool   `json:"strip_path" yaml:"strip_path"`       // default true
	PreserveHost            bool   `json:"preserve_host" yaml:"preserve_host"` // default false
	PathHandling            string `json:"path_handling" yaml:"path_handling"` // v0 (default) or v1, inert in compat flavor
	RequestBuffering        bool   `json:"request_buffering" yaml:"request_buffering"`
	ResponseBuffering       bool   `json:"response_buffering" yaml:"response_buffering"`

	// Service is nil for a route without service (Kong answers 503).
	Service *Service `json:"-" yaml:"-"`
}

// CIDRPort is one entry of a stream route's sources or destinations.
type CIDRPort struct {
	IP   string `json:"ip" yaml:"ip"`
	Port int    `json:"port" yaml:"port"`
}

// Upstream is a load-balanced set of targets, addressed by services whose host is its name.
type Upstream struct {
	Meta
	Name                   string       `json:"name" yaml:"name"`
	Algorithm              string       `json:"algorithm" yaml:"algorithm"` // round-robin (default), consistent-hashing, least-connections, latency
	HashOn                 string       `json:"hash_on" yaml:"hash_on"`     // none (default), consumer, ip, header, cookie, path, query_arg, uri_capture
	HashFallback           string       `json:"hash_fallback" yaml:"hash_fallback"`
	HashOnHeader           string       `json:"hash_on_header" yaml:"hash_on_header"`
	HashFallbackHeader     string       `json:"hash_fallback_header" yaml:"hash_fallback_header"`
	HashOnCookie           string       `json:"hash_on_cookie" yaml:"hash_on_cookie"`
	HashOnCookiePath       string       `json:"hash_on_cookie_path" yaml:"hash_on_cookie_path"` // default "/"
	HashOnQueryArg         string       `json:"hash_on_query_arg" yaml:"hash_on_query_arg"`
	HashFallbackQueryArg   string       `json:"hash_fallback_query_arg" yaml:"hash_fallback_query_arg"`
	HashOnURICapture       string       `json:"hash_on_uri_capture" yaml:"hash_on_uri_capture"`
	HashFallbackURICapture string       `json:"hash_fallback_uri_capture" yaml:"hash_fallback_uri_capture"`
	Slots                  int          `json:"slots" yaml:"slots"` // default 10000, 10-65536
	Healthchecks           Healthchecks `json:"healthchecks" yaml:"healthchecks"`
	HostHeader             string       `json:"host_header" yaml:"host_header"` // "" = null
	UseSRVName             bool         `json:"use_srv_name" yaml:"use_srv_name"`
	ClientCertificate      string       `json:"-" yaml:"-"` // not supported yet: always ""
	// CircuitBreaker (an extension, resilience.go) gives every target its own breaker.
	CircuitBreaker *CircuitBreaker `json:"circuit_breaker,omitempty" yaml:"circuit_breaker,omitempty"`

	Targets []*Target `json:"-" yaml:"-"`
}

// Healthchecks is an upstream's health checking, with Kong's defaults (everything off).
type Healthchecks struct {
	// Threshold is the percentage (0-100) of healthy weight below which the whole upstream is
	// considered unhealthy; default 0.
	Threshold float64            `json:"threshold" yaml:"threshold"`
	Active    ActiveHealthcheck  `json:"active" yaml:"active"`
	Passive   PassiveHealthcheck `json:"passive" yaml:"passive"`
}

// ActiveHealthcheck probes targets periodically.
type ActiveHealthcheck struct {
	Type                   string              `json:"type" yaml:"type"`       // http (default), https, tcp, grpc, grpcs
	Timeout                float64             `json:"timeout" yaml:"timeout"` // seconds, default 1
	Concurrency            int                 `json:"concurrency" yaml:"concurrency"`
	HTTPPath               string              `json:"http_path" yaml:"http_path"` // default "/"
	HTTPSSNI               string              `json:"https_sni" yaml:"https_sni"` // "" = null
	HTTPSVerifyCertificate bool                `json:"https_verify_certificate" yaml:"https_verify_certificate"`
	Headers                map[string][]string `json:"headers" yaml:"headers"`
	Healthy                ActiveHealthy       `json:"healthy" yaml:"healthy"`
	Unhealthy              ActiveUnhealthy     `json:"unhealthy" yaml:"unhealthy"`
}

// ActiveHealthy says when a probed target becomes healthy. Interval 0 disables probing.
type ActiveHealthy struct {
	Interval     float64 `json:"interval" yaml:"interval"` // seconds
	HTTPStatuses []int   `json:"http_statuses" yaml:"http_statuses"`
	Successes    int     `json:"successes" yaml:"successes"`
}

// ActiveUnhealthy says when a probed target becomes unhealthy; counters 0 disable that trigger.
type ActiveUnhealthy struct {
	Interval     float64 `json:"interval" yaml:"interval"`
	HTTPStatuses []int   `json:"http_statuses" yaml:"http_statuses"`
	TCPFailures  int     `json:"tcp_failures" yaml:"tcp_failures"`
	Timeouts     int     `json:"timeouts" yaml:"timeouts"`
	HTTPFailures int     `json:"http_failures" yaml:"http_failures"`
}

// PassiveHealthcheck (circuit breaker) counts results of proxied requests.
type PassiveHealthcheck struct {
	Type      string           `json:"type" yaml:"type"`
	Healthy   PassiveHealthy   `json:"healthy" yaml:"healthy"`
	Unhealthy PassiveUnhealthy `json:"unhealthy" yaml:"unhealthy"`
}

// PassiveHealthy lists the statuses counted as successes.
type PassiveHealthy struct {
	HTTPStatuses []int `json:"http_statuses" yaml:"http_statuses"`
	Successes    int   `json:"successes" yaml:"successes"`
}

// PassiveUnhealthy lists the statuses counted as failures and the trip counters.
type PassiveUnhealthy struct {
	HTTPStatuses []int `json:"http_statuses" yaml:"http_statuses"`
	TCPFailures  int   `json:"tcp_failures" yaml:"tcp_failures"`
	Timeouts     int   `json:"timeouts" yaml:"timeouts"`
	HTTPFailures int   `json:"http_failures" yaml:"http_failures"`
}

// Target is one backend of an upstream.
type Target struct {
	Meta
	// Target is "host:port" with the port defaulted to 8000 (IPv6 in brackets, expanded).
	Target string `json:"target" yaml:"target"`
	Host   string `json:"-" yaml:"-"` // host or IP part of Target, without brackets
	Port   int    `json:"-" yaml:"-"`
	Weight int    `json:"weight" yaml:"weight"` // default 100, 0-65535; 0 = never selected

	Upstream *Upstream `json:"-" yaml:"-"`
}

// Consumer is an API client identity. At least one of Username and CustomID is set.
type Consumer struct {
	Meta
	Username string `json:"username" yaml:"username"`   // "" = null
	CustomID string `json:"custom_id" yaml:"custom_id"` // "" = null
}

// Plugin is one plugin instance. Route, Service and Consumer are its scope (nil = any).
type Plugin struct {
	Meta
	Name         string   `json:"name" yaml:"name"`
	InstanceName string   `json:"instance_name" yaml:"instance_name"` // "" = null
	Enabled      bool     `json:"enabled" yaml:"enabled"`             // default true
	Protocols    []string `json:"protocols" yaml:"protocols"`         // default grpc, grpcs, http, https
	// Config is what PluginSchemas.DecodeConfig returned: the plugin's typed config with its
	// defaults filled.
	Config any `json:"config" yaml:"config"`

	Route    *Route    `json:"-" yaml:"-"`
	Service  *Service  `json:"-" yaml:"-"`
	Consumer *Consumer `json:"-" yaml:"-"`
}

// KeyAuthCredential is a key-auth API key.
type KeyAuthCredential struct {
	Meta
	Key string `json:"key" yaml:"key"` // generated (32 hex characters) when absent
	// TTL is the credential's lifetime in seconds from load; nil = forever.
	TTL      *float64  `json:"ttl" yaml:"ttl"`
	Consumer *Consumer `json:"-" yaml:"-"`
}

// BasicAuthCredential is a basic-auth username/password pair.
type BasicAuthCredential struct {
	Meta
	Username string `json:"username" yaml:"username"`
	// Password is hex(sha1(password + consumer id)) when the config's Transform is true (Kong's
	// write transformation), else as written (already hashed by an export).
	Password string    `json:"password" yaml:"password"`
	Consumer *Consumer `json:"-" yaml:"-"`
}

// JWTSecret is a jwt plugin credential; Key is the value matched against the `iss` claim.
type JWTSecret struct {
	Meta
	Key          string    `json:"key" yaml:"key"`       // generated when absent
	Secret       string    `json:"secret" yaml:"secret"` // generated when absent
	RSAPublicKey string    `json:"rsa_public_key" yaml:"rsa_public_key"`
	Algorithm    string    `json:"algorithm" yaml:"algorithm"` // default HS256
	Consumer     *Consumer `json:"-" yaml:"-"`
}

// ACL puts a consumer in a group, for the acl plugin.
type ACL struct {
	Meta
	Group    string    `json:"group" yaml:"group"`
	Consumer *Consumer `json:"-" yaml:"-"`
}

// HMACAuthCredential is an hmac-auth username/secret pair.
type HMACAuthCredential struct {
	Meta
	Username string    `json:"username" yaml:"username"`
	Secret   string    `json:"secret" yaml:"secret"` // generated when absent
	Consumer *Consumer `json:"-" yaml:"-"`
}

// OAuth2Credential is an oauth2 plugin application.
type OAuth2Credential struct {
	Meta
	Name         string    `json:"name" yaml:"name"`
	ClientID     string    `json:"client_id" yaml:"client_id"`         // generated when absent
	ClientSecret string    `json:"client_secret" yaml:"client_secret"` // generated when absent
	HashSecret   bool      `json:"hash_secret" yaml:"hash_secret"`
	RedirectURIs []string  `json:"redirect_uris" yaml:"redirect_uris"`
	ClientType   string    `json:"client_type" yaml:"client_type"` // confidential (default) or public
	Consumer     *Consumer `json:"-" yaml:"-"`
}
