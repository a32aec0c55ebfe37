package h1

import (
	"slices"
	"strings"
	"testing"
	"unsafe"

	"tollgate/internal/edge"
)

// model is the obvious implementation Header is held to: a list of pairs.
type model [][2]string

func (m *model) add(n, v string) { *m = append(*m, [2]string{n, cleanModel(v)}) }

func (m *model) set(n, v string) {
	for i, kv := range *m {
		if foldASCII(kv[0], n) {
			(*m)[i][1] = cleanModel(v)
			rest := slices.DeleteFunc((*m)[i+1:], func(kv [2]string) bool { return foldASCII(kv[0], n) })
			*m = (*m)[:i+1+len(rest)]
			return
		}
	}
	m.add(n, v)
}

func (m *model) del(n string) {
	*m = slices.DeleteFunc(*m, func(kv [2]string) bool { return foldASCII(kv[0], n) })
}

func (m model) wire() string {
	var b strings.Builder
	for _, kv := range m {
		if edge.ValidToken([]byte(kv[0])) {
			b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
		}
	}
	return b.String()
}

func cleanModel(v string) string {
	return mapASCII(v, func(c byte) byte {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return ' '
		}
		return c
	})
}

// foldASCII is the model's case-insensitive compare: ASCII letters only, as field names are
// compared (strings.EqualFold would also fold non-ASCII runes such as the Kelvin sign).
func foldASCII(a, b string) bool {
	return len(a) == len(b) && mapASCII(a, lowerASCII) == mapASCII(b, lowerASCII)
}

