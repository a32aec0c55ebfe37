// Package edge refuses HTTP/1.1 request heads that a loose parser accepts and
// a trusted proxy does not, before anything in the gateway reads them.
//
// Why: the gateway's HTTP/1.1 engine, fasthttp, is lenient where RFC 9112
// allows it (bare LF, obs-fold) and in a few places where it does not (a
// space inside a header name, any HTTP/x.y version). The gateway parses a
// request once and forwards it to an upstream that may parse differently; any
// difference in where a field, a header block or a body ends is a request
// smuggling or header spoofing vector (docs: shared spec EDGE.md). Envoy,
// HAProxy and nginx refuse these at the edge; so do we.
//
// Two parts, because fasthttp keeps some of the wire but not all of it:
//
//   - Policy.Check reads the parsed head and RequestHeader.RawHeaders(), the
//     header block exactly as received (bare LFs, folds, name case kept, in
//     fasthttp v1.77.0 whatever DisableHeaderNamesNormalizing says: names
//     are normalised in the parsed fields, not in the raw copy). It does
//     not allocate.
//   - Conn, installed with NewListener, watches the bytes fasthttp reads
//     for what RawHeaders lacks: the request line is not kept, so a bare LF
//     ending it is invisible; a head with no fields keeps no raw bytes at
//     all; and the chunked body framing of an earlier request on the
//     connection (fasthttp accepts a bare LF after the last chunk) is long
//     gone when the next request's handler runs. Conn tracks heads and body
//     framing in place, without copying, and reports faults by request
//     number (RequestCtx.ConnRequestNum).
//
// Policy.CheckRequest runs both.
//
// # Attacks and verdicts
//
// Measured with raw bytes against fasthttp v1.77.0 (StreamRequestBody on,
// default header normalisation). TestServerRawCases pins each row's status
// and the close on a real server, TestServerWhoRefuses pins who refuses (a
// fasthttp upgrade that moves a row fails it), TestCheckParsed the rest.
// "fasthttp" statuses are those of its default ErrorHandler (tollgate's
// proxy.ParseError maps the same errors to the same codes). Every refusal
// closes the connection.
//
//	attack                                        fasthttp alone                           refused by  status
//	--------------------------------------------  ---------------------------------------  ----------  ------
//	Content-Length + Transfer-Encoding: chunked   accepts: chunked wins, Connection: close,  Check       400
//	  (CL.TE and TE.CL)                            hidden pipelined request not served
//	two identical Content-Length fields           refuses                                  fasthttp    400
//	Content-Length: 3, 3                          refuses                                  fasthttp    400
//	Content-Length: +3 (non-digit, 20 digits)     refuses                                  fasthttp    400
//	Transfer-Encoding: identity                   accepts, ignores it                      Check       501
//	Transfer-Encoding: gzip, chunked              refuses (400, not RFC 9112's 501)        fasthttp    400
//	Transfer-Encoding: chunked, chunked; two TE   refuses                                  fasthttp    400
//	Transfer-Encoding on HTTP/1.0                 refuses                                  fasthttp    400
//	bare LF ending a field or the blank line      accepts                                  Check       400
//	bare LF ending the request line               accepts (line not kept)                  Conn        400
//	bare LF in a head with no fields              accepts (no raw bytes kept)              Conn        400
//	bare LF after the last chunk ("0\r\n\n")      accepts, serves the next request         Conn        400 (*)
//	chunk size not hex, negative or over 15       refuses while the body is read, after    Conn        400 (*)
//	  digits; chunk data without its CRLF;          the request was forwarded
//	  bare LF in a chunk-size line
//	chunk-size line over 4 KiB (extensions)       accepts, skips any length                Conn        400 (*)
//	trailer field: non-token name, no colon,      accepts a space in a name                Conn        400 (*)
//	  control in its value, folding
//	obs-fold continuation (SP or HTAB)            accepts, joins with SP                   Check       400
//	fold before the first field                   refuses                                  fasthttp    400
//	NUL, CR or DEL in a value                     refuses                                  fasthttp    400
//	empty header name (": v")                     refuses                                  fasthttp    400
//	space inside a name ("Transfer Encoding")     accepts                                  Check       400
//	space before the colon                        refuses                                  fasthttp    400
//	other non-token byte in a name                refuses                                  fasthttp    400
//	more than MaxHeaderCount (100) fields         accepts (only ReadBufferSize bounds it)  Check       431
//	head larger than ReadBufferSize               refuses                                  fasthttp    431
//	head larger than MaxHeaderBytes (60 KiB)      accepts if ReadBufferSize is larger      Check       431
//	version other than HTTP/1.0 and HTTP/1.1      accepts, treats it as HTTP/1.0           Check       505
//	absolute-form authority differs from Host     accepts, keeps both                      Check       400
//	absolute form with userinfo, non-http(s)      accepts                                  Check       400
//	  scheme or empty authority
//	CONNECT authority differs from Host           accepts                                  Check       400
//	missing or empty Host on HTTP/1.1             refuses                                  fasthttp    400
//	duplicate Host                                refuses                                  fasthttp    400
//	Host with userinfo, path or bad port          accepts                                  Check       400
//	X_User_Id (underscore in a name)              accepts, passes it on                    Check       dropped ("drop", default) or 400 ("reject")
//	method with lower-case letters ("get")        accepts, passes it on                    Check       400
//	'#' in the request target                     accepts; the upstream client drops the   Check       400
//	                                                fragment the router matched on
//	raw backslash in the path                     accepts                                  Check       400
//	dot segment next to an encoded slash or       accepts; the router keeps %2F and ';',   Check       400
//	  backslash ("..%2F", "%2e%2e%5C"), or with     an upstream may not
//	  parameters ("..;")
//
// (*) A fault in a chunked body is charged to the request that carries it:
// when its bytes arrive before that request's handler runs (a request
// written in one go, as smuggling payloads are) the request is refused before
// anything is forwarded; otherwise it is already being served, and every
// later request on the connection is refused.
//
// Each rule fasthttp enforces is also kept in Check (TestCheckHead feeds it
// raw blocks fasthttp would refuse), and the framing rules in the tracker
// too, so an upgrade that loosens fasthttp does not loosen the gateway.
//
// # Wiring
//
// Wrap the proxy listener outermost, so the tracker sees exactly the bytes
// fasthttp parses, and call CheckRequest first in the handler:
//
//	pol := edge.DefaultPolicy() // Validate it if it comes from config
//	go srv.Serve(edge.NewListener(sniffListener{Listener: proxyLn, s: s}))
//
//	func(rc *fasthttp.RequestCtx) {
//		v, drops := pol.CheckRequest(rc)
//		if !v.OK() {
//			rc.SetConnectionClose() // v.Close is true for every refusal
//			reply(rc, v.Status, v.Reason)
//			return
//		}
//		drops.Apply(&rc.Request.Header)
//		p.ServeFast(rc, "http", port)
//	}
//
// Do not set fasthttp's Server.MaxConnsPerIP: it wraps connections in an
// unexported type that hides the *Conn, and CheckRequest then answers 500
// (unless Policy.AllowUnwired).
//
// # The codec's parser
//
// Policy.ParseRequest is the first part of the gateway's own HTTP/1.1 codec
// (docs/decisions/0002-http1-engine-revisited.md). It parses a head from the
// connection's buffer in place, incrementally, and applies every rule above
// in the same pass: what fasthttp refuses, what Check refuses and what the
// wire tracker refuses in a head, with the same statuses, except that a bare
// LF is ReasonBareLF wherever it is and a request line that is not three
// parts one SP apart is ReasonBadRequestLine. Heads are held to the same
// oracle as Check (FuzzParseRequest), and what it reads to fasthttp's and
// net/http's readings. ChunkedBody decodes a chunked body in place by the
// tracker's own chunked states, so the two refuse the same bodies
// (FuzzChunkedBody holds it to the oracle of FuzzChunked and to net/http).
//
// # What this cannot see
//
//   - A malformed chunked body whose bytes arrive after its request's
//     handler started is found while the body streams through the handler:
//     that request goes on (fasthttp's own error then ends it, and the proxy
//     answers 502 as for an upstream failure), every later one on the
//     connection is refused. fasthttp frames the body the same way the
//     tracker does up to the fault and the proxy re-frames bodies upstream,
//     so the fault does not reach an upstream.
//   - Requests fasthttp refuses never reach Check: their status comes from
//     Server.ErrorHandler, which gets only an error whose text names the
//     cause, hence 400 where RFC 9112 §6.1 suggests 501 for an unknown
//     transfer coding.
//   - Expect: 100-continue: with no Server.ContinueHandler, fasthttp sends
//     "100 Continue" before the handler runs, so a refused request gets 100
//     and then its refusal (pinned by "CL.TE behind Expect 100-continue"). A ContinueHandler that returns the result of
//     Check avoids that, answering 417 instead of the verdict's status.
//   - Empty lines before a request line are skipped, as RFC 9112 §2.2
//     allows. The path is checked for what the router's normalisation
//     (internal/router NormalizePath) would read differently from an
//     upstream; normalising it is the router's job.
//   - HTTP/2 requests never pass Check: the HTTP/2 front end applies
//     CheckMethodTarget and Policy.UnderscoreAction itself.
package edge
