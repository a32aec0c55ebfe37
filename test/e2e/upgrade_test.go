package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestWebSocketEcho proxies a WebSocket both ways: text and binary frames, then a close
// handshake that reaches the other side.
func TestWebSocketEcho(t *testing.T) {
	closed := make(chan int, 1)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, err := up.Upgrade(w, r, http.Header{"X-Upstream": {"ws"}}); err == nil {
			wsEcho(conn, closed)
		}
	}))
	t.Cleanup(srv.Close)
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: ws\n    url: %s\n    routes: [{name: ws, paths: [/ws]}]\n", srv.URL))
	wsURL := "ws" + strings.TrimPrefix(g.Proxy, "http") + "/ws/chat"
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("dial through gateway: %v", err)
	}
	defer conn.Close()
	if resp.Header.Get("X-Upstream") != "ws" {
		t.Errorf("101 headers not relayed: %v", resp.Header)
	}
	for i, m := range []struct {
		typ  int
		data string
	}{{websocket.TextMessage, "hello"}, {websocket.BinaryMessage, "\x00\x01\x02"}, {websocket.TextMessage, strings.Repeat("x", 200000)}} {
		if err := conn.WriteMessage(m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, got, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != m.typ || string(got) != "echo:"+m.data {
			t.Fatalf("message %d: got type %d %.40q", i, typ, got)
		}
	}
	_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"))
	select {
	case code := <-closed:
		if code != 4001 {
			t.Errorf("upstream saw close code %d, want 4001", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not reach the upstream")
	}
}

// TestWebSocketIdleTimeout: an upgraded connection closes after the service's read_timeout
// without a byte either way (Kong's nginx: proxy_read_timeout, restarted by every event of the
// tunnel), and stays open while either side talks, here the client alone.
func TestWebSocketIdleTimeout(t *testing.T) {
	const readTimeout = 400 * time.Millisecond
	got := make(chan string, 64)
	upClosed := make(chan struct{}, 4)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { upClosed <- struct{}{} }()
		defer conn.Close()
		for { // takes the client's messages and never answers
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			got <- string(msg)
		}
	}))
	t.Cleanup(srv.Close)
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: ws\n    url: %s\n    read_timeout: %d\n    routes: [{name: ws, paths: [/ws]}]\n",
		srv.URL, readTimeout.Milliseconds()))
	wsURL := "ws" + strings.TrimPrefix(g.Proxy, "http") + "/ws"

	t.Run("silent", func(t *testing.T) {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		_ = conn.SetReadDeadline(start.Add(5 * time.Second))
		_, _, err = conn.ReadMessage()
		took := time.Since(start)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the silent tunnel was still open after 5 s")
		}
		if took < readTimeout*3/4 {
			t.Fatalf("closed after %v (%v), before read_timeout", took, err)
		}
		select {
		case <-upClosed:
		case <-time.After(3 * time.Second):
			t.Fatal("the upstream's connection stayed open")
		}
	})

	t.Run("the client talks, the upstream is silent", func(t *testing.T) {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		readEnd := make(chan time.Time, 1)
		go func() {
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := conn.ReadMessage()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				readEnd <- time.Time{}
				return
			}
			readEnd <- time.Now()
		}()
		// 10 messages 150 ms apart: 1.5 s, nearly four read_timeouts
		var last time.Time
		for i := range 10 {
			time.Sleep(150 * time.Millisecond)
			if err := conn.WriteMessage(websocket.TextMessage, []byte(sprintf("m%d", i))); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			last = time.Now()
			select {
			case m := <-got:
				if m != sprintf("m%d", i) {
					t.Fatalf("upstream got %q, want m%d", m, i)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("message %d did not reach the upstream", i)
			}
		}
		// then silence: closed about one read_timeout after the last message, not before
		end := <-readEnd
		switch {
		case end.IsZero():
			t.Fatal("the tunnel was still open 10 s after it began")
		case end.Sub(last) < readTimeout*3/4:
			t.Fatalf("the client's side ended %v after its last message, before read_timeout", end.Sub(last))
		}
	})
}