func mapASCII(s string, f func(byte) byte) string {
	b := []byte(s)
	for i := range b {
		b[i] = f(b[i])
	}
	return string(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// op is one edit of a Header: 'a'dd, 's'et, 'd'el.
type op struct {
	kind        byte
	name, value string
}

func apply(h *Header, m *model, o op) {
	switch o.kind {
	case 'a':
		h.Add(o.name, o.value)
		m.add(o.name, o.value)
	case 's':
		h.Set(o.name, o.value)
		m.set(o.name, o.value)
	case 'd':
		h.Del(o.name)
		m.del(o.name)
	}
}

func checkModel(t *testing.T, h *Header, m model) {
	t.Helper()
	if got, want := h.String(), m.wire(); got != want {
		t.Fatalf("wire:\n%q\nwant\n%q", got, want)
	}
	if h.Len() != len(m) {
		t.Fatalf("Len %d, want %d", h.Len(), len(m))
	}
	for _, kv := range m {
		for _, name := range []string{kv[0], mapASCII(kv[0], lowerASCII), mapASCII(kv[0], upperASCII)} {
			var want []string
			for _, kv2 := range m {
				if foldASCII(kv2[0], name) {
					want = append(want, kv2[1])
				}
			}
			if got := h.Values(name); !slices.Equal(got, want) {
				t.Fatalf("Values(%q) = %q, want %q", name, got, want)
			}
			p := h.Peek(name)
			if p == nil || string(p) != want[0] || !h.Has(name) {
				t.Fatalf("Peek(%q) = %q (nil %v), want %q", name, p, p == nil, want[0])
			}
		}
	}
	var visited model
	h.VisitAll(func(n, v []byte) { visited = append(visited, [2]string{string(n), string(v)}) })
	if !slices.Equal(visited, m) {
		t.Fatalf("VisitAll %q, want %q", visited, m)
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		wire string
	}{
		{"empty", nil, ""},
		{"add keeps case and order", []op{{'a', "X-A", "1"}, {'a', "x-b", "2"}, {'a', "X-A", "3"}},
			"X-A: 1\r\nx-b: 2\r\nX-A: 3\r\n"},
		{"set replaces the first, drops the rest", []op{{'a', "X-A", "1"}, {'a', "B", "2"}, {'a', "x-a", "3"}, {'s', "X-a", "9"}},
			"X-A: 9\r\nB: 2\r\n"},
		{"set appends a new name", []op{{'a', "A", "1"}, {'s', "B", "2"}}, "A: 1\r\nB: 2\r\n"},
		{"del every field of a name", []op{{'a', "A", "1"}, {'a', "B", "2"}, {'a', "a", "3"}, {'d', "A", ""}}, "B: 2\r\n"},
		{"del of an absent name", []op{{'a', "A", "1"}, {'d', "Z", ""}}, "A: 1\r\n"},
		{"empty value", []op{{'a', "A", ""}}, "A: \r\n"},
		{"CR LF in a value become spaces", []op{{'a', "A", "x\r\nEvil: 1"}}, "A: x  Evil: 1\r\n"},
		{"NUL and DEL become spaces, HTAB stays", []op{{'s', "A", "a\x00b\x7fc\td"}}, "A: a b c\td\r\n"},
		{"a name that is not a token is not written", []op{{'a', "A\r\nB", "1"}, {'a', "C", "2"}, {'a', "", "3"}, {'a', "D E", "4"}},
			"C: 2\r\n"},
		{"set after del", []op{{'a', "A", "1"}, {'d', "a", ""}, {'s', "A", "2"}}, "A: 2\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Header
			var m model
			for _, o := range tt.ops {
				apply(&h, &m, o)
			}
			if got := h.String(); got != tt.wire {
				t.Fatalf("wire %q, want %q", got, tt.wire)
			}
			checkModel(t, &h, m)
		})
	}
}

func TestHeaderPeek(t *testing.T) {
	var h Header
	if h.Peek("A") != nil || h.Has("A") {
		t.Fatal("empty header has A")
	}
	h.Add("A", "")
	if p := h.Peek("a"); p == nil || len(p) != 0 {
		t.Fatalf("empty value peeked as %v (nil %v)", p, p == nil)
	}
	// a peeked value has no spare capacity: appending to it cannot write into the next field
	h.Add("B", "2")
	p := h.Peek("A")
	_ = append(p, 'x')
	if got := string(h.Peek("B")); got != "2" {
		t.Fatalf("B = %q after appending to A's value", got)
	}
}

func TestHeaderAddFields(t *testing.T) {
	var head edge.RequestHead
	pol := edge.DefaultPolicy()
	raw := "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nx-multi: 1\r\nX-Multi: 2\r\n\r\n"
	if n, v := pol.ParseRequest([]byte(raw), &head); n == 0 || !v.OK() {
		t.Fatal(n, v)
	}
	var h Header
	h.AddFields(head.Fields)
	if got, want := h.String(), "Host: a\r\nX-Empty: \r\nx-multi: 1\r\nX-Multi: 2\r\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	h.Reset()
	if h.Len() != 0 || h.String() != "" {
		t.Fatal("Reset left fields")
	}
}

// TestHeaderAddFieldsFrom: fields that lie in the head refer to one copy of it; a field that
// does not (elsewhere, or running past the head's end) is copied on its own; either way the
// Header no longer depends on the caller's bytes.
func TestHeaderAddFieldsFrom(t *testing.T) {
	const raw = "HTTP/1.1 200 OK\r\nServer: up\r\nX-Empty:\r\nContent-Type: text/plain\r\n\r\n"
	tests := []struct {
		name string
		// fields returns the fields, given buf: raw followed by "tail", and other: elsewhere
		fields func(buf, other []byte) []edge.Field
		want   string
		copied int // arena bytes used
	}{
		{"all in the head", func(b, _ []byte) []edge.Field {
			return []edge.Field{{Name: b[17:23], Value: b[25:27]}, {Name: b[29:36], Value: b[37:37]}, {Name: b[39:51], Value: b[53:63]}}
		}, "Server: up\r\nX-Empty: \r\nContent-Type: text/plain\r\n", len(raw)},
		{"a nil value", func(b, _ []byte) []edge.Field {
			return []edge.Field{{Name: b[29:36]}}
		}, "X-Empty: \r\n", len(raw)},
		{"one field elsewhere", func(b, o []byte) []edge.Field {
			return []edge.Field{{Name: b[17:23], Value: b[25:27]}, {Name: o[:7], Value: o[9:]}}
		}, "Server: up\r\nX-Other: o\r\n", len(raw) + len("X-Other") + len("o")},
		{"a value that runs past the head", func(b, _ []byte) []edge.Field {
			return []edge.Field{{Name: b[17:23], Value: b[len(raw)-2 : len(raw)+4]}}
		}, "Server: \r\ntail\r\n", len(raw) + 6},
		{"no fields", func([]byte, []byte) []edge.Field { return nil }, "", len(raw)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := []byte(raw + "tail")
			other := []byte("X-Other: o")
			fs := tc.fields(buf, other)
			var h Header
			h.AddFieldsFrom(buf[:len(raw)], fs)
			for _, b := range [][]byte{buf, other} {
				for i := range b {
					b[i] = '#' // the caller's buffers are reused
				}
			}
			if got := h.String(); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
			if len(h.buf) != tc.copied {
				t.Errorf("arena holds %d bytes, want %d", len(h.buf), tc.copied)
			}
			for i := range h.Len() {
				if _, v := h.Field(i); v == nil {
					t.Errorf("field %d: nil value, want an empty one", i)
				}
			}
		})
	}
}

