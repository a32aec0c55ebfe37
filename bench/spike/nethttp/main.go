// Command nethttp is the net/http candidate of the HTTP engine spike
// (docs/decisions/0001-http-engine.md): an http.Server in front of an
// httputil.ReverseProxy whose Transport keeps a large keep-alive pool to one
// upstream. It is deliberately minimal: no routing, no plugins.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"
)

type bufPool struct{ p sync.Pool }

func (b *bufPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufPool) Put(x []byte) { b.p.Put(&x) }

func main() {
	port := flag.Int("port", 8081, "listen port on 127.0.0.1")
	upstream := flag.String("upstream", "127.0.0.1:9000", "upstream host:port")
	flag.Parse()

	target := &url.URL{Scheme: "http", Host: *upstream}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: 10 * time.Second,
		WriteBufferSize:       8192,
		ReadBufferSize:        8192,
	}
	bp := &bufPool{p: sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // keep the client's Host, like the other candidates
			// Same forwarding header as the other candidates: replace, not append.
			if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
				pr.Out.Header["X-Forwarded-For"] = []string{ip}
			}
		},
		Transport:  tr,
		BufferPool: bp,
		ErrorLog:   log.New(io.Discard, "", 0),
	}
	srv := &http.Server{
		Handler:           rp,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.Serve(ln))
}
