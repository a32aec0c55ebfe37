package h1

import (
	"strings"
	"unsafe"

	"tollgate/internal/edge"
)

// Header is a list of header fields that the gateway builds and edits: the request it sends
// upstream. Names keep the case they were given, as nginx passes them; look-ups ignore case.
// A value the caller owns (a scratch buffer, a plugin's string) is copied into one arena
// owned by the Header, so a Header reused through Reset does not allocate. Bytes that cannot
// change while the Header holds them are referred to, not copied: names passed as strings
// (Set, Add, SetTrusted, AddTrusted), and the client's fields, which stay in the engine's read buffer until
// the handler returns (AddFieldsNoCopy, AddTrustedNoCopy). In the proxy's profile the copies
// were the Header's largest cost: most fields are the client's, and most names constants.
// The arena grows by append, so a field that refers to an older, smaller arena stays valid.
//
// Slices that the Header returns are read-only: some are a string's bytes.
//
// fasthttp's header types, which this replaces on the codec's path, normalise every name on
// every call and search their fields twice per set (ADR 0002, step 3). The gateway's headers
// hold a dozen fields, so a linear walk comparing lengths first is the fastest look-up there
// is, and editing in place keeps the client's order.
type Header struct {
	kv  []hfield
	buf []byte
}

type hfield struct {
	name, value []byte
	// bad marks a name that is not a token, which AppendTo leaves out: only Add and Set,
	// the plugins' calls, can store one
	bad bool
}

// Reset empties h, keeping its memory.
func (h *Header) Reset() {
	clear(h.kv) // drops the references to buffers the Header does not own
	h.kv = h.kv[:0]
	h.buf = h.buf[:0]
}

// put copies b into the arena. Control bytes other than HTAB (CR and LF above all) become
// spaces when clean is set, so that no value set by a plugin can start a field or a message
// of its own on the wire.
func (h *Header) put(b []byte, clean bool) []byte {
	if h.buf == nil {
		h.buf = make([]byte, 0, 512)
	}
	at := len(h.buf)
	h.buf = append(h.buf, b...)
	if clean && !edge.ValidValue(b) { // eight bytes at a time; most values are clean
		for i, c := range h.buf[at:] {
			if (c < ' ' && c != '\t') || c == 0x7f {
				h.buf[at+i] = ' '
			}
		}
	}
	return h.buf[at:len(h.buf):len(h.buf)]
}

// AddFields appends fields parsed by edge.Policy.ParseRequest or ReadResponseHead. They
// passed the edge rules, so they are copied without another scan.
func (h *Header) AddFields(fs []edge.Field) {
	for _, f := range fs {
		h.kv = append(h.kv, hfield{name: h.put(f.Name, false), value: h.put(f.Value, false)})
	}
}

// AddFieldsFrom is AddFields for fields parsed from head, the bytes of the head they came
// from (ResponseHead.Raw): head is copied once and the fields refer to the copy, one copy
// instead of two per field. In the proxy's profile the per-field copies of each upstream
// response's fields cost about 300 instructions a request. A field that does not lie in
// head is copied on its own.
func (h *Header) AddFieldsFrom(head []byte, fs []edge.Field) {
	base := h.put(head, false)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(head)))
	for _, f := range fs {
		h.kv = append(h.kv, hfield{name: h.rebase(base, start, f.Name), value: h.rebase(base, start, f.Value)})
	}
}

// rebase returns where b's bytes are in base, a copy of the bytes from address start on; or,
// when b does not lie there, a copy of its own.
func (h *Header) rebase(base []byte, start uintptr, b []byte) []byte {
	if len(b) == 0 {
		return base[:0:0]
	}
	off := uintptr(unsafe.Pointer(unsafe.SliceData(b))) - start // wraps when b lies before
	if off >= uintptr(len(base)) || uintptr(len(base))-off < uintptr(len(b)) {
		return h.put(b, false)
	}
	return base[off : off+uintptr(len(b)) : off+uintptr(len(b))]
}

// AddFieldsNoCopy is AddFields without the copy: fs's bytes must stay unchanged while h
// holds them, as a request head does in the engine's read buffer until its handler returns.
func (h *Header) AddFieldsNoCopy(fs []edge.Field) {
	for _, f := range fs {
		h.kv = append(h.kv, hfield{name: f.Name, value: f.Value})
	}
}

// Add appends a field. A value's control bytes become spaces; a name that is not a token is
// kept for look-ups but never written. The name is not copied: a string does not change (one
// made with unsafe over a buffer that does is not a string the gateway's callers pass), and
// the names plugins pass are their configs'. The copy was a tenth of a plugin's Set.
func (h *Header) Add(name, value string) {
	h.kv = append(h.kv, hfield{name: s2b(name), value: h.put(s2b(value), true), bad: !edge.ValidToken(s2b(name))})
}

// AddBytes is Add for bytes, which are copied.
func (h *Header) AddBytes(name, value []byte) {
	h.kv = append(h.kv, hfield{name: h.put(name, false), value: h.put(value, true), bad: !edge.ValidToken(name)})
}

// AddTrusted appends a field whose name the caller knows is a token and whose value has no
// control bytes but HTAB: a field the gateway makes from checked values. It skips Add's
// scans, which cost more than the copy. The value is copied; the name, as SetTrusted's, is
// not.
func (h *Header) AddTrusted(name string, value []byte) {
	h.kv = append(h.kv, hfield{name: s2b(name), value: h.put(value, false)})
}

