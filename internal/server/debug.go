package server

import (
	"net/http"
	"net/http/pprof"
)

// debugHandler serves Go's profiles (net/http/pprof) on the debug listener, off unless
// --debug-listen names an address: the hot path is measured, not guessed, and these are the
// profiles the performance work reads (bench/profiles/). Registered on a mux of its own, not
// http.DefaultServeMux, so nothing else can expose them by accident.
func debugHandler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}
