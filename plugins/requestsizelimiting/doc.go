// Package requestsizelimiting is Kong's request-size-limiting plugin
// (https://docs.konghq.com/hub/kong-inc/request-size-limiting/): requests whose body is larger
// than allowed_payload_size are answered 413 "Request size limit exceeded" (417 with the same
// message when the client sent "Expect: 100-continue"); with require_content_length a request
// without a valid Content-Length (and not chunked) is answered 411.
//
// Deviation: a body without Content-Length (chunked) is read and counted as Kong does, but the
// gateway buffers at most 64 MiB for a plugin; a larger allowed size only applies to requests
// that announce their length.
package requestsizelimiting
