package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/valyala/fasthttp"
)

// respResult is what reading one response gave, as plain values a test can
// compare after the reader's buffer has moved on.
type respResult struct {
	Status  int
	Reason  string
	HTTP11  bool
	Fields  []string // "Name: value", as received
	CL      int64
	Chunked bool
	Close   bool
	Body    string
	Size    int64
	Done    bool
}

// readResponses reads up to n responses from br, each head then its body,
// as a connection would: it stops after a response that leaves the
// connection unusable (Done false, or Close), and at the first error, which
// it returns (io.EOF when the bytes end where a response would start).
func readResponses(br *bufio.Reader, head bool, n int) ([]respResult, error) {
	var (
		h   ResponseHead
		b   ResponseBody
		out []respResult
	)
	for len(out) < n {
		if err := ReadResponseHead(br, &h); err != nil {
			return out, err
		}
		r := respResult{
			Status: h.Status, Reason: string(h.Reason), HTTP11: h.HTTP11, CL: h.ContentLength,
			Chunked: h.Chunked, Close: h.Close,
		}
		for _, f := range h.Fields {
			r.Fields = append(r.Fields, string(f.Name)+": "+string(f.Value))
		}
		if err := checkRaw(&h); err != nil {
			return out, err
		}
		b.Reset(br, &h, head)
		body, err := io.ReadAll(&b)
		if err != nil {
			return out, err
		}
		r.Body, r.Size, r.Done = string(body), b.Size(), b.Done()
		out = append(out, r)
		if !r.Done || r.Close {
			break
		}
	}
	return out, nil
}

// checkRaw holds ResponseHead.Raw to its contract: the whole head, status line to blank
// line, holding every field; and a Header built from it reads as one built field by field.
func checkRaw(h *ResponseHead) error {
	raw := string(h.Raw)
	if !strings.HasPrefix(raw, "HTTP/1.") || !strings.HasSuffix(raw, "\r\n\r\n") {
		return fmt.Errorf("Raw %q is not a whole head", raw)
	}
	var each, once Header
	each.AddFields(h.Fields)
	before := len(once.buf)
	once.AddFieldsFrom(h.Raw, h.Fields)
	if len(once.buf)-before != len(h.Raw) {
		return fmt.Errorf("AddFieldsFrom copied %d bytes, want the head's %d once", len(once.buf)-before, len(h.Raw))
	}
	if each.String() != once.String() {
		return fmt.Errorf("AddFieldsFrom read %q, AddFields %q", once.String(), each.String())
	}
	return nil
}

// okResp builds the expected result of a well-framed HTTP/1.1 response.
func okResp(status int, reason string, fields []string, body string, size int64) respResult {
	return respResult{Status: status, Reason: reason, HTTP11: true, Fields: fields, CL: -1, Body: body, Size: size, Done: true}
}

// withResp applies changes to a respResult, for the cases that differ from okResp.
func withResp(r respResult, f func(*respResult)) respResult {
	f(&r)
	return r
}

type clientCase struct {
	name string
	in   string
	head bool // the request was HEAD
	buf  int  // br's size; 0 means 4096
	want []respResult
	end  error // what ends the reading: nil (a response ended the connection), io.EOF, or a refusal
	// lenient, on a refusal, says how net/http reads what we refuse; empty
	// when net/http refuses it too. TestClientOracle holds both to it.
	lenient string
}

const (
	fieldCL5  = "Content-Length: 5"
	bodyHello = "hello"
)

