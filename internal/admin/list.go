package admin

import (
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Page sizes of Kong's admin API (endpoints.lua extract_options).
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// listQuery is what a collection GET asks for: Kong's size, offset and tags arguments.
type listQuery struct {
	size    int
	rawSize string // as given, for `next` ("" = not given)
	start   string // decoded offset: the sort key the page starts at ("" = first page)
	rawTags string // as given, for `next`
	tags    []string
	anyTag  bool // tags=a/b (OR) rather than tags=a,b (AND)
}

// parseList reads size, offset and (when the collection has tags) tags, with Kong's errors:
// code 9 for a bad size, 7 for an offset that is not base64, 11 for a bad tags filter.
func parseList(r *http.Request, withTags bool) (listQuery, *apiError) {
	q := r.URL.Query()
	lq := listQuery{size: defaultPageSize}
	if q.Has("size") {
		lq.rawSize = q.Get("size")
		// Kong reads size with Lua's tonumber, then wants an integer in range.
		f, err := strconv.ParseFloat(strings.TrimSpace(lq.rawSize), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return lq, codeError(400, codeInvalidSize, "invalid size", "size must be a number")
		}
		if f != math.Floor(f) || f < 1 || f > maxPageSize {
			return lq, codeError(400, codeInvalidSize, "invalid size",
				"size must be an integer between 1 and "+strconv.Itoa(maxPageSize))
		}
		lq.size = int(f)
	}
	if q.Has("offset") {
		raw := q.Get("offset")
		tok, ok := decodeOffset(raw)
		if !ok {
			return lq, codeError(400, codeInvalidOffset, "invalid offset",
				"'"+raw+"' is not a valid offset: bad base64 encoding")
		}
		lq.start = tok
	}
	if withTags && q.Has("tags") {
		lq.rawTags = q.Get("tags")
		tags, anyTag, msg := parseTags(lq.rawTags)
		if msg != "" {
			return lq, codeError(400, codeInvalidOptions, "invalid options",
				"invalid option (tags: "+msg+")", kv{"options", obj{{"tags", msg}}})
		}
		lq.tags, lq.anyTag = tags, anyTag
	}
	return lq, nil
}

// parseTags is Kong's tags filter: "a,b" means every tag, "a/b" any of them; tags are printable
// ASCII except ',' and '/', or UTF-8 bytes; at most five.
func parseTags(s string) (tags []string, anyTag bool, msg string) {
	sep := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == '/':
			if sep != 0 && sep != c {
				return nil, false, "invalid filter syntax"
			}
			sep = c
		case c >= 0x20 && c <= 0x7e, c >= 0x80 && c <= 0xf4:
		default:
			return nil, false, "invalid filter syntax"
		}
	}
	parts := []string{s}
	if sep != 0 {
		parts = strings.Split(s, string(sep))
	}
	for i, p := range parts {
		// Kong's patterns allow one trailing separator ("a,") but no empty tag elsewhere.
		if p == "" && !(i == len(parts)-1 && i > 0) {
			return nil, false, "invalid filter syntax"
		}
		if p != "" {
			tags = append(tags, p)
		}
	}
	if len(tags) > 5 {
		return nil, false, "cannot query more than 5 tags"
	}
	return tags, sep == '/', ""
}

// match applies the tags filter to an entity's tags.
func (lq *listQuery) match(tags []string) bool {
	if len(lq.tags) == 0 {
		return true
	}
	for _, t := range lq.tags {
		has := slices.Contains(tags, t)
		if lq.anyTag && has {
			return true
		}
		if !lq.anyTag && !has {
			return false
		}
	}
	return !lq.anyTag
}

// The offset is opaque to clients, as Kong's: the base64 of the sort key the next page starts
// at. Keys rather than positions keep paging stable when a reload changes the collection.
func encodeOffset(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeOffset(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b), true
		}
	}
	return "", false
}

// item is one element of a listing: its sort key and its JSON.
type item struct {
	key string
	v   any
}

// writePage cuts the page lq asks for out of items (sorted by key) and writes Kong's body:
// {"data": [...], "offset": "...", "next": "..."}, or "next": null on the last page. next is the
// path of the next page without its offset; topLevel adds the tags and size arguments as
// Kong's top-level collections do (nested ones drop them, as Kong's do).
func writePage(w http.ResponseWriter, r *http.Request, lq listQuery, items []item, topLevel bool) {
	start := sort.Search(len(items), func(i int) bool { return items[i].key >= lq.start })
	end := min(start+lq.size, len(items))
	data := make([]any, 0, end-start)
	for _, it := range items[start:end] {
		data = append(data, it.v)
	}
	body := obj{{"data", data}}
	if end < len(items) {
		off := encodeOffset(items[end].key)
		next := strings.TrimRight(r.URL.EscapedPath(), "/") + "?offset=" + url.QueryEscape(off)
		if topLevel {
			if lq.rawTags != "" {
				next += "&tags=" + url.QueryEscape(lq.rawTags)
			}
			if lq.rawSize != "" {
				next += "&size=" + url.QueryEscape(lq.rawSize)
			}
		}
		body = append(body, kv{"offset", off}, kv{"next", next})
	} else {
		body = append(body, kv{"next", nil})
	}
	writeJSON(w, http.StatusOK, body)
}

// listRows renders rows (sorted by id) that pass the tags filter as one page.
func (h *handler) listRows(w http.ResponseWriter, r *http.Request, v viewer, rows []*row, topLevel bool) {
	lq, err := parseList(r, true)
	if err != nil {
		err.write(w)
		return
	}
	items := make([]item, 0, len(rows))
	for _, rw := range rows {
		if lq.match(rw.tags) {
			items = append(items, item{key: rw.id, v: lazyView{v, rw}})
		}
	}
	writePage(w, r, lq, items, topLevel)
}

// lazyView renders a row only when written, so that a page of 100 out of 100 000 entities
// renders 100.
type lazyView struct {
	v viewer
	r *row
}

func (l lazyView) MarshalJSON() ([]byte, error) { return marshalJSON(l.v.render(l.r)) }
