package config

// Resilience settings Kong has no field for: documented extensions (docs/config.md,
// "Extensions"). They are plain records on services and upstreams, so a kong.yml without them
// loads unchanged, and a file using them says so in the same place as the rest of the entity.

// CircuitBreaker is the `circuit_breaker` record. On a service it guards the service as a
// whole (the outcome of each request, after retries); on an upstream every target gets a
// breaker of its own (the outcome of each try), and a target whose breaker is open is
// skipped as if unhealthy until its half-open probes succeed.
type CircuitBreaker struct {
	// ConsecutiveFailures opens the circuit after that many failures in a row (0: off).
	ConsecutiveFailures int `json:"consecutive_failures" yaml:"consecutive_failures"`
	// ErrorRatio opens it when failures/requests over Window reach it (0: off), once
	// MinRequests requests were seen in the window.
	ErrorRatio  float64 `json:"error_ratio" yaml:"error_ratio"`
	MinRequests int     `json:"min_requests" yaml:"min_requests"`
	// Window is in seconds (default 10); OpenTimeout is how long the circuit stays open
	// before half-open probes, in seconds (default 30).
	Window      float64 `json:"window" yaml:"window"`
	OpenTimeout float64 `json:"open_timeout" yaml:"open_timeout"`
	// HalfOpenRequests probes are let through at once when half-open; as many successes
	// close the circuit (default 1).
	HalfOpenRequests int `json:"half_open_requests" yaml:"half_open_requests"`
	// HTTPStatuses are the upstream statuses that count as failures, besides connection
	// errors and timeouts, which always do (default 500, 502, 503, 504).
	HTTPStatuses []int `json:"http_statuses" yaml:"http_statuses"`
}

// RetryBudget is the service's `retry_budget` record, Envoy's retry budget: retries in flight
// may not exceed Percent of the service's requests in flight, or MinConcurrency, whichever is
// larger, so that during an outage retries cannot multiply the load on what is left.
type RetryBudget struct {
	Percent        float64 `json:"percent" yaml:"percent"`                 // default 20
	MinConcurrency int     `json:"min_concurrency" yaml:"min_concurrency"` // default 3
}

// DefaultRetryBudget is Envoy's default budget, applied to every service that sets none.
func DefaultRetryBudget() RetryBudget { return RetryBudget{Percent: 20, MinConcurrency: 3} }

func defaultCircuitBreaker() *CircuitBreaker {
	return &CircuitBreaker{Window: 10, OpenTimeout: 30, HalfOpenRequests: 1, HTTPStatuses: []int{500, 502, 503, 504}}
}

// circuitBreaker reads a circuit_breaker record; nil when absent or null.
func circuitBreaker(r *rec) *CircuitBreaker {
	if r.null("circuit_breaker") {
		r.lookup("circuit_breaker")
		return nil
	}
	cr := r.record("circuit_breaker")
	if cr == nil {
		return nil
	}
	cb := defaultCircuitBreaker()
	if v, ok := cr.integer("consecutive_failures", 0, 1<<20); ok {
		cb.ConsecutiveFailures = v
	}
	if v, ok := cr.number("error_ratio", 0, 1); ok {
		cb.ErrorRatio = v
	}
	if v, ok := cr.integer("min_requests", 1, 1<<20); ok {
		cb.MinRequests = v
	}
	if v, ok := cr.number("window", 1, 3600); ok {
		cb.Window = v
	}
	if v, ok := cr.number("open_timeout", 0.01, 86400); ok {
		cb.OpenTimeout = v
	}
	if v, ok := cr.integer("half_open_requests", 1, 1000); ok {
		cb.HalfOpenRequests = v
	}
	statuses(cr, &cb.HTTPStatuses)
	if cb.ConsecutiveFailures == 0 && cb.ErrorRatio == 0 {
		r.errf("circuit_breaker", r.lineOf("circuit_breaker"), "at least one of 'consecutive_failures', 'error_ratio' must be set")
	}
	if cb.ErrorRatio > 0 && cb.MinRequests == 0 {
		cb.MinRequests = 20
	}
	cr.finish()
	return cb
}

// retryBudget reads a service's retry_budget record over the default; nil when absent.
func retryBudget(r *rec) *RetryBudget {
	br := r.record("retry_budget")
	if br == nil {
		return nil
	}
	b := DefaultRetryBudget()
	if v, ok := br.number("percent", 0, 100); ok {
		b.Percent = v
	}
	if v, ok := br.integer("min_concurrency", 0, 1<<20); ok {
		b.MinConcurrency = v
	}
	br.finish()
	return &b
}
