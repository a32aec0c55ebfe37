package requesttransformer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"tollgate/internal/plugin"
)

// A template is a config value such as "Bearer $(headers.x_token)": literal text with $(...)
// expressions. Kong evaluates Penlight templates whose expressions are Lua over a read-only
// environment; we accept the lookups of that environment that configs use (see parseExpr) and
// compile them once, so that rendering is a walk over segments with no parsing.
type template struct {
	segs []segment
	// lit is the whole value when the template has no expression (the common case), so that
	// rendering it allocates nothing.
	lit    string
	static bool
}

type segKind uint8

const (
	segLiteral segKind = iota
	segHeader
	segQuery
	segCaptureIndex
	segCaptureName
	segShared
	segUUID
)

type segment struct {
	kind segKind
	text string // literal text, or the lookup key
	alt  string // headers: the key with '_' turned into '-', when that differs from text
	idx  int    // uri_captures[idx]
}

// parseTemplate compiles s. A "$" not followed by "(" is literal text.
func parseTemplate(s string) (*template, error) {
	t := &template{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, segment{kind: segLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "$(")
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		lit.WriteString(s[i : i+j])
		start := i + j
		seg, end, err := parseExpr(s, start+2)
		if err != nil {
			return nil, fmt.Errorf("$( at offset %d: %w", start, err)
		}
		flush()
		t.segs = append(t.segs, seg)
		i = end
	}
	flush()
	switch {
	case len(t.segs) == 0:
		t.static = true
	case len(t.segs) == 1 && t.segs[0].kind == segLiteral:
		t.static, t.lit = true, t.segs[0].text
	}
	return t, nil
}

// exprParser reads one expression between "$(" and ")".
type exprParser struct {
	s string
	i int
}

func (p *exprParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *exprParser) ident() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (p.i > start && c >= '0' && c <= '9') {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

// index reads `.name`, `["name"]`, `['name']` or `[123]` after a table name.
func (p *exprParser) index() (key string, num int, isNum bool, err error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return "", 0, false, errors.New("unterminated $(")
	}
	switch p.s[p.i] {
	case '.':
		p.i++
		p.skipSpace()
		k := p.ident()
		if k == "" {
			return "", 0, false, errors.New("expected a name after '.'")
		}
		return k, 0, false, nil
	case '[':
		p.i++
		p.skipSpace()
		if p.i >= len(p.s) {
			return "", 0, false, errors.New("unterminated [")
		}
		c := p.s[p.i]
		switch {
		case c == '"' || c == '\'':
			key, err = p.str(c)
			if err != nil {
				return "", 0, false, err
			}
		case c >= '0' && c <= '9':
			start := p.i
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
			n, perr := strconv.Atoi(p.s[start:p.i])
			if perr != nil {
				return "", 0, false, errors.New("index out of range")
			}
			num, isNum = n, true
		default:
			return "", 0, false, errors.New(`expected a quoted name or a number after '['`)
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return "", 0, false, errors.New("expected ']'")
		}
		p.i++
		return key, num, isNum, nil
	}
	return "", 0, false, fmt.Errorf("expected '.' or '[' after the table name, found %q", p.s[p.i])
}

// str reads a quoted string with \\, \" and \' escapes.
func (p *exprParser) str(q byte) (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case q:
			p.i++
			return b.String(), nil
		case '\\':
			if p.i+1 >= len(p.s) {
				return "", errors.New("unterminated string")
			}
			e := p.s[p.i+1]
			if e != '\\' && e != '"' && e != '\'' {
				return "", fmt.Errorf("unsupported escape \\%c", e)
			}
			b.WriteByte(e)
			p.i += 2
		case '\n', '\r':
			return "", errors.New("unterminated string")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", errors.New("unterminated string")
}

