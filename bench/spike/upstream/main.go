// Command upstream is the fixed origin used by the HTTP engine spike
// (docs/decisions/0001-http-engine.md). It answers GET /small with a 13-byte
// body and GET /1k with a 1024-byte body, both with Content-Length, over
// keep-alive. Any other path gets 404.
package main

import (
	"bytes"
	"flag"
	"log"
	"net"
	"strconv"

	"github.com/valyala/fasthttp"
)

var (
	small = []byte("Hello, World!") // 13 bytes
	big   = bytes.Repeat([]byte("x"), 1024)
)

func main() {
	port := flag.Int("port", 9000, "listen port on 127.0.0.1")
	flag.Parse()

	h := func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.SetContentTypeBytes([]byte("text/plain"))
		switch string(ctx.Path()) {
		case "/small", "/":
			ctx.SetBody(small)
		case "/1k":
			ctx.SetBody(big)
		default:
			ctx.SetStatusCode(fasthttp.StatusNotFound)
		}
	}
	s := &fasthttp.Server{
		Handler:               h,
		Name:                  "upstream",
		NoDefaultServerHeader: true,
		ReadBufferSize:        8192,
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(s.Serve(ln))
}
