package discovery

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strings"
)

// hostAddrs is what the hosts file says of one name: one address per family, as Kong's
// parseHosts keeps (kong/resty/dns/utils.lua: "first one wins").
type hostAddrs struct{ v4, v6 netip.Addr }

// readHosts reads a hosts file. A missing file is an empty one unless required (Kong only
// logs "Hosts file not found"). localhost is always defined, as in Kong (RFC 6761 §6.3).
func readHosts(path string, required bool) (map[string]hostAddrs, error) {
	data, err := os.ReadFile(path)
	if err != nil && (required || !errors.Is(err, fs.ErrNotExist)) {
		return nil, fmt.Errorf("read hosts file: %w", err)
	}
	hosts, err := parseHosts(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read hosts file %s: %w", path, err)
	}
	if _, ok := hosts["localhost"]; !ok {
		hosts["localhost"] = hostAddrs{
			v4: netip.AddrFrom4([4]byte{127, 0, 0, 1}),
			v6: netip.IPv6Loopback(),
		}
	}
	return hosts, nil
}

// parseHosts parses hosts(5) lines: an address, then names and aliases; '#' and, as Kong
// also has it, ';' start a comment. Names are lower-cased; lines whose first field is not an
// IP address are skipped, as Kong skips them.
func parseHosts(rd io.Reader) (map[string]hostAddrs, error) {
	hosts := map[string]hostAddrs{}
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(strings.ToLower(line))
		if len(f) < 2 {
			continue
		}
		ip, ok := parseIP(f[0])
		if !ok {
			continue
		}
		for _, name := range f[1:] {
			name = strings.TrimSuffix(name, ".")
			h := hosts[name]
			switch {
			case ip.Is4() && !h.v4.IsValid():
				h.v4 = ip
			case ip.Is6() && !h.v6.IsValid():
				h.v6 = ip
			}
			hosts[name] = h
		}
	}
	return hosts, sc.Err()
}
