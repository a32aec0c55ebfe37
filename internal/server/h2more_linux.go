package server

import "syscall"

const msgMoreSupported = true

// sendMore writes p to the socket with MSG_MORE, through the runtime's poller (deadlines and
// waiting for room apply as for Write).
func sendMore(rc syscall.RawConn, p []byte) (int, error) {
	n := 0
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.SendmsgN(int(fd), p[n:], nil, nil, syscall.MSG_MORE|syscall.MSG_NOSIGNAL)
			switch e {
			case nil:
				n += m
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until the socket has room
			default:
				werr = e
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}
