package plugin

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"tollgate/internal/config"
)

// rec records the phases it saw, in order, into a shared trace.
type rec struct {
	name  string
	trace *[]string
	exit  bool
}

func (r *rec) Access(c *Ctx) error {
	*r.trace = append(*r.trace, "access:"+r.name)
	if r.exit {
		return c.Exit(401, "nope")
	}
	return nil
}
func (r *rec) HeaderFilter(c *Ctx) error {
	*r.trace = append(*r.trace, "header:"+r.name)
	return nil
}
func (r *rec) Log(c *Ctx) { *r.trace = append(*r.trace, "log:"+r.name) }

func TestChainOrderAndExit(t *testing.T) {
	var trace []string
	mk := func(name string, prio int, exit bool) Slot {
		return Slot{Name: name, Priority: prio, Default: NewInstance(name, name, prio, &rec{name: name, trace: &trace, exit: exit})}
	}
	tests := []struct {
		name  string
		slots []Slot
		want  string
		exit  bool
	}{
		{name: "priority high first, ties by name",
			slots: []Slot{mk("b", 10, false), mk("a", 10, false), mk("z", 100, false)},
			want:  "access:z access:a access:b header:z header:a header:b log:z log:a log:b"},
		{name: "exit stops access, later plugins still run header and log (Kong)",
			slots: []Slot{mk("auth", 1000, true), mk("late", 1, false)},
			want:  "access:auth header:auth header:late log:auth log:late", exit: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			trace = nil
			ch := NewChain(tc.slots)
			var c Ctx
			c.Reset(context.Background(), ch.Len())
			err := ch.Access(&c)
			if tc.exit != errors.Is(err, ErrExit) {
				t.Fatalf("Access error %v", err)
			}
			if tc.exit && (c.Reply() == nil || c.Reply().Status != 401 || string(c.Reply().Body) != `{"message":"nope"}`) {
				t.Errorf("reply %+v", c.Reply())
			}
			if err := ch.HeaderFilter(&c); err != nil {
				t.Fatal(err)
			}
			ch.Log(&c)
			if got := strings.Join(trace, " "); got != tc.want {
				t.Errorf("trace\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestChainConsumerOverride(t *testing.T) {
	var trace []string
	def := NewInstance("p", "default", 1, &rec{name: "default", trace: &trace})
	bob := NewInstance("p", "bob", 1, &rec{name: "bob", trace: &trace})
	only := NewInstance("q", "only-bob", 1, &rec{name: "only-bob", trace: &trace})
	ch := NewChain([]Slot{
		{Name: "p", Priority: 1, Default: def, ByConsumer: map[string]*Instance{"bob-id": bob}},
		{Name: "q", Priority: 0, ByConsumer: map[string]*Instance{"bob-id": only}},
	})
	tests := []struct {
		consumer *config.Consumer
		want     string
	}{
		{nil, "access:default"},
		{&config.Consumer{Meta: config.Meta{ID: "alice-id"}}, "access:default"},
		{&config.Consumer{Meta: config.Meta{ID: "bob-id"}}, "access:bob access:only-bob"},
	}
	for _, tc := range tests {
		trace = nil
		var c Ctx
		c.Reset(context.Background(), ch.Len())
		if tc.consumer != nil {
			c.Authenticate(tc.consumer, nil)
		}
		if err := ch.Access(&c); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(trace, " "); got != tc.want {
			t.Errorf("consumer %v: %s, want %s", tc.consumer, got, tc.want)
		}
	}
}

func TestCtxStateAndShared(t *testing.T) {
	var c Ctx
	c.Reset(context.Background(), 2)
	c.Enter(0)
	*c.State() = "zero"
	c.Enter(1)
	if *c.State() != nil {
		t.Error("slot 1 sees slot 0's state")
	}
	c.Enter(0)
	if *c.State() != "zero" {
		t.Error("slot 0 lost its state")
	}
	k := NewKey[int]("count")
	Set(&c, k, 3)
	if v, ok := Get(&c, k); !ok || v != 3 {
		t.Errorf("Get = %v %v", v, ok)
	}
	if v, ok := c.Shared("count"); !ok || v != 3 {
		t.Errorf("Shared by name = %v", v)
	}
	other := NewKey[string]("count")
	if _, ok := Get(&c, other); ok {
		t.Error("a key of another type read the value")
	}
	c.Reset(context.Background(), 1)
	if _, ok := Get(&c, k); ok {
		t.Error("Reset kept shared values")
	}
	c.Enter(0)
	if *c.State() != nil {
		t.Error("Reset kept plugin state")
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := map[string]string{
		"plain":         `"plain"`,
		`q"uote\back`:   `"q\"uote\\back"`,
		"line\nbreak\t": `"line\nbreak\t"`,
		"ctl\x01":       `"ctl\u0001"`,
		"ünïcode":       `"ünïcode"`,
	}
	for in, want := range tests {
		if got := string(AppendJSONString(nil, in)); got != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
}

type cfgT struct {
	Size int    `yaml:"size"`
	Name string `yaml:"name"`
}

func (c *cfgT) Validate() []FieldError {
	if c.Size > 10 {
		return []FieldError{{Path: "size", Msg: "value should be between 0 and 10"}}
	}
	return nil
}

type handler struct{ cfg *cfgT }

func (h *handler) Access(*Ctx) error { return nil }

func TestDefineAndRegistry(t *testing.T) {
	spec := Define("demo", Options{Priority: 5, NoConsumer: true}, func() *cfgT { return &cfgT{Size: 1, Name: "def"} },
		func(c *cfgT, _ Env) (any, error) { return &handler{c}, nil })
	reg := NewRegistry([]Spec{spec})
	tests := []struct {
		name, yaml string
		wantErr    string
		wantSize   int
		wantName   string
	}{
		{name: "defaults", yaml: "", wantSize: 1, wantName: "def"},
		{name: "overlay", yaml: "size: 7", wantSize: 7, wantName: "def"},
		{name: "validate", yaml: "size: 70", wantErr: "size: value should be between 0 and 10"},
		{name: "unknown field", yaml: "sise: 7", wantErr: "sise"},
		{name: "wrong type", yaml: "size: many", wantErr: "size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var node *yaml.Node
			if tc.yaml != "" {
				var doc yaml.Node
				if err := yaml.Unmarshal([]byte(tc.yaml), &doc); err != nil {
					t.Fatal(err)
				}
				node = doc.Content[0]
			}
			cfg, errs := reg.DecodeConfig("demo", node)
			if tc.wantErr != "" {
				if len(errs) == 0 || !strings.Contains(errs[0].Path+": "+errs[0].Msg, tc.wantErr) {
					t.Fatalf("errs %v, want %q", errs, tc.wantErr)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errs %v", errs)
			}
			s, _ := reg.Spec("demo")
			h, err := s.New(cfg, Env{})
			if err != nil {
				t.Fatal(err)
			}
			got := h.(*handler).cfg
			if got.Size != tc.wantSize || got.Name != tc.wantName {
				t.Errorf("config %+v", got)
			}
		})
	}
	lookups := []struct {
		name             string
		known, available bool
	}{
		{"demo", true, true},
		{"rate-limiting", true, false},
		{"no-such-plugin", false, false},
	}
	for _, l := range lookups {
		known, avail, info := reg.Lookup(l.name)
		if known != l.known || avail != l.available {
			t.Errorf("Lookup(%s) = %v %v", l.name, known, avail)
		}
		if l.name == "demo" && !info.NoConsumer {
			t.Error("NoConsumer lost")
		}
	}
	if _, err := (&Spec{Name: "x", build: func(any, Env) (any, error) { return struct{}{}, nil }}).New(nil, Env{}); err == nil {
		t.Error("an instance without phases must be refused")
	}
}
