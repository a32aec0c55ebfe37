package main

import (
	"slices"
	"testing"
)

func TestParseBenchmem(t *testing.T) {
	tests := []struct {
		name          string
		out           string
		allocs, bytes int
		ok            bool
	}{
		{"go test output", "goos: linux\nBenchmarkProxyFast-2   \t   20000\t     18411 ns/op\t      39 B/op\t       1 allocs/op\nPASS\n", 1, 39, true},
		{"zero", "BenchmarkProxyFast-8 100 5 ns/op 0 B/op 0 allocs/op\n", 0, 0, true},
		{"no benchmem", "BenchmarkProxyFast-2 20000 18411 ns/op\nPASS\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b, ok := parseBenchmem(tc.out)
			if a != tc.allocs || b != tc.bytes || ok != tc.ok {
				t.Errorf("got %d allocs, %d B, %v; want %d, %d, %v", a, b, ok, tc.allocs, tc.bytes, tc.ok)
			}
		})
	}
}

// TestScenarioTargets: -compare and -floor put their targets beside plain Tollgate, and
// nowhere else (not in the 10k-route or plugin scenarios, no floor over HTTP/2).
func TestScenarioTargets(t *testing.T) {
	tests := []struct {
		name          string
		compare       string
		floor         bool
		scenario      string
		want, wantNot []string
	}{
		{"plain", "", false, "a", []string{"tollgate", "nginx"}, []string{"tollgate-b", "fasthttp-min"}},
		{"compare", "/x/tollgate", false, "a", []string{"tollgate", "tollgate-b"}, []string{"fasthttp-min"}},
		{"floor", "", true, "b", []string{"fasthttp-min"}, []string{"tollgate-b"}},
		{"no floor over HTTP/2", "", true, "d", []string{"tollgate"}, []string{"fasthttp-min"}},
		{"not beside the 10k routes", "/x/tollgate", true, "e", []string{"tollgate-10k"}, []string{"tollgate-b", "fasthttp-min"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{cfg: config{scenarios: tc.scenario, compare: tc.compare, floor: tc.floor}}
			ss := h.scenarios()
			if len(ss) != 1 {
				t.Fatalf("%d scenarios", len(ss))
			}
			for _, n := range tc.want {
				if !slices.Contains(ss[0].targets, n) {
					t.Errorf("targets %v lack %s", ss[0].targets, n)
				}
			}
			for _, n := range tc.wantNot {
				if slices.Contains(ss[0].targets, n) {
					t.Errorf("targets %v include %s", ss[0].targets, n)
				}
			}
		})
	}
	// the shared scenario table is never changed
	if slices.Contains(allScenarios[0].targets, "tollgate-b") {
		t.Error("allScenarios was modified")
	}
}
