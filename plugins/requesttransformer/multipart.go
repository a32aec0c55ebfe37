package requesttransformer

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"sort"
	"strings"
)

// form is a multipart/form-data body as its parts in order. Parts are kept whole (headers and
// bytes), so files and fields no operation touches go out as they came in.
type form struct {
	boundary string
	parts    []formPart
}

type formPart struct {
	name   string
	header textproto.MIMEHeader
	body   []byte
}

// parseForm reads body with the boundary of contentType. An empty body is an empty form.
func parseForm(body []byte, contentType string) (*form, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, err
	}
	f := &form{boundary: params["boundary"]}
	if f.boundary == "" {
		return nil, errors.New("multipart body without boundary")
	}
	if len(body) == 0 {
		return f, nil
	}
	r := multipart.NewReader(bytes.NewReader(body), f.boundary)
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		f.parts = append(f.parts, formPart{name: p.FormName(), header: p.Header, body: b})
	}
}

func (f *form) index(name string) int {
	for i := range f.parts {
		if f.parts[i].name == name {
			return i
		}
	}
	return -1
}

func (f *form) has(name string) bool { return f.index(name) >= 0 }

func (f *form) remove(name string) bool {
	out := f.parts[:0]
	removed := false
	for _, p := range f.parts {
		if p.name == name {
			removed = true
			continue
		}
		out = append(out, p)
	}
	f.parts = out
	return removed
}

// rename changes the name in the Content-Disposition of the parts called old, keeping their
// other parameters (a file name) and headers.
func (f *form) rename(old, nw string) bool {
	if old == nw || !f.has(old) {
		return false
	}
	f.remove(nw)
	for i := range f.parts {
		p := &f.parts[i]
		if p.name != old {
			continue
		}
		_, params, err := mime.ParseMediaType(p.header.Get("Content-Disposition"))
		if err != nil || params == nil {
			params = map[string]string{}
		}
		params["name"] = nw
		h := cloneHeader(p.header)
		h.Set("Content-Disposition", formDisposition(params))
		p.header, p.name = h, nw
	}
	return true
}

// replace turns the first part called name into a simple field with value v and drops the
// others of that name, when one is present.
func (f *form) replace(name, v string) bool {
	i := f.index(name)
	if i < 0 {
		return false
	}
	f.parts[i] = simplePart(name, v)
	rest := f.parts[:i+1]
	for _, p := range f.parts[i+1:] {
		if p.name != name {
			rest = append(rest, p)
		}
	}
	f.parts = rest
	return true
}

func (f *form) add(name, v string) bool {
	if f.has(name) {
		return false
	}
	f.parts = append(f.parts, simplePart(name, v))
	return true
}

func (f *form) appendValue(name, v string) { f.parts = append(f.parts, simplePart(name, v)) }

func simplePart(name, v string) formPart {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", formDisposition(map[string]string{"name": name}))
	return formPart{name: name, header: h, body: []byte(v)}
}

// formDisposition writes `form-data; name="..."` with the other parameters after name (file
// name first), every value quoted as browsers and mime/multipart's Writer do.
func formDisposition(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "name" && k != "filename" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := params["filename"]; ok {
		keys = append([]string{"filename"}, keys...)
	}
	keys = append([]string{"name"}, keys...)
	var b strings.Builder
	b.WriteString("form-data")
	for _, k := range keys {
		b.WriteString("; ")
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(quoteEscaper.Replace(params[k]))
		b.WriteByte('"')
	}
	return b.String()
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func cloneHeader(h textproto.MIMEHeader) textproto.MIMEHeader {
	out := make(textproto.MIMEHeader, len(h))
	for k, v := range h {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// encode writes the form with its original boundary: Content-Disposition first, then the other
// part headers sorted by name (textproto keeps no order).
func (f *form) encode() []byte {
	var b bytes.Buffer
	for _, p := range f.parts {
		b.WriteString("--")
		b.WriteString(f.boundary)
		b.WriteString("\r\n")
		keys := make([]string, 0, len(p.header))
		for k := range p.header {
			if k != "Content-Disposition" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if _, ok := p.header["Content-Disposition"]; ok {
			keys = append([]string{"Content-Disposition"}, keys...)
		}
		for _, k := range keys {
			for _, v := range p.header[k] {
				b.WriteString(k)
				b.WriteString(": ")
				b.WriteString(v)
				b.WriteString("\r\n")
			}
		}
		b.WriteString("\r\n")
		b.Write(p.body)
		b.WriteString("\r\n")
	}
	b.WriteString("--")
	b.WriteString(f.boundary)
	b.WriteString("--\r\n")
	return b.Bytes()
}
