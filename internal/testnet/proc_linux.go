package testnet

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// ReadCalls returns how many read(2)-family system calls process pid (0: this one) has made,
// the kernel's syscr count in /proc/PID/io. Socket calls of the recv family do not count.
func ReadCalls(t testing.TB, pid int) int {
	t.Helper()
	p := "/proc/self/io"
	if pid != 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/io"
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no syscr in " + p)
	return 0
}
