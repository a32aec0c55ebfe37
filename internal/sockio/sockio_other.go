//go:build !linux

package sockio

// Elsewhere, Read and Write stay the *net.TCPConn's (rc stays nil): the raw calls and
// their flags are Linux's.
func (c *Conn) init() {}

func (c *Conn) read(p []byte) (int, error)  { return c.TCPConn.Read(p) }
func (c *Conn) write(p []byte) (int, error) { return c.TCPConn.Write(p) }
