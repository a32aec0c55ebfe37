// Package config loads Kong 3.x declarative configuration (`_format_version: "3.0"`, the
// kong.yml of DB-less mode) into plain, immutable data: every default filled, every id
// assigned, every reference resolved to a pointer. It does no I/O: callers hand it bytes.
//
// Users bring configs written for Kong, so the rules and the error texts are Kong's
// (kong/db/schema/entities/*.lua, typedefs.lua, declarative_config.lua): a config Kong accepts
// loads here with the same meaning, or is refused with a message saying which field this build
// does not support yet. Nothing is silently ignored: a half-applied config (say, routes whose
// snis are dropped) would route traffic differently from Kong without anyone noticing.
//
// # Loading
//
// Load parses YAML or JSON (JSON is read by the YAML parser, so one path keeps line numbers
// for both), walks the tree by hand with go.yaml.in/yaml/v3 nodes and reports every problem,
// not only the first, so that one run shows everything to fix. Each problem is an *Error whose
// text is
//
//	FILE:LINE: <kind> "<name or id>": <field path>: <what is wrong>
//
// for example `kong.yml:12: route "orders": paths[1]: should start with: / (fixed path) or ~/
// (regex path)`. Array indexes in field paths are 0-based. Problems of a whole entity use the
// field path "@entity" (Kong's key for them); problems outside entities (top-level keys, YAML
// syntax) have no kind and name. The name shown is the entity's name (username for consumers,
// target for targets, group for acls, the plugin name for plugins), else its id; key-auth keys
// and other secrets are never shown. Errors.KongFields, Errors.Flattened and Errors.KongBody
// render the same problems as the admin API's 400 answer to POST /config.
//
// Scalars are read as Kong's parsers read them: unquoted yes/no/on/off (YAML 1.1 booleans,
// which Kong's lyaml keeps) are booleans, not strings; a number with an integral value (80.0)
// is an integer; every string field refuses "" ("length must be at least 1").
//
// YAML anchors, aliases and merge keys ("<<") work anywhere; shared blocks can be declared
// under `_ignore`. Following aliases is budgeted, so a small "billion laughs" document cannot
// make a load expand it.
//
// Plugin configs are decoded by the plugins themselves through PluginSchemas (implemented by
// plugin.Registry); DecodeNode is the strict decoder they use.
//
// # Ids
//
// A given id must be a UUID (stored lower-case). A missing one is derived as Kong does, so that
// ids (and X-Consumer-ID) match a Kong node loading the same file: UUIDv5 under
// uuid5(fd02801f-0957-4a15-a55a-c8d9606f30b5, "<collection>") of the cache key
// ("plugins:*:<name>:<route>:<service>:<consumer>", "targets:*:<upstream>:<target>",
// "acls:*:<consumer>:<group>", "basicauth_credentials:*:<username>",
// "hmacauth_credentials:*:<username>"; components as written, the parent's id when implied by
// nesting) or of the name (services, routes, upstreams) or username (consumers). Where Kong
// draws a random UUIDv4 (unnamed services and routes, consumers with only custom_id, key-auth
// and jwt credentials, oauth2 applications, children of such parents), so does Load.
//
// # Format versions
//
// "3.0" is the format. "1.1" and "2.1" are accepted and migrated as Kong 3 does: a route path
// with a character outside [A-Za-z0-9._~/%-] was a regex and gets its "~" prefix; other paths
// are normalized.
//
// # Extensions (accepted here, refused by Kong OSS)
//
//   - Top-level `_info` and `_konnect` (written by decK) are accepted and ignored.
//
// # Stricter than Kong
//
//   - A key repeated in one mapping is an error (Kong's parsers keep the last one).
//   - A second YAML document in the input is an error.
//   - One plugin per (name, route, service, consumer) and one target per (upstream, target,
//     default port applied) are checked on the resolved scope, so two instances spelled
//     differently (one nested, one naming its parent) clash as they would in Kong's database;
//     Kong's declarative loader only catches identical spellings (through equal derived ids).
//
// # Not supported yet (refused with "not supported yet in tollgate")
//
//   - Collections: certificates, snis, ca_certificates, vaults, keys, key_sets (an empty list
//     is accepted).
//   - Services: protocol grpc, grpcs, tcp, tls, tls_passthrough, udp (http and https work);
//     tls_verify, tls_verify_depth, ca_certificates, client_certificate.
//   - Routes: protocols other than http and https; snis, sources, destinations; expression and
//     priority (expressions router flavor).
//   - Upstreams: client_certificate.
//   - Plugins: protocols tcp, tls, tls_passthrough, udp (stream subsystem).
//   - oauth2_credentials: hash_secret true (Kong hashes the secret at write; we would not).
//   - Plugins that Kong has and this build lacks: "plugin 'x' is not available yet in tollgate".
//
// # Other differences
//
//   - An unquoted `_format_version: 3.0` (a YAML number) is refused, as in Kong, but the
//     message adds a hint to quote it.
//   - A route host with a wildcard that is not a valid host reports the host as written
//     (Kong reports it with the "*" replaced by "abc").
//   - Route paths are checked with the router's own rules (router.ValidatePath), so what loads
//     is what routes; "~*" header values must compile as Go regular expressions (Kong
//     compiles them with Rust's regex crate).
//   - Kong's field paths number array elements from 1 ("paths.2"); Error.Field counts from 0
//     ("paths[1]"). Errors.Flattened uses Kong's form, since clients parse it.
package config
