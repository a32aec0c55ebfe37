package config

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestDbgCorpus(t *testing.T) {
	files, _ := filepath.Glob("/root/.cache/go-build/fuzz/tollgate/internal/config/FuzzLoad/*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		// corpus files: "go test fuzz v1\n[]byte(\"...\")"
		s := string(b)
		i := len("go test fuzz v1\n[]byte(")
		q, err := strconv.Unquote(s[i : len(s)-2])
		if err != nil { t.Log(err); continue }
		start := time.Now()
		Load("f", []byte(q), testPlugins())
		if el := time.Since(start); el > 50*time.Millisecond {
			t.Logf("%s %v %q", filepath.Base(f), el, q[:min(len(q), 300)])
		}
	}
}
