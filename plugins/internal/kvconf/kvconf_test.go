package kvconf

import "testing"

func TestSplit(t *testing.T) {
	tests := []struct {
		in, name, value string
		ok              bool
	}{
		{"a:b", "a", "b", true},
		{"X-Request-Source: api-gateway", "X-Request-Source", "api-gateway", true},
		{" a :\tb ", "a", "b", true},
		{"url:http://x:1/", "url", "http://x:1/", true},
		{"a::b", "a", "b", true}, // Kong's ^([^:]+):*(.-)$ skips the colons after the first
		{"a:", "a", "", true},
		{"a", "a", "", false},
		{" a\t", "a", "", false},
		{":v", "", "v", true},
		{"", "", "", false},
	}
	for _, tt := range tests {
		n, v, ok := Split(tt.in)
		if n != tt.name || v != tt.value {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.in, n, v, tt.name, tt.value)
		}
		if ok != tt.ok {
			t.Errorf("Split(%q) ok = %v, want %v", tt.in, ok, tt.ok)
		}
	}
}

// TestHeaderRules pins Kong's validate_header_name and the RFC 9110 field-value rule.
func TestHeaderRules(t *testing.T) {
	name := map[string]bool{
		"X-Request-ID":     true,
		"x_forwarded_host": true,
		"Kong-Request-ID":  true,
		"0":                true,
		"":                 false,
		"X A":              false,
		"X(":               false,
		"(":                false,
		"a:b":              false,
		"X-Ä":              false,
		"a\tb":             false,
	}
	value := map[string]bool{
		"":                          true,
		"Bearer $(headers.x_token)": true,
		"a\tb":                      true,
		"ünïcode":                   true,
		"a\x01b":                    false,
		"a\nb":                      false,
		"a\rb":                      false,
		"a\x7fb":                    false,
	}
	for _, rule := range []struct {
		name  string
		check func(string) bool
		cases map[string]bool
	}{
		{"ValidHeaderName", ValidHeaderName, name},
		{"ValidHeaderValue", ValidHeaderValue, value},
	} {
		for in, want := range rule.cases {
			if got := rule.check(in); got != want {
				t.Errorf("%s(%q) = %v, want %v", rule.name, in, got, want)
			}
		}
	}
}
