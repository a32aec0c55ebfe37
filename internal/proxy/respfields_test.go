package proxy

import (
	"bufio"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestGatewayHeadersReplaceUpstreams: the fields the gateway puts on a response (Via, Server,
// the two latency fields, the request id) come out once each, whatever the upstream sent of
// them, and the hop-by-hop fields and those Connection lists not at all. forward finds the
// upstream's names in one walk and appends the names it did not send without a search; these
// cases cover each name sent and not sent, in other cases, twice, empty, and removed by
// Connection before the gateway's is added.
func TestGatewayHeadersReplaceUpstreams(t *testing.T) {
	const via, server = "1.1 tollgate/test", "tollgate/test"
	ms := regexp.MustCompile(`^[0-9]+$`)
	rid := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name, path, ridHeader string
		respond               string // the upstream's extra fields, as X-Respond-With lists them
		want                  map[string]string
		gone                  []string
	}{
		{name: "none sent", path: "/plain/a",
			want: map[string]string{"Via": via, "Server": server}},
		{name: "each sent once", path: "/plain/a",
			respond: "Via=1.0 cdn|Server=origin|X-Tollgate-Upstream-Latency=999999|X-Tollgate-Proxy-Latency=999999|X-Tollgate-Request-Id=evil",
			want:    map[string]string{"Via": "1.0 cdn, " + via, "Server": "origin"}},
		{name: "each sent twice, in lower case", path: "/plain/a",
			respond: "via=a|via=b|x-tollgate-upstream-latency=9|x-tollgate-upstream-latency=9|x-tollgate-proxy-latency=9|x-tollgate-proxy-latency=9|x-tollgate-request-id=evil|x-tollgate-request-id=evil",
			want:    map[string]string{"Via": "a, b, " + via, "Server": server}},
		{name: "an empty Server is the gateway's", path: "/plain/a", respond: "Server=",
			want: map[string]string{"Server": server}},
		{name: "hop-by-hop and Connection-listed removed", path: "/plain/a",
			respond: "Connection=X-Secret, Server|X-Secret=s|Server=origin|Keep-Alive=timeout=5|Proxy-Connection=keep-alive|X-Kept=1",
			want:    map[string]string{"Server": server, "X-Kept": "1", "Via": via},
			gone:    []string{"X-Secret", "Keep-Alive", "Proxy-Connection"}},
		{name: "a header filter adds a request id field", path: "/rid/a",
			want: map[string]string{"X-Probe-Header": "rid", "Via": via}},
		{name: "request id named as a latency field", path: "/plain/a", ridHeader: "X-Tollgate-Proxy-Latency",
			want: map[string]string{"Via": via}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigWith(t, rigConfig+`      - name: rid
        paths: [/rid]
        plugins: [{name: probe, config: {mode: rid}}]
`, func(o *Options) { o.RequestIDHeader = tc.ridHeader })
			fields := rawGet(t, r, tc.path, tc.respond)
			for name, want := range tc.want {
				if got := fields[name]; len(got) != 1 || got[0] != want {
					t.Errorf("%s: %q, want one field %q", name, got, want)
				}
			}
			for _, name := range tc.gone {
				if got := fields[name]; len(got) != 0 {
					t.Errorf("%s reached the client: %q", name, got)
				}
			}
			ridName := "X-Tollgate-Request-Id"
			if tc.ridHeader != "" {
				ridName = tc.ridHeader
			}
			checks := map[string]*regexp.Regexp{ridName: rid}
			for _, n := range []string{"X-Tollgate-Upstream-Latency", "X-Tollgate-Proxy-Latency"} {
				if n != ridName {
					checks[n] = ms
				}
			}
			for name, re := range checks {
				if got := fields[name]; len(got) != 1 || !re.MatchString(got[0]) {
					t.Errorf("%s: %q, want one field of the gateway's", name, got)
				}
			}
		})
	}
}

// rawGet sends GET path to the rig with the upstream told to answer with respond's fields,
// and returns the response's fields by canonical name, every field of a name in order
// (fasthttp's client keeps one Server field only).
func rawGet(t *testing.T, r *rig, path, respond string) map[string][]string {
	t.Helper()
	c, err := r.client.Dial("gw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: gw\r\n"
	if respond != "" {
		req += "X-Respond-With: " + respond + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	tp := textproto.NewReader(bufio.NewReader(c))
	status, err := tp.ReadLine()
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		t.Fatalf("status line %q, %v", status, err)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRequestIDHeaderSharedName: a request id header configured under a name the gateway
// sets itself (here Via) still makes one field each way, the request id's, which is set last.
func TestRequestIDHeaderSharedName(t *testing.T) {
	r := newRigWith(t, rigConfig, func(o *Options) { o.RequestIDHeader = "via" })
	fields := rawGet(t, r, "/plain/a", "Via=1.0 cdn")
	id := regexp.MustCompile(`^[0-9a-f]{32}$`)
	if got := fields["Via"]; len(got) != 1 || !id.MatchString(got[0]) {
		t.Errorf("response Via fields %q, want the request id alone", got)
	}
	var up []string
	lines, _ := r.head.Load().([]string)
	for _, l := range lines {
		if k, v, _ := strings.Cut(l, ": "); strings.EqualFold(k, "Via") {
			up = append(up, v)
		}
	}
	if len(up) != 1 || !id.MatchString(up[0]) {
		t.Errorf("upstream Via fields %q, want the request id alone", up)
	}
}
