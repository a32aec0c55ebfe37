package h1

import "unsafe"

// s2b views a string's bytes without copying; callers only read them.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
