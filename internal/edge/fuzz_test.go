package edge

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzCheck feeds arbitrary bytes through fasthttp's own parser and then
// Check plus the wire tracker, and holds the pair against oracle, a plain
// restatement of the rules written with strings functions. It also checks
// that Check never panics on raw blocks fasthttp would not produce, that
// verdicts are well formed, and that the tracker ends in the same state
// however the stream is split.
func FuzzCheck(f *testing.F) {
	for _, tc := range wireCases() {
		f.Add([]byte(tc.raw), uint16(0))
		f.Add([]byte(tc.raw), uint16(len(tc.raw)/2))
	}
	for _, s := range []string{
		cleanHead,
		"GET / HTTP/1.1\r\nHost: a\r\nX_User_Id: 7\r\nx-user-id: 1\r\n\r\n",
		"GET http://[::1]:80/ HTTP/1.1\r\nHost: [::1]\r\n\r\n",
		"CONNECT a:443 HTTP/1.1\r\nHost: A:443\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\nabcde",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"\r\n\r\nGET / HTTP/1.0\r\nHost:\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		p := DefaultPolicy()

		// Any raw block: no panic, sane verdict.
		v, d := p.checkHead([]byte("GET"), []byte("/"), []byte("HTTP/1.1"), data)
		checkVerdict(t, v)
		_ = d.AppendNames(nil)

		// The tracker is split-invariant.
		whole := feedAll(string(data))
		at := int(split) % (len(data) + 1)
		if got, want := snap(feedAll(string(data[:at]), string(data[at:]))), snap(whole); got != want {
			t.Fatalf("split at %d: %+v, whole %+v", at, got, want)
		}

		// What fasthttp accepts, Check plus the wire accept exactly when
		// the oracle does.
		var h fasthttp.RequestHeader
		br := bufio.NewReader(bytes.NewReader(data))
		if err := h.Read(br); err != nil {
			return
		}
		headLen := len(data) - br.Buffered()
		v, d = p.Check(&h)
		checkVerdict(t, v)
		if v.OK() {
			v = whole.verdict(1)
		}
		ok, drops := oracle(data[:headLen])
		if v.OK() != ok {
			t.Fatalf("head %q: Check+wire %+v, oracle ok=%v", data[:headLen], v, ok)
		}
		if ok && !slices.Equal(d.AppendNames(nil), drops) {
			t.Fatalf("head %q: drops %q, oracle %q", data[:headLen], d.AppendNames(nil), drops)
		}
		if ok {
			d.Apply(&h)
			for _, name := range drops {
				if len(h.Peek(name)) != 0 {
					t.Fatalf("head %q: %s not dropped", data[:headLen], name)
				}
			}
		}
	})
}

func checkVerdict(t *testing.T, v Verdict) {
	t.Helper()
	switch v.Status {
	case 0:
		if v.Close || v.Reason != "" {
			t.Fatalf("ok verdict with %+v", v)
		}
	case 400, 431, 500, 501, 505:
		if !v.Close || v.Reason == "" {
			t.Fatalf("refusal without close or reason: %+v", v)
		}
	default:
		t.Fatalf("unexpected status %+v", v)
	}
}

// oracle restates the rules for one whole head (request line to blank line)
// under the default policy, as simply as possible; it shares no code with
// Check or the tracker.
func oracle(head []byte) (ok bool, drops []string) {
	s := string(head)
	for strings.HasPrefix(s, "\r\n") {
		s = s[2:]
	}
	if !strings.HasSuffix(s, "\r\n\r\n") {
		return false, nil
	}
	lines := strings.Split(s[:len(s)-4], "\r\n")
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return false, nil
		}
	}
	rl := strings.SplitN(lines[0], " ", 3)
	if len(rl) != 3 {
		return false, nil
	}
	method, target, version := rl[0], rl[1], rl[2]
	if version != "HTTP/1.0" && version != "HTTP/1.1" {
		return false, nil
	}
	fields := lines[1:]
	if len(fields) > DefaultMaxHeaderCount {
		return false, nil
	}
	const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var cls, tes, hosts []string
	for _, f := range fields {
		if f == "" || f[0] == ' ' || f[0] == '\t' {
			return false, nil
		}
		name, value, found := strings.Cut(f, ":")
		if !found || name == "" {
			return false, nil
		}
		for _, c := range []byte(name) {
			if !strings.ContainsRune(tchar, rune(c)) {
				return false, nil
			}
		}
		value = strings.Trim(value, " \t")
		for _, c := range []byte(value) {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return false, nil
			}
		}
		switch strings.ToLower(name) {
		case "content-length":
			cls = append(cls, value)
		case "transfer-encoding":
			tes = append(tes, value)
		case "host":
			hosts = append(hosts, value)
		}
		if strings.Contains(name, "_") {
			drops = append(drops, name)
		}
	}
	switch {
	case len(cls) > 1, len(tes) > 1, len(cls) > 0 && len(tes) > 0:
		return false, nil
	case len(cls) == 1 && (cls[0] == "" || len(cls[0]) > 18 || strings.Trim(cls[0], "0123456789") != ""):
		return false, nil
	case len(tes) == 1 && (version != "HTTP/1.1" || !strings.EqualFold(tes[0], "chunked")):
		return false, nil
	case len(hosts) > 1, len(hosts) == 0 && version == "HTTP/1.1":
		return false, nil
	}
	host, hasHost := "", len(hosts) == 1
	if hasHost {
		host = hosts[0]
		if (version == "HTTP/1.1" && host == "") || !oracleAuthority(host) {
			return false, nil
		}
	}
	switch {
	case strings.HasPrefix(target, "/"), target == "*":
	case method == "CONNECT":
		if !oracleAuthority(target) || strings.Contains(target, "@") || (hasHost && !strings.EqualFold(target, host)) {
			return false, nil
		}
	default:
		scheme, rest, found := strings.Cut(target, "://")
		if !found {
			return false, nil
		}
		def := map[string]string{"http": "80", "https": "443"}[strings.ToLower(scheme)]
		if def == "" {
			return false, nil
		}
		auth := rest
		if i := strings.IndexAny(auth, "/?#"); i >= 0 {
			auth = auth[:i]
		}
		if auth == "" || strings.Contains(auth, "@") || !oracleAuthority(auth) {
			return false, nil
		}
		if hasHost && oracleNorm(auth, def) != oracleNorm(host, def) {
			return false, nil
		}
	}
	return true, drops
}

func oracleAuthority(a string) bool {
	const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=:[]"
	for _, c := range []byte(a) {
		if !strings.ContainsRune(allowed, rune(c)) {
			return false
		}
	}
	_, port := oracleSplit(a)
	return strings.Trim(port, "0123456789") == ""
}

func oracleSplit(a string) (host, port string) {
	i := strings.LastIndex(a, ":")
	if i < 0 || strings.LastIndex(a, "]") > i {
		return a, ""
	}
	return a[:i], a[i+1:]
}

func oracleNorm(a, def string) string {
	host, port := oracleSplit(a)
	if port == "" {
		port = def
	}
	return strings.ToLower(host) + " " + port
}