func TestHeaderAllocs(t *testing.T) {
	var head edge.RequestHead
	pol := edge.DefaultPolicy()
	raw := "GET / HTTP/1.1\r\nHost: gw.example\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"
	if n, v := pol.ParseRequest([]byte(raw), &head); n == 0 || !v.OK() {
		t.Fatal(n, v)
	}
	var h Header
	var out []byte
	run := func() {
		h.Reset()
		h.AddFields(head.Fields)
		h.Del("Connection")
		h.Set("X-Forwarded-For", "127.0.0.1")
		h.SetBytes("Via", []byte("1.1 tollgate"))
		out = h.AppendTo(out[:0])
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Fatalf("%v allocations per reuse", n)
	}
}

// FuzzHeader applies arbitrary edits to a Header and to the model; they must agree.
func FuzzHeader(f *testing.F) {
	f.Add([]byte("aX-A=1;ax-a=2;sX-A=3;dB;aB=\r\n;s=4"))
	f.Add([]byte("aHost=h;aVia=1.1 a;sVia=x;dvia;aA\x00=\x7f"))
	f.Fuzz(func(t *testing.T, prog []byte) {
		var h Header
		var m model
		for _, step := range strings.Split(string(prog), ";") {
			if len(step) == 0 {
				continue
			}
			name, value, _ := strings.Cut(step[1:], "=")
			apply(&h, &m, op{step[0], name, value})
		}
		checkModel(t, &h, m)
	})
}

func BenchmarkHeader(b *testing.B) {
	var head edge.RequestHead
	pol := edge.DefaultPolicy()
	raw := "GET / HTTP/1.1\r\nHost: gw.example\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"
	if n, v := pol.ParseRequest([]byte(raw), &head); n == 0 || !v.OK() {
		b.Fatal(n, v)
	}
	var h Header
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		h.AddFields(head.Fields)
		h.Del("Connection")
		h.Del("Keep-Alive")
		h.Set("X-Forwarded-For", "127.0.0.1")
		h.Set("X-Forwarded-Proto", "http")
		h.Set("X-Forwarded-Host", "gw.example")
		h.Set("X-Forwarded-Port", "8000")
		h.Set("X-Real-Ip", "127.0.0.1")
		h.Set("Via", "1.1 tollgate")
		out = h.AppendTo(out[:0])
	}
}

// TestHeaderTrusted: the trusted calls copy as they are; Set after AddTrusted replaces.
func TestHeaderTrusted(t *testing.T) {
	var h Header
	h.AddTrusted("X-A", []byte("1\t2"))
	h.Add("X-B", "x")
	h.SetTrusted("x-b", []byte("y"))
	h.SetTrusted("X-C", []byte("3"))
	if got, want := h.String(), "X-A: 1\t2\r\nX-B: y\r\nX-C: 3\r\n"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	for i := range h.Len() {
		if !h.Valid(i) {
			t.Fatalf("field %d not valid", i)
		}
	}
	h.Set("Bad Name", "v")
	if h.Valid(h.Len()-1) || !h.Has("bad name") {
		t.Fatal("a name that is not a token must be kept for look-ups and marked")
	}
}

