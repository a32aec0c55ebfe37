package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"tollgate/internal/testnet"
)

// h2raw is a raw-frame HTTP/2 client: h2c with prior knowledge over a plain TCP connection,
// frames written and read one by one with x/net's Framer, header blocks encoded with hpack
// without any of the checks a real client makes.
type h2raw struct {
	t        *testing.T
	c        net.Conn
	fr       *http2.Framer
	enc      *hpack.Encoder
	encBuf   bytes.Buffer
	settings map[http2.SettingID]uint32
	connWin  int64 // connection window the server granted (65535 + its WINDOW_UPDATEs)
	wmu      sync.Mutex
}

// dialH2 connects, sends the preface and an empty SETTINGS frame, reads the server's
// SETTINGS and acknowledges them.
func dialH2(t *testing.T, addr string) *h2raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h := &h2raw{t: t, c: c, settings: map[http2.SettingID]uint32{}, connWin: 65535}
	h.fr = http2.NewFramer(c, c)
	h.fr.ReadMetaHeaders = hpack.NewDecoder(65536, nil)
	h.fr.MaxHeaderListSize = 1 << 20
	h.enc = hpack.NewEncoder(&h.encBuf)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := h.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the server's first frames: %v", err)
		}
		if wu, ok := f.(*http2.WindowUpdateFrame); ok && wu.StreamID == 0 {
			h.connWin += int64(wu.Increment)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			_ = sf.ForeachSetting(func(s http2.Setting) error { h.settings[s.ID] = s.Val; return nil })
			if err := h.fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	_ = c.SetDeadline(time.Time{})
	return h
}

// block encodes header fields in order, names as given (upper case and pseudo fields after
// regular ones included). Each field is a "name", "value" pair.
func (h *h2raw) block(fields ...string) []byte {
	h.encBuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = h.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return append([]byte(nil), h.encBuf.Bytes()...)
}

// h2Get is a well-formed request head for method and path, then extra fields.
func h2Get(method, path string, extra ...string) []string {
	return append([]string{":method", method, ":scheme", "http", ":authority", "x", ":path", path}, extra...)
}

func (h *h2raw) headers(id uint32, endStream bool, fields ...string) {
	h.t.Helper()
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.block(fields...), EndStream: endStream, EndHeaders: true}); err != nil {
		h.t.Fatalf("write HEADERS: %v", err)
	}
}

// h2Outcome is how the server ended a stream or the connection.
type h2Outcome struct {
	status int           // :status of the response, 0 if none
	rst    http2.ErrCode // RST_STREAM code, when rstSet
	rstSet bool          // a RST_STREAM ended the stream
	goaway *http2.GoAwayFrame
	closed bool // the connection ended (EOF or reset) without GOAWAY
	body   []byte
}

func (o h2Outcome) String() string {
	switch {
	case o.status != 0:
		return fmt.Sprintf("status %d", o.status)
	case o.rstSet:
		return "RST_STREAM " + o.rst.String()
	case o.goaway != nil:
		return fmt.Sprintf("GOAWAY %s %q", o.goaway.ErrCode, o.goaway.DebugData())
	case o.closed:
		return "connection closed"
	}
	return "nothing"
}

// await reads frames until stream id is answered (response head and body to END_STREAM), or
// reset, or the connection goes away; within d.
func (h *h2raw) await(id uint32, d time.Duration) h2Outcome {
	_ = h.c.SetReadDeadline(time.Now().Add(d))
	defer func() { _ = h.c.SetReadDeadline(time.Time{}) }()
	var o h2Outcome
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return o
			}
			o.closed = true
			return o
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID == id && o.status == 0 {
				fmt.Sscan(f.PseudoValue("status"), &o.status)
			}
			if f.StreamID == id && f.StreamEnded() {
				return o
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				o.body = append(o.body, f.Data()...)
				if f.StreamEnded() {
					return o
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				o.rst, o.rstSet = f.ErrCode, true
				return o
			}
		case *http2.GoAwayFrame:
			o.goaway = f
			return o
		case *http2.SettingsFrame:
			if !f.IsAck() {
				h.wmu.Lock()
				_ = h.fr.WriteSettingsAck()
				h.wmu.Unlock()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				h.wmu.Lock()
				_ = h.fr.WritePing(true, f.Data)
				h.wmu.Unlock()
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				h.connWin += int64(f.Increment)
			}
		}
	}
}

