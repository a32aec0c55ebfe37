package balancer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Ring is Kong's consistent-hashing balancer (kong/runloop/balancer/consistent_hashing.lua, a
// Ketama variant), rebuilt the same way so that a key reaches the same target as under Kong:
//
//   - The ring has Slots positions (Kong's "continuum" of upstream.slots points, at least
//     1000). Targets are sorted by host then port, and each gets
//     floor(weight/total weight × number of targets × 160) points, at least 1 when its
//     weight is not 0: 160 per target when weights are equal, in proportion to weight
//     otherwise.
//   - Point i of a target sits at xxh32("<ip>::<port> <i>") mod Slots + 1 (the double colon
//     is Kong's). A point landing on a taken position is dropped and one more is added, so a
//     target keeps its count.
//   - A key goes to xxh32(key) mod Slots + 1, then counter-clockwise (towards lower
//     positions, wrapping) to the first point, skipping points of down targets.
//
// Kong reduces the hash as a signed 32-bit number (LuaJIT's bit operations) with Lua's floored
// modulo; ringIndex does the same. Placement matches Kong for targets given by IP. Kong
// places a hostname target's resolved addresses; we do not resolve, so a hostname target's
// points come from its name and differ from Kong's (still stable across nodes and restarts).
//
// Because a target's points depend only on its own address and count, adding or removing a
// target moves only the keys that the change gives to or takes from it (about 1/N), plus
// those of points displaced by collisions, which grow with how full the ring is: removing one
// of 50 targets moves 2.6% of keys on 65536 slots but 6% on 10000, where the 8000 points fill
// 80% of the ring (TestRingRemapping). The ring is immutable: a pick is a binary search over
// the taken positions and no write.
//
// ip-hash, our extension, is this ring keyed by the client address: the proxy builds its Key
// from the address as text, as Kong's hash_on: ip does (nginx's $remote_addr), so ip-hash is
// consistent-hashing with hash_on: ip under another name.
type Ring struct {
	targets []*Target
	usable  []*Target // weight > 0
	slots   uint32    // ring size
	points  []uint32  // taken positions (1..slots), ascending
	owners  []*Target // owners[i] holds points[i]
}

// Kong's constants (consistent_hashing.lua, upstream schema).
const (
	defaultSlots  = 10000 // upstream.slots default
	minRingSlots  = 1000  // MIN_CONTINUUM_SIZE: smaller rings become this size
	maxRingSlots  = 65536 // upstream.slots maximum
	pointsPerNode = 160   // SERVER_POINTS: points per target when weights are equal
)

// emptyHash is xxh32(""): Kong hashes the empty string when a request has no hash input.
const emptyHash = 0x02cc5d05

// NewRing builds the consistent-hashing ring of targets over slots positions (0 = Kong's
// default 10000; below 1000 = 1000, as in Kong). It fails when the targets' points, about
// 160 per target, cannot all be placed: from 62 targets at the default size (408 at most on
// 65536 slots). Kong then logs "consistent hashing balancer requires more entries" and keeps
// an empty ring that answers every request 503; we refuse the configuration and name the fix.
func NewRing(targets []*Target, slots int) (*Ring, error) {
	switch {
	case slots == 0:
		slots = defaultSlots
	case slots < 0 || slots > maxRingSlots:
		return nil, fmt.Errorf("consistent-hashing: slots %d out of range 10-%d", slots, maxRingSlots)
	case slots < minRingSlots:
		slots = minRingSlots
	}
	r := &Ring{targets: targets, usable: weighted(targets), slots: uint32(slots)}
	total := 0
	for _, t := range r.usable {
		total += t.Weight
	}
	if total == 0 {
		return r, nil
	}
	// Kong sorts targets so that collisions resolve the same way whatever the order of the
	// configuration (and so on every node).
	sorted := slices.Clone(r.usable)
	slices.SortStableFunc(sorted, func(a, b *Target) int {
		return cmp.Or(strings.Compare(sortName(a.Host), sortName(b.Host)), cmp.Compare(a.Port, b.Port))
	})
	taken := make([]*Target, slots+1) // 1-based, as Kong's
	count := float64(len(targets))    // Kong counts every target, weight 0 included
	var name []byte
	for _, t := range sorted {
		entries := int(math.Floor(float64(t.Weight) / float64(total) * count * pointsPerNode))
		entries = max(entries, 1)
		name = append(append(append(name[:0], t.Host...), "::"...), strconv.Itoa(t.Port)...)
		name = append(name, ' ')
		prefix := len(name)
		// Kong's loop, step for step, including where it gives up.
		for i := 1; i <= entries; {
			name = strconv.AppendInt(name[:prefix], int64(i), 10)
			idx := ringIndex(xxh32(name), uint32(slots))
			if taken[idx] == nil {
				taken[idx] = t
			} else {
				entries++ // move the problem forward
			}
			i++
			if i > slots {
				return nil, fmt.Errorf("consistent-hashing: %d targets need about %d ring points (160 each on average), too many to place on %d slots; raise the upstream's slots (at most 65536, which holds about 400 targets)",
					len(targets), len(targets)*pointsPerNode, slots)
			}
		}
	}
	for idx, t := range taken {
		if t != nil {
			r.points = append(r.points, uint32(idx))
			r.owners = append(r.owners, t)
		}
	}
	return r, nil
}

// sortName is the name Kong sorts targets by: IPv6 addresses keep their brackets there.
func sortName(host string) string {
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]"
	}
	return host
}

// ringIndex is Kong's get_continuum_index: (xxhash32 % points) + 1, where luaxxhash returns a
// signed 32-bit number and Lua's % is floored, so a "negative" hash counts from the top.
func ringIndex(h uint32, slots uint32) uint32 {
	m := int64(int32(h)) % int64(slots)
	if m < 0 {
		m += int64(slots)
	}
	return uint32(m) + 1
}

// Pick returns the owner of the first point at or below the key's position, walking down past
// down targets. A key with Valid false is placed as Kong places the empty string.
func (r *Ring) Pick(k Key) (*Target, error) {
	if len(r.points) == 0 {
		return nil, ErrNoTarget
	}
	h := uint32(k.Hash)
	if !k.Valid {
		h = emptyHash
	}
	i, found := slices.BinarySearch(r.points, ringIndex(h, r.slots))
	if !found {
		// i is the first point above the position: the one before it, or the last point
		// when the position is below them all (the ring wraps).
		if i--; i < 0 {
			i = len(r.points) - 1
		}
	}
	if t := r.owners[i]; !t.down.Load() {
		return t, nil
	}
	return r.walk(i)
}

// walk continues counter-clockwise from point i, whose target is down, to the next point of a
// healthy target, as Kong's getPeer does. It first checks that one exists (O(targets)), so a
// fully down upstream costs a scan of the targets rather than of every point.
func (r *Ring) walk(i int) (*Target, error) {
	ok := false
	for _, t := range r.usable {
		if !t.down.Load() {
			ok = true
			break
		}
	}
	if !ok {
		return nil, ErrNoTarget
	}
	for range r.points {
		if i--; i < 0 {
			i = len(r.points) - 1
		}
		if t := r.owners[i]; !t.down.Load() {
			return t, nil
		}
	}
	// The only healthy target went down meanwhile.
	return nil, ErrNoTarget
}

// Targets lists the targets in configuration order.
func (r *Ring) Targets() []*Target { return r.targets }
