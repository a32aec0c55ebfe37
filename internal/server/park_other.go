//go:build !unix

package server

import "syscall"

// canPark: parking needs a non-blocking peek on the socket; elsewhere idle connections stay
// with the engine.
const canPark = false

func awaitReadable(syscall.RawConn) bool { return false }
