package plugin

import (
	"context"
	"fmt"
	"testing"

	"tollgate/internal/config"
)

// nop runs in every phase and does nothing, so the benchmark measures the chain itself: slot
// order, the consumer lookup and the phase dispatch.
type nop struct{}

func (nop) Rewrite(*Ctx) error                                  { return nil }
func (nop) Access(*Ctx) error                                   { return nil }
func (nop) HeaderFilter(*Ctx) error                             { return nil }
func (nop) BodyFilter(_ *Ctx, b []byte, _ bool) ([]byte, error) { return b, nil }
func (nop) Log(*Ctx)                                            {}

// BenchmarkChain runs one request through every phase of chains of 1, 5 and 20 plugins, with
// no consumer and with an authenticated consumer that has its own config on every other slot.
func BenchmarkChain(b *testing.B) {
	bob := &config.Consumer{Meta: config.Meta{ID: "bob-id"}}
	for _, n := range []int{1, 5, 20} {
		slots := make([]Slot, n)
		for i := range slots {
			name := fmt.Sprintf("p%02d", i)
			slots[i] = Slot{Name: name, Priority: 1000 - i, Default: NewInstance(name, name, 1000-i, nop{})}
			if i%2 == 1 {
				slots[i].ByConsumer = map[string]*Instance{bob.ID: NewInstance(name, name+"-bob", 1000-i, nop{})}
			}
		}
		ch := NewChain(slots)
		chunk := []byte("body")
		for _, consumer := range []*config.Consumer{nil, bob} {
			label := "anonymous"
			if consumer != nil {
				label = "consumer"
			}
			b.Run(fmt.Sprintf("%d-plugins/%s", n, label), func(b *testing.B) {
				var c Ctx
				b.ReportAllocs()
				for b.Loop() {
					c.Reset(context.Background(), ch.Len())
					if consumer != nil {
						c.Authenticate(consumer, nil)
					}
					if ch.Rewrite(&c) != nil || ch.Access(&c) != nil || ch.HeaderFilter(&c) != nil {
						b.Fatal("a phase failed")
					}
					if _, err := ch.BodyFilter(&c, chunk, true); err != nil {
						b.Fatal(err)
					}
					ch.Log(&c)
				}
			})
		}
	}
}
