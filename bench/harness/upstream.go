package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Fixed bodies of the upstream.
var (
	body1k  = bytes.Repeat([]byte("x"), 1024)
	body64k = bytes.Repeat([]byte("y"), 64*1024)
)

func upstreamBody(path string) []byte {
	switch path {
	case "/64k":
		return body64k
	case "/1k", "/":
		return body1k
	}
	// routes of the 10k-route config and of the Lua peer may keep a prefix: serve by suffix
	if len(path) >= 4 && path[len(path)-4:] == "/64k" {
		return body64k
	}
	return body1k
}

// runUpstream is the "upstream" subcommand: HTTP/1.1 (fasthttp, keep-alive) on -h1 and
// HTTP/2 with prior knowledge plus HTTP/1.1 (net/http) on -h2c, both on 127.0.0.1, answering
// 1 KiB (/1k and anything else) or 64 KiB (/64k) with Content-Length.
func runUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	h1 := fs.Int("h1", 0, "HTTP/1.1 port")
	h2c := fs.Int("h2c", 0, "h2c (prior knowledge) port; 0: none")
	_ = fs.Parse(args)
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(*h1)))
	if err != nil {
		return err
	}
	errc := make(chan error, 2)
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.SetContentTypeBytes([]byte("text/plain"))
			ctx.SetBody(upstreamBody(string(ctx.Path())))
		},
		Name:                  "upstream",
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		ReadBufferSize:        8192,
	}
	go func() { errc <- s.Serve(ln) }()
	if *h2c != 0 {
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		hs := &http.Server{
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(*h2c)),
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b := upstreamBody(r.URL.Path)
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", strconv.Itoa(len(b)))
				_, _ = w.Write(b)
			}),
			Protocols: p,
		}
		go func() { errc <- hs.ListenAndServe() }()
	}
	err = <-errc
	fmt.Fprintln(os.Stderr, "upstream:", err)
	return err
}
