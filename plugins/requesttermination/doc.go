// Package requesttermination is Kong's request-termination plugin: it answers requests itself
// with a fixed status and message or body (to take a route or service out of service, or to
// block a consumer), or echoes the request back for debugging.
//
// Kong's page: https://docs.konghq.com/hub/kong-inc/request-termination/
// Our page: docs/plugins/request-termination.md.
//
// Deviations from Kong:
//
//   - A body without content_type is sent as "application/json; charset=utf-8", the default
//     Kong's documentation gives for content_type.
//   - Statuses that cannot carry a body (1xx, 204, 304) are sent without one whatever the
//     config says.
//   - echo: request.headers, query, method and path describe the client's request as received;
//     raw_body (and body, parsed for JSON and url-encoded requests) is the body as it stands
//     after plugins of higher priority. matched_route and matched_service have Kong's entity
//     shapes with the fields our config model keeps (unsupported ones are null), and "kong"
//     carries node_id, worker_pid (our process id) and hostname.
package requesttermination
