package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tollgate/internal/config"
)

// getConfig is GET /config: the configuration serving now as a declarative file, in Kong's
// {"config": "<yaml>"} envelope.
func (h *handler) getConfig(w http.ResponseWriter, r *http.Request) {
	ix := h.index()
	text, err := exportYAML(ix, h.now())
	if err != nil {
		h.log.Error("export configuration", "error", err)
		writeJSON(w, http.StatusInternalServerError, message("An unexpected error occurred"))
		return
	}
	writeJSON(w, http.StatusOK, obj{{"config", string(text)}})
}

// postConfig is POST /config (kong/api/routes/config.lua): replace the whole configuration.
// The answers are Kong's: 400 when empty, 400 code 14 when invalid (the old configuration keeps
// serving), 304 with check_hash=1 when nothing changed, 429 while another load runs, 201 with
// the new entities.
func (h *handler) postConfig(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge,
				message(fmt.Sprintf("declarative configuration larger than %d bytes", h.maxBody)))
			return
		}
		writeJSON(w, http.StatusBadRequest, message("failed reading the request body"))
		return
	}
	text, params := declarativeText(r, body)
	if len(bytes.TrimSpace(text)) == 0 {
		writeJSON(w, http.StatusBadRequest, message("expected a declarative configuration"))
		return
	}
	// Kong compares the hash before parsing: resending the running file is cheap.
	if params.Get("check_hash") == "1" && config.Hash(text) == h.index().cfg.Hash {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if !h.loading.TryLock() {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, message("Currently loading previous configuration"))
		return
	}
	err = h.opts.Backend.LoadBytes(text)
	h.loading.Unlock()
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			h.log.Info("POST /config rejected", "errors", len(errs))
			writeJSON(w, http.StatusBadRequest, errs.KongBody(truthy(params.Get("flatten_errors"))))
			return
		}
		// Valid by the schema but not runnable (a plugin failed to build): still the
		// operator's configuration to fix, so a 400 that says why.
		h.log.Info("POST /config rejected", "error", err)
		writeJSON(w, http.StatusBadRequest, obj{
			{"code", 14},
			{"name", "invalid declarative configuration"},
			{"message", "declarative config is invalid: " + err.Error()},
			{"fields", obj{{"error", err.Error()}}},
		})
		return
	}
	writeJSON(w, http.StatusCreated, flattened(h.index(), h.now()))
}

// declarativeText finds the configuration in a POST /config request the ways Kong accepts it:
// a JSON body that is the configuration itself, a `config` field (JSON, form or multipart) with
// the configuration as a string, or else the raw body (YAML or JSON). params are the query
// arguments plus the body's fields (Kong reads check_hash and flatten_errors from both).
func declarativeText(r *http.Request, body []byte) ([]byte, url.Values) {
	params := url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			break
		}
		for _, k := range []string{"check_hash", "flatten_errors"} {
			if raw, ok := m[k]; ok && !params.Has(k) {
				params.Set(k, jsonScalar(raw))
			}
		}
		if _, ok := m["_format_version"]; ok {
			return body, params
		}
		if raw, ok := m["config"]; ok {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return []byte(s), params
			}
			// The configuration as a JSON object rather than a string: its text is JSON.
			return raw, params
		}
	case "application/x-www-form-urlencoded":
		// A raw YAML body sent by `curl --data-binary` arrives with this type; only a body
		// that really carries a config field is read as a form.
		vals, _ := url.ParseQuery(string(body))
		if !vals.Has("config") {
			break
		}
		for k, v := range vals {
			if k != "config" && !params.Has(k) {
				params[k] = v
			}
		}
		return []byte(vals.Get("config")), params
	case "multipart/form-data":
		var text []byte
		found := false
		mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			v, err := io.ReadAll(part)
			if err != nil {
				break
			}
			switch name := part.FormName(); name {
			case "config":
				text, found = v, true
			case "check_hash", "flatten_errors":
				if !params.Has(name) {
					params.Set(name, string(v))
				}
			}
		}
		if found {
			return text, params
		}
	}
	return body, params
}

// jsonScalar renders a JSON scalar as Kong's parameter string (true -> "true", 1 -> "1").
func jsonScalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// truthy is Kong's reading of a boolean query argument.
func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// flattened is the 201 body of POST /config: the entities keyed by collection, then id.
func flattened(ix *index, now time.Time) obj {
	v := viewer{cfg: ix.cfg, now: now}
	out := obj{}
	for _, k := range allKinds {
		rows := ix.all(k, now)
		if len(rows) == 0 {
			continue
		}
		m := make(map[string]any, len(rows))
		for _, rw := range rows {
			m[rw.id] = v.render(rw)
		}
		out = append(out, kv{k.table, m})
	}
	return out
}
