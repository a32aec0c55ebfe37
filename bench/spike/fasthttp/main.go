// Command fasthttp is the valyala/fasthttp candidate of the HTTP engine spike
// (docs/decisions/0001-http-engine.md): a fasthttp.Server with
// StreamRequestBody in front of a fasthttp.HostClient with StreamResponseBody.
// The request and response objects are handed through as-is (that is the
// header copy), hop-by-hop headers are removed, bodies stream in both
// directions. Deliberately minimal: no routing, no plugins.
package main

import (
	"bytes"
	"flag"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// connectionTokens returns the header names listed in a Connection header,
// which are hop-by-hop too (RFC 9110 §7.6.1).
func connectionTokens(v []byte) [][]byte {
	var out [][]byte
	for _, t := range bytes.Split(v, []byte(",")) {
		t = bytes.TrimSpace(t)
		if len(t) > 0 && !bytes.EqualFold(t, []byte("close")) && !bytes.EqualFold(t, []byte("keep-alive")) {
			out = append(out, t)
		}
	}
	return out
}

func main() {
	port := flag.Int("port", 8082, "listen port on 127.0.0.1")
	upstream := flag.String("upstream", "127.0.0.1:9000", "upstream host:port")
	flag.Parse()

	hc := &fasthttp.HostClient{
		Addr:                     *upstream,
		MaxConns:                 1024,
		MaxIdleConnDuration:      90 * time.Second,
		ReadTimeout:              10 * time.Second,
		WriteTimeout:             10 * time.Second,
		StreamResponseBody:       true,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
		ReadBufferSize:           8192,
		WriteBufferSize:          8192,
	}

	handler := func(ctx *fasthttp.RequestCtx) {
		req := &ctx.Request
		if c := req.Header.Peek("Connection"); len(c) > 0 {
			for _, t := range connectionTokens(c) {
				req.Header.DelBytes(t)
			}
		}
		for _, h := range hopHeaders {
			req.Header.Del(h)
		}
		// The server already noted a client "Connection: close"; the upstream
		// connection itself stays in the pool.
		req.Header.ResetConnectionClose()
		req.Header.Set("X-Forwarded-For", ctx.RemoteIP().String())

		resp := &ctx.Response
		if err := hc.Do(req, resp); err != nil {
			resp.Reset()
			ctx.SetStatusCode(fasthttp.StatusBadGateway)
			return
		}
		if c := resp.Header.Peek("Connection"); len(c) > 0 {
			for _, t := range connectionTokens(c) {
				resp.Header.DelBytes(t)
			}
		}
		for _, h := range hopHeaders {
			if h != "Transfer-Encoding" { // framing is fasthttp's own business
				resp.Header.Del(h)
			}
		}
	}

	s := &fasthttp.Server{
		Handler:                      handler,
		StreamRequestBody:            true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  120 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ReadBufferSize:               8192,
		WriteBufferSize:              8192,
		Logger:                       quiet{},
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(s.Serve(ln))
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
