package server

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"tollgate/internal/config"
)

// WatchReload reloads the config file on SIGHUP and, when opts.Watch is set, when the file
// changes. It returns when ctx ends. A broken file is logged with every error and the last
// good config keeps serving.
func (s *Server) WatchReload(ctx context.Context) {
	file := s.opts.ConfigFile
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var werrs <-chan error
	if s.opts.Watch && file != "" {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			s.log.Warn("config file watch unavailable", "error", err)
		} else {
			defer w.Close()
			// Watch the directory: editors and config managers replace files by rename,
			// which a watch on the file itself would lose.
			if err := w.Add(filepath.Dir(file)); err != nil {
				s.log.Warn("config file watch unavailable", "error", err)
			} else {
				events, werrs = w.Events, w.Errors
			}
		}
	}
	abs, _ := filepath.Abs(file)
	// Bursts of events (write + chmod + rename) are coalesced into one reload.
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.reload("SIGHUP")
		case ev := <-events:
			if p, _ := filepath.Abs(ev.Name); p == abs && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
				debounce = time.After(100 * time.Millisecond)
			}
		case err := <-werrs:
			s.log.Warn("config file watch", "error", err)
		case <-debounce:
			debounce = nil
			s.reload("file change")
		}
	}
}

func (s *Server) reload(why string) {
	file := s.opts.ConfigFile
	if file == "" {
		s.log.Info("reload requested but no config file is set", "trigger", why)
		return
	}
	err := s.LoadFile(file)
	if err == nil {
		return
	}
	var errs config.Errors
	if errors.As(err, &errs) {
		lines := make([]string, 0, len(errs))
		for _, e := range errs {
			lines = append(lines, e.Error())
		}
		s.log.Error("config rejected, previous config keeps serving", "trigger", why, "file", file, "errors", lines)
		return
	}
	s.log.Error("config rejected, previous config keeps serving", "trigger", why, "file", file, "error", err)
}
