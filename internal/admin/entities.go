package admin

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"tollgate/internal/config"
)

// The handlers below are Kong's generated endpoints (kong/api/endpoints.lua) for a DB-less
// node: reads answer from the index; writes do the lookups Kong does before reaching its
// read-only store (so a missing parent is still a 404) and then refuse with code 12.

// collection is /E: GET lists, POST is refused.
func (h *handler) collection(k *kind) methods {
	return methods{
		get: func(w http.ResponseWriter, r *http.Request) {
			ix, now := h.index(), h.now()
			h.listRows(w, r, viewer{cfg: ix.cfg, now: now}, ix.all(k, now), true)
		},
		post: func(w http.ResponseWriter, r *http.Request) {
			unsupported("create", k, "").write(w)
		},
	}
}

// item is /E/{b}: GET reads; PUT is refused; PATCH and DELETE look first (a missing entity is
// a 404 for PATCH and a no-op 204 for DELETE, as Kong's DAO answers).
func (h *handler) item(k *kind) methods {
	find := func(w http.ResponseWriter, r *http.Request) (*index, *row, string, bool) {
		ix := h.index()
		rw, by, err := ix.lookup(k, r.PathValue("b"), h.now())
		if err != nil {
			err.write(w)
			return nil, nil, "", false
		}
		return ix, rw, by, true
	}
	return methods{
		get: func(w http.ResponseWriter, r *http.Request) {
			ix, rw, _, ok := find(w, r)
			if !ok {
				return
			}
			if rw == nil {
				notFound(w)
				return
			}
			writeJSON(w, http.StatusOK, viewer{cfg: ix.cfg, now: h.now()}.render(rw))
		},
		put: func(w http.ResponseWriter, r *http.Request) {
			if _, _, by, ok := find(w, r); ok {
				unsupported("create or update", k, by).write(w)
			}
		},
		patch: func(w http.ResponseWriter, r *http.Request) {
			_, rw, by, ok := find(w, r)
			switch {
			case !ok:
			case rw == nil:
				notFound(w)
			default:
				unsupported("update", k, by).write(w)
			}
		},
		delete: func(w http.ResponseWriter, r *http.Request) {
			_, rw, by, ok := find(w, r)
			switch {
			case !ok:
			case rw == nil:
				w.WriteHeader(http.StatusNoContent)
			default:
				unsupported("remove", k, by).write(w)
			}
		},
	}
}

// parentOf resolves the {a} segment of a nested path; ok is false once an answer is written.
func (h *handler) parentOf(w http.ResponseWriter, r *http.Request, ix *index, pk *kind) (*row, bool) {
	p, _, err := ix.lookup(pk, r.PathValue("a"), h.now())
	if err != nil {
		err.write(w)
		return nil, false
	}
	if p == nil {
		notFound(w)
		return nil, false
	}
	return p, true
}

// children is /P/{a}/C: the entities of k whose foreign key field references the parent.
func (h *handler) children(pk *kind, field string, k *kind) methods {
	return methods{
		get: func(w http.ResponseWriter, r *http.Request) {
			ix, now := h.index(), h.now()
			p, ok := h.parentOf(w, r, ix, pk)
			if !ok {
				return
			}
			h.listRows(w, r, viewer{cfg: ix.cfg, now: now}, ix.childrenOf(k, field, p.id, now), false)
		},
		post: func(w http.ResponseWriter, r *http.Request) {
			if _, ok := h.parentOf(w, r, h.index(), pk); ok {
				unsupported("create", k, "").write(w)
			}
		},
	}
}

// childFinder finds the {b} child of parent p; acls are found by group within their consumer.
type childFinder func(ix *index, p *row, key string) (rw *row, by string, err *apiError)

// byLookup finds a child by {id|endpoint key}; it must reference the parent.
func (h *handler) byLookup(k *kind, field string) childFinder {
	return func(ix *index, p *row, key string) (*row, string, *apiError) {
		rw, by, err := ix.lookup(k, key, h.now())
		if err != nil || rw == nil {
			return nil, by, err
		}
		if rw.fks[field] != p.id {
			return nil, by, nil
		}
		return rw, by, nil
	}
}

// byField finds a child of p among its children by id or by a field only unique per parent
// (acl groups per consumer, targets per upstream). Kong then writes by id, so by is "".
func (h *handler) byField(k *kind, field string, match func(rw *row, key string) bool) childFinder {
	return func(ix *index, p *row, key string) (*row, string, *apiError) {
		uuid := isUUID(key)
		for _, rw := range ix.childrenOf(k, field, p.id, h.now()) {
			if uuid && rw.id == strings.ToLower(key) || !uuid && match(rw, key) {
				return rw, "", nil
			}
		}
		return nil, "", nil
	}
}

// child is /P/{a}/C/{b}. PUT only needs the parent (it would create); PATCH and DELETE need
// the child under that parent.
func (h *handler) child(pk *kind, k *kind, find childFinder) methods {
	both := func(w http.ResponseWriter, r *http.Request) (*index, *row, string, bool) {
		ix := h.index()
		p, ok := h.parentOf(w, r, ix, pk)
		if !ok {
			return nil, nil, "", false
		}
		rw, by, err := find(ix, p, r.PathValue("b"))
		if err != nil {
			err.write(w)
			return nil, nil, "", false
		}
		if rw == nil {
			notFound(w)
			return nil, nil, "", false
		}
		return ix, rw, by, true
	}
	return methods{
		get: func(w http.ResponseWriter, r *http.Request) {
			if ix, rw, _, ok := both(w, r); ok {
				writeJSON(w, http.StatusOK, viewer{cfg: ix.cfg, now: h.now()}.render(rw))
			}
		},
		put: func(w http.ResponseWriter, r *http.Request) {
			ix := h.index()
			if _, ok := h.parentOf(w, r, ix, pk); !ok {
				return
			}
			by := ""
			if !isUUID(r.PathValue("b")) {
				by = k.key
			}
			unsupported("create or update", k, by).write(w)
		},
		patch: func(w http.ResponseWriter, r *http.Request) {
			if _, _, by, ok := both(w, r); ok {
				unsupported("update", k, by).write(w)
			}
		},
		delete: func(w http.ResponseWriter, r *http.Request) {
			if _, _, by, ok := both(w, r); ok {
				unsupported("remove", k, by).write(w)
			}
		},
	}
}

