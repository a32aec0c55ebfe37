package main

import (
	"os"
	"slices"
	"testing"
	"time"
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
		{"plain", "", false, "a", []string{"tollgate", "nginx"}, []string{"tollgate-b", "fasthttp-min", "codec-min", "tollgate-fasthttp"}},
		{"compare", "/x/tollgate", false, "a", []string{"tollgate", "tollgate-b"}, []string{"fasthttp-min", "codec-min"}},
		{"floor and fasthttp", "", true, "b", []string{"fasthttp-min", "codec-min", "tollgate-fasthttp"}, []string{"tollgate-b"}},
		{"no floor or fasthttp over HTTP/2", "", true, "d", []string{"tollgate"}, []string{"fasthttp-min", "codec-min", "tollgate-fasthttp"}},
		{"not beside the 10k routes", "/x/tollgate", true, "e", []string{"tollgate-10k"}, []string{"tollgate-b", "fasthttp-min", "codec-min", "tollgate-fasthttp"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{cfg: config{scenarios: tc.scenario, compare: tc.compare, floor: tc.floor, fasthttp: tc.floor}}
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

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name      string
		stat      string
		user, sys int64
	}{
		{"plain", "4242 (tollgate) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 7 0 100 0 0", 1234, 567},
		// the command name may hold spaces and parentheses
		{"odd name", "77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 9 8 0 0 20 0 1 0 1 0 0", 9, 8},
		{"short", "77 (x) R 1 2", 0, 0},
		{"no name", "garbage", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, s := parseStatTicks(tc.stat)
			if u != tc.user || s != tc.sys {
				t.Errorf("got %d, %d; want %d, %d", u, s, tc.user, tc.sys)
			}
		})
	}
}

func TestParseSwitches(t *testing.T) {
	tests := []struct {
		name   string
		status string
		want   int64
	}{
		{"both", "Name:\ttollgate\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n", 127},
		{"one", "voluntary_ctxt_switches:\t5\n", 5},
		{"none", "Name:\tx\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseSwitches(tc.status); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCPUOfSelf reads this test process: once it has burnt a clock tick of CPU, cpuOf sees it,
// and it has switched at least once (the sleeps).
func TestCPUOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skipf("os.Stat(/proc/self/stat): %v: needs Linux's /proc", err)
	}
	x := 0
	var c procCPU
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		for i := range 1_000_000 {
			x += i
		}
		time.Sleep(time.Millisecond)
		if c = cpuOf(os.Getpid()); c.total() > 0 && c.switches > 0 {
			return
		}
	}
	t.Errorf("cpuOf(self) = %+v after 3 s of spinning (x=%d)", c, x)
}
