package lane

import (
	"net"
	"sync"
)

// handoff is the listener through which a lane gives connections to
// net/http.
type handoff struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoff(addr net.Addr) *handoff {
	return &handoff{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// give hands nc to net/http, which reads read first: the bytes of the
// request the lane did not serve, and any after it. If the listener is
// closed, nc is closed.
func (h *handoff) give(nc net.Conn, read []byte) {
	c := nc
	if len(read) > 0 {
		c = &replayConn{Conn: nc, pending: append([]byte(nil), read...)}
	}
	select {
	case h.conns <- c:
	case <-h.closed:
		nc.Close()
	}
}

func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.closed:
		return nil, net.ErrClosed
	}
}

func (h *handoff) Close() error {
	h.once.Do(func() { close(h.closed) })
	return nil
}

func (h *handoff) Addr() net.Addr { return h.addr }

// replayConn is a connection whose first reads return bytes read from it
// before.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite shuts the writing side, as net/http does on a *net.TCPConn
// before closing a connection whose request it did not read to the end.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
