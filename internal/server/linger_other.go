//go:build !linux

package server

import "net"

// pendingInput is only known on Linux; elsewhere connections close at once.
func pendingInput(*net.TCPConn) bool { return false }
