package server

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"

	"tollgate/internal/edge"
	"tollgate/internal/h1"
)

// HTTP/1.1 engines for Options.HTTP1Engine.
const (
	// EngineFasthttp is the former default: fasthttp's server, with the edge checks and the
	// wire tracker around it (internal/edge). It stays selectable, and tested, until ADR
	// 0002's last step removes it.
	EngineFasthttp = "fasthttp"
	// EngineCodec, the default, is the gateway's own codec, internal/h1 (ADR 0002): the
	// edge rules are applied by its parser in the one pass that reads the head.
	EngineCodec = "codec"
)

// newH1 builds the codec's server for the proxy listener, with the same limits the fasthttp
// engine is given.
func (s *Server) newH1(port int) *h1.Server {
	return &h1.Server{
		Handler:       h1Handler{s: s, port: port},
		Policy:        s.opts.Edge,
		Refuse:        s.proxy.RefuseH1,
		HeaderTimeout: s.opts.ClientHeaderTimeout,
		IdleTimeout:   s.opts.KeepaliveTimeout,
		BodyTimeout:   s.opts.ClientBodyTimeout,
		WriteTimeout:  s.opts.ClientSendTimeout,
		// as fasthttp's workers: a goroutine that served a now parked connection ends
		// after as long, so parking gives its stack back
		MaxIdleWorkerDuration: max(s.opts.ParkAfter, 0),
		CloseUnread:           closeUnread,
	}
}

// h1Handler is the codec's entry: the URI bound, the h2c upgrade, then the proxy.
type h1Handler struct {
	s    *Server
	port int
}

func (h h1Handler) ServeH1(w *h1.ResponseWriter, r *h1.Request) {
	s := h.s
	if len(r.Head.Target) > s.opts.MaxURILength {
		s.proxy.RefuseH1(w, 414, "URI too long")
		return
	}
	if isH2CUpgradeH1(r) && s.serveH2CUpgradeH1(w, r) {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			// the pipeline recovers its own panics (proxy.serveSafe): this is the front
			// end's, after or around it; the codec closes the connection
			s.log.Error("panic while serving a request", "panic", fmt.Sprint(v), "uri", string(r.Head.Target))
			if w.Status() == 0 {
				_ = w.AddHeaderString("Content-Type", "application/json; charset=utf-8")
				body := []byte(`{"message":"An unexpected error occurred"}`)
				_ = w.WriteHeader(500, int64(len(body)))
				_, _ = w.Write(body)
			}
			w.SetClose()
		}
	}()
	s.proxy.ServeH1(w, r, "http", h.port)
}

// isH2CUpgradeH1 reports an HTTP/1.1 request asking to switch to h2c. Requests with a body
// are served as HTTP/1.1, which RFC 7540 §3.2 allows, so no body has to be buffered.
func isH2CUpgradeH1(r *h1.Request) bool {
	hd := &r.Head
	if !hd.Upgrade || hd.Chunked || hd.ContentLength > 0 {
		return false
	}
	var upgrade, settings []byte
	for _, f := range hd.Fields {
		switch {
		case edge.EqualFold(f.Name, "Upgrade"):
			upgrade = f.Value
		case edge.EqualFold(f.Name, "Http2-Settings"):
			settings = f.Value
		}
	}
	return edge.EqualFold(upgrade, "h2c") && len(settings) > 0
}

// serveH2CUpgradeH1 answers 101 and serves the request and the connection over HTTP/2, as
// serveH2CUpgrade does for the fasthttp engine.
func (s *Server) serveH2CUpgradeH1(w *h1.ResponseWriter, r *h1.Request) bool {
	hd := &r.Head
	var settingsField []byte
	req := &http.Request{
		Method:     string(hd.Method),
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		RequestURI: string(hd.Target),
		RemoteAddr: r.RemoteAddr().String(),
		Body:       http.NoBody,
	}
	for _, f := range hd.Fields {
		name := http.CanonicalHeaderKey(string(f.Name))
		switch name {
		case "Http2-Settings":
			settingsField = f.Value
			continue
		case "Connection", "Upgrade":
			continue
		case "Host":
			req.Host = string(f.Value)
			continue
		}
		req.Header.Add(name, string(f.Value))
	}
	settings, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight(settingsField, "=")))
	if err != nil {
		return false
	}
	if req.URL, err = url.ParseRequestURI(req.RequestURI); err != nil {
		return false
	}
	c, rest, err := w.Hijack()
	if err != nil {
		return true // the connection is gone either way
	}
	// on a goroutine of its own, so the codec's connection state goes back to its pool
	go s.serveH2Upgraded(c, rest, req, settings)
	return true
}
