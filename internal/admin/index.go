package admin

import (
	"sort"
	"strings"
	"time"

	"tollgate/internal/config"
)

// kind describes one entity collection as Kong's schema does for its generated endpoints.
type kind struct {
	table  string // schema name: error messages, /tags rows, POST /config answer, export
	path   string // admin API collection ("key-auths"); Kong's admin_api_name
	nested string // segment under a parent ("key-auth"); Kong's admin_api_nested_name
	key    string // endpoint key field; "" = addressed by id only (acls)
}

// The collections. Their order is the export's and the POST /config answer's.
var (
	kindServices   = &kind{table: "services", path: "services", key: "name"}
	kindRoutes     = &kind{table: "routes", path: "routes", key: "name"}
	kindUpstreams  = &kind{table: "upstreams", path: "upstreams", key: "name"}
	kindTargets    = &kind{table: "targets", path: "targets", key: "target"}
	kindConsumers  = &kind{table: "consumers", path: "consumers", key: "username"}
	kindPlugins    = &kind{table: "plugins", path: "plugins", key: "instance_name"}
	kindKeyAuth    = &kind{table: "keyauth_credentials", path: "key-auths", nested: "key-auth", key: "key"}
	kindBasicAuth  = &kind{table: "basicauth_credentials", path: "basic-auths", nested: "basic-auth", key: "username"}
	kindJWT        = &kind{table: "jwt_secrets", path: "jwts", nested: "jwt", key: "key"}
	kindACLs       = &kind{table: "acls", path: "acls", nested: "acls"}
	kindHMACAuth   = &kind{table: "hmacauth_credentials", path: "hmac-auths", nested: "hmac-auth", key: "username"}
	kindOAuth2     = &kind{table: "oauth2_credentials", path: "oauth2", nested: "oauth2", key: "client_id"}
	allKinds       = []*kind{kindServices, kindRoutes, kindUpstreams, kindTargets, kindConsumers, kindPlugins, kindKeyAuth, kindBasicAuth, kindJWT, kindACLs, kindHMACAuth, kindOAuth2}
	credentialKind = []*kind{kindKeyAuth, kindBasicAuth, kindJWT, kindACLs, kindHMACAuth, kindOAuth2}
)

// emptyKinds are Kong collections this build does not carry yet (config refuses them). They
// still list as empty so that clients walking every collection (decK dumps) keep working.
var emptyKinds = []*kind{
	{table: "certificates", path: "certificates", key: "sni"},
	{table: "snis", path: "snis", key: "name"},
	{table: "ca_certificates", path: "ca_certificates"},
	{table: "vaults", path: "vaults", key: "prefix"},
	{table: "keys", path: "keys", key: "name"},
	{table: "key_sets", path: "key-sets", key: "name"},
}

// row is one entity in the index.
type row struct {
	kind *kind
	id   string
	key  string // endpoint key value ("" = none)
	tags []string
	fks  map[string]string // foreign key field ("service") -> referenced id
	ent  any               // *config.Service, *config.Route, ...
	// expires is when a key-auth credential with a ttl stops existing (zero = never): Kong's
	// DB-less store hides expired credentials from every read.
	expires time.Time
}

func (r *row) live(now time.Time) bool { return r.expires.IsZero() || now.Before(r.expires) }

// table is one collection: rows sorted by id (the order Kong's DB-less store lists them in),
// lookups by id and endpoint key, and children by foreign key.
type table struct {
	rows     []*row
	byID     map[string]*row
	byKey    map[string]*row
	children map[string][]*row // fk field + "\x00" + parent id -> rows, by id
}

// index is a read view of one configuration, built once per configuration.
type index struct {
	cfg    *config.Config
	tables map[*kind]*table
}