// Tail returns an empty slice over the arena's unused capacity, for the caller to build a
// value on with appends and then hand to AddTrustedBuilt, which keeps it where it was built,
// or to SetTrusted. Building in place spares the copy AddTrusted makes of a value built
// elsewhere: the proxy builds several of the fields it adds to every request. h must not
// change between Tail and the add.
func (h *Header) Tail() []byte {
	if h.buf == nil {
		h.buf = make([]byte, 0, 512)
	}
	return h.buf[len(h.buf):len(h.buf)]
}

// AddTrustedBuilt is AddTrusted for a value built on Tail's slice. A value that outgrew the
// arena while it was built (append moved it) is copied in, so that the arena grows and the
// next value of that size fits.
func (h *Header) AddTrustedBuilt(name string, v []byte) {
	h.kv = append(h.kv, hfield{name: s2b(name), value: h.claim(v)})
}

// claim makes v, built on Tail's slice, part of the arena, and returns it capped.
func (h *Header) claim(v []byte) []byte {
	if free := h.buf[len(h.buf):cap(h.buf)]; len(v) <= len(free) && unsafe.SliceData(v) == unsafe.SliceData(free) {
		h.buf = h.buf[:len(h.buf)+len(v)]
		return v[:len(v):len(v)]
	}
	return h.put(v, false)
}

// AddTrustedNoCopy is AddTrusted without the copies, under AddFieldsNoCopy's condition.
func (h *Header) AddTrustedNoCopy(name, value []byte) {
	h.kv = append(h.kv, hfield{name: name, value: value})
}

// Set replaces every field named name by one with value, where the first of them was, or
// appends it; the value and name are treated as Add treats them (the name is not copied).
func (h *Header) Set(name, value string) { h.set(name, s2b(value), true) }

// SetBytes is Set with the value as bytes, which are copied.
func (h *Header) SetBytes(name string, value []byte) { h.set(name, value, true) }

// SetTrusted is Set for a field as AddTrusted takes it. The name is not copied (a string
// does not change), so it must be a real string, not a view of bytes that will.
func (h *Header) SetTrusted(name string, value []byte) { h.set(name, value, false) }

func (h *Header) set(name string, value []byte, check bool) {
	i := h.index(name, 0)
	if i < 0 {
		if check {
			// a plugin's name: checked, not copied (see Add)
			h.kv = append(h.kv, hfield{name: s2b(name), value: h.put(value, true), bad: !edge.ValidToken(s2b(name))})
		} else {
			h.kv = append(h.kv, hfield{name: s2b(name), value: h.put(value, false)})
		}
		return
	}
	h.kv[i].value = h.put(value, check)
	h.delFrom(name, i+1)
}

// Del removes every field named name.
func (h *Header) Del(name string) { h.delFrom(name, 0) }

// delFrom removes the fields named name at index i and after; the arena keeps their bytes
// until Reset. Fields before the first match stay where they are: most calls (Set's, after
// the field it replaced) find none, and moving the fields, which hold pointers, costs more
// than comparing them.
func (h *Header) delFrom(name string, i int) {
	if i = h.index(name, i); i < 0 {
		return
	}
	out := i
	for i++; i < len(h.kv); i++ {
		if h.is(i, name) {
			continue
		}
		h.kv[out] = h.kv[i]
		out++
	}
	clear(h.kv[out:])
	h.kv = h.kv[:out]
}

// index returns the first field at or after from named name, or -1. Lengths are compared
// in the loop, before any call: most names differ in length.
func (h *Header) index(name string, from int) int {
	for i := from; i < len(h.kv); i++ {
		if n := h.kv[i].name; len(n) == len(name) && edge.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// is reports whether field i is named name, compared without regard to ASCII case.
func (h *Header) is(i int, name string) bool {
	n := h.kv[i].name
	return len(n) == len(name) && edge.EqualFold(n, name)
}

// Peek returns the first value of name: nil when there is none, an empty non-nil slice for
// an empty value. It is valid until h changes.
func (h *Header) Peek(name string) []byte {
	if i := h.index(name, 0); i >= 0 {
		return h.kv[i].value
	}
	return nil
}

// Has reports a field named name, also one with an empty value.
func (h *Header) Has(name string) bool { return h.index(name, 0) >= 0 }

// Values returns every value of name, one per field (allocates).
func (h *Header) Values(name string) []string {
	var out []string
	for i := range h.kv {
		if h.is(i, name) {
			out = append(out, string(h.kv[i].value))
		}
	}
	return out
}

// VisitAll calls fn with every field in order. fn must not change h.
func (h *Header) VisitAll(fn func(name, value []byte)) {
	for _, f := range h.kv {
		fn(f.name, f.value)
	}
}

// Len is the number of fields.
func (h *Header) Len() int { return len(h.kv) }

// Field returns field i, 0 <= i < Len(), valid until h changes.
func (h *Header) Field(i int) (name, value []byte) {
	f := &h.kv[i]
	return f.name, f.value
}

// Valid reports whether field i may be written: its name is a token.
func (h *Header) Valid(i int) bool { return !h.kv[i].bad }

// AppendTo appends the fields in wire form, "name: value" and CRLF each. A field whose name
// is not a token (only a plugin's Set or Add can make one) is left out: written as it is, it
// could end the head early or inject a field, and a name cannot be cleaned as a value can.
func (h *Header) AppendTo(dst []byte) []byte {
	for _, f := range h.kv {
		if f.bad {
			continue
		}
		dst = append(dst, f.name...)
		dst = append(dst, ':', ' ')
		dst = append(dst, f.value...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// String is the wire form, for tests and debugging.
func (h *Header) String() string {
	var b strings.Builder
	b.Write(h.AppendTo(nil))
	return b.String()
}
