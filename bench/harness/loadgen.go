package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runRate is the "rate" subcommand: an open-loop, constant-rate HTTP/1.1 client (what wrk2
// does). Request i is due at start+i/rate and waits in a queue for one of -conns keep-alive
// connections; its latency is counted from its due time, not from when it was sent, so a
// stalled target is charged for the requests it held back (no coordinated omission). The
// client is a minimal one (Content-Length or chunked answers) so that it costs little CPU on
// the load core. It prints one line: "RATE due ok errors p50_us p99_us p999_us max_us".
func runRate(args []string) error {
	fs := flag.NewFlagSet("rate", flag.ExitOnError)
	rawURL := fs.String("url", "", "target URL (http://127.0.0.1:PORT/path)")
	rate := fs.Int("rate", 2000, "requests per second")
	dur := fs.Duration("dur", 5*time.Second, "duration")
	conns := fs.Int("conns", 64, "keep-alive connections")
	_ = fs.Parse(args)
	rest, ok := strings.CutPrefix(*rawURL, "http://")
	if !ok {
		return fmt.Errorf("rate: only http:// URLs")
	}
	host, path, _ := strings.Cut(rest, "/")
	req := []byte("GET /" + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: bench-rate\r\n\r\n")
	n := int(float64(*rate) * dur.Seconds())
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	due := make(chan int, n)
	start := time.Now().Add(200 * time.Millisecond) // the workers connect meanwhile
	interval := time.Second / time.Duration(*rate)
	var wg sync.WaitGroup
	for range *conns {
		wg.Go(func() {
			var c net.Conn
			var br *bufio.Reader
			for i := range due {
				if c == nil {
					var err error
					if c, err = net.DialTimeout("tcp", host, 2*time.Second); err != nil {
						errs.Add(1)
						lat[i] = -1
						c = nil
						continue
					}
					br = bufio.NewReaderSize(c, 16384)
				}
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, err := c.Write(req)
				keep := true
				if err == nil {
					keep, err = readResponse(br)
				}
				if err != nil {
					errs.Add(1)
					lat[i] = -1
					c.Close()
					c = nil
					continue
				}
				lat[i] = time.Since(start.Add(time.Duration(i) * interval))
				if !keep {
					c.Close()
					c = nil
				}
			}
			if c != nil {
				c.Close()
			}
		})
	}
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		due <- i
	}
	close(due)
	wg.Wait()
	ok2 := make([]time.Duration, 0, n)
	for _, l := range lat {
		if l >= 0 {
			ok2 = append(ok2, l)
		}
	}
	slices.Sort(ok2)
	pct := func(p float64) int64 {
		if len(ok2) == 0 {
			return 0
		}
		return ok2[int(p*float64(len(ok2)-1))].Microseconds()
	}
	fmt.Printf("RATE %d %d %d %d %d %d %d\n", n, len(ok2), errs.Load(), pct(0.50), pct(0.99), pct(0.999), pct(1))
	return nil
}

// readResponse reads one response (status 200 expected) with a Content-Length or chunked
// body, and reports whether the connection stays open.
func readResponse(br *bufio.Reader) (keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	if len(line) < 12 || string(line[9:12]) != "200" {
		return false, fmt.Errorf("status line %q", strings.TrimSpace(string(line)))
	}
	keep = true
	cl, chunked := -1, false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		if len(line) <= 2 {
			break
		}
		k, v, _ := strings.Cut(string(line), ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			cl, err = strconv.Atoi(v)
			if err != nil {
				return false, err
			}
		case "transfer-encoding":
			chunked = strings.EqualFold(v, "chunked")
		case "connection":
			keep = !strings.EqualFold(v, "close")
		}
	}
	if !chunked {
		if cl < 0 {
			return false, fmt.Errorf("no Content-Length")
		}
		_, err = br.Discard(cl)
		return keep, err
	}
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		sz, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(string(line), ";", 2)[0]), 16, 64)
		if err != nil {
			return false, err
		}
		if _, err = br.Discard(int(sz) + 2); err != nil { // data + CRLF (trailers: none expected)
			return false, err
		}
		if sz == 0 {
			return keep, nil
		}
	}
}

// runIdle is the "idle" subcommand: it opens -n keep-alive connections to -addr, sends one
// GET on each and reads the answer, prints "READY opened failed", then holds them until its
// standard input closes or it is killed.
func runIdle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	n := fs.Int("n", 10000, "connections")
	path := fs.String("path", "/1k", "request path")
	silent := fs.Bool("silent", false, "open the connections without sending a request (a client that connected and waits)")
	_ = fs.Parse(args)
	conns := make([]net.Conn, 0, *n)
	var mu sync.Mutex
	var failed atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	req := []byte("GET " + *path + " HTTP/1.1\r\nHost: bench\r\n\r\n")
	for range 64 {
		wg.Go(func() {
			for next.Add(1) <= int64(*n) {
				c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
				if err != nil {
					failed.Add(1)
					continue
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if *silent {
					err = nil
				} else if _, err = c.Write(req); err == nil {
					var r *http.Response
					if r, err = http.ReadResponse(bufio.NewReaderSize(c, 4096), nil); err == nil {
						_, err = io.Copy(io.Discard, r.Body)
						r.Body.Close()
					}
				}
				if err != nil {
					failed.Add(1)
					c.Close()
					continue
				}
				_ = c.SetDeadline(time.Time{})
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Printf("READY %d %d\n", len(conns), failed.Load())
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return nil
}
