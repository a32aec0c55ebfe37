//go:build !linux

package server

import (
	"errors"
	"syscall"
)

const msgMoreSupported = false

func sendMore(syscall.RawConn, []byte) (int, error) {
	return 0, errors.ErrUnsupported
}
