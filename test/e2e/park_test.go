package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// keptConn is one client keep-alive connection written and read by hand.
type keptConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialKept(t *testing.T, g *gateway) *keptConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(g.Proxy, "http://"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keptConn{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes raw bytes.
func (k *keptConn) send(raw string) {
	k.t.Helper()
	if _, err := io.WriteString(k.c, raw); err != nil {
		k.t.Fatalf("write: %v", err)
	}
}

// read reads one response and its echoed request.
func (k *keptConn) read() (int, echoed) {
	k.t.Helper()
	_ = k.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		k.t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		k.t.Fatalf("read body: %v", err)
	}
	var e echoed
	if resp.Header.Get("X-Upstream") != "" {
		if err := json.Unmarshal(body, &e); err != nil {
			k.t.Fatalf("echo body %q: %v", body, err)
		}
	}
	return resp.StatusCode, e
}

// get sends a GET for path and wants the upstream's 200 with that URI.
func (k *keptConn) get(path string) {
	k.t.Helper()
	k.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
	if st, e := k.read(); st != 200 || e.URI != path {
		k.t.Fatalf("GET %s: %d, upstream saw %q", path, st, e.URI)
	}
}

// slowGet sends a GET whose head stops half-way for over three park delays (the gateways
// here park after 150 ms) and wants it answered.
func (k *keptConn) slowGet(path string) {
	k.t.Helper()
	k.send("GET " + path + " HT")
	time.Sleep(500 * time.Millisecond)
	k.send("TP/1.1\r\nHost: x\r\n\r\n")
	if st, e := k.read(); st != 200 || e.URI != path {
		k.t.Fatalf("GET %s with a pause mid-head: %d, upstream saw %q", path, st, e.URI)
	}
}

// parked reads connections_parked from the admin /status.
func parked(t *testing.T, g *gateway) int {
	t.Helper()
	n, err := parkedCount(g)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// parkedCount is parked for goroutines other than the test's.
func parkedCount(g *gateway) (int, error) {
	resp, err := client().Get(g.Admin + "/status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var st struct {
		Server struct {
			Parked *int `json:"connections_parked"`
		} `json:"server"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Server.Parked == nil {
		return 0, fmt.Errorf("/status without server.connections_parked: %s", body)
	}
	return *st.Server.Parked, nil
}

// waitParked waits until exactly n connections are parked.
func waitParked(t *testing.T, g *gateway, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	got := parked(t, g)
	for got != n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = parked(t, g)
	}
	if got != n {
		t.Fatalf("%d connections parked, want %d", got, n)
	}
}

// TestIdleParking: a keep-alive connection idle past --park-idle-after leaves the HTTP/1.1
// engine and comes back to it with its next request, keeping every promise a connection that
// stayed makes: the answer, the edge checks, the keep-alive timeout, pipelining, upgrades.
func TestIdleParking(t *testing.T) {
	up := startEcho(t, "up")
	cfg := sprintf("_format_version: \"3.0\"\nservices:\n- name: s\n  url: %s\n  routes: [{name: r, paths: [/]}]\n", up.URL)
	g := startGateway(t, cfg, "--park-idle-after", "150ms", "--keepalive-timeout", "3s")

	t.Run("parks and serves again, many times", func(t *testing.T) {
		k := dialKept(t, g)
		k.get("/first")
		for i := range 3 {
			waitParked(t, g, 1)
			k.get("/again/" + string(rune('a'+i)))
			waitParked(t, g, 0) // served by the engine again until it idles once more
			k.send("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
			if st, e := k.read(); st != 200 || e.Body != "hello" {
				t.Fatalf("POST after a resume: %d %q", st, e.Body)
			}
		}
	})

	t.Run("edge checks count requests across a park", func(t *testing.T) {
		k := dialKept(t, g)
		k.get("/one")
		k.get("/two")
		waitParked(t, g, 1)
		// a bare LF in the first request after the park: the tracker must pin it on this
		// request, not on the third of the connection that the engine no longer counts
		k.send("GET /bad HTTP/1.1\nHost: x\r\n\r\n")
		if st, _ := k.read(); st != 400 {
			t.Fatalf("bare LF after a park answered %d, want 400", st)
		}
	})

	t.Run("pipelined requests after a park", func(t *testing.T) {
		k := dialKept(t, g)
		k.get("/p0")
		waitParked(t, g, 1)
		k.send("GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n")
		for _, want := range []string{"/p1", "/p2"} {
			if st, e := k.read(); st != 200 || e.URI != want {
				t.Fatalf("pipelined %s: %d %q", want, st, e.URI)
			}
		}
	})

	t.Run("a slow body or head is never parked", func(t *testing.T) {
		k := dialKept(t, g)
		k.get("/warm")
		k.send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
		time.Sleep(500 * time.Millisecond) // over three park delays, mid-body
		k.send("56789")
		if st, e := k.read(); st != 200 || e.Body != "0123456789" {
			t.Fatalf("slow body: %d %q", st, e.Body)
		}
		k.slowGet("/slow-head")
	})

	t.Run("a new connection parks before its first request", func(t *testing.T) {
		k := dialKept(t, g)
		waitParked(t, g, 1)
		k.get("/late-first")
		k.get("/second")
	})

	t.Run("a new connection's slow first head keeps the header timeout", func(t *testing.T) {
		dialKept(t, g).slowGet("/slow-first")
	})

	t.Run("HTTP/2 prior knowledge after a parked wait", func(t *testing.T) {
		k := dialKept(t, g)
		waitParked(t, g, 1)
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr := &http.Transport{Protocols: &p, DialContext: func(context.Context, string, string) (net.Conn, error) {
			return k.c, nil // the connection that parked
		}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: tr}).Do(mustReq(t, "GET", g.Proxy+"/over-h2", nil))
		if err != nil {
			t.Fatalf("HTTP/2 on a connection that parked first: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e echoed
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 || json.Unmarshal(body, &e) != nil || e.URI != "/over-h2" {
			t.Fatalf("%d HTTP/%d %s", resp.StatusCode, resp.ProtoMajor, body)
		}
		waitParked(t, g, 0)
	})

	t.Run("the keep-alive timeout runs across the park", func(t *testing.T) {
		k := dialKept(t, g)
		start := time.Now()
		k.get("/t")
		waitParked(t, g, 1)
		_ = k.c.SetReadDeadline(time.Now().Add(6 * time.Second))
		_, err := k.br.ReadByte()
		took := time.Since(start)
		if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("idle connection: %v after %v, want the gateway to close it", err, took)
		}
		if took < 2500*time.Millisecond || took > 5*time.Second {
			t.Fatalf("closed after %v, want the 3 s keep-alive timeout", took)
		}
		waitParked(t, g, 0)
	})

	t.Run("a client closing a parked connection closes it", func(t *testing.T) {
		k := dialKept(t, g)
		k.get("/c")
		waitParked(t, g, 1)
		k.c.Close()
		waitParked(t, g, 0)
	})

	t.Run("an upgrade after a park, idle past the delay", func(t *testing.T) {
		ws := websocket.Upgrader{}
		wsUp := startWS(t, &ws)
		g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n- name: ws\n  url: %s\n  routes: [{name: ws, paths: [/]}]\n", wsUp),
			"--park-idle-after", "150ms")
		k := dialKept(t, g)
		k.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
		if st, _ := k.read(); st != 200 {
			t.Fatalf("plain request: %d", st)
		}
		waitParked(t, g, 1)
		d := websocket.Dialer{NetDial: func(string, string) (net.Conn, error) { return k.c, nil }}
		conn, _, err := d.Dial("ws"+strings.TrimPrefix(g.Proxy, "http")+"/ws", nil)
		if err != nil {
			t.Fatalf("upgrade on the resumed connection: %v", err)
		}
		for i := range 2 {
			time.Sleep(400 * time.Millisecond) // idle, hijacked: must stay with its handler
			if err := conn.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "echo:hi" {
				t.Fatalf("message %d after idling: %q %v", i, msg, err)
			}
		}
		if n := parked(t, g); n != 0 {
			t.Fatalf("%d connections parked during a WebSocket session", n)
		}
	})

	t.Run("off", func(t *testing.T) {
		g := startGateway(t, cfg, "--park-idle-after", "0")
		k := dialKept(t, g)
		k.get("/x")
		time.Sleep(400 * time.Millisecond)
		if n := parked(t, g); n != 0 {
			t.Fatalf("%d parked with parking off", n)
		}
		k.get("/y")
	})
}

// TestShutdownClosesParked: parked connections are idle keep-alives, closed at shutdown
// without waiting for the drain period.
func TestShutdownClosesParked(t *testing.T) {
	up := startEcho(t, "up")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n- name: s\n  url: %s\n  routes: [{name: r, paths: [/]}]\n", up.URL),
		"--park-idle-after", "100ms", "--drain-timeout", "20s")
	k := dialKept(t, g)
	k.get("/a")
	waitParked(t, g, 1)
	start := time.Now()
	g.signal(syscall.SIGTERM)
	if code, ok := g.waitExit(10 * time.Second); !ok || code != 0 {
		t.Fatalf("gateway did not exit cleanly: code %d, exited %v\n%s", code, ok, g.Logs())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %v with a parked connection", took)
	}
	_ = k.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := k.br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("parked connection still open after shutdown: %v", err)
	}
}

// startWS starts a WebSocket echo upstream and returns its URL.
func startWS(t *testing.T, up *websocket.Upgrader) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			w.Header().Set("X-Upstream", "ws")
			_ = json.NewEncoder(w).Encode(echoed{URI: r.RequestURI})
			return
		}
		if conn, err := up.Upgrade(w, r, nil); err == nil {
			wsEcho(conn, nil)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestParkingChurn: many connections park and come back at once, over and over, while others
// stay busy; every answer is the right one, and once the clients close nothing stays parked.
func TestParkingChurn(t *testing.T) {
	up := startEcho(t, "up")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n- name: s\n  url: %s\n  routes: [{name: r, paths: [/]}]\n", up.URL),
		"--park-idle-after", "50ms")
	const conns, rounds = 64, 6
	errs := make(chan error, conns)
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	seen := make(chan int, 1)
	go func() { // the most connections seen parked at once, so the test knows parks happened
		most := 0
		for {
			select {
			case <-stop:
				seen <- most
				return
			case <-time.After(20 * time.Millisecond):
				if n, err := parkedCount(g); err == nil {
					most = max(most, n)
				}
			}
		}
	}()
	for i := range conns {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", strings.TrimPrefix(g.Proxy, "http://"), 2*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for r := range rounds {
				if time.Now().After(deadline) {
					errs <- fmt.Errorf("connection %d: out of time in round %d", i, r)
					return
				}
				path := fmt.Sprintf("/c%d/r%d", i, r)
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					errs <- fmt.Errorf("connection %d round %d: write: %w", i, r, err)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errs <- fmt.Errorf("connection %d round %d: %w", i, r, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var e echoed
				if resp.StatusCode != 200 || json.Unmarshal(body, &e) != nil || e.URI != path {
					errs <- fmt.Errorf("connection %d round %d: %d %s", i, r, resp.StatusCode, body)
					return
				}
				// odd connections stay busy, even ones wait past the park delay (some just
				// past it, so that resumes race with the parking itself)
				if i%2 == 0 {
					time.Sleep(time.Duration(40+(i*7+r*13)%80) * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if most := <-seen; most == 0 {
		t.Error("no connection was seen parked: the test did not exercise parking")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitParked(t, g, 0)
}