// awaitEnd reads frames until a GOAWAY or the end of the connection, within d.
func (h *h2raw) awaitEnd(d time.Duration) h2Outcome {
	_ = h.c.SetReadDeadline(time.Now().Add(d))
	defer func() { _ = h.c.SetReadDeadline(time.Time{}) }()
	var o h2Outcome
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				o.closed = true
			}
			return o
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			o.goaway = g
			return o
		}
	}
}

// refusedWith reports whether the stream was refused with RST_STREAM of one of codes, or the
// connection with a GOAWAY of one of them.
func (o h2Outcome) refusedWith(codes ...http2.ErrCode) bool {
	for _, c := range codes {
		if (o.rstSet && o.rst == c) || (o.goaway != nil && o.goaway.ErrCode == c) {
			return true
		}
	}
	return false
}

// h2Ping is a normal client's h2c request: it must keep succeeding quickly while an attack
// runs on another connection. It reports the worst latency seen and any failure.
type h2Ping struct {
	worst atomic.Int64 // nanoseconds
	fails atomic.Int64
	ok    atomic.Int64
	last  atomic.Value // string: last failure
}

func (p *h2Ping) run(ctx context.Context, url string) {
	c := h2cClient()
	c.Timeout = 5 * time.Second
	for ctx.Err() == nil {
		t0 := time.Now()
		resp, err := c.Get(url)
		d := time.Since(t0)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		switch {
		case err != nil:
			p.fails.Add(1)
			p.last.Store(err.Error())
		case resp.StatusCode != 200:
			p.fails.Add(1)
			p.last.Store(resp.Status)
		default:
			p.ok.Add(1)
		}
		if int64(d) > p.worst.Load() {
			p.worst.Store(int64(d))
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startPing runs a normal client until the returned stop is called; stop checks it was
// served at least once (waiting up to maxWait for the first answer), never failed, and never
// waited more than maxWait.
func startPing(t *testing.T, url string, maxWait time.Duration) (stop func()) {
	t.Helper()
	var p h2Ping
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.run(ctx, url) }()
	return func() {
		t.Helper()
		// An attack the gateway cuts at once (a GOAWAY after a few frames) can be over before
		// the client's first request, which opens a connection, is answered: give that request
		// up to maxWait, so the check below is on the gateway, not on the race.
		for end := time.Now().Add(maxWait); p.ok.Load() == 0 && p.fails.Load() == 0 && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
		if p.ok.Load() == 0 {
			t.Errorf("the normal client was never served during the attack")
		}
		if n := p.fails.Load(); n > 0 {
			t.Errorf("the normal client failed %d times during the attack, last: %v", n, p.last.Load())
		}
		if w := time.Duration(p.worst.Load()); w > maxWait {
			t.Errorf("the normal client waited up to %v during the attack, want under %v", w, maxWait)
		}
		t.Logf("normal client: %d requests served, worst latency %v", p.ok.Load(), time.Duration(p.worst.Load()))
	}
}

// TestAttackH2 runs HTTP/2 abuse through the real binary with a raw-frame client: limits the
// server advertises, malformed header blocks, pseudo-header abuse, flow-control violations and
// the floods behind CVE-2023-44487 (rapid reset), CVE-2024-27316 (CONTINUATION flood),
// CVE-2019-9512/9515/9518 (PING, SETTINGS, empty frame floods) and HPACK bombs. While an
// attack runs, a normal client on another connection keeps being served quickly, and the
// gateway's resident memory stays bounded.
func TestAttackH2(t *testing.T) {
	var rec atkRecorder
	var mu sync.Mutex
	var sawUnderscore []string
	public := startEchoWith(t, func(r *http.Request) {
		for k := range r.Header {
			if strings.Contains(k, "_") {
				mu.Lock()
				sawUnderscore = append(sawUnderscore, k)
				mu.Unlock()
			}
		}
		if strings.HasPrefix(r.URL.Path, "/public/slow") {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}
		rec.hook(r)
	})
	var adminHits atomic.Int64
	admin := startEchoWith(t, func(*http.Request) { adminHits.Add(1) })
	g := startGateway(t, atkConfig(public, admin))
	addr := strings.TrimPrefix(g.Proxy, "http://")
	pid := g.cmd.Process.Pid
	pingURL := g.Proxy + "/public/ping"

	// warm up, so RSS comparisons start from a process that has served h2c
	for range 3 {
		resp, _ := do(t, h2cClient(), mustReq(t, "GET", pingURL, nil))
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
			t.Fatalf("warm-up: %s %d", resp.Proto, resp.StatusCode)
		}
	}
	t.Logf("gateway RSS before the attacks: %d KiB", rssKB(t, pid))
	// rssFrom returns a check that fails when the gateway's resident memory grew by more than
	// limitMiB since rssFrom was called. The binary is a race build, which multiplies what
	// goroutines and buffers cost; the bounds are for that build.
	rssFrom := func(t *testing.T) func(what string, limitMiB int) {
		before := rssKB(t, pid)
		return func(what string, limitMiB int) {
			t.Helper()
			kb := rssKB(t, pid)
			t.Logf("RSS after %s: %d KiB (+%d KiB)", what, kb, kb-before)
			if kb-before > limitMiB<<10 {
				t.Errorf("RSS grew by %d KiB during %s, over %d MiB", kb-before, what, limitMiB)
			}
		}
	}

	t.Run("settings follow Envoy's edge guidance", func(t *testing.T) {
		h := dialH2(t, addr)
		t.Logf("server SETTINGS: %v, connection window %d", h.settings, h.connWin)
		if v := h.settings[http2.SettingMaxConcurrentStreams]; v != 100 {
			t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS = %d, want 100", v)
		}
		if v, ok := h.settings[http2.SettingInitialWindowSize]; !ok || v != 64<<10 {
			t.Errorf("SETTINGS_INITIAL_WINDOW_SIZE = %d (sent %v), want 64 KiB", v, ok)
		}
		// the connection window arrives as a WINDOW_UPDATE on stream 0 right after SETTINGS
		h.headers(1, true, h2Get("GET", "/public/w")...)
		o := h.await(1, 5*time.Second)
		if o.status != 200 {
			t.Fatalf("GET: %v", o)
		}
		if h.connWin != 1<<20 {
			t.Errorf("connection window = %d, want 1 MiB", h.connWin)
		}
		if v, ok := h.settings[http2.SettingMaxHeaderListSize]; !ok || v > 1<<20+1024 {
			t.Errorf("SETTINGS_MAX_HEADER_LIST_SIZE = %d (sent %v), want a bound of at most about 1 MiB", v, ok)
		}
	})

	// Streams each answered by the server: status, or RST_STREAM / GOAWAY code.
	type streamCase struct {
		name   string
		fields []string
		data   []byte // DATA after the HEADERS (END_STREAM on the last frame)
		// accept reports whether the outcome is right
		accept func(o h2Outcome) bool
		want   string
		// upstream: the public upstream must have been sent this target; "" = not reached
		upstream string
		// ours: a refusal by the gateway's handler, which must be its JSON error with a request
		// id (x/net's own 400s are plain text)
		ours bool
	}
	// x/net answers connection-specific fields (connection, keep-alive, proxy-connection,
	// transfer-encoding, upgrade, TE other than trailers) with a 400 from its own handler
	// (checkValidHTTP2RequestHeaders) rather than RST_STREAM PROTOCOL_ERROR, and the request
	// never reaches the gateway; it cannot be configured otherwise. Either answer is safe.
	protoErr := func(o h2Outcome) bool { return o.refusedWith(http2.ErrCodeProtocol) }
	protoErrOr400 := func(o h2Outcome) bool { return o.status == 400 || protoErr(o) }
	status := func(code int) func(o h2Outcome) bool { return func(o h2Outcome) bool { return o.status == code } }
	streamCases := []streamCase{
		{name: "clean GET", fields: h2Get("GET", "/public/ok"), accept: status(200), want: "200", upstream: "/public/ok"},
		{name: "connection header", fields: h2Get("GET", "/public/a", "connection", "close"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400"},
		{name: "keep-alive header", fields: h2Get("GET", "/public/a", "keep-alive", "timeout=5"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400"},
		{name: "proxy-connection header", fields: h2Get("GET", "/public/a", "proxy-connection", "keep-alive"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400"},
		{name: "transfer-encoding header", fields: h2Get("POST", "/public/a", "transfer-encoding", "chunked"), data: []byte("0\r\n\r\n"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400"},
		{name: "upgrade header", fields: h2Get("GET", "/public/a", "upgrade", "websocket"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400"},
		{name: "te gzip", fields: h2Get("GET", "/public/a", "te", "gzip"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400"},
		{name: "te trailers is allowed", fields: h2Get("GET", "/public/te", "te", "trailers"), accept: status(200), want: "200", upstream: "/public/te"},
		{name: "upper-case header name", fields: h2Get("GET", "/public/a", "X-Upper", "1"), accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "space in header name", fields: h2Get("GET", "/public/a", "x bad", "1"), accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "CR LF in header value", fields: h2Get("GET", "/public/a", "x-v", "a\r\nx-injected: 1"), accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "missing :path", fields: []string{":method", "GET", ":scheme", "http", ":authority", "x"}, accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "missing :method", fields: []string{":scheme", "http", ":authority", "x", ":path", "/public/a"}, accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "duplicated :method", fields: []string{":method", "GET", ":method", "POST", ":scheme", "http", ":authority", "x", ":path", "/public/a"}, accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "pseudo field after a regular one", fields: []string{":method", "GET", ":scheme", "http", "x-a", "1", ":authority", "x", ":path", "/public/a"}, accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "unknown pseudo field", fields: h2Get("GET", "/public/a", ":foo", "bar"), accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "response pseudo field in a request", fields: h2Get("GET", "/public/a", ":status", "200"), accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "empty :path", fields: []string{":method", "GET", ":scheme", "http", ":authority", "x", ":path", ""}, accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: ":authority differs from host", fields: h2Get("GET", "/public/a", "host", "evil.test"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400"},
		{name: ":authority and the same host", fields: h2Get("GET", "/public/host", "host", "x"), accept: status(200), want: "200", upstream: "/public/host"},
		{name: "lower-case :method", fields: h2Get("get", "/public/a"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400", ours: true},
		{name: ":path with a fragment", fields: h2Get("GET", "/public/a#f"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400", ours: true},
		{name: ":path dot-dot into admin", fields: h2Get("GET", "/public/../admin"), accept: status(403), want: "403"},
		{name: ":path dot-dot before an encoded slash", fields: h2Get("GET", "/public/..%2Fadmin"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400", ours: true},
		{name: ":path with backslashes", fields: h2Get("GET", "/public\\..\\admin"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400", ours: true},
		{name: "asterisk :path on GET", fields: h2Get("GET", "*"), accept: protoErrOr400, want: "PROTOCOL_ERROR or 400", ours: true},
		{name: "underscore header dropped", fields: h2Get("GET", "/public/u", "x_user_id", "admin"), accept: status(200), want: "200", upstream: "/public/u"},
		{name: "DATA beyond content-length", fields: h2Get("POST", "/public/cl", "content-length", "3"), data: []byte("0123456789"), accept: protoErr, want: "PROTOCOL_ERROR"},
		{name: "DATA short of content-length", fields: h2Get("POST", "/public/cl", "content-length", "10"), data: []byte("012"), accept: func(o h2Outcome) bool { return o.status >= 400 || protoErr(o) }, want: "a 4xx/5xx or PROTOCOL_ERROR"},
		{name: "HEADERS on an even stream id", accept: protoErr, want: "GOAWAY PROTOCOL_ERROR"},
	}
	for _, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			h := dialH2(t, addr)
			id := uint32(1)
			if tc.fields == nil { // even stream id: only the server may open those
				id = 2
				tc.fields = h2Get("GET", "/public/even")
			}
			h.headers(id, tc.data == nil, tc.fields...)
			if tc.data != nil {
				h.wmu.Lock()
				_ = h.fr.WriteData(id, true, tc.data)
				h.wmu.Unlock()
			}
			o := h.await(id, 5*time.Second)
			if !tc.accept(o) {
				t.Errorf("got %v (body %q), want %s", o, o.body, tc.want)
			}
			if tc.ours && o.status >= 400 && !bytes.Contains(o.body, []byte(`"request_id"`)) {
				t.Errorf("%d answer is not the gateway's JSON error with a request id: %q", o.status, o.body)
			}
			got := rec.take()
			switch {
			case tc.upstream == "" && len(got) > 0:
				t.Errorf("the upstream was reached: %q", got)
			case tc.upstream != "" && (len(got) != 1 || got[0] != tc.upstream):
				t.Errorf("upstream saw %q, want %q", got, tc.upstream)
			}
		})
	}

	t.Run("DATA beyond the 64 KiB stream window", func(t *testing.T) {
		// The upstream's connect hangs, so the gateway reads none of the body and sends no
		// WINDOW_UPDATE while the frames arrive: with an upstream that took the body, the
		// window could be refilled before the fifth frame and the test would race.
		g := startGateway(t, sprintf(`_format_version: "3.0"
services:
  - name: stalled
    url: http://%s
    connect_timeout: 3000
    retries: 0
    routes: [{name: stalled, paths: [/public]}]
`, testnet.StalledConnectAddr(t)))
		h := dialH2(t, strings.TrimPrefix(g.Proxy, "http://"))
		h.headers(1, false, h2Get("POST", "/public/window")...)
		chunk := make([]byte, 16<<10)
		for range 5 { // 80 KiB without waiting for WINDOW_UPDATE
			h.wmu.Lock()
			err := h.fr.WriteData(1, false, chunk)
			h.wmu.Unlock()
			if err != nil {
				break
			}
		}
		o := h.await(1, 5*time.Second)
		if !o.refusedWith(http2.ErrCodeFlowControl) {
			t.Errorf("got %v, want FLOW_CONTROL_ERROR", o)
		}
	})

	t.Run("WINDOW_UPDATE overflowing a stream window", func(t *testing.T) {
		h := dialH2(t, addr)
		h.headers(1, false, h2Get("POST", "/public/slow/wu")...)
		h.wmu.Lock()
		_ = h.fr.WriteWindowUpdate(1, 1<<31-1)
		h.wmu.Unlock()
		o := h.await(1, 5*time.Second)
		if !o.refusedWith(http2.ErrCodeFlowControl) {
			t.Errorf("got %v, want RST_STREAM FLOW_CONTROL_ERROR", o)
		}
	})

	t.Run("WINDOW_UPDATE overflowing the connection window", func(t *testing.T) {
		h := dialH2(t, addr)
		h.wmu.Lock()
		_ = h.fr.WriteWindowUpdate(0, 1<<31-1)
		h.wmu.Unlock()
		o := h.awaitEnd(5 * time.Second)
		if o.goaway == nil || o.goaway.ErrCode != http2.ErrCodeFlowControl {
			t.Errorf("got %v, want GOAWAY FLOW_CONTROL_ERROR", o)
		}
	})

	t.Run("stream concurrency cap", func(t *testing.T) {
		stop := startPing(t, pingURL, time.Second)
		h := dialH2(t, addr)
		// 100 uploads that never finish, then one more
		for i := range 100 {
			h.headers(uint32(2*i+1), false, h2Get("POST", "/public/slow/upload")...)
		}
		extra := uint32(201)
		h.headers(extra, false, h2Get("POST", "/public/slow/upload")...)
		// RFC 9113 §5.1.2 allows PROTOCOL_ERROR or REFUSED_STREAM; x/net sends REFUSED_STREAM
		// only while its SETTINGS are unacknowledged, PROTOCOL_ERROR after (not configurable)
		o := h.await(extra, 5*time.Second)
		if !o.refusedWith(http2.ErrCodeRefusedStream, http2.ErrCodeProtocol) {
			t.Errorf("stream 101: got %v, want RST_STREAM REFUSED_STREAM or PROTOCOL_ERROR (RFC 9113 §5.1.2)", o)
		} else {
			t.Logf("stream 101: %v", o)
		}
		stop()
		h.c.Close()
	})

	rapidReset := func(t *testing.T, path string) {
		rec.take()
		checkRSS := rssFrom(t)
		stop := startPing(t, pingURL, time.Second)
		h := dialH2(t, addr)
		block := h.block(h2Get("GET", path)...)
		// HEADERS+RST_STREAM pairs in a tight loop: 20,000 pairs or 10 s, whichever first;
		// a reader drains what the server sends and notes a GOAWAY
		var goaway atomic.Pointer[http2.GoAwayFrame]
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			for {
				f, err := h.fr.ReadFrame()
				if err != nil {
					return
				}
				if g, ok := f.(*http2.GoAwayFrame); ok {
					goaway.Store(g)
				}
			}
		}()
		start := time.Now()
		sent := 0
		var werr error
		for i := range 20000 {
			if time.Since(start) > 10*time.Second {
				break
			}
			id := uint32(2*i + 1)
			h.wmu.Lock()
			werr = h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true})
			if werr == nil {
				werr = h.fr.WriteRSTStream(id, http2.ErrCodeCancel)
			}
			h.wmu.Unlock()
			if werr != nil {
				break
			}
			sent++
		}
		took := time.Since(start)
		_ = h.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		<-readerDone
		stop()
		got := rec.take()
		t.Logf("sent %d HEADERS+RST_STREAM pairs in %v (write error: %v); GOAWAY: %v; upstream requests made: %d", sent, took, werr, goaway.Load() != nil, len(got))
		// x/net sends GOAWAY ENHANCE_YOUR_CALM itself when reset streams' handlers pile up
		// (slow route); the gateway's guard does when they do not (fast route), after 500
		// streams half reset (Envoy's rule).
		if g := goaway.Load(); g == nil || g.ErrCode != http2.ErrCodeEnhanceYourCalm {
			t.Errorf("GOAWAY %v, want ENHANCE_YOUR_CALM", g)
		} else {
			t.Logf("GOAWAY %s %q", g.ErrCode, g.DebugData())
		}
		if len(got) > h2ResetBudget {
			t.Errorf("%d reset streams cost an upstream request, want at most %d", len(got), h2ResetBudget)
		}
		checkRSS("rapid reset", 100)
	}
	t.Run("rapid reset on a slow route", func(t *testing.T) { rapidReset(t, "/public/slow/reset") })
	t.Run("rapid reset on a fast route", func(t *testing.T) { rapidReset(t, "/public/reset") })

	// A client that resets each stream once it has the whole answer (as a gRPC client does
	// when the response ends before its own request stream) is not an attacker: Envoy counts
	// only premature resets, and so does the guard.
	t.Run("resets of answered streams", func(t *testing.T) {
		h := dialH2(t, addr)
		defer h.c.Close()
		const n = 2 * 500
		start := time.Now()
		for i := range uint32(n) {
			if time.Since(start) > 20*time.Second {
				t.Fatalf("only %d streams in 20 s", i)
			}
			id := 2*i + 1
			h.headers(id, true, h2Get("GET", "/public/answered")...)
			if o := h.await(id, 5*time.Second); o.status != 200 {
				t.Fatalf("stream %d: %v, want status 200", id, o)
			}
			h.wmu.Lock()
			err := h.fr.WriteRSTStream(id, http2.ErrCodeCancel)
			h.wmu.Unlock()
			if err != nil {
				t.Fatalf("stream %d: RST_STREAM: %v", id, err)
			}
		}
		// the connection still serves
		id := uint32(2*n + 1)
		h.headers(id, true, h2Get("GET", "/public/answered")...)
		if o := h.await(id, 5*time.Second); o.status != 200 {
			t.Errorf("after %d answered-then-reset streams: %v, want status 200", n, o)
		}
		rec.take()
	})

	t.Run("CONTINUATION flood", func(t *testing.T) {
		checkRSS := rssFrom(t)
		stop := startPing(t, pingURL, time.Second)
		h := dialH2(t, addr)
		start := h.block(h2Get("GET", "/public/cont")...)
		h.wmu.Lock()
		err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: start, EndStream: true, EndHeaders: false})
		h.wmu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		// endless CONTINUATION frames of fresh 1 KiB fields, bounded by 64 MiB and 10 s
		res := make(chan h2Outcome, 1)
		go func() { res <- h.awaitEnd(15 * time.Second) }()
		sent, deadline := 0, time.Now().Add(10*time.Second)
		var werr error
		for i := 0; sent < 64<<20 && time.Now().Before(deadline); i++ {
			frag := h.block(fmt.Sprintf("x-flood-%d", i), strings.Repeat("v", 1<<10))
			h.wmu.Lock()
			werr = h.fr.WriteContinuation(1, false, frag)
			h.wmu.Unlock()
			if werr != nil {
				break
			}
			sent += len(frag)
		}
		o := <-res
		stop()
		t.Logf("sent %d KiB of CONTINUATION before %v (write error: %v)", sent>>10, o, werr)
		if o.goaway == nil && !o.closed {
			t.Errorf("the server kept reading CONTINUATION frames (%d KiB) without GOAWAY or close", sent>>10)
		}
		if o.goaway != nil && o.goaway.ErrCode == http2.ErrCodeNo {
			t.Errorf("GOAWAY %v, want an error code", o.goaway.ErrCode)
		}
		if sent > 16<<20 {
			t.Errorf("the server read %d MiB of one header block before stopping", sent>>20)
		}
		checkRSS("CONTINUATION flood", 100)
	})

	t.Run("CONTINUATION flood with one endless value", func(t *testing.T) {
		checkRSS := rssFrom(t)
		h := dialH2(t, addr)
		// a literal field whose value length claims 1 GiB, then CONTINUATION frames of it
		var b bytes.Buffer
		b.Write(h.block(h2Get("GET", "/public/cont")...))
		b.Write([]byte{0x00, 0x01, 'x'}) // literal without indexing, new name "x"
		b.Write(hpackInt(0, 7, 1<<30))   // value: not Huffman, 1 GiB long
		h.wmu.Lock()
		err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b.Bytes(), EndStream: true, EndHeaders: false})
		h.wmu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		res := make(chan h2Outcome, 1)
		go func() { res <- h.awaitEnd(15 * time.Second) }()
		chunk := bytes.Repeat([]byte("v"), 16<<10)
		sent, deadline := 0, time.Now().Add(10*time.Second)
		for sent < 64<<20 && time.Now().Before(deadline) {
			h.wmu.Lock()
			werr := h.fr.WriteContinuation(1, false, chunk)
			h.wmu.Unlock()
			if werr != nil {
				break
			}
			sent += len(chunk)
		}
		o := <-res
		t.Logf("sent %d KiB before %v", sent>>10, o)
		if o.goaway == nil && !o.closed {
			t.Errorf("no GOAWAY or close after %d KiB", sent>>10)
		}
		if sent > 16<<20 {
			t.Errorf("the server read %d MiB of one header value before stopping", sent>>20)
		}
		checkRSS("CONTINUATION flood with one value", 100)
	})

	t.Run("HPACK bomb", func(t *testing.T) {
		checkRSS := rssFrom(t)
		stop := startPing(t, pingURL, time.Second)
		h := dialH2(t, addr)
		// one 4000-byte field into the dynamic table, then 20,000 one-byte references to it:
		// 80 MB once decoded
		var b bytes.Buffer
		b.Write(h.block(h2Get("GET", "/public/bomb")...))
		b.Write([]byte{0x40, 0x06})
		b.WriteString("x-bomb")
		b.Write(hpackInt(0, 7, 4000))
		b.WriteString(strings.Repeat("b", 4000))
		ref := byte(0x80 | 62) // indexed field: the newest dynamic table entry
		b.Write(bytes.Repeat([]byte{ref}, 20000))
		block := b.Bytes()
		frameMax := 16 << 10
		h.wmu.Lock()
		err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:frameMax], EndStream: true, EndHeaders: false})
		for rest := block[frameMax:]; err == nil && len(rest) > 0; {
			n := min(frameMax, len(rest))
			err = h.fr.WriteContinuation(1, n == len(rest), rest[:n])
			rest = rest[n:]
		}
		h.wmu.Unlock()
		o := h.await(1, 5*time.Second)
		stop()
		if !(o.status == 431 || o.refusedWith(http2.ErrCodeProtocol, http2.ErrCodeCompression, http2.ErrCodeEnhanceYourCalm) || o.closed) {
			t.Errorf("got %v, want 431, a stream or connection error, or a close", o)
		}
		t.Logf("HPACK bomb: %v", o)
		checkRSS("HPACK bomb", 100)
	})

	// Floods of frames each cheap to send and each costing the server work or a reply. The
	// abuser reads nothing and shrinks its receive buffer, so replies back up on the server
	// unless it bounds them. Sending stops after n frames, 4 s, or a write that blocks that
	// long (the server stopped reading); then one request on the same connection shows
	// whether the server kept up, stopped, or ended the connection.
	flood := func(t *testing.T, what string, n int, send func(h *h2raw, i int) error) h2Outcome {
		t.Helper()
		checkRSS := rssFrom(t)
		stop := startPing(t, pingURL, time.Second)
		h := dialH2(t, addr)
		if tc, ok := h.c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		start, sent := time.Now(), 0
		var werr error
		_ = h.c.SetWriteDeadline(start.Add(4 * time.Second))
		for i := 0; i < n && time.Since(start) < 4*time.Second; i++ {
			h.wmu.Lock()
			werr = send(h, i)
			h.wmu.Unlock()
			if werr != nil {
				break
			}
			sent++
		}
		took := time.Since(start)
		if werr == nil {
			h.wmu.Lock()
			werr = h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1001, BlockFragment: h.block(h2Get("GET", "/public/after")...), EndStream: true, EndHeaders: true})
			h.wmu.Unlock()
		}
		o := h.await(1001, 3*time.Second)
		stop()
		t.Logf("%s: sent %d frames in %v (write error: %v), then: %v", what, sent, took, werr, o)
		if o.goaway != nil && o.goaway.ErrCode == http2.ErrCodeNo {
			t.Errorf("GOAWAY NO_ERROR: an abuser should get an error code")
		}
		checkRSS(what, 100)
		return o
	}

	// x/net coalesces SETTINGS acknowledgements and queues at most 10,000 PING replies before
	// closing; past the socket buffers it stops reading the abuser. Either way memory stays
	// bounded and other clients are served.
	t.Run("SETTINGS flood", func(t *testing.T) {
		flood(t, "SETTINGS flood", 1000000, func(h *h2raw, _ int) error {
			return h.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535})
		})
	})

	t.Run("PING flood", func(t *testing.T) {
		flood(t, "PING flood", 1000000, func(h *h2raw, i int) error {
			return h.fr.WritePing(false, [8]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		})
	})

	// Empty DATA frames cost no flow-control credit: the guard ends the connection at the
	// second in a row (Envoy's max_consecutive_inbound_frames_with_empty_payload).
	t.Run("zero-length DATA flood", func(t *testing.T) {
		var opened bool
		o := flood(t, "empty DATA flood", 200000, func(h *h2raw, _ int) error {
			if !opened {
				opened = true
				return h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(h2Get("POST", "/public/slow/empty")...), EndStream: false, EndHeaders: true})
			}
			return h.fr.WriteData(1, false, nil)
		})
		if o.goaway == nil || o.goaway.ErrCode != http2.ErrCodeEnhanceYourCalm {
			t.Errorf("empty DATA flood ended with %v, want GOAWAY ENHANCE_YOUR_CALM", o)
		}
	})

	t.Run("empty CONTINUATION flood", func(t *testing.T) {
		var opened bool
		o := flood(t, "empty CONTINUATION flood", 200000, func(h *h2raw, _ int) error {
			if !opened {
				opened = true
				return h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(h2Get("GET", "/public/c")...), EndStream: true, EndHeaders: false})
			}
			return h.fr.WriteContinuation(1, false, nil)
		})
		if o.goaway == nil || o.goaway.ErrCode != http2.ErrCodeEnhanceYourCalm {
			t.Errorf("empty CONTINUATION flood ended with %v, want GOAWAY ENHANCE_YOUR_CALM", o)
		}
	})

	t.Run("h2c upgrade is guarded too", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET /public/up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
		head := make([]byte, len("HTTP/1.1 101 "))
		if _, err := io.ReadFull(c, head); err != nil || string(head) != "HTTP/1.1 101 " {
			t.Fatalf("upgrade: %q %v", head, err)
		}
		// skip the rest of the 101 head
		var last [4]byte
		for string(last[:]) != "\r\n\r\n" {
			var b [1]byte
			if _, err := c.Read(b[:]); err != nil {
				t.Fatal(err)
			}
			copy(last[:], append(last[1:], b[0]))
		}
		h := &h2raw{t: t, c: c, settings: map[http2.SettingID]uint32{}}
		h.fr = http2.NewFramer(c, c)
		h.fr.ReadMetaHeaders = hpack.NewDecoder(65536, nil)
		h.enc = hpack.NewEncoder(&h.encBuf)
		_, _ = io.WriteString(c, http2.ClientPreface)
		_ = h.fr.WriteSettings()
		if o := h.await(1, 5*time.Second); o.status != 200 {
			t.Fatalf("upgraded request (stream 1): %v", o)
		}
		h.headers(3, false, h2Get("POST", "/public/slow/up")...)
		for range 3 {
			_ = h.fr.WriteData(3, false, nil)
		}
		if o := h.awaitEnd(5 * time.Second); o.goaway == nil || o.goaway.ErrCode != http2.ErrCodeEnhanceYourCalm {
			t.Errorf("empty DATA on an upgraded connection: %v, want GOAWAY ENHANCE_YOUR_CALM", o)
		}
	})

	t.Run("underscore header rejected with --underscore-headers reject", func(t *testing.T) {
		rg := startGateway(t, atkConfig(public, admin), "--underscore-headers", "reject")
		rec.take()
		h := dialH2(t, strings.TrimPrefix(rg.Proxy, "http://"))
		h.headers(1, true, h2Get("GET", "/public/u", "x_user_id", "admin")...)
		if o := h.await(1, 5*time.Second); o.status != 400 || !bytes.Contains(o.body, []byte(`"request_id"`)) {
			t.Errorf("got %v (body %q), want the gateway's 400", o, o.body)
		}
		if got := rec.take(); len(got) > 0 {
			t.Errorf("the upstream was reached: %q", got)
		}
	})

	if n := adminHits.Load(); n != 0 {
		t.Errorf("the admin upstream behind the 403 plugin was reached %d times", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sawUnderscore) > 0 {
		t.Errorf("underscore fields reached the upstream over HTTP/2: %q", sawUnderscore)
	}
}

// h2ResetBudget bounds the upstream requests one rapid-reset connection may cause: the guard
// judges the reset ratio after 500 streams (internal/server/h2.go h2ResetMinStreams).
const h2ResetBudget = 500

// hpackInt encodes an HPACK integer (RFC 7541 §5.1) with an n-bit prefix; first holds the
// bits above the prefix.
func hpackInt(first byte, n uint, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return []byte{first | byte(v)}
	}
	out := []byte{first | byte(limit)}
	v -= limit
	for v >= 128 {
		out = append(out, byte(v%128)|0x80)
		v /= 128
	}
	return append(out, byte(v))
}
