package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"tollgate/internal/balancer"
	"tollgate/internal/upstream"
)

func TestNegotiate(t *testing.T) {
	tests := []struct{ accept, want string }{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"text/plain", "text/plain"},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"},
		{"application/xml", "application/xml"},
		{"text/*;q=0.5, application/json;q=0.4", "text/plain"},
		{"image/png", "application/json"},
		{"TEXT/PLAIN", "text/plain"},
		{"text/plain;q=0, application/json", "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			if got := negotiate([]byte(tc.accept)); got != tc.want {
				t.Errorf("negotiate(%q) = %q, want %q", tc.accept, got, tc.want)
			}
		})
	}
}

func TestAppendErrorBody(t *testing.T) {
	tests := []struct {
		accept, ctype, body string
	}{
		{"", "application/json; charset=utf-8", "{\n  \"message\":\"no \\\"Route\\\"\",\n  \"request_id\":\"abc\"\n}"},
		{"text/plain", "text/plain; charset=utf-8", "no \"Route\"\nrequest_id: abc\n"},
		{"application/xml", "application/xml; charset=utf-8", "<message>no &quot;Route&quot;</message>"},
		{"text/html", "text/html; charset=utf-8", "<p>no &quot;Route&quot;.</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			b, ct := appendErrorBody(nil, []byte(tc.accept), `no "Route"`, "abc")
			if ct != tc.ctype {
				t.Errorf("content type %q, want %q", ct, tc.ctype)
			}
			if !strings.Contains(string(b), tc.body) {
				t.Errorf("body %q lacks %q", b, tc.body)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestUpstreamStatus(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"no target", balancer.ErrNoTarget, 503},
		{"dial timeout", upstream.ErrDialTimeout, 504},
		{"deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), 504},
		{"context deadline", context.DeadlineExceeded, 504},
		{"net timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, 504},
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, 502},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, 502},
		{"closed before response", errUpstreamClosed, 502},
		{"malformed", errors.New("cannot parse response status code"), 502},
		{"body too large", errBodyTooLarge, 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, msg := upstreamStatus(tc.err); got != tc.status || msg == "" {
				t.Errorf("upstreamStatus(%v) = %d %q, want %d", tc.err, got, msg, tc.status)
			}
		})
	}
}

func TestDefaultMessage(t *testing.T) {
	for code, want := range map[int]string{400: "Bad request", 404: "Not found", 502: msgBadGateway, 503: msgUnavailable, 504: msgTimeout, 418: "The upstream server responded with 418"} {
		if got := defaultMessage(code); got != want {
			t.Errorf("defaultMessage(%d) = %q, want %q", code, got, want)
		}
	}
}
