// Package responsetransformer is Kong's response-transformer plugin: it changes the response
// headers and, for JSON responses, the top-level fields of the body.
//
// Kong's page: https://docs.konghq.com/hub/kong-inc/response-transformer/
// Our page: docs/plugins/response-transformer.md.
//
// Deviations from Kong, all deliberate:
//
//   - Entries are "name:value" split at the first colon (further colons right after it are
//     skipped, as Kong's pattern does) and spaces around name and value are trimmed.
//   - Our extension: $(latency) in a header value (replace, add, append) renders the whole
//     milliseconds from the gateway reading the request to the header phase, with the unit:
//     "12ms". Any other "$(" in a header value is a config error (Kong has no templates and
//     would send the text as it is). JSON values are data, never templates, as in Kong.
//   - add, append and replace entries with an empty value are config errors (Kong accepts
//     and ignores them).
//   - The JSON body keeps its key order and the bytes of the values no operation touched
//     (Kong's cjson re-encodes everything in no particular order). Bodies that are not a JSON
//     object are left untouched.
//   - rename.json on an absent field does nothing; append onto a JSON value that is neither a
//     string nor an array makes [old, new] (Kong drops the old value).
//   - A json_types number is written in Go's shortest form (Kong: 14 significant digits). A
//     value that is not a number, or a boolean other than true/false, is a config error (Kong
//     skips the operation, or reads anything but "true" as false).
package responsetransformer
