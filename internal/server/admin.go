package server

import (
	"net/http"
	"os"

	"tollgate/internal/admin"
	"tollgate/internal/config"
)

// adminHandler wires the admin API to this server: reads come from the current snapshot's
// config, POST /config goes through the same load path as a reload.
func (s *Server) adminHandler() http.Handler {
	host, _ := os.Hostname()
	return admin.New(admin.Options{
		Backend:  adminBackend{s},
		Version:  s.opts.Version,
		NodeID:   s.opts.NodeID,
		Hostname: host,
		Registry: s.opts.Registry,
		Log:      s.log,
	})
}

type adminBackend struct{ s *Server }

func (b adminBackend) Config() *config.Config { return b.s.holder.Load().Config }
func (b adminBackend) LoadBytes(data []byte) error {
	return b.s.LoadBytes("POST /config", data)
}
func (b adminBackend) Status() map[string]any { return b.s.StatusBody() }
