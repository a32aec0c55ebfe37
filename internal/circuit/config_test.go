package circuit

import (
	"math"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{name: "zero value", cfg: Config{}},
		{name: "full", cfg: Config{ConsecutiveFailures: 5, ErrorRatio: 0.5, MinRequests: 10,
			Window: time.Minute, OpenFor: time.Second, HalfOpenRequests: 3}},
		{name: "ratio of one", cfg: Config{ErrorRatio: 1}},
		{name: "shortest window", cfg: Config{ErrorRatio: 0.1, Window: MinWindow}},
		{name: "negative consecutive", cfg: Config{ConsecutiveFailures: -1},
			want: "consecutive_failures: must not be negative, got -1"},
		{name: "negative ratio", cfg: Config{ErrorRatio: -0.1},
			want: "error_ratio: must be in (0, 1], got -0.1"},
		{name: "ratio above one", cfg: Config{ErrorRatio: 1.5},
			want: "error_ratio: must be in (0, 1], got 1.5"},
		{name: "ratio NaN", cfg: Config{ErrorRatio: math.NaN()},
			want: "error_ratio: must be in (0, 1], got NaN"},
		{name: "ratio infinite", cfg: Config{ErrorRatio: math.Inf(1)},
			want: "error_ratio: must be in (0, 1], got +Inf"},
		{name: "negative min requests", cfg: Config{MinRequests: -2},
			want: "min_requests: must not be negative, got -2"},
		{name: "negative window", cfg: Config{Window: -time.Second},
			want: "window: must be at least 1s, got -1s"},
		{name: "window too short", cfg: Config{Window: 500 * time.Millisecond},
			want: "window: must be at least 1s, got 500ms"},
		{name: "negative open_for", cfg: Config{OpenFor: -time.Second},
			want: "open_for: must not be negative, got -1s"},
		{name: "negative half-open requests", cfg: Config{HalfOpenRequests: -1},
			want: "half_open_requests: must not be negative, got -1"},
		{
			name: "every problem, joined",
			cfg:  Config{ConsecutiveFailures: -1, ErrorRatio: 2, HalfOpenRequests: -3},
			want: "consecutive_failures: must not be negative, got -1\n" +
				"error_ratio: must be in (0, 1], got 2\n" +
				"half_open_requests: must not be negative, got -3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("no error, want %q", tt.want)
			case tt.want != "" && err.Error() != tt.want:
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		want     Config
		disabled bool
	}{
		{
			name: "zero value: no trigger, no MinRequests",
			cfg:  Config{},
			want: Config{Window: 10 * time.Second, OpenFor: 30 * time.Second, HalfOpenRequests: 1},
			// The zero value stays disabled.
			disabled: true,
		},
		{
			name: "ratio set: MinRequests defaults to 20",
			cfg:  Config{ErrorRatio: 0.5},
			want: Config{ErrorRatio: 0.5, MinRequests: 20, Window: 10 * time.Second,
				OpenFor: 30 * time.Second, HalfOpenRequests: 1},
		},
		{
			name: "set fields are kept",
			cfg: Config{ConsecutiveFailures: 7, ErrorRatio: 0.3, MinRequests: 5,
				Window: time.Minute, OpenFor: 5 * time.Second, HalfOpenRequests: 4},
			want: Config{ConsecutiveFailures: 7, ErrorRatio: 0.3, MinRequests: 5,
				Window: time.Minute, OpenFor: 5 * time.Second, HalfOpenRequests: 4},
		},
		{
			name: "invalid values become safe ones",
			cfg: Config{ConsecutiveFailures: -1, ErrorRatio: 3, MinRequests: -1,
				Window: time.Millisecond, OpenFor: -1, HalfOpenRequests: -1},
			want: Config{ErrorRatio: 1, MinRequests: 20, Window: time.Second,
				OpenFor: 30 * time.Second, HalfOpenRequests: 1},
		},
		{
			name:     "NaN ratio is off",
			cfg:      Config{ErrorRatio: math.NaN()},
			want:     Config{Window: 10 * time.Second, OpenFor: 30 * time.Second, HalfOpenRequests: 1},
			disabled: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.WithDefaults()
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if again := got.WithDefaults(); again != got {
				t.Errorf("not idempotent: %+v", again)
			}
			if got.Enabled() == tt.disabled {
				t.Errorf("Enabled() = %v", got.Enabled())
			}
			if err := got.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	tests := []struct {
		cfg  Config
		want bool
	}{
		{Config{}, false},
		{Config{MinRequests: 5, Window: time.Minute, OpenFor: time.Second, HalfOpenRequests: 2}, false},
		{Config{ConsecutiveFailures: 1}, true},
		{Config{ErrorRatio: 0.1}, true},
	}
	for _, tt := range tests {
		if got := tt.cfg.Enabled(); got != tt.want {
			t.Errorf("%+v.Enabled() = %v, want %v", tt.cfg, got, tt.want)
		}
	}
}
