package responsetransformer

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// headerValue is a header value with our one template, $(latency), compiled at New.
type headerValue struct {
	lit  string   // the value when it has no template
	segs []string // literal pieces; a latency rendering goes between consecutive pieces
}

// parseValue splits s around "$(latency)" (spaces inside the parentheses allowed). Any other
// "$(" is an error: response-transformer has no other templates.
func parseValue(s string) (*headerValue, error) {
	if !strings.Contains(s, "$(") {
		return &headerValue{lit: s}, nil
	}
	v := &headerValue{}
	rest := s
	for {
		i := strings.Index(rest, "$(")
		if i < 0 {
			v.segs = append(v.segs, rest)
			return v, nil
		}
		end := strings.IndexByte(rest[i:], ')')
		if end < 0 || strings.TrimSpace(rest[i+2:i+end]) != "latency" {
			return nil, errors.New("the only template is $(latency)")
		}
		v.segs = append(v.segs, rest[:i])
		rest = rest[i+end+1:]
	}
}

// render writes the value; latency is rendered as whole milliseconds with the unit ("12ms").
func (v *headerValue) render(since time.Time) string {
	if v.segs == nil {
		return v.lit
	}
	var ms int64
	if !since.IsZero() {
		ms = time.Since(since).Milliseconds()
	}
	lat := strconv.AppendInt(make([]byte, 0, 24), ms, 10)
	lat = append(lat, "ms"...)
	var b strings.Builder
	for i, s := range v.segs {
		if i > 0 {
			b.Write(lat)
		}
		b.WriteString(s)
	}
	return b.String()
}
