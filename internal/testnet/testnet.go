// Package testnet holds network helpers shared by the gateway's tests: real loopback sockets,
// never mocks, on ports the kernel picks.
package testnet

import (
	"net"
	"testing"
)

// Pair returns both ends of a TCP connection on 127.0.0.1. Both are closed when the test
// ends.
func Pair(t testing.TB) (dialed, accepted *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept() // nil on error: reported below
		acc <- c
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a := <-acc
	if a == nil {
		d.Close()
		t.Fatal("testnet: accept failed")
	}
	t.Cleanup(func() { d.Close(); a.Close() })
	return d.(*net.TCPConn), a.(*net.TCPConn)
}
