package server

import (
	"log"
	"log/slog"
)

// slogStd gives net/http servers a *log.Logger that writes to slog at debug level (their
// messages are per-connection errors).
func slogStd(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}
