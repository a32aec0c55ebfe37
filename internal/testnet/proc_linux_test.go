package testnet

import (
	"os"
	"testing"
)

func TestReadCalls(t *testing.T) {
	f, err := os.Open("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1)
	cases := []struct {
		name  string
		reads int
	}{{"none", 0}, {"one", 1}, {"ten", 10}}
	for _, tc := range cases {
		before := ReadCalls(t, 0) // reading /proc/self/io is one call of its own, or more
		for range tc.reads {
			if _, err := f.ReadAt(buf, 0); err != nil {
				t.Fatal(err)
			}
		}
		got := ReadCalls(t, 0) - before
		// ReadCalls' own read of /proc/self/io counts, and os.ReadFile may read twice
		if got < tc.reads || got > tc.reads+4 {
			t.Errorf("%s: %d calls counted for %d reads", tc.name, got, tc.reads)
		}
	}
	if self, byPID := ReadCalls(t, 0), ReadCalls(t, os.Getpid()); byPID < self {
		t.Errorf("by PID %d, by self %d", byPID, self)
	}
}
