package circuit

import (
	"testing"
	"time"
)

func TestRegistryKeepsStateAcrossReloads(t *testing.T) {
	r := NewRegistry(Options{})
	cfg := Config{ConsecutiveFailures: 1, OpenFor: time.Minute}
	b := r.Get("service:a", cfg)
	tk, _ := b.Allow()
	tk.Done(false)
	if b.State() != Open {
		t.Fatalf("state %v after a failure with consecutive_failures 1", b.State())
	}
	tests := []struct {
		name     string
		cfg      Config
		wantSame bool
	}{
		{"same config: handed over, still open", cfg, true},
		{"same config with defaults spelled out", cfg.WithDefaults(), true},
		{"changed config: a new closed breaker", Config{ConsecutiveFailures: 2, OpenFor: time.Minute}, false},
	}
	for _, tc := range tests {
		got := r.Get("service:a", tc.cfg)
		if (got == b) != tc.wantSame {
			t.Fatalf("%s: same breaker = %v", tc.name, got == b)
		}
		if !tc.wantSame && got.State() != Closed {
			t.Fatalf("%s: new breaker is %v", tc.name, got.State())
		}
		b = got
	}
	r.Get("upstream:u/10.0.0.1:80", cfg)
	if n := len(r.List()); n != 2 {
		t.Fatalf("List has %d breakers", n)
	}
	if l := r.List(); l[0].Name() != "service:a" {
		t.Fatalf("List not sorted: %s first", l[0].Name())
	}
	r.Retain(map[string]bool{"service:a": true})
	if r.Lookup("upstream:u/10.0.0.1:80") != nil || r.Lookup("service:a") == nil {
		t.Fatal("Retain kept the wrong breakers")
	}
}
