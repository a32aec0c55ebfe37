package e2e

import (
	"strconv"
	"testing"

	"tollgate/internal/testnet"
)

// TestSocketCallsAreRaw: the gateway reads client and upstream sockets with raw recvfrom
// calls (internal/sockio), not read(2). The kernel counts read(2)-family calls per process
// in /proc/PID/io's syscr: on the standard library's path a proxied keep-alive request costs
// at least two (the client's request, the upstream's answer), on the raw path none.
func TestSocketCallsAreRaw(t *testing.T) {
	echo := startEcho(t, "plain")
	g := startGateway(t, sprintf("_format_version: \"3.0\"\nservices:\n"+
		"  - name: plain\n    url: %s\n    routes: [{name: plain, paths: [/]}]\n", echo.URL))
	k := dialKept(t, g)
	k.get("/warm") // the upstream connection is dialed and pooled
	const requests = 200
	before := testnet.ReadCalls(t, g.cmd.Process.Pid)
	for i := range requests {
		k.get("/r" + strconv.Itoa(i))
	}
	if reads := testnet.ReadCalls(t, g.cmd.Process.Pid) - before; reads > requests/10 {
		t.Fatalf("%d read(2) calls for %d proxied requests: the sockets are not on the raw path", reads, requests)
	}
}