// TestHeaderCopies: which calls copy and which refer to the caller's bytes, that fields stay
// intact while the arena grows under them, and that Reset and Del drop their references.
func TestHeaderCopies(t *testing.T) {
	src := []byte("Host: a\r\nX-Id: 1\r\n")
	fields := []edge.Field{{Name: src[0:4], Value: src[6:7]}, {Name: src[9:13], Value: src[15:16]}}
	value := []byte("v1")
	var h Header
	h.AddFields(fields[:1])       // copied
	h.AddFieldsNoCopy(fields[1:]) // referred to
	h.AddTrustedNoCopy(src[0:4], src[6:7])
	h.SetTrusted("X-Set", value) // the value is copied
	// a plugin's Add and Set copy the value and check the name, and keep the name as given:
	// a string does not change, so a view made with unsafe shows that it is not copied
	added, addName := []byte("a1"), []byte("X-Add")
	view := func(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
	h.Add(view(addName), view(added))
	h.Set("X-Plugin", view(added))
	for i := range 200 { // grows the arena several times
		h.AddTrusted("X-Fill", []byte(strings.Repeat("f", i)))
	}
	src[6], src[15], value[1], added[1] = 'b', '2', '9', '9'
	addName[4] = 'x'
	for _, c := range []struct{ name, want string }{
		{"host", "a"},      // the first Host was copied
		{"x-id", "2"},      // shares src
		{"x-set", "v1"},    // copied
		{"x-adx", "a1"},    // the value copied, the name referred to
		{"x-plugin", "a1"}, // copied
	} {
		if got := string(h.Peek(c.name)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := h.Values("Host"); len(got) != 2 || got[1] != "b" {
		t.Errorf("the second Host shares src: %q", got)
	}
	if got := len(h.Values("x-fill")); got != 200 {
		t.Errorf("%d fill fields", got)
	}
	for i, f := range h.Values("x-fill") {
		if f != strings.Repeat("f", i) {
			t.Fatalf("fill field %d changed: %q", i, f)
		}
	}
	n := h.Len()
	h.Del("X-Fill")
	h.Reset()
	for i, f := range h.kv[:n] {
		if f.name != nil || f.value != nil {
			t.Fatalf("field %d still refers to %q: %q", i, f.name, f.value)
		}
	}
}

// TestHeaderBuilt: a value built on Tail stays where it was built when it fits the arena, is
// copied in when it outgrew it (and the arena grows), survives the values built after it,
// and may be handed to SetTrusted as well.
func TestHeaderBuilt(t *testing.T) {
	cases := []struct {
		name   string
		prefix int  // bytes in the arena before the value is built
		size   int  // the value's length
		set    bool // replace an existing field (SetTrusted) rather than append
		inSitu bool // whether the value stays where it was built
	}{
		{"fits", 0, 20, false, true},
		{"empty", 0, 0, false, true},
		{"fits after other values", 300, 100, false, true},
		{"outgrows the arena", 0, 2000, false, false},
		{"outgrows what is left", 500, 100, false, false},
		{"replaces a field", 0, 20, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Header
			h.AddTrusted("X-Before", []byte(strings.Repeat("p", tc.prefix)))
			if tc.set {
				h.AddTrusted("X-Built", []byte("old"))
				h.AddTrusted("X-Built", []byte("old too"))
			}
			tail := h.Tail()
			want := strings.Repeat("v", tc.size)
			v := append(tail, want...)
			if tc.set {
				h.SetTrusted("X-Built", v)
			} else {
				h.AddTrustedBuilt("X-Built", v)
			}
			// a value built after it must not overwrite it, nor may appending to it
			h.AddTrustedBuilt("X-After", append(h.Tail(), "after"...))
			got := h.Peek("X-Built")
			_ = append(got, "overrun"...)
			if string(got) != want || len(h.Values("X-Built")) != 1 || string(h.Peek("X-After")) != "after" ||
				len(h.Peek("X-Before")) != tc.prefix {
				t.Fatalf("fields: %q", h.String())
			}
			inSitu := tc.size == 0 || unsafe.SliceData(got) == unsafe.SliceData(v)
			if inSitu != tc.inSitu {
				t.Fatalf("value kept where it was built: %v, want %v", inSitu, tc.inSitu)
			}
			if !tc.inSitu && cap(h.Tail())+len(h.buf) < tc.prefix+tc.size {
				t.Fatalf("the arena did not grow to take the value: cap %d", cap(h.buf))
			}
		})
	}
}
