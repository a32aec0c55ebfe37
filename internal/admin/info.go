package admin

import (
	"maps"
	"net/http"
	"slices"
)

// root is "/": GET is the node information; any other path nobody registered is Kong's 404.
func (h *handler) root() http.Handler {
	info := methods{get: h.info}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			notFound(w)
			return
		}
		info.ServeHTTP(w, r)
	})
}

// info is Kong's GET / (kong/api/routes/kong.lua) in our words: who we are, which plugins this
// build offers with their priorities, which ones the configuration uses, and the handful of
// configuration properties clients look at (database "off" tells them to use POST /config).
func (h *handler) info(w http.ResponseWriter, r *http.Request) {
	names := h.pluginNames()
	available := make(map[string]any, len(names))
	loaded := make(map[string]any, len(names))
	for _, n := range names {
		prio := 0
		if s, ok := h.opts.Registry.Spec(n); ok {
			prio = s.Priority
		}
		available[n] = obj{{"version", h.opts.Version}, {"priority", prio}}
		loaded[n] = true
	}
	used := map[string]bool{}
	for _, p := range h.index().cfg.Plugins {
		used[p.Name] = true
	}
	enabled := slices.Sorted(maps.Keys(used))
	if enabled == nil {
		enabled = []string{}
	}
	writeJSON(w, http.StatusOK, obj{
		{"tagline", "Welcome to tollgate"},
		{"version", h.opts.Version},
		{"edition", "community"},
		{"hostname", h.opts.Hostname},
		{"node_id", h.opts.NodeID},
		// Kong shows the hash only in /status; the operators want it at a glance.
		{"configuration_hash", h.index().cfg.Hash},
		{"plugins", obj{
			{"available_on_server", available},
			{"enabled_in_cluster", enabled},
		}},
		{"configuration", obj{
			{"database", "off"},
			{"role", "traditional"},
			{"router_flavor", "traditional_compatible"},
			{"plugins", names},
			{"loaded_plugins", loaded},
		}},
	})
}

// pluginNames lists the plugins this build offers, sorted; never nil.
func (h *handler) pluginNames() []string {
	if h.opts.Registry == nil {
		return []string{}
	}
	names := h.opts.Registry.Names()
	if names == nil {
		names = []string{}
	}
	return names
}

// enabledPlugins is GET /plugins/enabled: Kong lists the plugins the node can run.
func (h *handler) enabledPlugins(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, obj{{"enabled_plugins", h.pluginNames()}})
}

// serverKeys are the counters of Kong's /status "server" object; the backend fills those it
// tracks and the others read 0, so that clients reading any of them find a number.
var serverKeys = []string{"total_requests", "connections_active", "connections_accepted",
	"connections_handled", "connections_reading", "connections_writing", "connections_waiting"}

// status is GET /status: the backend's body with Kong's server keys completed. The backend's
// map is copied, never modified.
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	src := h.opts.Backend.Status()
	out := make(map[string]any, len(src)+1)
	maps.Copy(out, src)
	server := make(map[string]any, len(serverKeys))
	for _, k := range serverKeys {
		server[k] = 0
	}
	if s, ok := src["server"].(map[string]any); ok {
		maps.Copy(server, s)
	}
	out["server"] = server
	writeJSON(w, http.StatusOK, out)
}

// tags is GET /tags and /tags/{tag}: one row per (entity, tag), Kong's tags table.
func (h *handler) tags(w http.ResponseWriter, r *http.Request) {
	lq, err := parseList(r, false)
	if err != nil {
		err.write(w)
		return
	}
	only := r.PathValue("b")
	ix, now := h.index(), h.now()
	var items []item
	for _, k := range allKinds {
		for _, rw := range ix.all(k, now) {
			for _, t := range rw.tags {
				if only != "" && t != only {
					continue
				}
				items = append(items, item{
					key: k.table + "\x00" + rw.id + "\x00" + t,
					v:   obj{{"entity_name", k.table}, {"entity_id", rw.id}, {"tag", t}},
				})
			}
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	writePage(w, r, lq, items, only == "")
}
