package config

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

// PluginSchemas is what the loader needs to know about plugins; plugin.Registry implements it.
// Declaring it here keeps this package free of imports of ours.
type PluginSchemas interface {
	// Lookup reports whether name is a Kong plugin name at all (known) and whether this build
	// implements it (available), with the scopes it refuses.
	Lookup(name string) (known, available bool, info PluginInfo)
	// DecodeConfig strictly decodes a plugin's `config` node (nil node = all defaults) into its
	// typed config (defaults filled), validates it, and returns field errors with paths relative
	// to `config` (e.g. "add.headers[2]").
	DecodeConfig(name string, node *yaml.Node) (cfg any, errs []FieldError)
}

// PluginInfo is what a plugin declares about its scopes (Kong's no_consumer, no_route,
// no_service schema fields).
type PluginInfo struct{ NoConsumer, NoRoute, NoService bool }

// Load parses a declarative configuration (YAML, or JSON, which the YAML parser reads too) and
// returns it with defaults filled, ids assigned and references resolved. file only names the
// input in messages. When anything is wrong the error is an Errors listing every problem.
func Load(file string, data []byte, plugins PluginSchemas) (*Config, error) {
	return load(file, data, plugins, time.Now(), rand.Reader)
}

// Hash is Kong's configuration hash: the MD5 of the raw bytes in hex, 32 zeros when empty.
func Hash(data []byte) string {
	if len(data) == 0 {
		return strings.Repeat("0", 32)
	}
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// Empty is the configuration a node runs before any is loaded: nothing configured, hash of
// empty input.
func Empty() *Config {
	return &Config{FormatVersion: "3.0", Transform: true, Hash: Hash(nil)}
}

// topLevel lists the collections a declarative file may carry, in Kong's order.
var topLevel = []string{
	"services", "routes", "upstreams", "targets", "consumers", "plugins",
	"keyauth_credentials", "basicauth_credentials", "jwt_secrets", "acls",
	"hmacauth_credentials", "oauth2_credentials",
}

// unsupportedCollections are Kong 3.0 collections this build cannot serve yet.
var unsupportedCollections = []string{"certificates", "snis", "ca_certificates", "vaults", "keys", "key_sets"}

// nestedOf lists, per collection, the child collections that may be nested in its entries
// (children with a foreign key to it).
var nestedOf = map[string][]string{
	"services":  {"routes", "plugins"},
	"routes":    {"plugins"},
	"upstreams": {"targets"},
	"consumers": {"plugins", "keyauth_credentials", "basicauth_credentials", "jwt_secrets",
		"acls", "hmacauth_credentials", "oauth2_credentials"},
}

// singular is the entity kind of a collection ("services" -> "service"), as Kong's
// flattened errors name it.
func singular(table string) string { return strings.TrimSuffix(table, "s") }

// loader holds the state of one Load.
type loader struct {
	file    string
	plugins PluginSchemas
	now     time.Time
	rand    io.Reader
	b       *budget
	errs    Errors

	ents   []*ent // every entity, parents before children
	format string // _format_version
	trans  bool   // _transform
}

// ent is one entity being loaded: where it is, its identity, and what parsing produced.
type ent struct {
	table, kind string
	loc         []Step
	node        *yaml.Node
	line, col   int
	parent      *ent   // enclosing entity when nested
	parentFK    string // the foreign key the nesting implies ("service" for routes in services)
	r           *rec

	id       string
	idGiven  bool // the input gave a valid id
	idStable bool // given or derived: children may derive their ids from it
	label    string

	ekey    string      // endpoint key value ("" = none), for uniqueness and references
	uniques [][2]string // other unique fields: name, value
	refs    []*ref
	obj     any         // *Service, *Route, ...
	plugin  *PluginInfo // plugins this build implements: their declared scopes
	dupID   bool        // its id clashed with an earlier entity's (already reported)
}

// ref is a foreign key to resolve once every entity is known.
type ref struct {
	field  string     // "service"
	table  string     // "services"
	n      *yaml.Node // the value as written: a string or {id: ...}
	want   string     // lookup key: name or id
	byID   bool       // {id: ...} form
	mustBe *ent       // nested child restating its parent: must name that parent
	target *ent
}

// load is Load with the clock and the randomness injected (tests pin both). The passes run in
// this order because each needs the previous one: every entity is found first (nesting gives
// parents), then ids are assigned (a child's derived id uses its parent's, and messages name
// entities by id), then fields are parsed, then uniqueness and references are checked against
// the complete set, and last come the checks that need resolved references.
// load is Load with its clock and randomness injected.
func load(file string, data []byte, plugins PluginSchemas, now time.Time, rnd io.Reader) (*Config, error) {
	l := &loader{
		file: file, plugins: plugins, now: now, rand: rnd, b: newBudget(),
		trans: true,
	}
	root, err := l.parse(data)
	if err != nil {
		return nil, err
	}
	l.topLevel(root)
	for _, e := range l.ents {
		l.assignID(e)
	}
	for _, e := range l.ents {
		e.label = e.displayName()
	}
	for _, e := range l.ents {
		l.parseEntity(e)
		e.r.meta()
		e.r.finish()
	}
	l.checkUnique()
	l.resolveRefs()
	l.crossChecks()
	if len(l.errs) > 0 {
		for _, e := range l.errs {
			if e.ent != nil {
				e.Name = e.ent.label
			}
		}
		l.errs.sort()
		return nil, l.errs
	}
	cfg := l.build()
	cfg.Hash = Hash(data)
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads the one YAML (or JSON) document of data. A syntax error becomes a single Error
// carrying the parser's line.
func (l *loader) parse(data []byte) (root *yaml.Node, err error) {
	syntax := func(line int, msg string) error {
		if line < 1 {
			line = 1
		}
		return Errors{{File: l.file, Line: line, Msg: msg, syntax: true}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, syntax(1, "expected a declarative configuration")
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if perr := safeDecode(dec, &doc); perr != nil {
		if errors.Is(perr, io.EOF) {
			return nil, syntax(1, "expected a declarative configuration")
		}
		msg := strings.TrimPrefix(perr.Error(), "yaml: ")
		line := 1
		if m := yamlLine.FindStringSubmatch(perr.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, syntax(line, msg)
	}
	var extra yaml.Node
	if perr := safeDecode(dec, &extra); !errors.Is(perr, io.EOF) {
		line := extra.Line
		if perr != nil {
			if m := yamlLine.FindStringSubmatch(perr.Error()); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
		}
		return nil, syntax(line, "expected a single YAML document")
	}
	root = &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, syntax(1, "expected a declarative configuration")
		}
		root = root.Content[0]
	}
	root = l.b.resolve(root)
	if root == nil || root.Kind != yaml.MappingNode {
		line := 1
		if root != nil {
			line = root.Line
		}
		return nil, syntax(line, "expected an object")
	}
	return root, nil
}

// safeDecode runs the third-party parser and turns a panic inside it into an error: a malformed
// input must be refused, not crash the admin API or the reload.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// errAt records a problem. e is nil for problems outside entities.
func (l *loader) errAt(e *ent, p []Seg, line int, msg string) {
	err := &Error{File: l.file, Line: line, Field: fieldString(p), Msg: msg, Path: clonePath(p)}
	if len(p) == 1 && p[0].Key == "@entity" {
		err.Path = nil
	}
	if e != nil {
		err.Kind = e.kind
		err.Entity = e.loc
		err.ent = e
		if line == 0 {
			err.Line = e.line
		}
	}
	l.errs = append(l.errs, err)
}

// topLevel reads the root mapping: format keys and the collections.
func (l *loader) topLevel(root *yaml.Node) {
	r := l.newRec(nil, nil, root)
	fv, ok := r.lookup("_format_version")
	switch {
	case !ok || fv.v == nil || isNull(fv.v):
		r.missing("_format_version")
	case !isStr(fv.v):
		msg := typeMsg("string")
		if fv.v.Kind == yaml.ScalarNode {
			msg += fmt.Sprintf(" (quote it: \"%s\")", fv.v.Value)
		}
		r.errf("_format_version", fv.v.Line, msg)
	default:
		switch fv.v.Value {
		case "3.0", "2.1", "1.1":
			l.format = fv.v.Value
		default:
			r.errf("_format_version", fv.v.Line, "expected one of: 1.1, 2.1, 3.0")
		}
	}
	if v, ok := r.boolean("_transform"); ok {
		l.trans = v
	}
	r.meta()
	// decK's metadata keys, accepted and ignored (an extension: Kong OSS refuses them) so that
	// files written by decK load unchanged.
	r.lookup("_info")
	r.lookup("_konnect")
	for _, t := range unsupportedCollections {
		r.unsupported(t)
	}
	for _, t := range topLevel {
		if n := r.node(t); n != nil {
			l.collection(t, n, nil, nil, []Seg{key(t)})
		}
	}
	r.finish()
}

// collection registers the entries of one collection (top-level or nested) and, recursively,
// their nested children. parent is the enclosing entity of a nested collection, field the
// collection's key for messages.
func (l *loader) collection(table string, n *yaml.Node, parent *ent, loc []Step, field []Seg) {
	if n.Kind != yaml.SequenceNode {
		l.errAt(parent, field, n.Line, typeMsg("array"))
		return
	}
	for i, item := range n.Content {
		iloc := append(append([]Step(nil), loc...), Step{Collection: table, Index: i})
		m := l.b.resolve(item)
		if m == nil || m.Kind != yaml.MappingNode {
			msg := typeMsg("record")
			if m == nil {
				msg = "alias expansion limit exceeded"
			}
			l.errs = append(l.errs, &Error{
				File: l.file, Line: item.Line, Kind: singular(table), Name: locString(iloc),
				Msg: msg, Entity: iloc,
			})
			continue
		}
		e := &ent{
			table: table, kind: singular(table), loc: iloc, node: m,
			line: m.Line, col: m.Column, parent: parent,
		}
		if parent != nil {
			e.parentFK = singular(parent.table)
		}
		e.r = l.newRec(e, nil, m)
		l.ents = append(l.ents, e)
		for _, child := range nestedOf[table] {
			if cn := e.r.node(child); cn != nil {
				l.collection(child, cn, e, iloc, []Seg{key(child)})
			}
		}
	}
}

func locString(loc []Step) string {
	var b strings.Builder
	for i, s := range loc {
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprintf(&b, "%s[%d]", s.Collection, s.Index)
	}
	return b.String()
}

// peek returns the raw string value of a field without consuming it ("" when absent or not a
// string).
func (e *ent) peek(name string) (string, bool) {
	for _, p := range e.r.ps {
		if p.key == name && isStr(p.v) {
			return p.v.Value, true
		}
	}
	return "", false
}

// displayName is the name shown in messages: the entity's name (or the field that names it
// for its kind), else its id. Secrets (key-auth keys) are never shown.
func (e *ent) displayName() string {
	var field string
	switch e.table {
	case "services", "routes", "upstreams", "plugins", "oauth2_credentials":
		field = "name"
	case "consumers", "basicauth_credentials", "hmacauth_credentials":
		field = "username"
	case "targets":
		field = "target"
	case "acls":
		field = "group"
	}
	if field != "" {
		if v, ok := e.peek(field); ok && v != "" {
			return v
		}
	}
	if e.table == "consumers" {
		if v, ok := e.peek("custom_id"); ok && v != "" {
			return v
		}
	}
	return e.id
}

// rootNS is the namespace of Kong's deterministic ids (declarative_config.lua).
var rootNS = uuid.MustParse("fd02801f-0957-4a15-a55a-c8d9606f30b5")

// cacheKeys lists, per collection with a cache key, its components; auto marks a component
// Kong generates itself (then no id can be derived); required components missing also stop the
// derivation.
var cacheKeys = map[string][]struct {
	field          string
	auto, required bool
}{
	"plugins":               {{"name", false, true}, {"route", false, false}, {"service", false, false}, {"consumer", false, false}},
	"targets":               {{"upstream", false, true}, {"target", false, true}},
	"acls":                  {{"consumer", false, true}, {"group", false, true}},
	"basicauth_credentials": {{"username", false, true}},
	"hmacauth_credentials":  {{"username", false, true}},
	"keyauth_credentials":   {{"key", true, false}},
	"jwt_secrets":           {{"key", true, false}},
	"oauth2_credentials":    {{"client_id", true, false}},
}

// endpointKeys is the unique field each collection is referenced by.
var endpointKeys = map[string]string{
	"services": "name", "routes": "name", "upstreams": "name", "consumers": "username",
	"keyauth_credentials": "key", "basicauth_credentials": "username", "jwt_secrets": "key",
	"hmacauth_credentials": "username", "oauth2_credentials": "client_id",
}

// assignID sets the entity's id: the given one, else one derived exactly as Kong does for
// declarative files (UUIDv5 of the cache key or endpoint key in a per-collection namespace), else
// a random v4 where Kong uses one.
func (l *loader) assignID(e *ent) {
	if n := e.r.node("id"); n != nil {
		switch {
		case !isStr(n):
			e.r.errf("id", n.Line, typeMsg("string"))
		case !isUUID(n.Value):
			e.r.errf("id", n.Line, "expected a valid UUID")
		default:
			e.id, e.idGiven, e.idStable = strings.ToLower(n.Value), true, true
			return
		}
	}
	if k, ok := e.derivationKey(); ok {
		ns := uuid.NewSHA1(rootNS, []byte(e.table))
		e.id = uuid.NewSHA1(ns, []byte(k)).String()
		e.idStable = true
		return
	}
	e.id = l.randomID()
}

// derivationKey is the name fed to UUIDv5: "<table>:*:<c1>:<c2>..." for collections with a
// cache key (components as written; the parent's id when implied by nesting; "" when absent),
// else the endpoint key value.
func (e *ent) derivationKey() (string, bool) {
	if comps, ok := cacheKeys[e.table]; ok {
		parts := []string{e.table, "*"}
		for _, c := range comps {
			if c.auto {
				return "", false
			}
			p, present := e.rawField(c.field)
			switch {
			case present && isStr(p):
				parts = append(parts, p.Value)
			case present:
				// Kong skips a component that is neither a string nor absent ({id: ...}).
			case c.field == e.parentFK:
				if !e.parent.idStable {
					return "", false
				}
				parts = append(parts, e.parent.id)
			case c.required:
				return "", false
			default:
				parts = append(parts, "")
			}
		}
		return strings.Join(parts, ":"), true
	}
	if f, ok := endpointKeys[e.table]; ok {
		if v, ok := e.peek(f); ok {
			return v, true
		}
	}
	return "", false
}

// rawField returns a field's value node; present is false when absent or null.
func (e *ent) rawField(name string) (*yaml.Node, bool) {
	for _, p := range e.r.ps {
		if p.key == name {
			if p.v == nil || isNull(p.v) {
				return nil, false
			}
			return p.v, true
		}
	}
	return nil, false
}

func (l *loader) randomID() string {
	u, err := uuid.NewRandomFromReader(l.rand)
	if err != nil {
		return uuid.New().String()
	}
	return u.String()
}

// randomString is Kong's utils.random_string: 32 hex characters, used for generated keys and
// secrets.
func (l *loader) randomString() string {
	return strings.ReplaceAll(l.randomID(), "-", "")
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidRe.MatchString(s) }

// parseEntity dispatches to the parser of the entity's collection.
func (l *loader) parseEntity(e *ent) {
	r := e.r
	r.lookup("id") // read by assignID
	for _, child := range nestedOf[e.table] {
		r.lookup(child) // read by collection
	}
	switch e.table {
	case "services":
		l.parseService(e)
	case "routes":
		l.parseRoute(e)
	case "upstreams":
		l.parseUpstream(e)
	case "targets":
		l.parseTarget(e)
	case "consumers":
		l.parseConsumer(e)
	case "plugins":
		l.parsePlugin(e)
	default:
		l.parseCredential(e)
	}
}

// meta reads the fields every entity has: tags and the timestamps (stamped at load unless
// given).
func (l *loader) meta(e *ent, updated bool) Meta {
	r := e.r
	m := Meta{ID: e.id, Line: e.line, CreatedAt: l.now.Unix(), UpdatedAt: l.now.Unix()}
	if tags, ok := r.strings("tags", "set", validateTag); ok {
		m.Tags = tags
	}
	if v, ok := l.timestamp(r, "created_at"); ok {
		m.CreatedAt = v
	}
	if updated {
		if v, ok := l.timestamp(r, "updated_at"); ok {
			m.UpdatedAt = v
		}
	}
	return m
}

func (l *loader) timestamp(r *rec, name string) (int64, bool) {
	n := r.node(name)
	if n == nil {
		return 0, false
	}
	f, ok := asFloat(n)
	if !ok {
		r.errf(name, n.Line, typeMsg("integer"))
		return 0, false
	}
	if f < 0 {
		r.errf(name, n.Line, "expected a valid timestamp")
		return 0, false
	}
	return int64(f), true
}

// reference reads a foreign key field: a name/id string or {id: <uuid>}. Nested children may
// restate their parent; it must then be that parent.
func (l *loader) reference(e *ent, field, table string) *ref {
	r := e.r
	n := r.node(field)
	if n == nil {
		return nil
	}
	rf := &ref{field: field, table: table, n: n}
	switch {
	case n.Kind == yaml.MappingNode:
		sub := l.newRec(e, []Seg{key(field)}, n)
		id, ok := sub.str("id")
		switch {
		case !ok && sub.node("id") == nil:
			sub.missing("id")
		case ok && !isUUID(id):
			sub.errf("id", sub.lineOf("id"), "expected a valid UUID")
			ok = false
		}
		sub.finish()
		if !ok {
			return nil
		}
		rf.want, rf.byID = id, true
	default:
		s, ok := r.strNode(r.path(field), n)
		if !ok {
			return nil
		}
		rf.want = s
	}
	if e.parent != nil && e.parentFK == field {
		rf.mustBe = e.parent
	}
	e.refs = append(e.refs, rf)
	return rf
}

// build assembles the Config from the parsed entities, pointers resolved.
func (l *loader) build() *Config {
	cfg := &Config{FormatVersion: l.format, Transform: l.trans, LoadedAt: l.now}
	ordered := append([]*ent(nil), l.ents...)
	sort.SliceStable(ordered, func(i, j int) bool {
		if ordered[i].line != ordered[j].line {
			return ordered[i].line < ordered[j].line
		}
		return ordered[i].col < ordered[j].col
	})
	for _, e := range ordered {
		switch o := e.obj.(type) {
		case *Service:
			cfg.Services = append(cfg.Services, o)
		case *Route:
			if t := e.refTarget("service"); t != nil {
				o.Service = t.obj.(*Service)
				o.Service.Routes = append(o.Service.Routes, o)
			}
			cfg.Routes = append(cfg.Routes, o)
		case *Upstream:
			cfg.Upstreams = append(cfg.Upstreams, o)
		case *Target:
			if t := e.refTarget("upstream"); t != nil {
				o.Upstream = t.obj.(*Upstream)
				o.Upstream.Targets = append(o.Upstream.Targets, o)
			}
			cfg.Targets = append(cfg.Targets, o)
		case *Consumer:
			cfg.Consumers = append(cfg.Consumers, o)
		case *Plugin:
			if t := e.refTarget("route"); t != nil {
				o.Route = t.obj.(*Route)
			}
			if t := e.refTarget("service"); t != nil {
				o.Service = t.obj.(*Service)
			}
			if t := e.refTarget("consumer"); t != nil {
				o.Consumer = t.obj.(*Consumer)
			}
			cfg.Plugins = append(cfg.Plugins, o)
		case *KeyAuthCredential:
			o.Consumer = e.consumer()
			cfg.KeyAuthCredentials = append(cfg.KeyAuthCredentials, o)
		case *BasicAuthCredential:
			o.Consumer = e.consumer()
			cfg.BasicAuthCredentials = append(cfg.BasicAuthCredentials, o)
		case *JWTSecret:
			o.Consumer = e.consumer()
			cfg.JWTSecrets = append(cfg.JWTSecrets, o)
		case *ACL:
			o.Consumer = e.consumer()
			cfg.ACLs = append(cfg.ACLs, o)
		case *HMACAuthCredential:
			o.Consumer = e.consumer()
			cfg.HMACAuthCredentials = append(cfg.HMACAuthCredentials, o)
		case *OAuth2Credential:
			o.Consumer = e.consumer()
			cfg.OAuth2Credentials = append(cfg.OAuth2Credentials, o)
		}
	}
	return cfg
}

// refTarget is the entity a foreign key points to: the resolved reference, or the parent the
// nesting implies.
func (e *ent) refTarget(field string) *ent {
	for _, rf := range e.refs {
		if rf.field == field {
			return rf.target
		}
	}
	if e.parent != nil && e.parentFK == field {
		return e.parent
	}
	return nil
}

func (e *ent) consumer() *Consumer {
	if t := e.refTarget("consumer"); t != nil {
		c, _ := t.obj.(*Consumer)
		return c
	}
	return nil
}
