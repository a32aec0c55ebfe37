package config

import (
	"strconv"
	"strings"
	"testing"
)

// bigConfig is n services, each with one route and one plugin.
func bigConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("_format_version: \"3.0\"\nservices:\n")
	for i := 0; i < n; i++ {
		s := strconv.Itoa(i)
		b.WriteString("- name: svc-" + s + "\n  url: http://backend-" + s + ".internal:8080/api\n  routes:\n  - name: route-" + s +
			"\n    paths: [/v1/" + s + "]\n    methods: [GET, POST]\n  plugins:\n  - name: rate-limiting\n    config: {minute: 10}\n")
	}
	return []byte(b.String())
}

// BenchmarkLoad10k: a config reload must stay well under a second for ten thousand services.
func BenchmarkLoad10k(b *testing.B) {
	data := bigConfig(10000)
	plugins := testPlugins()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("big.yml", data, plugins); err != nil {
			b.Fatal(err)
		}
	}
}
