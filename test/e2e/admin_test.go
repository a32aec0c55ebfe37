package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAdminAndStatus: the admin API's index and entity reads, and the status listener.
func TestAdminAndStatus(t *testing.T) {
	up := startEcho(t, "a")
	cfg := sprintf(`_format_version: "3.0"
services:
  - name: my-service
    url: %s
    routes:
      - name: my-route
        paths: [/r]
        protocols: [https]
        https_redirect_status_code: 308
consumers:
  - username: my-user
`, up.URL)
	g := startGateway(t, cfg, "--status-listen", "127.0.0.1:0")
	c := client()

	resp, body := do(t, c, mustReq(t, "GET", g.Admin+"/", nil))
	var index map[string]any
	if err := json.Unmarshal(body, &index); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /: %d %s", resp.StatusCode, body)
	}
	if index["node_id"] == "" || index["version"] == "" || len(index["configuration_hash"].(string)) != 32 {
		t.Errorf("GET / lacks node_id/version/configuration_hash: %s", body)
	}
	// Kong's derived ids (KONG_COMPAT §1.4 check values)
	for path, id := range map[string]string{
		"/services/my-service": "0855b320-0dd2-547d-891d-601e9b38647f",
		"/routes/my-route":     "481a9539-f49c-51b6-b2e2-fe99ee68866c",
		"/consumers/my-user":   "4b1b701d-de2b-5588-9aa2-3b97061d9f52",
	} {
		resp, body := do(t, c, mustReq(t, "GET", g.Admin+path, nil))
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"`+id+`"`) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	resp, body = do(t, c, mustReq(t, "POST", g.Admin+"/services", strings.NewReader(`{"name":"x","url":"http://a"}`)))
	if resp.StatusCode != 405 || !strings.Contains(string(body), `"code":12`) {
		t.Errorf("DB-less write: %d %s", resp.StatusCode, body)
	}

	// the status listener
	var statusAddr string
	for _, l := range strings.Split(g.Logs(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "tollgate started" {
			statusAddr = rec["status"].(string)
		}
	}
	resp, body = do(t, c, mustReq(t, "GET", "http://"+statusAddr+"/status", nil))
	if resp.StatusCode != 200 || !strings.Contains(string(body), index["configuration_hash"].(string)) {
		t.Errorf("status listener: %d %s", resp.StatusCode, body)
	}

	// an https-only route answers plain http with its redirect (Kong §3.7)
	nr := &noRedirect{}
	resp, _ = do(t, nr.client(), mustReq(t, "GET", g.Proxy+"/r/x?y=1", nil))
	if resp.StatusCode != 308 || !strings.HasPrefix(resp.Header.Get("Location"), "https://127.0.0.1/r/x?y=1") {
		t.Errorf("https-only route: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
