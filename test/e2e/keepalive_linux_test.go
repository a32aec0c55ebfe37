package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestKeepAliveProbes: the proxy listener's connections carry no TCP keep-alive probes while
// they serve HTTP/1.1, where every wait has a deadline, and get them once an upgrade takes
// one over (a WebSocket tunnel may stay silent for hours) or HTTP/2 does. The gateway's
// sockets are read from /proc/net/tcp, whose "tr" column is 2 exactly when a socket's
// keep-alive timer is pending.
func TestKeepAliveProbes(t *testing.T) {
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{}
		if conn, err := up.Upgrade(w, r, nil); err == nil {
			wsEcho(conn, nil)
		}
	}))
	t.Cleanup(ws.Close)
	echo := startEcho(t, "plain")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n"+
		"  - name: ws\n    url: %s\n    routes: [{name: ws, paths: [/ws]}]\n"+
		"  - name: plain\n    url: %s\n    routes: [{name: plain, paths: [/plain]}]\n", ws.URL, echo.URL))
	proxyAddr := strings.TrimPrefix(g.Proxy, "http://")
	_, p, _ := net.SplitHostPort(proxyAddr)
	proxyPort, _ := strconv.Atoi(p)

	t.Run("HTTP/1.1 keep-alive: none", func(t *testing.T) {
		k := dialKept(t, g)
		k.send("GET /plain/x HTTP/1.1\r\nHost: gw\r\n\r\n")
		if st, _ := k.read(); st != 200 {
			t.Fatalf("request: status %d", st)
		}
		// probes, if any, were set at accept: the timer stays pending from then on
		for range 5 {
			if tr := gatewayTimer(t, proxyPort, k.c.LocalAddr()); tr == 2 {
				t.Fatal("keep-alive timer pending on an HTTP/1.1 connection")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("WebSocket: probes", func(t *testing.T) {
		conn, _, err := websocket.DefaultDialer.Dial("ws://"+proxyAddr+"/ws/chat", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		waitTimer(t, proxyPort, conn.LocalAddr())
	})
	t.Run("HTTP/2 prior knowledge: probes", func(t *testing.T) {
		k := dialKept(t, g)
		// the preface and an empty SETTINGS frame
		k.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
		waitTimer(t, proxyPort, k.c.LocalAddr())
	})
}

// waitTimer waits up to five seconds for the keep-alive timer of the gateway's side of the
// client connection at client.
func waitTimer(t *testing.T, proxyPort int, client net.Addr) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if gatewayTimer(t, proxyPort, client) == 2 {
			return
		}
	}
	t.Fatal("no keep-alive timer on the gateway's side of the connection")
}

// gatewayTimer returns the "tr" column of the socket local on proxyPort whose peer is
// client, from /proc/net/tcp: 0 no timer, 1 retransmission, 2 keep-alive, 4 zero-window
// probe.
func gatewayTimer(t *testing.T, proxyPort int, client net.Addr) int {
	t.Helper()
	cport := client.(*net.TCPAddr).Port
	raw, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatalf("no /proc/net/tcp to read socket timers from: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		if hexPort(f[1]) != proxyPort || hexPort(f[2]) != cport {
			continue
		}
		tr, err := strconv.ParseInt(strings.SplitN(f[5], ":", 2)[0], 16, 32)
		if err != nil {
			t.Fatalf("timer column %q: %v", f[5], err)
		}
		return int(tr)
	}
	t.Fatalf("no socket from port %d to %d in /proc/net/tcp", proxyPort, cport)
	return 0
}

// hexPort reads the port of a /proc/net/tcp address ("0100007F:1F90").
func hexPort(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	n, _ := strconv.ParseInt(addr[i+1:], 16, 32)
	return int(n)
}
