package config

import (
	"errors"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"
)

var testNow = time.Unix(1700000000, 0)

// loadTest loads src as "kong.yml" with the fake plugins, a fixed clock and a seeded random
// source, so that random ids (and the messages naming them) are stable.
func loadTest(t *testing.T, src string) (*Config, Errors) {
	t.Helper()
	cfg, err := load("kong.yml", []byte(src), testPlugins(), testNow, mrand.NewChaCha8([32]byte{}))
	if err == nil {
		return cfg, nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	return nil, es
}

// mustLoad loads src and fails the test on any error.
func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	cfg, errs := loadTest(t, src)
	if errs != nil {
		t.Fatalf("unexpected errors:\n%v", errs)
	}
	return cfg
}

// errLines loads src and returns its errors as text lines.
func errLines(t *testing.T, src string) []string {
	t.Helper()
	_, errs := loadTest(t, src)
	if errs == nil {
		return nil
	}
	return strings.Split(errs.Error(), "\n")
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
