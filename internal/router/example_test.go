package router_test

import (
	"fmt"

	"tollgate/internal/router"
)

// The request flow: normalize the raw path once, match, then build the upstream path from the
// matched prefix and escape it for the wire.
func ExampleTable_Match() {
	tbl, err := router.New([]router.Route{
		{ID: "6f1c0a52-0d3e-4b7a-9c1e-2f4b5d6e7f80", Paths: []string{"/api"}},
		{ID: "0b2e4c6d-8f10-4a32-b547-6d8e9fa0b1c2", Paths: []string{`~/users/(?<id>\d+)$`}},
	}, router.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, raw := range []string{"/api/./v1/a%20b?x=1", "/users/42"} {
		path, err := router.NormalizePath(nil, []byte(raw))
		if err != nil {
			fmt.Println(err)
			continue
		}
		var m router.Match
		if !tbl.Match(&router.Request{Method: []byte("GET"), Host: []byte("example.com"), Port: 80, Path: path}, &m) {
			fmt.Println("no route")
			continue
		}
		up := router.UpstreamPath(nil, "/backend", path, m.Prefix, true)
		id, _ := m.Captures.Named("id")
		fmt.Printf("%s… %s id=%q\n", m.Route.ID[:8], router.EscapeUpstreamPath(nil, up), id)
	}
	// Output:
	// 6f1c0a52… /backend/v1/a%20b id=""
	// 0b2e4c6d… /backend id="42"
}
