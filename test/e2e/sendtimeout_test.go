package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClientSendTimeout: a client that stops reading a response is let go after
// --client-send-timeout (nginx's send_timeout), so it holds neither its connection nor the
// upstream's behind it. The body is far larger than the sockets' buffers, so the gateway's
// writes stall as soon as the client stops reading. The timeout is the codec's; the test
// names the engine so that it runs on the codec in both e2e passes.
func TestClientSendTimeout(t *testing.T) {
	const size = 64 << 20
	chunk := []byte(strings.Repeat("x", 64<<10))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", sprintf("%d", size))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(up.Close)
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n  - name: big\n    url: %s\n    routes: [{name: big, paths: [/big]}]\n", up.URL),
		"--client-send-timeout", "1s", "--http1-engine", "codec")
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		// a small receive window, so the body waits in the gateway rather than in this socket
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(g.Proxy, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET /big HTTP/1.1\r\nHost: gw\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // reads nothing: three times the timeout
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if n >= size {
		t.Fatalf("the whole body (%d bytes) still came after the client stalled past the send timeout", n)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("after %d bytes the connection stayed open: %v", n, err)
	}
}
