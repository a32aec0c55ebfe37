// Package discovery resolves upstream targets given as hostnames and keeps them resolved, the
// way Kong's DNS client and ring-balancer do, so the gateway follows DNS changes without a
// config reload. A Resolver answers one name; a Watcher re-resolves a set of targets when
// their TTLs run out and reports targets whose addresses changed.
//
// Kong's behaviour was read in Kong's source: kong/resty/dns/client.lua (the DNS client Kong
// 3.x uses unless new_dns_client is on), kong/resty/dns/utils.lua (hosts and resolv.conf),
// kong/runloop/balancer/targets.lua and balancers.lua (how a target becomes addresses and is
// renewed), kong/tools/dns.lua (how kong.conf's dns_* settings reach the client) and
// kong.conf.default; and in KONG_COMPAT §2.4 (targets) and §4.7 (balancer errors).
//
// # Where we follow Kong
//
//   - Order (dns_order, default LAST,SRV,A,CNAME): record types are tried in order; LAST is
//     the type of the name's last successful lookup and is forgotten when a lookup fails.
//     NXDOMAIN, an empty answer or an error rcode falls through to the next type; a query that
//     no server answers (timeout) ends the lookup, because an A answer after a failed SRV query
//     could be the wrong one. AAAA is not in the default order, so an IPv6-only name does not
//     resolve unless the order names AAAA.
//   - The hosts file is read once and consulted before DNS; per name it holds one IPv4 and one
//     IPv6 address, the first of each in the file; names are case-insensitive; localhost is
//     always defined. The answer is the first of A/AAAA in the order that the file has.
//   - Search list and ndots from resolv.conf (names with fewer dots than ndots try the search
//     domains first; a trailing dot disables the search).
//   - A and AAAA records each become an address with the target's port and weight. SRV
//     records give their own port and weight; an SRV port of 0 means the target's port, an SRV
//     weight of 0 becomes 1 ("should be hit minimally"); only the lowest priority value is
//     used. A target's weight of 0 is passed on as 0 (Kong: never selected).
//   - SRV records that all point to the queried name (what Kubernetes serves for every
//     service) count as a failure of the SRV step, so the next type (A) answers.
//   - The CNAME step of the order resolves the alias's target with the whole order.
//   - TTL: the answer is renewed when its TTL runs out (Kong: its TTL, the smallest over the
//     records); a name that does not resolve is asked again after NotFoundTTL
//     (dns_not_found_ttl, 30 s), one that failed otherwise after ErrorTTL (dns_error_ttl,
//     1 s).
//   - Stale answers (dns_stale_ttl, 4 s): when refreshing fails transiently (timeout,
//     SERVFAIL, REFUSED), the last answer keeps serving until StaleTTL past its expiry; after
//     that the target has no addresses, as Kong's balancer empties a target whose query fails
//     once its cache entry is gone. NXDOMAIN takes the addresses away at once: Kong's cache
//     replaces an entry with a "name error" without keeping the stale records.
//   - A target whose name stops resolving keeps its place with no addresses (Result.Err set),
//     and gets them back when the name resolves again; Kong's answers to requests meanwhile
//     are 503 "name resolution failed" for ErrNotFound, 500 for other errors (§4.7).
//   - Targets that share a name are resolved once (dns_no_sync off) by the Watcher.
//     Resolver.Resolve itself does not merge concurrent calls, as with dns_no_sync on.
//   - Targets are resolved when the config is applied (Watcher.Set waits for new names), as
//     Kong resolves them when it builds a balancer.
//
// # Where we differ
//
//   - TTL 0: Kong resolves such a name on every request (a "virtual SRV" record) and looks
//     again at the TTL every 60 s. We never resolve on the request path: a record TTL is raised
//     to MinTTL (1 s by default, the granularity of DNS TTLs) and renewed in the background.
//   - SRV targets: Kong keeps an SRV target as a name and resolves it per request, picking its
//     IPs in turn. We resolve targets when the SRV answer arrives (using the answer's
//     additional section when it has them, then the hosts file, then A/AAAA queries in the
//     order's order) and every IP becomes an address with the SRV record's port and weight,
//     so a target with n IPs weighs n times its SRV weight. The answer's TTL is the smallest
//     of the SRV records' and the targets' TTLs. Targets that do not resolve are left out;
//     if none resolves, the name does not resolve.
//   - CNAMEs in an A/AAAA/SRV answer are followed (up to 8 links, shared with SRV-target
//     lookups), and the end of the chain is asked for when the server did not include it.
//     Kong ignores records not owned by the queried name and so needs the CNAME step of its
//     order for an alias; with an order without CNAME it cannot resolve one.
//   - NODATA (the name exists, without records of the types tried) is treated as NXDOMAIN:
//     the target empties at once. Kong keeps its stale records on an empty answer until
//     dns_stale_ttl runs out, then empties it too.
//   - After a transient failure the name is asked again every ErrorTTL, also once its
//     addresses are gone; Kong's balancer waits 30 s (requeryInterval) once its stale records
//     have expired.
//   - Resolv.conf is read only when Servers is empty or ResolvConf is set; nameservers given
//     without a port get port 53, as Kong's dns_resolver. A query goes to each server in
//     turn, once, with Timeout each, moving on after a timeout, SERVFAIL or REFUSED; Kong
//     retransmits up to resolv.conf's attempts (default 5). The environment variables
//     LOCALDOMAIN and RES_OPTIONS are not read. dns_valid_ttl and dns_cache_size have no
//     equivalent.
//   - Queries carry EDNS0 with a 1232-byte UDP size and are retried over TCP when the answer
//     is truncated (Kong's lua-resty-dns sends plain 512-byte queries).
//   - Kong 3.9 also has an optional new DNS client (new_dns_client, resolver_* settings) with
//     other rules; we follow the default one, which the dns_* settings configure.
package discovery
