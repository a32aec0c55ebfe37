package proxy

import (
	"reflect"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestFastRespHeaderSetCookie(t *testing.T) {
	var h fasthttp.ResponseHeader
	h.Add("Set-Cookie", "a=1; Path=/")
	h.Add("Set-Cookie", "b=2; HttpOnly")
	h.Add("X-Multi", "x")
	h.Add("X-Multi", "y")
	a := fastRespHeader{&h}
	tests := []struct {
		name string
		want []string
	}{
		{"Set-Cookie", []string{"a=1; Path=/", "b=2; HttpOnly"}},
		{"set-cookie", []string{"a=1; Path=/", "b=2; HttpOnly"}},
		{"X-Multi", []string{"x", "y"}},
		{"X-None", nil},
	}
	for _, tc := range tests {
		if got := a.Values(tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Values(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := string(a.Peek("Set-Cookie")); got != "a=1; Path=/" {
		t.Errorf("Peek(Set-Cookie) = %q", got)
	}
}