func buildIndex(cfg *config.Config) *index {
	ix := &index{cfg: cfg, tables: map[*kind]*table{}}
	add := func(k *kind, id, key string, tags []string, ent any, fks map[string]string) *row {
		r := &row{kind: k, id: id, key: key, tags: tags, ent: ent, fks: fks}
		t := ix.tables[k]
		if t == nil {
			t = &table{byID: map[string]*row{}, byKey: map[string]*row{}, children: map[string][]*row{}}
			ix.tables[k] = t
		}
		t.rows = append(t.rows, r)
		t.byID[id] = r
		if key != "" && k.key != "" && k != kindTargets {
			t.byKey[key] = r
		}
		for f, pid := range fks {
			if pid != "" {
				t.children[f+"\x00"+pid] = append(t.children[f+"\x00"+pid], r)
			}
		}
		return r
	}
	consumer := func(c *config.Consumer) map[string]string {
		if c == nil {
			return nil
		}
		return map[string]string{"consumer": c.ID}
	}
	for _, s := range cfg.Services {
		add(kindServices, s.ID, s.Name, s.Tags, s, nil)
	}
	for _, r := range cfg.Routes {
		fks := map[string]string{}
		if r.Service != nil {
			fks["service"] = r.Service.ID
		}
		add(kindRoutes, r.ID, r.Name, r.Tags, r, fks)
	}
	for _, u := range cfg.Upstreams {
		add(kindUpstreams, u.ID, u.Name, u.Tags, u, nil)
	}
	for _, t := range cfg.Targets {
		fks := map[string]string{}
		if t.Upstream != nil {
			fks["upstream"] = t.Upstream.ID
		}
		add(kindTargets, t.ID, t.Target, t.Tags, t, fks)
	}
	for _, c := range cfg.Consumers {
		add(kindConsumers, c.ID, c.Username, c.Tags, c, nil)
	}
	for _, p := range cfg.Plugins {
		fks := map[string]string{}
		if p.Route != nil {
			fks["route"] = p.Route.ID
		}
		if p.Service != nil {
			fks["service"] = p.Service.ID
		}
		if p.Consumer != nil {
			fks["consumer"] = p.Consumer.ID
		}
		add(kindPlugins, p.ID, p.InstanceName, p.Tags, p, fks)
	}
	for _, c := range cfg.KeyAuthCredentials {
		r := add(kindKeyAuth, c.ID, c.Key, c.Tags, c, consumer(c.Consumer))
		if c.TTL != nil {
			r.expires = cfg.LoadedAt.Add(time.Duration(*c.TTL * float64(time.Second)))
		}
	}
	for _, c := range cfg.BasicAuthCredentials {
		add(kindBasicAuth, c.ID, c.Username, c.Tags, c, consumer(c.Consumer))
	}
	for _, c := range cfg.JWTSecrets {
		add(kindJWT, c.ID, c.Key, c.Tags, c, consumer(c.Consumer))
	}
	for _, c := range cfg.ACLs {
		add(kindACLs, c.ID, c.Group, c.Tags, c, consumer(c.Consumer))
	}
	for _, c := range cfg.HMACAuthCredentials {
		add(kindHMACAuth, c.ID, c.Username, c.Tags, c, consumer(c.Consumer))
	}
	for _, c := range cfg.OAuth2Credentials {
		add(kindOAuth2, c.ID, c.ClientID, c.Tags, c, consumer(c.Consumer))
	}
	byID := func(rs []*row) {
		sort.Slice(rs, func(i, j int) bool { return rs[i].id < rs[j].id })
	}
	for _, t := range ix.tables {
		byID(t.rows)
		for _, rs := range t.children {
			byID(rs)
		}
	}
	return ix
}

// all lists a collection's live rows, by id.
func (ix *index) all(k *kind, now time.Time) []*row {
	t := ix.tables[k]
	if t == nil {
		return nil
	}
	return live(t.rows, now)
}

// childrenOf lists the live rows of k whose foreign key field references parentID, by id.
func (ix *index) childrenOf(k *kind, field, parentID string, now time.Time) []*row {
	t := ix.tables[k]
	if t == nil {
		return nil
	}
	return live(t.children[field+"\x00"+parentID], now)
}

func live(rs []*row, now time.Time) []*row {
	out := make([]*row, 0, len(rs))
	for _, r := range rs {
		if r.live(now) {
			out = append(out, r)
		}
	}
	return out
}

// errInvalidPK is Kong's answer when an entity without endpoint key is addressed by something
// that is not a UUID: the DAO refuses the primary key before looking.
var errInvalidPK = codeError(400, codeInvalidPrimaryKey, "invalid primary key",
	`invalid primary key: '{id="expected a valid UUID"}'`, kv{"fields", obj{{"id", "expected a valid UUID"}}})

// lookup finds an entity by {id|key} as Kong's endpoints do: a UUID is an id, anything else
// the endpoint key. by is the endpoint key field when the key was used ("" for ids); a nil row
// with a nil error is "not found".
func (ix *index) lookup(k *kind, s string, now time.Time) (r *row, by string, err *apiError) {
	if isUUID(s) {
		if t := ix.tables[k]; t != nil {
			r = t.byID[strings.ToLower(s)]
		}
	} else {
		if k.key == "" {
			return nil, "", errInvalidPK
		}
		by = k.key
		if t := ix.tables[k]; t != nil {
			r = t.byKey[s]
		}
	}
	if r != nil && !r.live(now) {
		r = nil
	}
	return r, by, nil
}

// isUUID is Kong's utils.is_valid_uuid: 8-4-4-4-12 hex digits, either case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
