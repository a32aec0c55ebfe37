package circuit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults filled by WithDefaults. MinRequests and Window are Hystrix's (requestVolumeThreshold,
// metrics.rollingStats.timeInMilliseconds); OpenFor is Envoy's base_ejection_time scaled to a
// whole service rather than one host, so a sick upstream gets time to drain its backlog.
const (
	DefaultMinRequests      = 20
	DefaultWindow           = 10 * time.Second
	DefaultOpenFor          = 30 * time.Second
	DefaultHalfOpenRequests = 1
)

// MinWindow is the shortest Window Validate accepts: over less than a second the ratio swings
// with every request, and the ring's buckets become too short to hold a sample.
const MinWindow = time.Second

// Config says when a breaker opens and how it recovers. It is plain data, checked by Validate
// and completed by WithDefaults; the zero value is a breaker that never opens.
type Config struct {
	// ConsecutiveFailures opens the breaker after this many failed requests in a row, like
	// Envoy's consecutive_5xx. 0 turns this trigger off.
	ConsecutiveFailures int
	// ErrorRatio opens the breaker when failures/requests over Window reach it; in (0, 1],
	// Hystrix's errorThresholdPercentage/100. 0 turns this trigger off. It is judged as each
	// failure is recorded, which keeps the sum over the ring off the path of successes: a
	// success only lowers the ratio, and when it is the one that lifts the count to MinRequests
	// the next failure opens the breaker if the ratio still holds.
	ErrorRatio float64
	// MinRequests is how many requests Window must hold before ErrorRatio is judged, so that one
	// failure out of two does not open a quiet service. Default 20 when ErrorRatio is set.
	MinRequests int
	// Window is the span ErrorRatio is measured over, at least MinWindow; default 10s. It is a
	// ring of 10 buckets of Window/10, so a result leaves the window between 9/10 of Window
	// and Window after it was recorded.
	Window time.Duration
	// OpenFor is how long the breaker fails requests fast before it lets probes through;
	// default 30s.
	OpenFor time.Duration
	// HalfOpenRequests is how many probes may be in flight at once while half-open, and how many
	// successes in a row close the breaker; default 1.
	HalfOpenRequests int
}

// Enabled reports whether any trigger is on; a disabled breaker never opens, and a caller may
// skip building one.
func (c Config) Enabled() bool { return c.ConsecutiveFailures > 0 || c.ErrorRatio > 0 }

// Validate reports every problem with c, joined, each prefixed with its field's snake_case
// name so that a config loader can prefix the path of the entity it came from.
func (c Config) Validate() error {
	var errs []error
	if c.ConsecutiveFailures < 0 {
		errs = append(errs, fmt.Errorf("consecutive_failures: must not be negative, got %d", c.ConsecutiveFailures))
	}
	// Written so that NaN fails too.
	if c.ErrorRatio != 0 && !(c.ErrorRatio > 0 && c.ErrorRatio <= 1) {
		errs = append(errs, fmt.Errorf("error_ratio: must be in (0, 1], got %v", c.ErrorRatio))
	}
	if c.MinRequests < 0 {
		errs = append(errs, fmt.Errorf("min_requests: must not be negative, got %d", c.MinRequests))
	}
	if c.Window < 0 || (c.Window > 0 && c.Window < MinWindow) {
		errs = append(errs, fmt.Errorf("window: must be at least %s, got %s", MinWindow, c.Window))
	}
	if c.OpenFor < 0 {
		errs = append(errs, fmt.Errorf("open_for: must not be negative, got %s", c.OpenFor))
	}
	if c.HalfOpenRequests < 0 {
		errs = append(errs, fmt.Errorf("half_open_requests: must not be negative, got %d", c.HalfOpenRequests))
	}
	return errors.Join(errs...)
}

// WithDefaults returns c with every unset field filled. MinRequests stays 0 while ErrorRatio
// is off, so that a config echoed back by the admin API shows no setting that does nothing.
// Values Validate would reject are replaced too, so that New never divides by zero or admits
// no probes on a config nobody validated.
func (c Config) WithDefaults() Config {
	if c.ConsecutiveFailures < 0 {
		c.ConsecutiveFailures = 0
	}
	if !(c.ErrorRatio > 0) {
		c.ErrorRatio = 0
	}
	c.ErrorRatio = math.Min(c.ErrorRatio, 1)
	if c.MinRequests < 0 {
		c.MinRequests = 0
	}
	if c.MinRequests == 0 && c.ErrorRatio > 0 {
		c.MinRequests = DefaultMinRequests
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	c.Window = max(c.Window, MinWindow)
	if c.OpenFor <= 0 {
		c.OpenFor = DefaultOpenFor
	}
	if c.HalfOpenRequests <= 0 {
		c.HalfOpenRequests = DefaultHalfOpenRequests
	}
	return c
}
