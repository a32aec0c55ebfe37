package edge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// wireCase is a request sent as raw bytes to a real fasthttp server whose
// handler calls CheckRequest first. The same table seeds FuzzCheck.
type wireCase struct {
	name   string
	raw    string
	want   []int  // statuses, in order, of the responses that must come back
	closed bool   // the server must close after them; otherwise a probe request must still be served
	who    string // who refuses: "fasthttp", "check", "wire", "" (accepted)
	body   string // substring of the last response body, when set
	policy string // UnderscoreHeaders for this case, "" = default
	head   int    // 1-based index of a response to HEAD (it has no body), 0 = none
}

// Requests whose path starts with /hidden are smuggled: no case may ever
// get one served.
const hiddenReq = "GET /hidden HTTP/1.1\r\nHost: a\r\n\r\n"

func manyHeaders(n int) string {
	var b strings.Builder
	b.WriteString("GET /many HTTP/1.1\r\nHost: a\r\n")
	for i := 1; i < n; i++ { // Host is the first
		fmt.Fprintf(&b, "X-H%d: v\r\n", i)
	}
	b.WriteString("\r\n")
	return b.String()
}

// teCL is the TE.CL shape: a peer framing by Content-Length reads "1f\r\n"
// as the body and the chunk data as a second request.
func teCL() string {
	chunk := hiddenReq[:len(hiddenReq)-2] + "X: "
	return fmt.Sprintf("POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(chunk), chunk)
}

func wireCases() []wireCase {
	return []wireCase{
		// Clean traffic stays open.
		{name: "clean GET", raw: "GET /ok HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n", want: []int{200}},
		{name: "clean POST content-length", raw: "POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", want: []int{200}, body: "body=5"},
		{name: "clean chunked with extension and trailer", raw: "POST /ok HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", want: []int{200}, body: "body=5"},
		{name: "clean pipelined pair", raw: "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{200, 200, 200}},
		{name: "empty line before request line", raw: "\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{200}},
		{name: "HTTP/1.0 keep-alive without Host", raw: "GET /ok HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", want: []int{200}},
		{name: "absolute form matching Host", raw: "GET http://A.example:80/ok HTTP/1.1\r\nHost: a.example\r\n\r\n", want: []int{200}},
		{name: "100 headers", raw: manyHeaders(100), want: []int{200}},
		{name: "GET and HEAD with Content-Length bodies", raw: "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcHEAD /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{200, 200, 200}, head: 2},
		{name: "Expect 100-continue", raw: "POST /ok HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", want: []int{100, 200}, body: "body=2"},
		{name: "obs-text in value", raw: "GET /ok HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n", want: []int{200}},

		// Framing: request smuggling.
		{name: "CL.TE with hidden request", raw: "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hiddenReq, want: []int{400}, closed: true, who: "check", body: ReasonCLAndTE},
		{name: "TE.CL with hidden request", raw: teCL(), want: []int{400}, closed: true, who: "check", body: ReasonCLAndTE},
		{name: "CL.TE behind Expect 100-continue", raw: "POST /s HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hiddenReq, want: []int{100, 400}, closed: true, who: "check", body: ReasonCLAndTE},
		{name: "duplicate identical Content-Length", raw: "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc" + hiddenReq, want: []int{400}, closed: true, who: "fasthttp"},
		{name: "comma-listed Content-Length", raw: "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc" + hiddenReq, want: []int{400}, closed: true, who: "fasthttp"},
		{name: "signed Content-Length", raw: "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "Transfer-Encoding identity", raw: "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n" + hiddenReq, want: []int{501}, closed: true, who: "check", body: ReasonTEUnknown},
		{name: "Transfer-Encoding gzip, chunked", raw: "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "Transfer-Encoding chunked, chunked", raw: "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "two Transfer-Encoding fields", raw: "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "Transfer-Encoding in HTTP/1.0", raw: "POST /s HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "bare LF after last chunk", raw: "POST /ok HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n" + hiddenReq, want: []int{400}, closed: true, who: "wire", body: ReasonWireChunk},

		{name: "non-hex chunk size", raw: "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + hiddenReq, want: []int{400}, closed: true, body: ReasonWireChunk},
		{name: "space in a trailer name", raw: "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nBad Trailer: x\r\n\r\n" + hiddenReq, want: []int{400}, closed: true, who: "wire", body: ReasonWireChunk},
		{name: "chunk extension over 4 KiB", raw: "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;" + strings.Repeat("x", 5000) + "\r\nabc\r\n0\r\n\r\n" + hiddenReq, want: []int{400}, closed: true, who: "wire", body: ReasonWireChunk},

		// Line endings and folding.
		{name: "bare LF ending the request line", raw: "GET /s HTTP/1.1\nHost: a\r\n\r\n" + hiddenReq, want: []int{400}, closed: true, who: "wire", body: ReasonWireBareLF},
		{name: "bare LF ending a field", raw: "GET /s HTTP/1.1\r\nHost: a\nX: y\r\n\r\n" + hiddenReq, want: []int{400}, closed: true, who: "check", body: ReasonBareLF},
		{name: "bare LF blank line", raw: "GET /s HTTP/1.1\r\nHost: a\r\n\n" + hiddenReq, want: []int{400}, closed: true, who: "check", body: ReasonBareLF},
		{name: "bare LF head without fields", raw: "GET /s HTTP/1.0\n\n" + hiddenReq, want: []int{400}, closed: true, who: "wire", body: ReasonWireBareLF},
		{name: "obs-fold with space", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n b\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonObsFold},
		{name: "obs-fold with tab", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\tb\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonObsFold},
		{name: "fold before the first field", raw: "GET /s HTTP/1.1\r\n Host: a\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},

		// Field syntax.
		{name: "NUL in value", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX: y\x00z\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "CR in value", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX: y\rz\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "DEL in value", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "empty name", raw: "GET /s HTTP/1.1\r\nHost: a\r\n: y\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "space inside name", raw: "GET /s HTTP/1.1\r\nHost: a\r\nTransfer Encoding: chunked\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonBadName},
		{name: "space before colon", raw: "GET /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "separator in name", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX(Y: y\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "101 headers", raw: manyHeaders(101), want: []int{431}, closed: true, who: "check", body: ReasonTooManyHeaders},
		{name: "head over ReadBufferSize", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 17<<10) + "\r\n\r\n", want: []int{431}, closed: true, who: "fasthttp"},
		{name: "HTTP/2.0 request line", raw: "GET /s HTTP/2.0\r\nHost: a\r\n\r\n", want: []int{505}, closed: true, who: "check", body: ReasonVersion},

		// Host and target.
		{name: "absolute form differs from Host", raw: "GET http://evil.internal/x HTTP/1.1\r\nHost: good\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonHostMismatch},
		{name: "absolute form with userinfo", raw: "GET http://good@evil/x HTTP/1.1\r\nHost: good\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonUserinfo},
		{name: "missing Host", raw: "GET /s HTTP/1.1\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "empty Host", raw: "GET /s HTTP/1.1\r\nHost:\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "duplicate Host", raw: "GET /s HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", want: []int{400}, closed: true, who: "fasthttp"},
		{name: "Host with userinfo", raw: "GET /s HTTP/1.1\r\nHost: good@evil\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonBadHost},

		// Method and path.
		{name: "lower-case method", raw: "get /s HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonBadMethod},
		{name: "fragment in target", raw: "GET /s#x HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonFragment},
		{name: "backslash in path", raw: "GET /s\\..\\hidden HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonBackslash},
		{name: "dot-dot before an encoded slash", raw: "GET /s/..%2Fhidden HTTP/1.1\r\nHost: a\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonDotSegment},

		// Underscore names.
		{name: "underscore header dropped", raw: "GET /ok HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\n\r\n", want: []int{200}, body: `x_user_id="" x-user-id=""`},
		{name: "underscore header next to the real one", raw: "GET /ok HTTP/1.1\r\nHost: a\r\nX-User-Id: 1\r\nx_user_id: 7\r\n\r\n", want: []int{200}, body: `x_user_id="" x-user-id="1"`},
		{name: "underscore header rejected", raw: "GET /s HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\n\r\n", want: []int{400}, closed: true, who: "check", body: ReasonUnderscore, policy: UnderscoreReject},
		{name: "underscore header allowed", raw: "GET /ok HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\n\r\n", want: []int{200}, body: `x_user_id="7"`, policy: UnderscoreAllow},
	}
}

// testServer is a fasthttp server configured as the gateway's (streamed
// bodies, header names normalised) whose handler calls CheckRequest first.
type testServer struct {
	addr   string
	mu     sync.Mutex
	served []string
}

func (s *testServer) record(uri string) {
	s.mu.Lock()
	s.served = append(s.served, uri)
	s.mu.Unlock()
}

func (s *testServer) hidden() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, u := range s.served {
		if strings.HasPrefix(u, "/hidden") {
			out = append(out, u)
		}
	}
	return out
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

func startServer(tb testing.TB, pol Policy, wired bool) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	ts := &testServer{addr: ln.Addr().String()}
	srv := &fasthttp.Server{
		StreamRequestBody:             true,
		DisablePreParseMultipartForm:  true,
		DisableHeaderNamesNormalizing: false,
		NoDefaultServerHeader:         true,
		ReadBufferSize:                16 << 10,
		Logger:                        discardLogger{},
		Handler: func(rc *fasthttp.RequestCtx) {
			v, drops := pol.CheckRequest(rc)
			if !v.OK() {
				rc.Error(v.Reason, v.Status)
				if v.Close {
					rc.SetConnectionClose()
				}
				return
			}
			drops.Apply(&rc.Request.Header)
			var n int64
			if bs := rc.RequestBodyStream(); bs != nil {
				n, _ = io.Copy(io.Discard, bs)
			}
			ts.record(string(rc.RequestURI()))
			h := &rc.Request.Header
			fmt.Fprintf(rc, "uri=%s body=%d x_user_id=%q x-user-id=%q", h.RequestURI(), n, h.Peek("X_User_Id"), h.Peek("X-User-Id"))
		},
	}
	var l net.Listener = ln
	if wired {
		l = NewListener(ln)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
		<-done
	})
	return ts
}

// exchange sends raw on a fresh connection, reads len(want) responses and
// then checks that the server closed the connection, or that it still
// serves a probe request.
func exchange(t *testing.T, addr, raw string, want []int, closed bool, head int) (lastBody string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	br := bufio.NewReader(conn)
	for i, status := range want {
		var req *http.Request
		if i+1 == head {
			req = &http.Request{Method: http.MethodHead}
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d body: %v", i+1, err)
		}
		if resp.StatusCode != status {
			t.Fatalf("response %d: status %d (%q), want %d", i+1, resp.StatusCode, b, status)
		}
		lastBody = string(b)
	}
	if closed {
		var one [1]byte
		n, err := br.Read(one[:])
		if n != 0 || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
			t.Fatalf("connection still open after the refusal: read %d bytes, err %v", n, err)
		}
		return lastBody
	}
	if _, err := io.WriteString(conn, "GET /probe HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		t.Fatalf("connection closed, want open: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("connection closed, want open: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "uri=/probe") {
		t.Fatalf("probe after the exchange: %d %q", resp.StatusCode, b)
	}
	return lastBody
}

func TestServerRawCases(t *testing.T) {
	servers := map[string]*testServer{}
	for _, u := range []string{"", UnderscoreReject, UnderscoreAllow} {
		servers[u] = startServer(t, Policy{UnderscoreHeaders: u}, true)
	}
	cases := wireCases()
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := servers[tc.policy]
			body := exchange(t, ts.addr, tc.raw, tc.want, tc.closed, tc.head)
			if tc.body != "" && !strings.Contains(body, tc.body) {
				t.Errorf("last body %q, want it to contain %q", body, tc.body)
			}
			if h := ts.hidden(); len(h) > 0 {
				t.Fatalf("smuggled request served: %q", h)
			}
		})
	}
}

// TestServerWhoRefuses pins the "who" column of the package doc: a case
// marked fasthttp must be refused without Check, and one marked check or wire
// must get through fasthttp alone. A fasthttp upgrade that changes either
// shows up here.
func TestServerWhoRefuses(t *testing.T) {
	bare := map[string]*testServer{}
	for _, u := range []string{"", UnderscoreReject, UnderscoreAllow} {
		bare[u] = startServer(t, Policy{AllowUnwired: true, UnderscoreHeaders: u}, false)
	}
	for _, tc := range wireCases() {
		if tc.who == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", bare[tc.policy].addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tc.raw); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err == nil && resp.StatusCode == http.StatusContinue {
				resp, err = http.ReadResponse(br, nil)
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Without the wire tracker, Check alone: "wire" cases pass it.
			byFasthttp := string(b) == "Error when parsing request" || string(b) == "Too big request header"
			switch tc.who {
			case "fasthttp":
				if !byFasthttp || resp.StatusCode != tc.want[0] {
					t.Errorf("want fasthttp to refuse with %d, got %d %q", tc.want[0], resp.StatusCode, b)
				}
			case "check":
				if byFasthttp || resp.StatusCode != tc.want[len(tc.want)-1] {
					t.Errorf("want fasthttp to accept and Check to refuse with %d, got %d %q", tc.want[len(tc.want)-1], resp.StatusCode, b)
				}
			case "wire":
				if byFasthttp || resp.StatusCode != 200 {
					t.Errorf("want fasthttp and Check to accept (only the wire sees it), got %d %q", resp.StatusCode, b)
				}
			}
		})
	}
}

// TestServerSmugglingFasthttpAlone documents what fasthttp does by itself
// with CL.TE: chunked wins, the connection is closed after the answer and
// the hidden request is not served; Check turns the answer into a 400.
func TestServerSmugglingFasthttpAlone(t *testing.T) {
	bare := startServer(t, Policy{AllowUnwired: true}, false)
	body := exchange(t, bare.addr, "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+hiddenReq, []int{400}, true, 0)
	if !strings.Contains(body, ReasonCLAndTE) {
		t.Errorf("body %q", body)
	}
	if h := bare.hidden(); len(h) > 0 {
		t.Fatalf("smuggled request served: %q", h)
	}
}

func TestServerUnwired(t *testing.T) {
	ts := startServer(t, Policy{}, false)
	body := exchange(t, ts.addr, "GET /s HTTP/1.1\r\nHost: a\r\n\r\n", []int{500}, true, 0)
	if !strings.Contains(body, ReasonUnwired) {
		t.Errorf("body %q", body)
	}
}

// TestServerSplitWrites sends a pipelined exchange one byte per write, so
// the tracker sees every split a slow client can make.
func TestServerSplitWrites(t *testing.T) {
	ts := startServer(t, Policy{}, true)
	raw := "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi" +
		"GET /c HTTP/1.1\nHost: a\r\n\r\n" + hiddenReq
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	go func() {
		for i := range len(raw) {
			if _, err := conn.Write([]byte{raw[i]}); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(conn)
	for i, want := range []int{200, 200, 400} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("response %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if h := ts.hidden(); len(h) > 0 {
		t.Fatalf("smuggled request served: %q", h)
	}
}
