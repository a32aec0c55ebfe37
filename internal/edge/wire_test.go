package edge

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

type wireSnapshot struct {
	done uint64
	bad  uint64
}

func feedAll(chunks ...string) *wire {
	w := &wire{}
	for _, c := range chunks {
		w.feed([]byte(c))
	}
	return w
}

func snap(w *wire) wireSnapshot { return wireSnapshot{w.done.Load(), w.bad.Load()} }

// TestWireVerdicts feeds streams to the tracker and asks about each request
// number; "" means fine.
func TestWireVerdicts(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []string // reason per request number 1..n
	}{
		{name: "one GET", stream: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"", ReasonWireDesync}},
		{name: "pipelined CL and chunked", stream: "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPOST / HTTP/1.1\r\ntransfer-encoding:  CHUNKED \r\n\r\na;ext=\"x\"\r\n0123456789\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n", want: []string{"", "", ""}},
		{name: "body that looks like a head", stream: "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\nGET /x HTTP/1.1\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", want: []string{"", ""}},
		{name: "leading empty lines", stream: "\r\n\r\nGET / HTTP/1.1\r\n\r\n", want: []string{""}},
		{name: "bare LF after request line", stream: "GET / HTTP/1.1\nHost: a\r\n\r\n", want: []string{ReasonWireBareLF, ReasonWireBareLF}},
		{name: "bare LF on the second request", stream: "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\nHost: a\r\n\r\n", want: []string{"", ReasonWireBareLF}},
		{name: "leading bare LF", stream: "\nGET / HTTP/1.1\r\n\r\n", want: []string{ReasonWireBareLF}},
		{name: "bare CR", stream: "GET / HTTP/1.1\rX\r\n\r\n", want: []string{ReasonWireBareCR}},
		{name: "obs-fold", stream: "GET / HTTP/1.1\r\nA: 1\r\n 2\r\n\r\n", want: []string{ReasonObsFold}},
		{name: "CL and TE", stream: "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", want: []string{ReasonWireFraming}},
		{name: "two CL", stream: "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", want: []string{ReasonWireFraming}},
		{name: "CL list", stream: "POST / HTTP/1.1\r\nContent-Length: 3,3\r\n\r\n", want: []string{ReasonWireFraming}},
		{name: "CL with inner space", stream: "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", want: []string{ReasonWireFraming}},
		{name: "TE identity", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", want: []string{ReasonWireFraming}},
		{name: "TE chunkedx", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", want: []string{ReasonWireFraming}},
		{name: "name that only starts like CL", stream: "POST / HTTP/1.1\r\nContent-Lengthy: x\r\nTransfer-Encodings: x\r\n\r\nGET / HTTP/1.1\r\n\r\n", want: []string{"", ""}},
		{name: "bare LF after last chunk", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET / HTTP/1.1\r\n\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "bare LF after chunk size", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "chunk data longer than its size", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "OWS then extension", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3 ;x\r\nabc\r\n0\r\n\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "no chunk size", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "16 hex digits", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000003\r\nabc\r\n0\r\n\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "folded trailer", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n 2\r\n\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "trailer with a space in its name", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n", want: []string{ReasonWireChunk, ReasonWireChunk}},
		{name: "trailer without a colon", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nNoColon\r\n\r\n", want: []string{ReasonWireChunk}},
		{name: "trailer with an empty name", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n: v\r\n\r\n", want: []string{ReasonWireChunk}},
		{name: "trailer with a control in its value", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: a\x01b\r\n\r\n", want: []string{ReasonWireChunk}},
		{name: "clean trailers", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\nU:\t2 3\r\n\r\nGET / HTTP/1.1\r\n\r\n", want: []string{"", ""}},
		{name: "chunk extension at the limit", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", maxChunkLine-3) + "\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", want: []string{"", ""}},
		{name: "chunk extension over the limit", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", maxChunkLine) + "\r\na\r\n0\r\n\r\n", want: []string{ReasonWireChunk}},
		{name: "bare LF in a chunk extension", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x\nabc\r\n0\r\n\r\n", want: []string{ReasonWireChunk}},
		{name: "negative chunk size", stream: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", want: []string{ReasonWireChunk}},
		{name: "fault in the second request's body", stream: "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\naPOST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", want: []string{"", ReasonWireChunk}},
		{name: "head too large", stream: "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxWireHead) + "\r\n\r\n", want: []string{ReasonWireHeadTooLarge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := feedAll(tt.stream)
			for i, want := range tt.want {
				v := w.verdict(uint64(i + 1))
				if v.Reason != want || (want == "") != v.OK() {
					t.Errorf("request %d: %+v, want %q", i+1, v, want)
				}
			}
			// Every split of the stream must end in the same state.
			whole := snap(w)
			for i := 1; i < len(tt.stream) && i < 512; i++ {
				if got := snap(feedAll(tt.stream[:i], tt.stream[i:])); got != whole {
					t.Fatalf("split at %d: %+v, whole: %+v", i, got, whole)
				}
			}
			bytewise := &wire{}
			for i := range len(tt.stream) {
				bytewise.feed([]byte{tt.stream[i]})
			}
			if got := snap(bytewise); got != whole {
				t.Fatalf("byte by byte: %+v, whole: %+v", got, whole)
			}
		})
	}
}

// TestRebase: after a rebase the engine's request numbers count from the
// connection's next request, and a fault recorded before keeps refusing.
func TestRebase(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	tests := []struct {
		name   string
		before string // read and served before the rebase
		after  string // read after it
		want   []string
	}{
		{name: "clean", before: get + get, after: get, want: []string{"", ReasonWireDesync}},
		{name: "fault after", before: get, after: "GET / HTTP/1.1\nHost: a\r\n\r\n", want: []string{ReasonWireBareLF}},
		{name: "fault before", before: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", after: get, want: []string{ReasonWireChunk}},
		{name: "nothing before", after: get + get, want: []string{"", "", ReasonWireDesync}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Conn{}
			c.w.feed([]byte(tt.before))
			c.Rebase()
			c.w.feed([]byte(tt.after))
			for i, want := range tt.want {
				v := c.Verdict(uint64(i + 1))
				if v.Reason != want || (want == "") != v.OK() {
					t.Errorf("request %d after the rebase: %+v, want %q", i+1, v, want)
				}
			}
		})
	}
}

func TestNewConnKeepsTLS(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, ok := NewConn(a).(tlsConner); ok {
		t.Error("a plain conn looks like TLS through the wrapper")
	}
	if _, ok := NewConn(tls.Server(a, &tls.Config{})).(tlsConner); !ok {
		t.Error("a TLS conn lost Handshake/ConnectionState through the wrapper")
	}
}

// TestServerTLS runs the wired server over TLS: fasthttp must still see
// TLS, and the tracker must still see the plaintext.
func TestServerTLS(t *testing.T) {
	cert := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pol := DefaultPolicy()
	srv := &fasthttp.Server{
		StreamRequestBody: true,
		Logger:            discardLogger{},
		Handler: func(rc *fasthttp.RequestCtx) {
			if v, _ := pol.CheckRequest(rc); !v.OK() {
				rc.Error(v.Reason, v.Status)
				rc.SetConnectionClose()
				return
			}
			fmt.Fprintf(rc, "tls=%v", rc.IsTLS())
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(NewListener(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})))
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	for _, tc := range []struct {
		raw    string
		status int
		body   string
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, "tls=true"},
		{"GET / HTTP/1.1\nHost: a\r\n\r\n", 400, ReasonWireBareLF},
	} {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test cert
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(conn, tc.raw); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
			t.Errorf("%q: %d %q, want %d %q", tc.raw, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "edge test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"a"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// BenchmarkConnRead measures the tracker on a pipelined stream of clean
// requests: a head scanned byte by byte, a Content-Length body skipped.
func BenchmarkConnRead(b *testing.B) {
	post := strings.TrimSuffix(strings.Replace(cleanHead, "GET", "POST", 1), "\r\n") + "Content-Length: 1024\r\n\r\n" + strings.Repeat("x", 1024)
	stream := []byte(strings.Repeat(cleanHead+post, 8))
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		var w wire
		w.feed(stream)
		if w.bad.Load() != 0 {
			b.Fatal(w.verdict(1))
		}
	}
}
