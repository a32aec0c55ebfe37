package admin

import (
	"net/http"
	"time"
)

// CircuitBackend is what a Backend offers when it runs circuit breakers (the circuit_breaker
// extension): their state, and a hand-made reset.
type CircuitBackend interface {
	CircuitBreakers() []CircuitBreaker
	ResetCircuitBreaker(name string) bool
}

// CircuitBreaker is one breaker as GET /circuit-breakers shows it.
type CircuitBreaker struct {
	Name                string // "service:NAME" or "upstream:NAME/HOST:PORT"
	State               string // closed, open, half_open
	Since               time.Time
	Reason              string
	ConsecutiveFailures int
	WindowRequests      int
	WindowFailures      int
	RetryAt             time.Time // zero unless open
}

// circuitBreakers is GET /circuit-breakers: every breaker of the running config, by name, in
// the list shape the other collections use. An extension: Kong has no breakers.
func (h *handler) circuitBreakers(w http.ResponseWriter, r *http.Request) {
	data := []any{}
	if cb, ok := h.opts.Backend.(CircuitBackend); ok {
		for _, b := range cb.CircuitBreakers() {
			o := obj{{"name", b.Name}, {"state", b.State}, {"since", b.Since.Unix()}, {"reason", b.Reason},
				{"consecutive_failures", b.ConsecutiveFailures},
				{"window", obj{{"requests", b.WindowRequests}, {"failures", b.WindowFailures}}}}
			if !b.RetryAt.IsZero() {
				o = append(o, kv{"retry_at", b.RetryAt.Unix()})
			} else {
				o = append(o, kv{"retry_at", nil})
			}
			data = append(data, o)
		}
	}
	writeJSON(w, http.StatusOK, obj{{"data", data}, {"next", nil}})
}

// resetCircuitBreaker is POST /circuit-breakers/{b}/reset: closes the breaker by hand (204),
// 404 when no breaker has that name.
func (h *handler) resetCircuitBreaker(w http.ResponseWriter, r *http.Request) {
	cb, ok := h.opts.Backend.(CircuitBackend)
	if !ok || !cb.ResetCircuitBreaker(r.PathValue("b")) {
		writeJSON(w, http.StatusNotFound, obj{{"message", "Not found"}})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
