// Package correlationid is Kong's correlation-id plugin: it makes sure every request carries
// an id in a header toward the upstream (the client's own, or a generated one) and can echo it
// to the client.
//
// Kong's page: https://docs.konghq.com/hub/kong-inc/correlation-id/
// Our page: docs/plugins/correlation-id.md.
//
// Deviations from Kong:
//
//   - uuid#counter: Kong keeps one UUID and one counter per nginx worker; we keep one per
//     plugin instance, so a config reload starts a new UUID with the counter at 1 (ids stay
//     unique: the UUID is new).
//   - tracker: Kong writes <server_addr>-<server_port>-<pid>-<connection>-<connection_requests>-
//     <time>. The plugin contract exposes neither the local address nor connection counters, so
//     we write <client ip>-<listen port>-<pid>-<n>-1-<time>, where n is a per-instance request
//     sequence number standing in for the connection serial (it keeps ids unique), 1 stands in
//     for the request count on that connection, and time is the request's start in Unix
//     seconds with three decimals, as Kong's %0.3f of ngx.now().
//   - The id is also stored as the shared value "correlation_id" (Key) for log plugins, where
//     Kong calls kong.log.set_serialize_value("correlation_id", id).
package correlationid
