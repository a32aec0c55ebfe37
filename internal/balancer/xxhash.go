package balancer

import "math/bits"

// xxh32 is xxHash32 with seed 0 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md).
//
// It is written here, not taken from the standard library, because the ring must place keys
// and targets exactly where Kong does: Kong's consistent_hashing.lua hashes with luaxxhash,
// which is this function. hash/maphash would not do even setting Kong aside: its seed is
// random per process, and a ring must agree across gateway nodes and restarts or stickiness
// breaks on every deploy. Generic over string and []byte so neither is converted.
func xxh32[T string | []byte](b T) uint32 {
	const (
		p1 uint32 = 2654435761
		p2 uint32 = 2246822519
		p3 uint32 = 3266489917
		p4 uint32 = 668265263
		p5 uint32 = 374761393
	)
	n := len(b)
	i := 0
	var h uint32
	if n >= 16 {
		// Seed 0: the specification's seed+p1+p2, seed+p2, seed, seed-p1, wrapped to 32 bits
		// (the first and last written out, since Go rejects overflowing constants).
		v1 := uint32(0x24234428) // p1 + p2
		v2 := p2
		v3 := uint32(0)
		v4 := uint32(0x61c8864f) // -p1
		for ; i <= n-16; i += 16 {
			v1 = bits.RotateLeft32(v1+le32(b, i)*p2, 13) * p1
			v2 = bits.RotateLeft32(v2+le32(b, i+4)*p2, 13) * p1
			v3 = bits.RotateLeft32(v3+le32(b, i+8)*p2, 13) * p1
			v4 = bits.RotateLeft32(v4+le32(b, i+12)*p2, 13) * p1
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) +
			bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = p5
	}
	h += uint32(n)
	for ; i <= n-4; i += 4 {
		h = bits.RotateLeft32(h+le32(b, i)*p3, 17) * p4
	}
	for ; i < n; i++ {
		h = bits.RotateLeft32(h+uint32(b[i])*p5, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}

func le32[T string | []byte](b T, i int) uint32 {
	return uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
}
