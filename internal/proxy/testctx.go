package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"tollgate/internal/edge"
	"tollgate/internal/h1"
	"tollgate/internal/plugin"
	"tollgate/internal/router"
)

// Engines names the front ends: fasthttp's HTTP/1.1, the gateway's own codec (internal/h1)
// and HTTP/2. Plugin tests run once per engine (plugintest.Run).
var Engines = []string{"http1", "codec", "http2"}

// TestExchange is a request prepared the way a front end prepares it, for plugin unit tests:
// Ctx.In reads the client request through the engine's adapter, Ctx.Up is the upstream
// request, and SetResponse installs an upstream response for the header and body phases.
type TestExchange struct {
	Ctx  *plugin.Ctx
	up   upReq
	upH  h1.Header
	resp upResp
}

// NewTestExchange builds the exchange for req on engine ("http1" or "http2"). The request body
// is read from req.Body.
func NewTestExchange(engine string, req *http.Request, nStates int) (*TestExchange, error) {
	x := &TestExchange{Ctx: &plugin.Ctx{}}
	x.Ctx.Reset(context.Background(), nStates)
	x.Ctx.Log = slog.New(slog.DiscardHandler)
	x.Ctx.RequestID = "00000000000000000000000000000001"
	x.Ctx.Start = time.Now()
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	raw := req.URL.RequestURI()
	path, err := router.NormalizePath(nil, []byte(raw))
	if err != nil {
		return nil, fmt.Errorf("normalize %q: %w", raw, err)
	}
	common := inCommon{path: path, scheme: "http", peer: netip.MustParseAddr("127.0.0.1"), fwd: netip.MustParseAddr("127.0.0.1"), listenPort: 8000}
	upr := &x.upH
	switch engine {
	case "http1":
		wire, err := wireOf(req, body)
		if err != nil {
			return nil, err
		}
		// Read as the server does: headers, then the body without pre-parsing multipart forms
		// (the server sets DisablePreParseMultipartForm), so plugins see bodies as sent.
		fr := &fasthttp.Request{}
		br := bufio.NewReader(wire)
		if err := fr.Header.Read(br); err != nil {
			return nil, fmt.Errorf("parse as http1: %w", err)
		}
		if err := fr.ContinueReadBody(br, 0, false); err != nil {
			return nil, fmt.Errorf("parse as http1 body: %w", err)
		}
		x.Ctx.In = &fastIn{inCommon: common, req: fr}
		x.up.method = string(fr.Header.Method())
		for k, v := range fr.Header.All() {
			upr.AddBytes(k, v)
		}
	case "codec":
		wire, err := wireOf(req, body)
		if err != nil {
			return nil, err
		}
		// underscore fields allowed, as on the "http1" engine here, which runs without the
		// edge checks: both see the same fields
		pol := edge.Policy{UnderscoreHeaders: edge.UnderscoreAllow}
		head := &edge.RequestHead{}
		n, v := pol.ParseRequest(wire.Bytes(), head)
		if !v.OK() || n == 0 {
			return nil, fmt.Errorf("parse with the codec: %d %s", v.Status, v.Reason)
		}
		x.Ctx.In = &h1In{inCommon: common, head: head}
		x.up.method = string(head.Method)
		upr.AddFields(head.Fields)
	case "http2":
		r2 := req.Clone(context.Background())
		r2.ProtoMajor, r2.ProtoMinor, r2.Proto = 2, 0, "HTTP/2.0"
		if r2.Host == "" {
			r2.Host = req.URL.Host
		}
		x.Ctx.In = &stdIn{inCommon: common, req: r2}
		x.up.method = r2.Method
		upr.Add("Host", r2.Host)
		for k, vs := range r2.Header {
			for _, v := range vs {
				upr.Add(k, v)
			}
		}
	default:
		return nil, fmt.Errorf("unknown engine %q", engine)
	}
	x.up.reset(upr)
	x.up.path = string(path)
	x.up.query = req.URL.RawQuery
	x.up.host = x.Ctx.In.Host()
	if len(body) > 0 {
		x.up.body = bytes.NewReader(body)
		x.up.bodySize = len(body)
	}
	x.Ctx.Up = &x.up
	return x, nil
}

// wireOf is req with body as an HTTP/1.1 client sends it.
func wireOf(req *http.Request, body []byte) (*bytes.Buffer, error) {
	var wire bytes.Buffer
	r2 := req.Clone(context.Background())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	if err := r2.Write(&wire); err != nil {
		return nil, err
	}
	return &wire, nil
}

// SetResponse installs an upstream response (status, headers) and makes it Ctx.Resp.
func (x *TestExchange) SetResponse(status int, header http.Header) {
	x.resp.reset()
	x.resp.status = status
	for k, vs := range header {
		for _, v := range vs {
			x.resp.h.Add(k, v)
		}
	}
	x.Ctx.Resp = &x.resp
}

// UpstreamBody returns the body the upstream would receive (buffering it).
func (x *TestExchange) UpstreamBody() ([]byte, error) { return x.up.Body() }
