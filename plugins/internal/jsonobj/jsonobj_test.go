package jsonobj

import "testing"

// parse is Parse for inputs a test knows to be objects.
func parse(t *testing.T, s string) Object {
	t.Helper()
	o, ok := Parse([]byte(s))
	if !ok {
		t.Fatalf("Parse(%s) failed", s)
	}
	return o
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
		want     string // Encode of the result when ok
	}{
		{name: "empty object", in: `{}`, ok: true, want: `{}`},
		{name: "spaces between members go, value bytes stay", in: " { \"a\" : 1 , \"b\":[1, 2], \"c\":{\"d\" : null} }\n", ok: true,
			want: `{"a":1,"b":[1, 2],"c":{"d" : null}}`},
		{name: "order kept", in: `{"z":1,"a":2,"m":3}`, ok: true, want: `{"z":1,"a":2,"m":3}`},
		{name: "numbers kept as written", in: `{"n":1.50e3,"i":10000000000000000000001}`, ok: true, want: `{"n":1.50e3,"i":10000000000000000000001}`},
		{name: "a repeated key keeps its last value at its first place", in: `{"a":1,"b":2,"a":3}`, ok: true, want: `{"a":3,"b":2}`},
		{name: "keys are re-escaped", in: `{"\u0041\"b":"\u00e9"}`, ok: true, want: `{"A\"b":"\u00e9"}`},
		{name: "empty input", in: ``},
		{name: "array", in: `[{"a":1}]`},
		{name: "number", in: `1`},
		{name: "string", in: `"s"`},
		{name: "null", in: `null`},
		{name: "unterminated", in: `{"a":1`},
		{name: "missing value", in: `{"a":}`},
		{name: "missing colon", in: `{"a" 1}`},
		{name: "key not a string", in: `{1:2}`},
		{name: "second document", in: `{"a":1}{}`},
		{name: "trailing garbage", in: `{"a":1} x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := Parse([]byte(tt.in))
			if ok != tt.ok {
				t.Fatalf("Parse(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if !ok {
				if len(o.members) != 0 {
					t.Errorf("Parse(%q) failed but kept %d members", tt.in, len(o.members))
				}
				return
			}
			if got := string(o.Encode()); got != tt.want {
				t.Errorf("Encode = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestZeroValue(t *testing.T) {
	var o Object
	if got := string(o.Encode()); got != `{}` {
		t.Errorf("zero Encode = %s, want {}", got)
	}
	o.Set("a", []byte(`1`))
	o.AppendValue("b", []byte(`"x"`))
	if got := string(o.Encode()); got != `{"a":1,"b":["x"]}` {
		t.Errorf("Encode = %s", got)
	}
}

func TestTruthy(t *testing.T) {
	o := parse(t, `{"f":false,"sf": false ,"n":null,"z":0,"e":"","s":"false","t":true,"a":[],"o":{}}`)
	tests := []struct {
		key  string
		want bool
	}{
		{"absent", false},
		{"f", false},
		{"sf", false},
		{"n", true}, // cjson.null is true in Lua
		{"z", true},
		{"e", true},
		{"s", true},
		{"t", true},
		{"a", true},
		{"o", true},
	}
	for _, tt := range tests {
		if got := o.Truthy(tt.key); got != tt.want {
			t.Errorf("Truthy(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name, in, key string
		removed       bool
		want          string
	}{
		{name: "first", in: `{"a":1,"b":2,"c":3}`, key: "a", removed: true, want: `{"b":2,"c":3}`},
		{name: "middle", in: `{"a":1,"b":2,"c":3}`, key: "b", removed: true, want: `{"a":1,"c":3}`},
		{name: "last", in: `{"a":1,"b":2,"c":3}`, key: "c", removed: true, want: `{"a":1,"b":2}`},
		{name: "absent", in: `{"a":1}`, key: "x", want: `{"a":1}`},
		{name: "names are case-sensitive", in: `{"a":1}`, key: "A", want: `{"a":1}`},
		{name: "only member", in: `{"a":1}`, key: "a", removed: true, want: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := parse(t, tt.in)
			if got := o.Remove(tt.key); got != tt.removed {
				t.Errorf("Remove(%q) = %v, want %v", tt.key, got, tt.removed)
			}
			if got := string(o.Encode()); got != tt.want {
				t.Errorf("Encode = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRename(t *testing.T) {
	tests := []struct {
		name, in, old, nw string
		changed           bool
		want              string
	}{
		{name: "in place", in: `{"a":1,"old":{"n":[1,2]},"z":3}`, old: "old", nw: "new", changed: true, want: `{"a":1,"new":{"n":[1,2]},"z":3}`},
		{name: "onto an existing key takes its place", in: `{"new":0,"a":1,"old":2}`, old: "old", nw: "new", changed: true, want: `{"new":2,"a":1}`},
		{name: "onto a later key", in: `{"old":2,"a":1,"new":0}`, old: "old", nw: "new", changed: true, want: `{"a":1,"new":2}`},
		{name: "absent does nothing", in: `{"new":0}`, old: "old", nw: "new", want: `{"new":0}`},
		{name: "to itself does nothing", in: `{"a":1}`, old: "a", nw: "a", want: `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := parse(t, tt.in)
			if got := o.Rename(tt.old, tt.nw); got != tt.changed {
				t.Errorf("Rename(%q, %q) = %v, want %v", tt.old, tt.nw, got, tt.changed)
			}
			if got := string(o.Encode()); got != tt.want {
				t.Errorf("Encode = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSetAndAppendValue covers the two writes: Set (replace in place or add at the end) and
// AppendValue (Kong's append, keeping the old value).
func TestSetAndAppendValue(t *testing.T) {
	set := func(o *Object, k, v string) { o.Set(k, []byte(v)) }
	appendValue := func(o *Object, k, v string) { o.AppendValue(k, []byte(v)) }
	tests := []struct {
		name       string
		write      func(o *Object, key, v string)
		in, key, v string
		want       string
	}{
		{name: "set replaces in place", write: set, in: `{"a":1,"b":2}`, key: "a", v: `"x"`, want: `{"a":"x","b":2}`},
		{name: "set adds at the end", write: set, in: `{"a":1,"b":2}`, key: "c", v: `true`, want: `{"a":1,"b":2,"c":true}`},
		{name: "set into the empty object", write: set, in: `{}`, key: "k", v: `[1]`, want: `{"k":[1]}`},
		{name: "append: absent becomes an array", write: appendValue, in: `{"a":1}`, key: "k", v: `"f"`, want: `{"a":1,"k":["f"]}`},
		{name: "append: array gets it at its end", write: appendValue, in: `{"list":["a"]}`, key: "list", v: `"b"`, want: `{"list":["a","b"]}`},
		{name: "append: array spaces trimmed at its ends", write: appendValue, in: `{"list":[ 1, 2 ]}`, key: "list", v: `3`, want: `{"list":[1, 2,3]}`},
		{name: "append: empty array", write: appendValue, in: `{"list":[]}`, key: "list", v: `1`, want: `{"list":[1]}`},
		{name: "append: empty array with spaces", write: appendValue, in: `{"list":[ ]}`, key: "list", v: `1`, want: `{"list":[1]}`},
		{name: "append: string joins an array", write: appendValue, in: `{"str":"1"}`, key: "str", v: `"2"`, want: `{"str":["1","2"]}`},
		{name: "append: number is kept", write: appendValue, in: `{"n":1}`, key: "n", v: `"2"`, want: `{"n":[1,"2"]}`},
		{name: "append: object is kept", write: appendValue, in: `{"o":{"a":1}}`, key: "o", v: `2`, want: `{"o":[{"a":1},2]}`},
		{name: "append: null is kept", write: appendValue, in: `{"n":null}`, key: "n", v: `2`, want: `{"n":[null,2]}`},
		{name: "append: false is kept", write: appendValue, in: `{"f":false}`, key: "f", v: `true`, want: `{"f":[false,true]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := parse(t, tt.in)
			tt.write(&o, tt.key, tt.v)
			if got := string(o.Encode()); got != tt.want {
				t.Errorf("Encode = %s, want %s", got, tt.want)
			}
		})
	}
}