// parseExpr parses the expression starting at s[i] (just after "$(") and returns the segment and
// the index just after the closing ")". Supported, as in Kong's template environment:
//
//	headers.x_a  headers["x-a"]      client request header (lower-cased; '_' also tried as '-')
//	query_params.x  query_params["x"] client query argument
//	uri_captures[1]  uri_captures.name  uri_captures["name"]  route path regex captures
//	shared.x  shared["x"]             value another plugin stored for this request
//	uuid                              (our extension) a fresh random UUID v4
func parseExpr(s string, i int) (segment, int, error) {
	p := &exprParser{s: s, i: i}
	p.skipSpace()
	name := p.ident()
	if name == "" {
		if p.i >= len(s) {
			return segment{}, 0, errors.New("unterminated $(")
		}
		if s[p.i] == ')' {
			return segment{}, 0, errors.New("empty $()")
		}
		return segment{}, 0, fmt.Errorf("unexpected %q", s[p.i])
	}
	var seg segment
	switch name {
	case "uuid":
		seg.kind = segUUID
		p.skipSpace()
		if strings.HasPrefix(s[p.i:], "()") {
			p.i += 2
		}
	case "headers", "query_params", "shared", "uri_captures":
		key, num, isNum, err := p.index()
		if err != nil {
			return segment{}, 0, err
		}
		switch name {
		case "headers":
			if isNum {
				return segment{}, 0, errors.New("headers are indexed by name")
			}
			seg.kind, seg.text = segHeader, strings.ToLower(key)
			if alt := strings.ReplaceAll(seg.text, "_", "-"); alt != seg.text {
				seg.alt = alt
			}
		case "query_params":
			if isNum {
				return segment{}, 0, errors.New("query_params are indexed by name")
			}
			seg.kind, seg.text = segQuery, key
		case "shared":
			if isNum {
				return segment{}, 0, errors.New("shared values are indexed by name")
			}
			seg.kind, seg.text = segShared, key
		case "uri_captures":
			if isNum {
				seg.kind, seg.idx = segCaptureIndex, num
			} else {
				seg.kind, seg.text = segCaptureName, key
			}
		}
	default:
		return segment{}, 0, fmt.Errorf("unknown name %q (supported: headers, query_params, uri_captures, shared, uuid)", name)
	}
	p.skipSpace()
	if p.i >= len(s) {
		return segment{}, 0, errors.New("unterminated $(")
	}
	if s[p.i] != ')' {
		return segment{}, 0, fmt.Errorf("unexpected %q (only simple lookups are supported)", s[p.i])
	}
	return seg, p.i + 1, nil
}

// render returns the template's value for the request in e.
func (t *template) render(e *env) string {
	if t.static {
		return t.lit
	}
	if len(t.segs) == 1 {
		return e.lookup(&t.segs[0])
	}
	var b strings.Builder
	for i := range t.segs {
		b.WriteString(e.lookup(&t.segs[i]))
	}
	return b.String()
}

// env is what templates read for one request: the client's request as received, the route's
// captures and the shared values. The query is parsed at most once, on first use.
type env struct {
	c         *plugin.Ctx
	query     args
	queryDone bool
}

func (e *env) lookup(s *segment) string {
	switch s.kind {
	case segLiteral:
		return s.text
	case segHeader:
		return e.header(s.text, s.alt)
	case segQuery:
		if !e.queryDone {
			e.query, e.queryDone = parseArgs(e.c.In.Query()), true
		}
		if a := e.query.first(s.text); a != nil {
			if a.noVal {
				return "true" // Kong's get_query gives `true` for an argument without '='
			}
			return a.val
		}
	case segCaptureIndex:
		if e.c.Captures != nil {
			v, _ := e.c.Captures.Get(s.idx)
			return v
		}
	case segCaptureName:
		if e.c.Captures != nil {
			v, _ := e.c.Captures.Named(s.text)
			return v
		}
	case segShared:
		if v, ok := e.c.Shared(s.text); ok {
			return sharedString(v)
		}
	case segUUID:
		return uuid.NewString()
	}
	return ""
}

// header reads a client request header; several lines are joined with ", " (RFC 9110 §5.3).
func (e *env) header(name, alt string) string {
	if name == "host" {
		// HTTP/2 carries it as :authority, which net/http keeps out of the header map.
		return e.c.In.Host()
	}
	h := e.c.In.Header()
	vs := h.Values(name)
	if len(vs) == 0 && alt != "" {
		vs = h.Values(alt)
	}
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs, ", ")
}

// sharedString renders a shared value as Lua's tostring would for the same kinds of values.
func sharedString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
