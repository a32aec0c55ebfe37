package health

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// startLoop runs the upstream's active probes until its context ends. One loop per upstream
// ticks at the shorter configured interval and probes each target whose own interval
// (healthy or unhealthy side) has passed, at most `concurrency` at a time.
func (c *Checker) startLoop(u *upState) {
	ctx, cancel := context.WithCancel(c.ctx)
	u.cancel, u.done = cancel, make(chan struct{})
	hi := seconds(u.cfg.Active.Healthy.Interval)
	ui := seconds(u.cfg.Active.Unhealthy.Interval)
	tick := hi
	if tick == 0 || (ui > 0 && ui < tick) {
		tick = ui
	}
	conc := max(u.cfg.Active.Concurrency, 1)
	th := activeThresholds(u)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(u.done)
		tk := time.NewTicker(tick)
		defer tk.Stop()
		sem := make(chan struct{}, conc)
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tk.C:
				var due []*target
				for _, tg := range u.targets {
					tg.mu.Lock()
					iv := hi
					if !tg.healthy {
						iv = ui
					}
					if iv > 0 && now.Sub(tg.lastProbe) >= iv-tick/10 {
						tg.lastProbe = now
						due = append(due, tg)
					}
					tg.mu.Unlock()
				}
				done := make(chan struct{}, len(due))
				for _, tg := range due {
					select {
					case sem <- struct{}{}:
					case <-ctx.Done():
						return
					}
					go func() {
						defer func() { <-sem; done <- struct{}{} }()
						r := c.probe(ctx, u, tg)
						if ctx.Err() == nil {
							c.record(u, tg, &th, r.kind, "active")
						}
					}()
				}
				for range due {
					<-done
				}
			}
		}
	}()
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// activeProbe is one probe of one target: a TCP connect, or a GET of http_path.
func (c *Checker) activeProbe(ctx context.Context, u *upState, tg *target) result {
	a := u.cfg.Active
	to := seconds(a.Timeout)
	if to <= 0 {
		to = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	if a.Type == "tcp" {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", tg.addr)
		if err != nil {
			return result{kind: failureKind(err)}
		}
		_ = conn.Close()
		return result{kind: success}
	}
	scheme := "http"
	if a.Type == "https" {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+tg.addr+a.HTTPPath, nil)
	if err != nil {
		return result{kind: tcpFailure}
	}
	for k, vs := range a.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Host = tg.host
	if u.hostHeader != "" {
		req.Host = u.hostHeader
	}
	// One transport per probe: probes are rare and must never reuse a connection that
	// hides a dead target behind a pooled socket.
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{
		InsecureSkipVerify: !a.HTTPSVerifyCertificate, //nolint:gosec // Kong's https_verify_certificate
		ServerName:         a.HTTPSSNI,
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return result{kind: failureKind(err)}
	}
	_ = resp.Body.Close()
	th := activeThresholds(u)
	return result{kind: th.classify(resp.StatusCode), status: resp.StatusCode}
}

// failureKind tells a timeout from a connection failure.
func failureKind(err error) kind {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "Client.Timeout") {
		return timeout
	}
	return tcpFailure
}
