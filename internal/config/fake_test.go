package config

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fakePlugins is a PluginSchemas for tests: a few plugins with small typed configs decoded by
// DecodeNode, one known-but-unavailable plugin, and nothing else.
type fakePlugins map[string]fakePlugin

type fakePlugin struct {
	available bool
	info      PluginInfo
	newCfg    func() any
}

type validator interface{ Validate() []FieldError }

func (f fakePlugins) Lookup(name string) (bool, bool, PluginInfo) {
	p, ok := f[name]
	return ok, ok && p.available, p.info
}

func (f fakePlugins) DecodeConfig(name string, node *yaml.Node) (any, []FieldError) {
	cfg := f[name].newCfg()
	var errs []FieldError
	if node != nil {
		errs = DecodeNode(node, cfg)
	}
	if v, ok := cfg.(validator); ok && len(errs) == 0 {
		errs = v.Validate()
	}
	return cfg, errs
}

type keyAuthConf struct {
	KeyNames        []string `yaml:"key_names"`
	HideCredentials bool     `yaml:"hide_credentials"`
	Anonymous       *string  `yaml:"anonymous"`
	KeyInHeader     bool     `yaml:"key_in_header"`
	KeyInQuery      bool     `yaml:"key_in_query"`
	KeyInBody       bool     `yaml:"key_in_body"`
	RunOnPreflight  bool     `yaml:"run_on_preflight"`
	Realm           *string  `yaml:"realm"`
}

type jwtConf struct {
	ClaimsToVerify    []string `yaml:"claims_to_verify"`
	HeaderNames       []string `yaml:"header_names"`
	URIParamNames     []string `yaml:"uri_param_names"`
	CookieNames       []string `yaml:"cookie_names"`
	KeyClaimName      string   `yaml:"key_claim_name"`
	SecretIsBase64    bool     `yaml:"secret_is_base64"`
	Anonymous         *string  `yaml:"anonymous"`
	RunOnPreflight    bool     `yaml:"run_on_preflight"`
	MaximumExpiration float64  `yaml:"maximum_expiration"`
}

func (c *jwtConf) Validate() []FieldError {
	var errs []FieldError
	for i, v := range c.ClaimsToVerify {
		if v != "exp" && v != "nbf" {
			errs = append(errs, FieldError{Path: "claims_to_verify[" + itoa(i) + "]", Msg: "expected one of: exp, nbf"})
		}
	}
	return errs
}

type aclConf struct {
	Allow            []string `yaml:"allow"`
	Deny             []string `yaml:"deny"`
	HideGroupsHeader bool     `yaml:"hide_groups_header"`
}

func (c *aclConf) Validate() []FieldError {
	if len(c.Allow) == 0 && len(c.Deny) == 0 {
		return []FieldError{{Msg: "at least one of these fields must be non-empty: 'allow', 'deny'"}}
	}
	return nil
}

type rateLimitConf struct {
	Second            *int   `yaml:"second"`
	Minute            *int   `yaml:"minute"`
	Hour              *int   `yaml:"hour"`
	Day               *int   `yaml:"day"`
	Month             *int   `yaml:"month"`
	Year              *int   `yaml:"year"`
	LimitBy           string `yaml:"limit_by"`
	Policy            string `yaml:"policy"`
	FaultTolerant     bool   `yaml:"fault_tolerant"`
	RedisHost         string `yaml:"redis_host"`
	RedisPort         int    `yaml:"redis_port"`
	HideClientHeaders bool   `yaml:"hide_client_headers"`
}

func (c *rateLimitConf) Validate() []FieldError {
	var errs []FieldError
	if c.Second == nil && c.Minute == nil && c.Hour == nil && c.Day == nil && c.Month == nil && c.Year == nil {
		errs = append(errs, FieldError{Msg: "at least one of these fields must be non-empty: 'second', 'minute', 'hour', 'day', 'month', 'year'"})
	}
	switch c.Policy {
	case "local", "redis":
	case "cluster":
		errs = append(errs, FieldError{Path: "policy", Msg: "'cluster' is invalid in DB-less"})
	default:
		errs = append(errs, FieldError{Path: "policy", Msg: "expected one of: local, cluster, redis"})
	}
	return errs
}

type transformLists struct {
	Headers     []string `yaml:"headers"`
	Querystring []string `yaml:"querystring"`
	Body        []string `yaml:"body"`
	JSON        []string `yaml:"json"`
}

type transformerConf struct {
	HTTPMethod *string        `yaml:"http_method"`
	Remove     transformLists `yaml:"remove"`
	Rename     transformLists `yaml:"rename"`
	Replace    transformLists `yaml:"replace"`
	Add        transformLists `yaml:"add"`
	Append     transformLists `yaml:"append"`
}

// Validate checks "name:value" pairs where Kong's request-transformer wants them.
func (c *transformerConf) Validate() []FieldError {
	var errs []FieldError
	check := func(section string, l transformLists) {
		for i, h := range l.Headers {
			if !strings.Contains(h, ":") {
				errs = append(errs, FieldError{Path: section + ".headers[" + itoa(i) + "]", Msg: "invalid value: " + h})
			}
		}
	}
	check("add", c.Add)
	check("rename", c.Rename)
	check("replace", c.Replace)
	check("append", c.Append)
	return errs
}

type corsConf struct {
	Origins           []string `yaml:"origins"`
	Methods           []string `yaml:"methods"`
	Headers           []string `yaml:"headers"`
	ExposedHeaders    []string `yaml:"exposed_headers"`
	Credentials       bool     `yaml:"credentials"`
	MaxAge            *int     `yaml:"max_age"`
	PreflightContinue bool     `yaml:"preflight_continue"`
}

type prometheusConf struct {
	PerConsumer bool `yaml:"per_consumer"`
}

type sizeLimitConf struct {
	AllowedPayloadSize   int    `yaml:"allowed_payload_size"`
	SizeUnit             string `yaml:"size_unit"`
	RequireContentLength bool   `yaml:"require_content_length"`
}

func itoa(i int) string { return strconv.Itoa(i) }

// testPlugins is the fake registry the tests load with.
func testPlugins() fakePlugins {
	no := PluginInfo{NoConsumer: true}
	return fakePlugins{
		"key-auth": {true, no, func() any {
			return &keyAuthConf{KeyNames: []string{"apikey"}, KeyInHeader: true, KeyInQuery: true, RunOnPreflight: true}
		}},
		"jwt": {true, no, func() any {
			return &jwtConf{URIParamNames: []string{"jwt"}, HeaderNames: []string{"authorization"}, KeyClaimName: "iss", RunOnPreflight: true}
		}},
		"acl": {true, no, func() any { return &aclConf{} }},
		"rate-limiting": {true, PluginInfo{}, func() any {
			return &rateLimitConf{LimitBy: "consumer", Policy: "local", FaultTolerant: true, RedisPort: 6379}
		}},
		"request-transformer":  {true, PluginInfo{}, func() any { return &transformerConf{} }},
		"response-transformer": {true, PluginInfo{}, func() any { return &transformerConf{} }},
		"cors":                 {true, no, func() any { return &corsConf{Origins: []string{}} }},
		"prometheus":           {true, PluginInfo{}, func() any { return &prometheusConf{} }},
		"request-size-limiting": {true, PluginInfo{}, func() any {
			return &sizeLimitConf{AllowedPayloadSize: 128, SizeUnit: "megabytes"}
		}},
		"acme":       {true, PluginInfo{NoConsumer: true, NoRoute: true, NoService: true}, func() any { return &prometheusConf{} }},
		"basic-auth": {available: false},
	}
}
