// Package router selects the route of an HTTP request the way Kong 3.x does with its default
// router_flavor = traditional_compatible (KONG_COMPAT §3), so that a Kong declarative config
// sends the same requests to the same services here. It also holds the path rules that go
// with routing: request path normalization (§3.2) and the upstream path (§4.1, v0 rules).
//
// # How matching is organised
//
// Kong's ATC engine tries every route in priority order and returns the first that matches.
// Doing that per request costs too much with thousands of routes, so New gives every route
// (or every part of a split route, §3.4) a rank in Kong's total order and indexes the ranks:
//
//   - a radix tree over prefix paths and over the literal start of regex paths ("/users/" for
//     "~/users/(\d+)$"): walking it along the request path yields the routes whose path
//     can match, and no others;
//   - a list of routes without paths;
//   - inside any long candidate list, a map from plain host to routes, for host-routed configs.
//
// Every candidate list is sorted by rank, so Match stops a list at its first full match and
// skips whatever ranks after the best found so far. The result is the lowest-ranked route that
// fully matches, which is what Kong's linear scan returns; the tests check the index against
// such a scan.
//
// # Deviations from Kong 3.9
//
//   - Hosts and SNIs are compared case-insensitively (Kong compares bytes; RFC 9110 says case
//     does not matter, and no client expects the difference).
//   - Regex paths are anchored as "^(?:re)", so "~/a|/b" anchors both branches; Kong prepends
//     a bare "^" and would find "/b" anywhere in the path.
//   - Regexes use Go's RE2 syntax rather than Rust's: \d, \w and \s are ASCII-only; the x
//     flag is rejected at New; class set operations (&&, --, ~~) and nested classes are not
//     understood and read as literal characters. Both engines reject look-around,
//     back-references and unknown escapes such as \j.
//   - A malformed %XX in a request path is an error (the proxy answers 400, as nginx does
//     before Kong's router runs).
//   - The port after ':' in a Host header or route host must be decimal digits; Lua's
//     tonumber also accepts forms such as "0x50".
//   - Captures are exposed whenever a regex path matched, [0] included; Kong only sets
//     uri_captures when group 1 took part in the match.
//   - Options.KongPriorityQuirk reproduces the x86-64 result of Kong's 32-bit priority bug; on
//     arm64 Kong orders those routes differently.
//
// Faithful oddities worth knowing: header regexes are lower-cased before compiling, as Kong
// does (so "~*\D" means \d); prefix paths are plain byte prefixes ("/foo" matches "/foobar");
// route snis are ignored on plain HTTP yet still count in a route's priority.
//
// The package does no I/O and keeps no package-level state.
package router
