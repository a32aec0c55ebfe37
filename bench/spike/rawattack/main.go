// Command rawattack sends malformed / ambiguous raw HTTP/1.1 requests to each
// front end of the HTTP engine spike and prints what happened, as a Markdown
// table: what the client got back, and what (if anything) reached the
// upstream. It runs its own recording upstream on -upstream, so the front
// ends under test must proxy to that address. Loopback only; every socket
// has a deadline, so a run is bounded (about 2 s per case and target).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

type attack struct {
	id, name string
	raw      string
	show     []string // upstream header names worth reporting
}

var smuggled = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: good\r\n\r\n"

var attacks = []attack{
	{"0", "baseline GET", "GET /ok HTTP/1.1\r\nHost: good\r\n\r\n", nil},
	{"a", "CL + TE: chunked, pipelined 2nd request hidden in body",
		"POST /a HTTP/1.1\r\nHost: good\r\nContent-Length: " + strconv.Itoa(len(smuggled)) +
			"\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled,
		[]string{"Content-Length", "Transfer-Encoding"}},
	{"b", "two identical Content-Length",
		"POST /b HTTP/1.1\r\nHost: good\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
		[]string{"Content-Length"}},
	{"c", "obs-fold header line",
		"GET /c HTTP/1.1\r\nHost: good\r\nX-Folded: a\r\n b\r\n\r\n", []string{"X-Folded"}},
	{"d", "bare LF line endings", "GET /d HTTP/1.1\nHost: good\n\n", nil},
	{"d2", "bare LF request, then a normal CRLF request pipelined",
		"GET /d HTTP/1.1\nHost: good\n\nGET /d2 HTTP/1.1\r\nHost: good\r\n\r\n", nil},
	{"e", "underscore header name X_User_Id",
		"GET /e HTTP/1.1\r\nHost: good\r\nX_User_Id: 42\r\n\r\n", []string{"X_User_Id", "X-User-Id"}},
	{"f", "NUL in header value",
		"GET /f HTTP/1.1\r\nHost: good\r\nX-V: a\x00b\r\n\r\n", []string{"X-V"}},
	{"g", "absolute-form target, Host: good",
		"GET http://evil/x HTTP/1.1\r\nHost: good\r\n\r\n", []string{"Host"}},
	// extra framing probes, beyond the brief's (a)-(g)
	{"h", "space before colon: `Content-Length : 5`",
		"POST /h HTTP/1.1\r\nHost: good\r\nContent-Length : 5\r\n\r\nhello", []string{"Content-Length"}},
	{"i", "two Host headers (good, evil)",
		"GET /i HTTP/1.1\r\nHost: good\r\nHost: evil\r\n\r\n", []string{"Host"}},
	{"j", "signed Content-Length: +5",
		"POST /j HTTP/1.1\r\nHost: good\r\nContent-Length: +5\r\n\r\nhello", []string{"Content-Length"}},
	{"k", "Transfer-Encoding: chunked, chunked (no CL)",
		"POST /k HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		[]string{"Transfer-Encoding"}},
}

// recorder is a tolerant upstream that logs every request it parses.
type recorder struct {
	mu   sync.Mutex
	seen []string
	show []string
}

func (r *recorder) take(show []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen, r.show = nil, show
	return s
}

func (r *recorder) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetDeadline(time.Now().Add(60 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		reqLine := strings.TrimRight(line, "\r\n")
		hdr := map[string][]string{}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			if k, v, ok := strings.Cut(l, ":"); ok {
				hdr[strings.ToLower(k)] = append(hdr[strings.ToLower(k)], strings.TrimSpace(v))
			}
		}
		body := 0
		if te := hdr["transfer-encoding"]; len(te) > 0 && strings.Contains(strings.ToLower(te[0]), "chunked") {
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.Split(l, ";")[0]), 16, 64)
				if n == 0 {
					br.ReadString('\n')
					break
				}
				io.CopyN(io.Discard, br, n+2)
				body += int(n)
			}
		} else if cl := hdr["content-length"]; len(cl) > 0 {
			n, _ := strconv.Atoi(cl[0])
			io.CopyN(io.Discard, br, int64(n))
			body = n
		}
		r.mu.Lock()
		desc := fmt.Sprintf("`%s`", reqLine)
		for _, h := range r.show {
			if v, ok := hdr[strings.ToLower(h)]; ok {
				desc += fmt.Sprintf(" %s=%q", h, v)
			}
		}
		if body > 0 {
			desc += fmt.Sprintf(" body=%dB", body)
		}
		r.seen = append(r.seen, desc)
		r.mu.Unlock()
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	}
}

var statusRe = regexp.MustCompile(`HTTP/1\.[01] (\d{3})`)

// send writes raw bytes and reads until the peer closes or 1.5 s pass.
func send(addr, raw string) string {
	c, err := net.DialTimeout("tcp4", addr, time.Second)
	if err != nil {
		return "dial error: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(1500 * time.Millisecond))
	if _, err := c.Write([]byte(raw)); err != nil {
		return "write error"
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, c)
	var codes []string
	for _, m := range statusRe.FindAllStringSubmatch(buf.String(), -1) {
		codes = append(codes, m[1])
	}
	out := "no response"
	if len(codes) > 0 {
		out = strings.Join(codes, " + ")
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		out += ", conn kept open"
	} else {
		out += ", conn closed"
	}
	return out
}

type targets []string

func (t *targets) String() string     { return strings.Join(*t, ",") }
func (t *targets) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	up := flag.String("upstream", "127.0.0.1:9999", "address for the recording upstream")
	var ts targets
	flag.Var(&ts, "target", "name=host:port of a front end (repeatable)")
	flag.Parse()

	rec := &recorder{}
	ln, err := net.Listen("tcp4", *up)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rec.serve(c)
		}
	}()

	var names []string
	for _, t := range ts {
		n, _, _ := strings.Cut(t, "=")
		names = append(names, n)
	}
	fmt.Printf("| case | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, a := range attacks {
		row := []string{fmt.Sprintf("(%s) %s", a.id, a.name)}
		for _, t := range ts {
			_, addr, _ := strings.Cut(t, "=")
			rec.take(a.show)
			got := send(addr, a.raw)
			time.Sleep(300 * time.Millisecond)
			seen := rec.take(nil)
			cell := "client: " + got + "; upstream: "
			if len(seen) == 0 {
				cell += "nothing"
			} else {
				cell += strings.Join(seen, ", ")
			}
			row = append(row, strings.ReplaceAll(cell, "|", `\|`))
		}
		fmt.Printf("| %s |\n", strings.Join(row, " | "))
	}
}