// wsEcho answers every message on conn with "echo:" and the message, until the connection
// ends; a close frame's code goes to closed when it is not nil. It closes conn.
func wsEcho(conn *websocket.Conn, closed chan<- int) {
	defer conn.Close()
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok && closed != nil {
				closed <- ce.Code
			}
			return
		}
		if err := conn.WriteMessage(mt, append([]byte("echo:"), msg...)); err != nil {
			return
		}
	}
}

// h2cClient speaks HTTP/2 with prior knowledge over cleartext.
func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Protocols: &p}}
}

// TestH2CPriorKnowledge: HTTP/2 cleartext with prior knowledge on the proxy listener, several
// streams on one connection, request bodies included.
func TestH2CPriorKnowledge(t *testing.T) {
	srv := startEcho(t, "h2")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: h2\n    url: %s\n    routes: [{name: h2, paths: [/h2]}]\n", srv.URL))
	c := h2cClient()
	for i := 0; i < 5; i++ {
		resp, body := do(t, c, mustReq(t, "POST", g.Proxy+"/h2/x?i=1", strings.NewReader("payload")))
		if resp.ProtoMajor != 2 {
			t.Fatalf("proto %s", resp.Proto)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		e := decodeEcho(t, body)
		if e.URI != "/x?i=1" || e.Body != "payload" || !strings.HasPrefix(e.header("Via"), "2 tollgate/") {
			t.Errorf("upstream saw %+v", e)
		}
	}
	resp, body := do(t, c, mustReq(t, "GET", g.Proxy+"/none", nil))
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte("no Route matched")) {
		t.Errorf("404 over h2: %d %s", resp.StatusCode, body)
	}
}

// TestH2CUpgrade: an HTTP/1.1 request with "Upgrade: h2c" is answered 101 and its response
// arrives on HTTP/2 stream 1 (RFC 7540 §3.2), spoken here with a raw framer.
func TestH2CUpgrade(t *testing.T) {
	srv := startEcho(t, "h2u")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: h2u\n    url: %s\n    routes: [{name: h2u, paths: [/u]}]\n", srv.URL))
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.Proxy, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// one setting: SETTINGS_MAX_CONCURRENT_STREAMS (0x3) = 100
	settings := base64.RawURLEncoding.EncodeToString([]byte{0, 3, 0, 0, 0, 100})
	_, err = io.WriteString(conn, "GET /u/up HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: "+settings+"\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 101") {
		t.Fatalf("status line %q, %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, br)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var gotStatus string
	var body bytes.Buffer
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			gotStatus = f.Value
		}
	})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("read frame: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			if f.StreamID != 1 {
				t.Fatalf("headers on stream %d", f.StreamID)
			}
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				t.Fatal(err)
			}
		case *http2.DataFrame:
			body.Write(f.Data())
			if f.StreamEnded() {
				if gotStatus != "200" {
					t.Fatalf(":status %q", gotStatus)
				}
				e := decodeEcho(t, body.Bytes())
				if e.URI != "/up" {
					t.Errorf("upstream URI %q", e.URI)
				}
				return
			}
		}
	}
}

// TestH2CConnectionOutlivesHeaderTimeout: the HTTP/1.1 engine's head-read deadline does not
// follow a connection handed to HTTP/2.
func TestH2CConnectionOutlivesHeaderTimeout(t *testing.T) {
	srv := startEcho(t, "h2")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: h2\n    url: %s\n    routes: [{name: h2, paths: [/h2]}]\n", srv.URL),
		"--client-header-timeout", "500ms")
	c := h2cClient()
	for i := 0; i < 2; i++ {
		var reused bool
		req := mustReq(t, "GET", g.Proxy+"/h2/x", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		}))
		resp, body := do(t, c, req)
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("request %d: %d %s %s", i, resp.StatusCode, resp.Proto, body)
		}
		if i == 1 && !reused {
			t.Error("the HTTP/2 connection was closed after the head-read timeout")
		}
		time.Sleep(900 * time.Millisecond)
	}
}
