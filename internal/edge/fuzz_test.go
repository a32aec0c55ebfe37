package edge

import (
	"bufio"
	"bytes"
	"slices"
	"strconv"
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
		"get / HTTP/1.1\r\nHost: a\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a\\..\\b?c=\\ HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/..%2fb HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a%5C%2e%2E/b HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/..;x/b HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/%2e%2e/b%2Fc;d?e=..%2f HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://a/b/.%2fc HTTP/1.1\r\nHost: a\r\n\r\n",
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
		r := bytes.NewReader(data)
		br := bufio.NewReader(r)
		if err := h.Read(br); err != nil {
			return
		}
		headLen := len(data) - br.Buffered() - r.Len()
		v, d = p.Check(&h)
		checkVerdict(t, v)
		if v.OK() {
			// the head's own verdict: a fault in its body is FuzzChunked's
			v = feedAll(string(data[:headLen])).verdict(1)
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
	if method == "" || strings.Trim(method, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
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
	case strings.HasPrefix(target, "/"):
		if !oraclePath(target) {
			return false, nil
		}
	case target == "*":
		if method != "OPTIONS" {
			return false, nil
		}
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
			if !oraclePath(auth[i:]) {
				return false, nil
			}
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

// oraclePath restates checkPath: no controls, SP or DEL, no '#', no
// backslash before the query, and no dot segment bounded by an encoded
// slash or backslash or carrying ";" parameters.
func oraclePath(t string) bool {
	for _, c := range []byte(t) {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	path, _, _ := strings.Cut(t, "?")
	if strings.Contains(t, "#") || strings.Contains(path, "\\") {
		return false
	}
	marked := strings.NewReplacer("%2f", "\x00", "%2F", "\x00", "%5c", "\x00", "%5C", "\x00").Replace(path)
	type seg struct {
		text                string
		encBefore, encAfter bool
	}
	var segs []seg
	start, enc := 0, false
	for i := 0; i <= len(marked); i++ {
		if i < len(marked) && marked[i] != '/' && marked[i] != 0 {
			continue
		}
		after := i < len(marked) && marked[i] == 0
		segs = append(segs, seg{marked[start:i], enc, after})
		start, enc = i+1, after
	}
	for _, sg := range segs {
		name, _, params := strings.Cut(sg.text, ";")
		name = strings.NewReplacer("%2e", ".", "%2E", ".").Replace(name)
		if (name == "." || name == "..") && (params || sg.encBefore || sg.encAfter) {
			return false
		}
	}
	return true
}

func oracleAuthority(a string) bool {
	const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=:[]"
	for _, c := range []byte(a) {
		if !strings.ContainsRune(allowed, rune(c)) {
			return false
		}
	}
	host, port := oracleSplit(a)
	if strings.HasPrefix(host, "[") {
		// an IP literal: brackets around the whole host, none inside
		if len(host) < 3 || !strings.HasSuffix(host, "]") || strings.ContainsAny(host[1:len(host)-1], "[]") {
			return false
		}
	} else if strings.ContainsAny(host, ":[]") {
		return false
	}
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

// chunkedHead starts every FuzzChunked stream; the fuzzed bytes follow it.
const chunkedHead = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

// chunkedSeeds are chunked bodies (with what follows them on the
// connection): every chunked case of test/e2e TestAttackH1 and of
// TestWireVerdicts, plus clean ones.
func chunkedSeeds() []string {
	next := "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
	return []string{
		"0\r\n\r\n" + next,
		"3\r\nabc\r\n0\r\n\r\n" + next,
		"3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n" + next,
		"A\r\n0123456789\r\n000\r\nT: a\tb\r\nU:\r\n\r\n",
		"3 \t\r\nabc\r\n0\r\n\r\n",
		"zz\r\nabc\r\n0\r\n\r\n" + next,                           // non-hex size
		"-3\r\nabc\r\n0\r\n\r\n" + next,                           // negative size
		"10000000000000003\r\nabc\r\n0\r\n\r\n" + next,            // overflow, 17 digits
		"ffffffffffffffff\r\nabc\r\n0\r\n\r\n" + next,             // 16 digits
		"fffffffffffffff\r\nabc",                                  // 15 digits, body pending
		"3\r\nabc0\r\n\r\n" + next,                                // no CRLF after the data
		"3\r\nabcd\r\n0\r\n\r\n",                                  // data longer than its size
		"3;x=\nabc\r\n0\r\n\r\n" + next,                           // bare LF ending an extension
		"3;" + strings.Repeat("x", 5000) + "\r\nabc\r\n0\r\n\r\n", // huge extension
		"1;" + strings.Repeat("e", maxChunkLine-3) + "\r\na\r\n0\r\n\r\n",
		"3;a\x01b\r\nabc\r\n0\r\n\r\n", // control in an extension
		"3 ;x\r\nabc\r\n0\r\n\r\n",     // OWS before the extension
		"3\nabc\n0\n\n" + next,         // LF-only line endings
		"3\r\nabc\r\n0\r\n\n" + next,   // bare LF after the last chunk
		"3\r\nabc\r\n0\r\nBad Trailer: x\r\n\r\n" + next,
		"3\r\nabc\r\n0\r\nNoColon\r\n\r\n" + next,
		"0\r\n: v\r\n\r\n",
		"0\r\nT: 1\r\n 2\r\n\r\n",
		"0\r\nT: a\x00\r\n\r\n",
		"0\r\nT : 1\r\n\r\n",
		";x\r\n",
		"3\r",
	}
}

// FuzzChunked feeds a chunked body, and whatever follows it, to the wire
// tracker and holds the verdict against oracleChunked, a plain restatement
// of the rules; where the body is accepted, fasthttp must end it at the same
// byte and decode the same data, or the two would frame the next request
// differently. The tracker must also end in the same state however the
// stream is split.
func FuzzChunked(f *testing.F) {
	for i, s := range chunkedSeeds() {
		f.Add([]byte(s), uint16(i*7))
	}
	f.Fuzz(func(t *testing.T, rest []byte, split uint16) {
		stream := chunkedHead + string(rest)
		whole := feedAll(stream)
		at := int(split) % (len(stream) + 1)
		if got, want := snap(feedAll(stream[:at], stream[at:])), snap(whole); got != want {
			t.Fatalf("split at %d: %+v, whole %+v", at, got, want)
		}

		state, n, data := oracleChunked(string(rest))
		bad, faultReq := whole.bad.Load(), whole.bad.Load()>>8
		switch state {
		case "bad":
			if bad == 0 || faultReq != 1 {
				t.Fatalf("body %q: oracle refuses, tracker bad=%#x", rest, bad)
			}
			return
		case "more":
			if bad != 0 || whole.done.Load() != 1 {
				t.Fatalf("body %q: oracle wants more, tracker bad=%#x done=%d", rest, bad, whole.done.Load())
			}
		case "ok":
			if bad != 0 && faultReq < 2 {
				t.Fatalf("body %q: oracle accepts %d bytes, tracker faults request %d", rest, n, faultReq)
			}
			w := feedAll(chunkedHead + string(rest[:n]))
			if w.bad.Load() != 0 || w.done.Load() != 1 || w.track != (track{}) {
				t.Fatalf("body %q: after the %d bytes the oracle accepts, tracker is not at a new head: %+v", rest, n, w.track)
			}
		}

		var req fasthttp.Request
		br := bufio.NewReader(strings.NewReader(stream))
		if err := req.ReadLimitBody(br, 1<<20); err != nil {
			return // fasthttp refuses: the connection closes, nothing to desync
		}
		used := len(stream) - br.Buffered()
		switch {
		case state == "more":
			t.Fatalf("body %q: fasthttp ends the body after %d bytes, the oracle wants more", rest, used-len(chunkedHead))
		case used != len(chunkedHead)+n:
			t.Fatalf("body %q: fasthttp ends the body after %d bytes, the oracle after %d", rest, used-len(chunkedHead), n)
		case string(req.Body()) != data:
			t.Fatalf("body %q: fasthttp decodes %q, the oracle %q", rest, req.Body(), data)
		}
	})
}

// oracleChunked parses b as a chunked body by the tracker's rules, written
// plainly: 1-15 hex digits; then OWS, or ';' right after the digits and an
// extension without controls; the size line at most maxChunkLine bytes with
// its CR; CRLF after the size line and the data; after the last chunk,
// trailer fields "token:value" without controls or folding, then an empty
// line, the whole section at most maxWireHead bytes. It returns "ok" with
// the bytes used and the decoded data, "bad", or "more" when b ends first.
func oracleChunked(b string) (state string, n int, data string) {
	const hexdig = "0123456789abcdefABCDEF"
	var out strings.Builder
	i := 0
	for {
		start := i
		for i < len(b) && strings.IndexByte(hexdig, b[i]) >= 0 {
			i++
		}
		digits := b[start:i]
		switch {
		case len(digits) > 15:
			return "bad", 0, ""
		case i == len(b):
			return "more", 0, ""
		case digits == "":
			return "bad", 0, ""
		}
		size, _ := strconv.ParseInt(digits, 16, 64)
		ows, ext := false, false
		for {
			if i == len(b) {
				return "more", 0, ""
			}
			c := b[i]
			if i > start+len(digits) && i-start+1 > maxChunkLine {
				return "bad", 0, ""
			}
			i++
			if c == '\r' {
				break
			}
			switch {
			case ext && (c < ' ' && c != '\t' || c == 0x7f):
				return "bad", 0, ""
			case ext:
			case c == ' ' || c == '\t':
				ows = true
			case c == ';' && !ows:
				ext = true
			default:
				return "bad", 0, ""
			}
		}
		switch {
		case i == len(b):
			return "more", 0, ""
		case b[i] != '\n':
			return "bad", 0, ""
		}
		i++
		if size == 0 {
			break
		}
		if int64(len(b)-i) < size {
			return "more", 0, ""
		}
		out.WriteString(b[i : i+int(size)])
		i += int(size)
		for _, want := range []byte("\r\n") {
			switch {
			case i == len(b):
				return "more", 0, ""
			case b[i] != want:
				return "bad", 0, ""
			}
			i++
		}
	}
	// trailer section
	const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	section := b[i:]
	limited := len(section) > maxWireHead
	if limited {
		section = section[:maxWireHead]
	}
	// fieldOK checks a trailer line without its CRLF; a partial line (the
	// stream ended inside it) must be the start of a valid one.
	fieldOK := func(line string, complete bool) bool {
		name, value, found := strings.Cut(line, ":")
		if strings.Trim(name, tchar) != "" || (found && name == "") || (complete && !found) {
			return false
		}
		for _, c := range []byte(value) {
			if c < ' ' && c != '\t' || c == 0x7f {
				return false
			}
		}
		return true
	}
	for pos := 0; ; {
		end := strings.IndexByte(section[pos:], '\n')
		if end < 0 {
			partial := strings.TrimSuffix(section[pos:], "\r")
			if limited || !fieldOK(partial, false) {
				return "bad", 0, ""
			}
			return "more", 0, ""
		}
		line := section[pos : pos+end]
		pos += end + 1
		if !strings.HasSuffix(line, "\r") {
			return "bad", 0, ""
		}
		line = line[:len(line)-1]
		if line == "" {
			return "ok", i + pos, out.String()
		}
		if !fieldOK(line, true) {
			return "bad", 0, ""
		}
	}
}