// foreign is /C/{b}/P: the entity a foreign key of C references (/routes/{r}/service). Kong
// allows PUT (it would create and associate), PATCH, and no DELETE.
func (h *handler) foreign(k *kind, field string, pk *kind) methods {
	// parent returns the referenced row; nil with ok when the child has no such reference.
	parent := func(w http.ResponseWriter, r *http.Request) (*index, *row, bool) {
		ix, now := h.index(), h.now()
		c, _, err := ix.lookup(k, r.PathValue("b"), now)
		if err != nil {
			err.write(w)
			return nil, nil, false
		}
		if c == nil {
			notFound(w)
			return nil, nil, false
		}
		p := ix.tables[pk].byIDLive(c.fks[field], now)
		return ix, p, true
	}
	return methods{
		get: func(w http.ResponseWriter, r *http.Request) {
			ix, p, ok := parent(w, r)
			switch {
			case !ok:
			case p == nil:
				notFound(w)
			default:
				writeJSON(w, http.StatusOK, viewer{cfg: ix.cfg, now: h.now()}.render(p))
			}
		},
		put: func(w http.ResponseWriter, r *http.Request) {
			if _, _, ok := parent(w, r); ok {
				unsupported("create or update", pk, "").write(w)
			}
		},
		patch: func(w http.ResponseWriter, r *http.Request) {
			_, p, ok := parent(w, r)
			switch {
			case !ok:
			case p == nil:
				notFound(w)
			default:
				unsupported("update", pk, "").write(w)
			}
		},
		delete: func(w http.ResponseWriter, r *http.Request) {
			_, p, ok := parent(w, r)
			switch {
			case !ok:
			case p == nil:
				notFound(w)
			default:
				writeJSON(w, http.StatusMethodNotAllowed, message("Method not allowed"))
			}
		},
	}
}

// byIDLive is the live row with id (nil when absent); t may be nil.
func (t *table) byIDLive(id string, now time.Time) *row {
	if t == nil || id == "" {
		return nil
	}
	if rw := t.byID[id]; rw != nil && rw.live(now) {
		return rw
	}
	return nil
}

// consumers is /consumers: Kong's consumers endpoint answers ?custom_id= with the one consumer
// having it (custom_id is unique but not an endpoint key), unpaginated.
func (h *handler) consumers() methods {
	m := h.collection(kindConsumers)
	list := m.get
	m.get = func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !q.Has("custom_id") {
			list(w, r)
			return
		}
		ix, now := h.index(), h.now()
		v := viewer{cfg: ix.cfg, now: now}
		data := []any{}
		want := q.Get("custom_id")
		for _, rw := range ix.all(kindConsumers, now) {
			if c := rw.ent.(*config.Consumer); c.CustomID != "" && c.CustomID == want {
				data = append(data, v.consumer(c))
				break
			}
		}
		writeJSON(w, http.StatusOK, obj{{"data", data}, {"next", nil}})
	}
	return m
}

// matchTarget reports whether key names target rw: the target string as stored, or the same
// host and port with Kong's default port (8000) and IPv6 forms normalized.
func matchTarget(rw *row, key string) bool {
	if rw.key == key {
		return true
	}
	host, port := splitTarget(key)
	th, tp := splitTarget(rw.key)
	if port != tp {
		return false
	}
	a, errA := netip.ParseAddr(host)
	b, errB := netip.ParseAddr(th)
	if errA == nil && errB == nil {
		return a == b
	}
	return strings.EqualFold(host, th)
}

// splitTarget splits "host[:port]" (IPv6 in brackets, or bare) with Kong's default port 8000.
func splitTarget(s string) (string, int) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return s, 8000
		}
		host, rest := s[1:end], s[end+1:]
		if p, ok := strings.CutPrefix(rest, ":"); ok {
			if n, err := strconv.Atoi(p); err == nil {
				return host, n
			}
		}
		return host, 8000
	}
	if strings.Count(s, ":") == 1 {
		i := strings.IndexByte(s, ':')
		if n, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i], n
		}
	}
	return s, 8000
}

// targets are Kong's custom upstream endpoints (kong/api/routes/upstreams.lua): targets are
// only reachable under their upstream, by id or by target string.
func (h *handler) targets() (list, all, one methods) {
	find := h.byField(kindTargets, "upstream", matchTarget)
	list = h.children(kindUpstreams, "upstream", kindTargets)
	all = methods{get: list.get}
	one = h.child(kindUpstreams, kindTargets, find)
	// Kong writes targets by id after finding them, so every refusal names no field; PUT
	// also needs the target to exist.
	one.put = func(w http.ResponseWriter, r *http.Request) {
		ix := h.index()
		p, ok := h.parentOf(w, r, ix, kindUpstreams)
		if !ok {
			return
		}
		if rw, _, _ := find(ix, p, r.PathValue("b")); rw == nil {
			notFound(w)
			return
		}
		unsupported("create or update", kindTargets, "").write(w)
	}
	return list, all, one
}
