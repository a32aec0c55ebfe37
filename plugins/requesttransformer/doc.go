// Package requesttransformer is Kong's request-transformer plugin: it changes the request sent
// to the upstream (path, method, headers, body, query string) with values that may be
// templates over the client's request.
//
// Kong's page: https://docs.konghq.com/hub/kong-inc/request-transformer/
// Our page: docs/plugins/request-transformer.md.
//
// Deviations from Kong, all deliberate:
//
//   - Entries are "name:value" split at the first colon (further colons right after it are
//     skipped, as Kong's pattern does) and spaces around name and value are trimmed, so
//     "X-Request-Source: api-gateway" means header X-Request-Source with value "api-gateway";
//     Kong would keep the leading space in the value.
//   - Templates are not Lua: $(...) accepts headers.x / headers["x"], query_params.x /
//     query_params["x"], uri_captures[1] / uri_captures.name / uri_captures["name"], shared.x /
//     shared["x"], and our extension $(uuid) (a fresh random v4 UUID per use). Any other
//     expression is a config error, found when the config loads (Kong fails the request with a
//     500). Templates are compiled once, at New.
//   - Templates read the client's request as received: a multi-valued header renders its values
//     joined with ", " (Kong renders a Lua table address), a repeated query argument its first
//     value, a missing one the empty string.
//   - The upstream query string and url-encoded bodies keep the client's argument order and
//     encoding; only the arguments an operation touches are re-encoded (Kong re-encodes and
//     sorts every argument). JSON bodies keep their key order (Kong's cjson does not).
//   - rename on a body field or query argument that is absent does nothing (Kong deletes the
//     target name in that case). append onto a JSON value that is neither a string nor an
//     array makes [old, new] (Kong drops the old value). On multipart bodies rename keeps the
//     part (file name and headers included) and append adds a part (Kong ignores append there).
//   - replace.uri rendering to a path without a leading "/" gets one (Kong fails the request).
//   - add, append and replace entries with an empty value are config errors (Kong accepts
//     them for headers and ignores them).
package requesttransformer
