package server

import (
	"encoding/json"
	"net/http"
)

// statusHandler serves the status listener: GET /status answers 200 once serving, with the
// configuration hash (Kong's DB-less /status shape, reduced to what the gateway tracks, plus
// connections_parked).
func (s *Server) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.StatusBody())
	})
	return mux
}

// StatusBody is the body of GET /status on the admin and status listeners.
func (s *Server) StatusBody() map[string]any {
	snap := s.holder.Load()
	return map[string]any{
		"configuration_hash": snap.Config.Hash,
		"server": map[string]any{
			"connections_active": s.proxy.Inflight.Load(),
			// an extension of Kong's shape: keep-alive connections that gave back their
			// goroutine and buffers while they wait (park.go)
			"connections_parked": s.parker.count(),
		},
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
