package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type level string

// UnmarshalYAML accepts only "low" and "high", to test custom unmarshalers.
func (l *level) UnmarshalYAML(n *yaml.Node) error {
	if n.Value != "low" && n.Value != "high" {
		return errors.New("expected one of: low, high")
	}
	*l = level(n.Value)
	return nil
}

type upper string

func (u *upper) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty")
	}
	*u = upper(strings.ToUpper(string(b)))
	return nil
}

type common struct {
	Tag string `yaml:"tag"`
}

type sample struct {
	common   `yaml:",inline"`
	Name     string              `yaml:"name"`
	Count    int                 `yaml:"count"`
	Small    int8                `yaml:"small"`
	Unsigned uint16              `yaml:"unsigned"`
	Ratio    float64             `yaml:"ratio"`
	On       bool                `yaml:"on"`
	Ptr      *int                `yaml:"ptr"`
	List     []string            `yaml:"list"`
	Pair     [2]int              `yaml:"pair"`
	Headers  map[string][]string `yaml:"headers"`
	Nested   struct {
		Deep []struct {
			X int `yaml:"x"`
		} `yaml:"deep"`
	} `yaml:"nested"`
	Any     any    `yaml:"any"`
	Level   level  `yaml:"level"`
	Upper   upper  `yaml:"upper"`
	Skipped string `yaml:"-"`
	NoTag   string
	//lint:ignore U1000 an unexported field must stay out of reach of the decoder
	hidden string
}

func decodeString(t *testing.T, src string, dst any) []FieldError {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return DecodeNode(&n, dst)
}

func TestDecodeNodeSuccess(t *testing.T) {
	three := 3
	dst := sample{Name: "default", Count: 7, List: []string{"keep?"}, Ptr: &three}
	errs := decodeString(t, `
tag: t
count: 42
small: -128
unsigned: 65535
ratio: 1
"on": true
ptr: null
list: [a, b]
pair: [1, 2]
headers: {X-A: [v]}
nested: {deep: [{x: 1}, {x: 2}]}
any: {k: [1, "two", true, null]}
level: high
upper: abc
notag: n
`, &dst)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := sample{
		common: common{Tag: "t"}, Name: "default", Count: 42, Small: -128, Unsigned: 65535, Ratio: 1, On: true,
		List: []string{"a", "b"}, Pair: [2]int{1, 2}, Headers: map[string][]string{"X-A": {"v"}},
		Any: map[string]any{"k": []any{int64(1), "two", true, nil}}, Level: "high", Upper: "ABC", NoTag: "n",
	}
	want.Nested.Deep = []struct {
		X int `yaml:"x"`
	}{{1}, {2}}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("got  %+v\nwant %+v", dst, want)
	}
	if errs := DecodeNode(nil, &dst); errs != nil {
		t.Errorf("nil node: %v", errs)
	}
}

func TestDecodeNodeErrors(t *testing.T) {
	var dst sample
	errs := decodeString(t, `name: 5
count: "x"
small: 200
unsigned: -1
ratio: fast
"on": "yes"
list: a
pair: [1]
headers: {X-A: v, X-B: [1]}
nested:
  deep:
  - x: 1
  - y: 2
  - x: 1.5
level: medium
upper: 5
upper: 6
skipped: x
hidden: x
extra: {a: 1}
`, &dst)
	var got []string
	for _, e := range errs {
		got = append(got, itoa(e.Line)+": "+e.Error())
	}
	sameLines(t, got, []string{
		`1: name: expected a string`,
		`2: count: expected an integer`,
		`3: small: value should be between -128 and 127`,
		`4: unsigned: value should be between 0 and 65535`,
		`5: ratio: expected a number`,
		`6: on: expected a boolean`,
		`7: list: expected an array`,
		`8: pair: length must be 2`,
		`9: headers.X-A: expected an array`,
		`9: headers.X-B[0]: expected a string`,
		`13: nested.deep[1].y: unknown field`,
		`14: nested.deep[2].x: expected an integer`,
		`15: level: expected one of: low, high`,
		`17: upper: mapping key "upper" already defined at line 16`,
		`18: skipped: unknown field`,
		`19: hidden: unknown field`,
		`20: extra: unknown field`,
	})
}

func TestDecodeNodeShapes(t *testing.T) {
	var s sample
	if errs := decodeString(t, "[1]", &s); len(errs) != 1 || errs[0].Error() != "expected a record" {
		t.Errorf("record: %v", errs)
	}
	var m map[string]int
	if errs := decodeString(t, "[1]", &m); len(errs) != 1 || errs[0].Error() != "expected a map" {
		t.Errorf("map: %v", errs)
	}
	var bad map[int]int
	if errs := decodeString(t, "{1: 1}", &bad); len(errs) != 1 || !strings.Contains(errs[0].Msg, "internal error") {
		t.Errorf("int-keyed map: %v", errs)
	}
	if errs := DecodeNode(&yaml.Node{}, s); len(errs) != 1 || !strings.Contains(errs[0].Msg, "non-nil pointer") {
		t.Errorf("non-pointer: %v", errs)
	}
	var ch chan int
	if errs := decodeString(t, "1", &ch); len(errs) != 1 || !strings.Contains(errs[0].Msg, "cannot decode") {
		t.Errorf("chan: %v", errs)
	}
	var u64 uint64
	if errs := decodeString(t, "18446744073709551615", &u64); len(errs) != 1 {
		t.Errorf("huge uint: %v", errs)
	}
	var withAlias struct {
		A []int `yaml:"a"`
		B []int `yaml:"b"`
		C struct {
			X int `yaml:"x"`
			Y int `yaml:"y"`
		} `yaml:"c"`
	}
	if errs := decodeString(t, "a: &l [1, 2]\nb: *l\nbase: &base {x: 1}\n", &withAlias); len(errs) != 1 || errs[0].Path != "base" {
		t.Errorf("alias: %v", errs)
	}
	if errs := decodeString(t, "a: [1]\nb: [2]\nc: {<<: {x: 1, y: 1}, y: 2}\n", &withAlias); len(errs) != 0 ||
		withAlias.C.X != 1 || withAlias.C.Y != 2 {
		t.Errorf("merge: %v %+v", errs, withAlias)
	}
}

// TestDecodeNodeAliasBomb checks that a "billion laughs" document is cut short instead of
// expanded.
func TestDecodeNodeAliasBomb(t *testing.T) {
	src := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		src += n + ": &" + n + " [" + strings.Repeat("*"+prev+",", 9) + "*" + prev + "]\n"
		prev = n
	}
	var dst map[string]any
	errs := decodeString(t, src, &dst)
	if len(errs) == 0 {
		t.Fatal("no error for an alias bomb")
	}
	// An entity carrying the bomb in an unknown field: the flattened errors echo the entity
	// back, which must stay bounded too.
	_, lerrs := loadTest(t, "_format_version: \"3.0\"\nx-bombs:\n"+indent(src, "  ")+"services:\n- {name: s, host: h, bomb: *i}\n")
	if len(lerrs) != 2 {
		t.Fatalf("errors: %v", lerrs)
	}
	if fe := lerrs.Flattened(); len(fe) != 1 || fe[0].Entity == nil {
		t.Errorf("flattened: %v", fe)
	}
}
