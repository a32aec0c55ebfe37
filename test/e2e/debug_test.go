package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDebugListener: --debug-listen serves Go's profiles on its own address, and only there.
func TestDebugListener(t *testing.T) {
	g := startGateway(t, "", "--debug-listen", "127.0.0.1:0")
	if !g.waitLog("profiling endpoints on") {
		t.Fatal("no log line for the debug listener")
	}
	var addr string
	for _, line := range strings.Split(g.Logs(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "profiling endpoints on" {
			addr, _ = rec["debug"].(string)
		}
	}
	resp, body := do(t, client(), mustReq(t, "GET", "http://"+addr+"/debug/pprof/", nil))
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("pprof index: %d %.200s", resp.StatusCode, body)
	}
	for _, base := range []string{g.Proxy, g.Admin} {
		if resp, _ := do(t, client(), mustReq(t, "GET", base+"/debug/pprof/", nil)); resp.StatusCode == 200 {
			t.Errorf("%s serves the profiles", base)
		}
	}
}