func clientCases() []clientCase {
	chunkedBody := "5;name=value\r\nhello\r\n7;x\r\n, world\r\n0;last=1\r\nX-Sum: 12\r\nX-Empty:\r\n\r\n"
	longExt := "1;" + strings.Repeat("x", 4093) // a 4095-byte size line, the most either reader takes
	var hundred strings.Builder
	var hundredFields []string
	for i := range 99 {
		fmt.Fprintf(&hundred, "X-F%d: %d\r\n", i, i)
		hundredFields = append(hundredFields, fmt.Sprintf("X-F%d: %d", i, i))
	}
	many := "HTTP/1.1 200 OK\r\n" + hundred.String() + "Content-Length: 0\r\n"
	hundredFields = append(hundredFields, "Content-Length: 0")
	var overhead strings.Builder
	for range 6 {
		overhead.WriteString("1;" + strings.Repeat("e", 4000) + "\r\nx\r\n")
	}
	overhead.WriteString("0\r\n\r\n")
	interim := strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", maxInterim+1)

	return []clientCase{
		// good responses
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
			want: []respResult{withResp(okResp(200, "OK", []string{"Content-Type: text/plain", fieldCL5}, bodyHello, 5), func(r *respResult) { r.CL = 5 })},
			end:  io.EOF},
		{name: "content-length 0", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "leading zeros in content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\nhello",
			want: []respResult{withResp(okResp(200, "OK", []string{"Content-Length: 005"}, bodyHello, 5), func(r *respResult) { r.CL = 5 })},
			end:  io.EOF},
		{name: "chunked with extensions and trailers", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" + chunkedBody,
			want: []respResult{withResp(okResp(200, "OK", []string{"Transfer-Encoding: chunked", "Trailer: X-Sum"}, "hello, world", -1), func(r *respResult) { r.Chunked = true })},
			end:  io.EOF},
		{name: "chunked, coding in upper case", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Transfer-Encoding: CHUNKED"}, "abc", -1), func(r *respResult) { r.Chunked = true })},
			end:  io.EOF},
		{name: "chunk size line of 4095 bytes", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + longExt + "\r\na\r\n0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Transfer-Encoding: chunked"}, "a", -1), func(r *respResult) { r.Chunked = true })},
			end:  io.EOF},
		{name: "until close", in: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\r\n\r\nHTTP/1.1 200 OK\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Content-Type: text/plain"}, "all of it\r\n\r\nHTTP/1.1 200 OK\r\n", -2), func(r *respResult) { r.Done = false })}},
		{name: "until close, HTTP/1.0", in: "HTTP/1.0 200 OK\r\n\r\nbody",
			want: []respResult{withResp(okResp(200, "OK", nil, "body", -2), func(r *respResult) { r.HTTP11, r.Close, r.Done = false, true, false })}},
		{name: "HEAD with content-length", head: true, in: "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",
			want: []respResult{
				withResp(okResp(200, "OK", []string{"Content-Length: 1234"}, "", 0), func(r *respResult) { r.CL = 1234 }),
				withResp(okResp(200, "OK", []string{"Content-Length: 7"}, "", 0), func(r *respResult) { r.CL = 7 }),
			},
			end: io.EOF},
		{name: "HEAD, chunked", head: true, in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Transfer-Encoding: chunked"}, "", 0), func(r *respResult) { r.Chunked = true })},
			end:  io.EOF},
		{name: "HEAD, no framing", head: true, in: "HTTP/1.1 200 OK\r\nX: y\r\n\r\n",
			want: []respResult{okResp(200, "OK", []string{"X: y"}, "", 0)},
			end:  io.EOF},
		{name: "204 with Content-Length: 0", in: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(204, "No Content", []string{"Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "204 then the next response", in: "HTTP/1.1 204 No Content\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			want: []respResult{
				okResp(204, "No Content", []string{"X: y"}, "", 0),
				withResp(okResp(200, "OK", []string{fieldCL5}, bodyHello, 5), func(r *respResult) { r.CL = 5 }),
			},
			end: io.EOF},
		{name: "304 with content-length", in: "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			want: []respResult{
				withResp(okResp(304, "Not Modified", []string{`ETag: "x"`, "Content-Length: 1234"}, "", 0), func(r *respResult) { r.CL = 1234 }),
				withResp(okResp(200, "OK", []string{fieldCL5}, bodyHello, 5), func(r *respResult) { r.CL = 5 }),
			},
			end: io.EOF},
		{name: "100 continue skipped", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			want: []respResult{withResp(okResp(200, "OK", []string{fieldCL5}, bodyHello, 5), func(r *respResult) { r.CL = 5 })},
			end:  io.EOF},
		{name: "102, 103 and 100 skipped", in: "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(201, "Created", []string{"Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "as many interim responses as allowed", in: interim[len("HTTP/1.1 102 Processing\r\n\r\n"):] + "HTTP/1.1 204 No Content\r\n\r\n",
			want: []respResult{okResp(204, "No Content", nil, "", 0)},
			end:  io.EOF},
		{name: "101 returned", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
			want: []respResult{withResp(okResp(101, "Switching Protocols", []string{"Upgrade: websocket", "Connection: Upgrade"}, "", 0), func(r *respResult) { r.Done = false })}},
		{name: "HTTP/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
			want: []respResult{
				withResp(okResp(200, "OK", []string{"Connection: keep-alive", fieldCL5}, bodyHello, 5), func(r *respResult) { r.HTTP11, r.CL = false, 5 }),
				withResp(okResp(200, "OK", []string{"Content-Length: 2"}, "hi", 2), func(r *respResult) { r.HTTP11, r.CL, r.Close = false, 2, true }),
			}},
		{name: "HTTP/1.0 keep-alive in a list", in: "HTTP/1.0 200 OK\r\nConnection: foo, Keep-Alive\r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Connection: foo, Keep-Alive", "Content-Length: 0"}, "", 0), func(r *respResult) { r.HTTP11, r.CL = false, 0 })},
			end:  io.EOF},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Connection: keep-alive, CLOSE", fieldCL5}, bodyHello, 5), func(r *respResult) { r.CL, r.Close = 5, true })}},
		{name: "pipelined, length then chunked", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n",
			want: []respResult{
				withResp(okResp(200, "OK", []string{fieldCL5}, bodyHello, 5), func(r *respResult) { r.CL = 5 }),
				withResp(okResp(404, "Not Found", []string{"Transfer-Encoding: chunked"}, "no", -1), func(r *respResult) { r.Chunked = true }),
			},
			end: io.EOF},
		{name: "values trimmed, names as sent", in: "HTTP/1.1 200 OK\r\ncontent-LENGTH: \t5 \r\nX-A:   a  b \t\r\nX-Empty:\r\nX-Tab:\tx\ty\r\nX-Obs: caf\xc3\xa9\r\n\r\nhello",
			want: []respResult{withResp(okResp(200, "OK", []string{"content-LENGTH: 5", "X-A: a  b", "X-Empty: ", "X-Tab: x\ty", "X-Obs: caf\xc3\xa9"}, bodyHello, 5), func(r *respResult) { r.CL = 5 })},
			end:  io.EOF},
		{name: "no reason", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "", []string{"Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "empty reason", in: "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(599, "", []string{"Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "reason with HTAB, SP and obs-text", in: "HTTP/1.1 200 Tout\tva  tr\xe8s bien \r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "Tout\tva  tr\xe8s bien ", []string{"Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "100 fields", in: many + "\r\n",
			want: []respResult{withResp(okResp(200, "OK", hundredFields, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "pragma no-cache", in: "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Pragma: no-cache", "Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "trailer naming content-length, not chunked", in: "HTTP/1.1 200 OK\r\nTrailer: Content-Length\r\nContent-Length: 0\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Trailer: Content-Length", "Content-Length: 0"}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "head fills the buffer", buf: 64, in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: " + strings.Repeat("p", 17) + "\r\n\r\n",
			want: []respResult{withResp(okResp(200, "OK", []string{"Content-Length: 0", "X-Pad: " + strings.Repeat("p", 17)}, "", 0), func(r *respResult) { r.CL = 0 })},
			end:  io.EOF},
		{name: "empty connection", in: "", end: io.EOF},

		// ends of the connection inside a response
		{name: "truncated status line", in: "HTTP/1.1 20", end: io.ErrUnexpectedEOF},
		{name: "truncated head", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", end: io.ErrUnexpectedEOF},
		{name: "truncated version", in: "HTTP/2", end: io.ErrUnexpectedEOF},
		{name: "end after an interim response", in: "HTTP/1.1 100 Continue\r\n\r\n", end: io.ErrUnexpectedEOF},
		{name: "truncated length body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", end: io.ErrUnexpectedEOF},
		{name: "truncated chunked body", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", end: io.ErrUnexpectedEOF},
		{name: "truncated trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", end: io.ErrUnexpectedEOF},

		// refusals: the status line
		{name: "HTTP/1.2", in: "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", end: errVersion, lenient: "any HTTP/d.d"},
		{name: "HTTP/2.0", in: "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", end: errVersion, lenient: "any HTTP/d.d"},
		{name: "HTTP/2 without minor", in: "HTTP/2 200 OK\r\n\r\n", end: errStatusLine},
		{name: "lower-case version", in: "http/1.1 200 OK\r\n\r\n", end: errStatusLine},
		{name: "not HTTP", in: "ICY 200 OK\r\n\r\n", end: errStatusLine},
		{name: "binary garbage, no line end", in: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", end: errStatusLine},
		{name: "empty line before the status line", in: "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", end: errStatusLine},
		{name: "two spaces before the code", in: "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n", end: errStatusLine, lenient: "skips spaces before the code"},
		{name: "two-digit code", in: "HTTP/1.1 20 OK\r\n\r\n", end: errStatusLine},
		{name: "four-digit code", in: "HTTP/1.1 2000 OK\r\n\r\n", end: errStatusLine},
		{name: "signed code", in: "HTTP/1.1 +99 OK\r\nContent-Length: 0\r\n\r\n", end: errStatusLine, lenient: "strconv.Atoi reads +99"},
		{name: "no space after the code", in: "HTTP/1.1 200OK\r\n\r\n", end: errStatusLine},
		{name: "tab after the code", in: "HTTP/1.1 200\tOK\r\nContent-Length: 0\r\n\r\n", end: errStatusLine},
		{name: "code below 100", in: "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", end: errStatusCode, lenient: "any three digits"},
		{name: "code above 599", in: "HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n", end: errStatusCode, lenient: "any three digits"},
		{name: "NUL in the reason", in: "HTTP/1.1 200 O\x00K\r\nContent-Length: 0\r\n\r\n", end: errReason, lenient: "reason not checked"},
		{name: "DEL in the reason", in: "HTTP/1.1 200 O\x7fK\r\nContent-Length: 0\r\n\r\n", end: errReason, lenient: "reason not checked"},
		{name: "bare CR in the reason", in: "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n", end: errBareCR, lenient: "reason not checked"},

		// refusals: line endings and field syntax
		{name: "bare LF after the status line", in: "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", end: errBareLF, lenient: "bare LF is a line end"},
		{name: "bare LF after a field", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", end: errBareLF, lenient: "bare LF is a line end"},
		{name: "bare LF ending the head", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", end: errBareLF, lenient: "bare LF is a line end"},
		{name: "bare CR in a value", in: "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", end: errBareCR},
		{name: "bare CR ending a field", in: "HTTP/1.1 200 OK\r\nX: a\r\r\nContent-Length: 0\r\n\r\n", end: errBareCR},
		{name: "bare CR in a name", in: "HTTP/1.1 200 OK\r\nX\rY: a\r\nContent-Length: 0\r\n\r\n", end: errBareCR},
		{name: "obs-fold, first field", in: "HTTP/1.1 200 OK\r\n X: a\r\nContent-Length: 0\r\n\r\n", end: errObsFold},
		{name: "obs-fold, continuation", in: "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\nContent-Length: 0\r\n\r\n", end: errObsFold, lenient: "joins the lines"},
		{name: "empty name", in: "HTTP/1.1 200 OK\r\n: a\r\nContent-Length: 0\r\n\r\n", end: errEmptyName},
		{name: "space before the colon", in: "HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n", end: errSpaceName, lenient: `a field named "X "`},
		{name: "tab before the colon", in: "HTTP/1.1 200 OK\r\nX\t: a\r\nContent-Length: 0\r\n\r\n", end: errSpaceName},
		{name: "space inside a name", in: "HTTP/1.1 200 OK\r\nTransfer Encoding: chunked\r\nContent-Length: 0\r\n\r\n", end: errBadName, lenient: `a field named "Transfer Encoding"`},
		{name: "non-token name", in: "HTTP/1.1 200 OK\r\nX@Y: a\r\nContent-Length: 0\r\n\r\n", end: errBadName},
		{name: "non-ASCII name", in: "HTTP/1.1 200 OK\r\nX\xc3\xa9: a\r\nContent-Length: 0\r\n\r\n", end: errBadName},
		{name: "no colon", in: "HTTP/1.1 200 OK\r\nX-Missing\r\nContent-Length: 0\r\n\r\n", end: errNoColon},
		{name: "NUL in a value", in: "HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n", end: errBadValue},
		{name: "control in a value", in: "HTTP/1.1 200 OK\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n", end: errBadValue},
		{name: "escape in a long value", in: "HTTP/1.1 200 OK\r\nX: abcdefghijklmnop\x1bqrstuvwxyz\r\nContent-Length: 0\r\n\r\n", end: errBadValue},
		{name: "DEL in a value", in: "HTTP/1.1 200 OK\r\nX: a\x7fb\r\nContent-Length: 0\r\n\r\n", end: errBadValue},
		{name: "101 fields", in: many + "X-One-Too-Many: 1\r\n\r\n", end: errTooManyFields, lenient: "no field count limit"},
		{name: "head larger than the buffer", buf: 64, in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: " + strings.Repeat("p", 40) + "\r\n\r\n",
			end: errHeadTooLarge, lenient: "no head size limit in ReadResponse"},

		// refusals: Content-Length
		{name: "content-length with a sign", in: "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", end: errBadCL},
		{name: "negative content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello", end: errBadCL},
		{name: "space inside content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\nhello", end: errBadCL},
		{name: "hex content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello", end: errBadCL},
		{name: "empty content-length", in: "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nhello", end: errBadCL},
		{name: "19-digit content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 0000000000000000005\r\n\r\nhello", end: errBadCL, lenient: "ParseUint takes leading zeros"},
		{name: "content-length list", in: "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", end: errListCL},
		{name: "identical content-lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", end: errDupCL, lenient: "merges identical values"},
		{name: "different content-lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", end: errDupCL},
		{name: "bad content-length on 304", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n", end: errBadCL},

		// refusals: Transfer-Encoding
		{name: "gzip", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", end: errTEUnknown},
		{name: "gzip, chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errTEUnknown},
		{name: "chunked twice in a list", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errTEUnknown},
		{name: "chunked with a parameter", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errTEUnknown},
		{name: "chunked with a Kelvin sign", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chun\u212aed\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errTEUnknown},
		{name: "identity", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nabc", end: errTEUnknown},
		{name: "two chunked fields", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errDupTE},
		{name: "chunked and content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errCLAndTE, lenient: "drops Content-Length, reads chunks"},
		{name: "content-length after chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errCLAndTE, lenient: "drops Content-Length, reads chunks"},
		{name: "chunked in HTTP/1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", end: errTEHTTP10, lenient: "ignores it, reads until close"},
		{name: "trailer announcing content-length", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum, content-length\r\n\r\n0\r\n\r\n", end: errTrailerFraming},
		{name: "trailer announcing transfer-encoding", head: true, in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Transfer-Encoding\r\n\r\n", end: errTrailerFraming},

		// refusals: framing where there is no body
		{name: "content-length on 100", in: "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", end: errCLNoBody, lenient: "no body for 1xx"},
		{name: "content-length on 101", in: "HTTP/1.1 101 Switching Protocols\r\nContent-Length: 5\r\n\r\n", end: errCLNoBody, lenient: "no body for 1xx"},
		{name: "content-length 5 on 204", in: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", end: errCLNoBody, lenient: "no body for 204"},
		{name: "chunked on 204", in: "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", end: errTENoBody, lenient: "no body for 204"},
		{name: "chunked on 304", in: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", end: errTENoBody, lenient: "no body for 304"},
		{name: "chunked on 103", in: "HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", end: errTENoBody, lenient: "no body for 1xx"},
		{name: "too many interim responses", in: interim + "HTTP/1.1 204 No Content\r\n\r\n", end: errTooManyInterim, lenient: "no count limit"},
		{name: "bad field in an interim response", in: "HTTP/1.1 100 Continue\r\nX : y\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", end: errSpaceName, lenient: `a field named "X "`},

		// refusals: chunked bodies (edge.ChunkedBody's rules)
		{name: "chunk size not hex", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", end: errChunked},
		{name: "chunk data longer than its size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", end: errChunked},
		{name: "bare LF after a chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", end: errChunked},
		{name: "bare LF ending the trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", end: errChunked},
		{name: "sixteen hex digits", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000003\r\nabc\r\n0\r\n\r\n", end: errChunked, lenient: "16 hex digits"},
		{name: "space before a chunk extension", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 ;x\r\nabc\r\n0\r\n\r\n", end: errChunked},
		{name: "control in a chunk extension", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;\x01\r\nabc\r\n0\r\n\r\n", end: errChunked, lenient: "extensions not checked"},
		{name: "chunk size line of 4096 bytes", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + longExt + "x\r\na\r\n0\r\n\r\n", end: errChunked},
		{name: "folded trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n 2\r\n\r\n", end: errChunked, lenient: "joins trailer lines"},
		{name: "space in a trailer name", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX Y: 1\r\n\r\n", end: errChunked, lenient: `a trailer named "X Y"`},
		{name: "chunk extensions outweigh the data", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + overhead.String(), end: errChunkOverhead},
	}
}

func (c clientCase) bufSize() int {
	if c.buf > 0 {
		return c.buf
	}
	return 4096
}

func TestReadResponse(t *testing.T) {
	for _, tc := range clientCases() {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), tc.bufSize())
			got, err := readResponses(br, tc.head, 10)
			if err != tc.end {
				t.Fatalf("ends with %v, want %v", err, tc.end)
			}
			if tc.end != nil && tc.end != io.EOF && tc.end != io.ErrUnexpectedEOF {
				if !errors.Is(err, ErrBadResponse) {
					t.Errorf("%v does not match ErrBadResponse", err)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("responses:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestReadResponseInPieces reads every case through readers that hand over
// 1 and 3 bytes at a time, and with the last bytes and io.EOF together, and
// with small buffers where the case's heads fit: each must read exactly as a
// whole read does.
func TestReadResponseInPieces(t *testing.T) {
	type reader struct {
		name string
		wrap func(io.Reader) io.Reader
	}
	readers := []reader{
		{"one byte", iotest.OneByteReader},
		{"three bytes", func(r io.Reader) io.Reader { return &pieceReader{r: r, n: 3} }},
		{"one byte, EOF with data", func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) }},
		{"half", iotest.HalfReader},
	}
	for _, tc := range clientCases() {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := readResponses(bufio.NewReaderSize(strings.NewReader(tc.in), tc.bufSize()), tc.head, 10)
			for _, size := range []int{16, 32, 64, 128, 256, 1024, tc.bufSize()} {
				if size > tc.bufSize() {
					continue
				}
				for _, rd := range readers {
					br := bufio.NewReaderSize(rd.wrap(strings.NewReader(tc.in)), size)
					got, err := readResponses(br, tc.head, 10)
					if err == errHeadTooLarge && size < tc.bufSize() {
						continue // a head of this case does not fit this buffer
					}
					if err != wantErr || !reflect.DeepEqual(got, want) {
						t.Errorf("%s, %d-byte buffer: ends with %v, want %v\n got %+v\nwant %+v", rd.name, size, err, wantErr, got, want)
					}
				}
			}
		})
	}
}

// pieceReader hands over at most n bytes per Read.
type pieceReader struct {
	r io.Reader
	n int
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if len(b) > p.n {
		b = b[:p.n]
	}
	return p.r.Read(b)
}

// netHTTPResponses reads n final responses with net/http's ReadResponse,
// skipping interim ones as its Transport does, and their bodies.
func netHTTPResponses(in []byte, head bool, n int) ([]*http.Response, [][]byte, error) {
	req := &http.Request{Method: http.MethodGet}
	if head {
		req.Method = http.MethodHead
	}
	// a buffer the whole input fits in: net/http bounds a trailer section
	// by it, ours by 64 KiB
	br := bufio.NewReaderSize(bytes.NewReader(in), len(in)+16)
	var (
		resps  []*http.Response
		bodies [][]byte
	)
	for len(resps) < n {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return resps, bodies, fmt.Errorf("response %d: %w", len(resps), err)
		}
		if resp.StatusCode/100 == 1 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return resps, bodies, fmt.Errorf("response %d body: %w", len(resps), err)
		}
		resps = append(resps, resp)
		bodies = append(bodies, body)
	}
	return resps, bodies, nil
}

// agreeNetHTTP reports how resp and body, net/http's reading, differ from ours, or
// "" when they do not. net/http moves some fields out of Header, and adds
// one; ours is adjusted to match before the fields are compared as a
// multiset with canonical names.
func agreeNetHTTP(ours respResult, head bool, resp *http.Response, body []byte) string {
	var diffs []string
	if resp.StatusCode != ours.Status {
		diffs = append(diffs, fmt.Sprintf("status %d, ours %d", resp.StatusCode, ours.Status))
	}
	if _, reason, _ := strings.Cut(resp.Status, " "); reason != ours.Reason {
		diffs = append(diffs, fmt.Sprintf("reason %q, ours %q", reason, ours.Reason))
	}
	if (resp.ProtoMinor == 1) != ours.HTTP11 || resp.ProtoMajor != 1 {
		diffs = append(diffs, fmt.Sprintf("proto %s, ours HTTP11=%v", resp.Proto, ours.HTTP11))
	}
	if string(body) != ours.Body {
		diffs = append(diffs, fmt.Sprintf("body %q, ours %q", body, ours.Body))
	}
	if chunked := len(resp.TransferEncoding) > 0; chunked != ours.Chunked {
		diffs = append(diffs, fmt.Sprintf("chunked %v, ours %v", chunked, ours.Chunked))
	}
	if close := ours.Close || ours.Size == -2; resp.Close != close {
		diffs = append(diffs, fmt.Sprintf("close %v, ours %v", resp.Close, close))
	}
	wantCL := ours.Size
	switch {
	case head:
		wantCL = ours.CL // net/http reports the GET's length
	case wantCL == -2:
		wantCL = -1
	}
	if resp.ContentLength != wantCL {
		diffs = append(diffs, fmt.Sprintf("ContentLength %d, ours %d", resp.ContentLength, wantCL))
	}

	mine := http.Header{}
	for _, f := range ours.Fields {
		name, value, _ := strings.Cut(f, ": ")
		mine[http.CanonicalHeaderKey(name)] = append(mine[http.CanonicalHeaderKey(name)], value)
	}
	delete(mine, "Transfer-Encoding") // into resp.TransferEncoding
	if ours.Chunked {
		delete(mine, "Trailer") // into resp.Trailer
	}
	if ours.HTTP11 && ours.Close {
		delete(mine, "Connection") // shouldClose removes it
	}
	if p := mine["Pragma"]; len(p) > 0 && p[0] == "no-cache" && mine["Cache-Control"] == nil {
		mine["Cache-Control"] = []string{"no-cache"} // fixPragmaCacheControl
	}
	if !sameHeader(mine, resp.Header) {
		diffs = append(diffs, fmt.Sprintf("fields %v, ours %v", resp.Header, mine))
	}
	return strings.Join(diffs, "; ")
}

func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || len(va) != len(vb) {
			return false
		}
		va, vb = slices.Clone(va), slices.Clone(vb)
		slices.Sort(va)
		slices.Sort(vb)
		if !slices.Equal(va, vb) {
			return false
		}
	}
	return true
}

// TestClientOracle holds every case to net/http's reading: where ours
// accepts, net/http must read the same statuses, fields and bodies; where
// ours refuses, the case says whether net/http is more lenient, and how.
func TestClientOracle(t *testing.T) {
	for _, tc := range clientCases() {
		t.Run(tc.name, func(t *testing.T) {
			ours, err := readResponses(bufio.NewReaderSize(strings.NewReader(tc.in), tc.bufSize()), tc.head, 10)
			resps, bodies, goErr := netHTTPResponses([]byte(tc.in), tc.head, len(ours))
			if goErr != nil {
				t.Fatalf("net/http refuses what ours accepts: %v", goErr)
			}
			for i := range ours {
				if d := agreeNetHTTP(ours[i], tc.head, resps[i], bodies[i]); d != "" {
					t.Errorf("response %d: net/http reads %s", i, d)
				}
			}
			if !errors.Is(err, ErrBadResponse) {
				if tc.lenient != "" {
					t.Errorf("lenient set on a case ours does not refuse")
				}
				return
			}
			// the refused response, with what came before it
			_, _, goErr = netHTTPResponses([]byte(tc.in), tc.head, len(ours)+1)
			switch {
			case goErr == nil && tc.lenient == "":
				t.Errorf("net/http accepts what ours refuses (%v): say how in lenient", err)
			case goErr != nil && tc.lenient != "":
				t.Errorf("net/http refuses it too (%v): lenient should be empty", goErr)
			}
		})
	}
}

// TestReadResponseAllocs: once warm, reading a head and its Content-Length
// body costs no allocation.
func TestReadResponseAllocs(t *testing.T) {
	in := []byte(benchResponse)
	r := bytes.NewReader(in)
	br := bufio.NewReaderSize(r, 4096)
	var (
		h   ResponseHead
		b   ResponseBody
		buf [2048]byte
	)
	read := func() {
		r.Reset(in)
		br.Reset(r)
		if err := ReadResponseHead(br, &h); err != nil {
			t.Fatal(err)
		}
		b.Reset(br, &h, false)
		n := 0
		for {
			k, err := b.Read(buf[:])
			n += k
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if n != 1024 || !b.Done() {
			t.Fatalf("read %d bytes, done %v", n, b.Done())
		}
	}
	read()
	if allocs := testing.AllocsPerRun(100, read); allocs != 0 {
		t.Errorf("%.1f allocations per response", allocs)
	}
}

func TestResponseBodyUnset(t *testing.T) {
	var b ResponseBody
	if _, err := b.Read(make([]byte, 1)); err == nil || b.Done() {
		t.Errorf("a ResponseBody read before Reset: %v, done %v", err, b.Done())
	}
}

// TestReadResponseErrors: errors of the underlying reader come back as they
// are, so a caller still sees its timeout.
func TestReadResponseErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name, in string
		body     bool // the error comes in the body
	}{
		{name: "before the head", in: ""},
		{name: "inside the head", in: "HTTP/1.1 200 OK\r\n"},
		{name: "inside a length body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", body: true},
		{name: "inside a chunked body", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", body: true},
		{name: "inside an until-close body", in: "HTTP/1.1 200 OK\r\n\r\nhel", body: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(io.MultiReader(strings.NewReader(tc.in), iotest.ErrReader(boom)), 64)
			_, err := readResponses(br, false, 1)
			if err != boom {
				t.Errorf("got %v, want the reader's error as is", err)
			}
		})
	}
}

// TestReadResponseTimeout: a read deadline that passes inside a head or a
// body comes back as the connection's net.Error, Timeout() and all.
func TestReadResponseTimeout(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{name: "head", in: "HTTP/1.1 200 OK\r\n"},
		{name: "body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up, gw := net.Pipe()
			defer up.Close()
			defer gw.Close()
			go func() { _, _ = up.Write([]byte(tc.in)) }()
			_ = gw.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, err := readResponses(bufio.NewReader(gw), false, 1)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("got %v, want the connection's timeout", err)
			}
		})
	}
}

// benchResponse is a typical upstream answer: six fields and 1 KiB of body.
var benchResponse = "HTTP/1.1 200 OK\r\n" +
	"Server: nginx/1.27.3\r\n" +
	"Date: Tue, 24 Nov 2026 10:00:00 GMT\r\n" +
	"Content-Type: application/json\r\n" +
	"Content-Length: 1024\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: no-cache, private\r\n" +
	"\r\n" + strings.Repeat("x", 1024)

// BenchmarkReadResponse reads benchResponse's head and body, the body into a
// caller's buffer as a proxy copying it on would.
func BenchmarkReadResponse(b *testing.B) {
	in := []byte(benchResponse)
	r := bytes.NewReader(in)
	br := bufio.NewReaderSize(r, 4096)
	var (
		h    ResponseHead
		body ResponseBody
		buf  [2048]byte
	)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		br.Reset(r)
		if err := ReadResponseHead(br, &h); err != nil {
			b.Fatal(err)
		}
		body.Reset(br, &h, false)
		for {
			_, err := body.Read(buf[:])
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFasthttpReadResponse is BenchmarkReadResponse's reference: the
// upstream client the codec is to replace, on the same bytes. It copies the
// body into the Response's own buffer.
func BenchmarkFasthttpReadResponse(b *testing.B) {
	in := []byte(benchResponse)
	r := bytes.NewReader(in)
	br := bufio.NewReaderSize(r, 4096)
	var resp fasthttp.Response
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		br.Reset(r)
		resp.Reset()
		if err := resp.Read(br); err != nil {
			b.Fatal(err)
		}
		if len(resp.Body()) != 1024 {
			b.Fatalf("body of %d bytes", len(resp.Body()))
		}
	}
}
