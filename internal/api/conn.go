package api

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// net/http writes an answer through a 4 KiB buffer: one longer than that (a
// top-100 leaderboard page is ~12 KB) leaves in two write(2)s, the full
// buffer and then the rest, and on loopback each write costs about as much
// as a whole small request's HTTP work. A connection accepted by Listen can
// hold what is written to it while a handler writes a long answer and send
// it in one write(2) when the handler is done with it (writeLong).

// Listen returns ln's connections wrapped so that a long answer can leave in
// one write, and sets srv.ConnContext (keeping any it had) so that handlers
// can reach their connection.
func Listen(srv *http.Server, ln net.Listener) net.Listener {
	next := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if next != nil {
			ctx = next(ctx, c)
		}
		if hc, ok := c.(*heldConn); ok {
			ctx = context.WithValue(ctx, heldConnKey{}, hc)
		}
		return ctx
	}
	return heldListener{ln}
}

type heldListener struct{ net.Listener }

func (l heldListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &heldConn{Conn: c}, nil
}

type heldConnKey struct{}

// heldConn is a connection that can hold its writes. Only the goroutine
// serving the connection writes to it (net/http serves one request at a
// time on a connection), so hold and held need no lock.
type heldConn struct {
	net.Conn
	hold bool
	held *[]byte
}

// heldBufs holds the bytes of answers being held, between the connections.
var heldBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (c *heldConn) Write(p []byte) (int, error) {
	if !c.hold {
		return c.Conn.Write(p)
	}
	if c.held == nil {
		c.held = heldBufs.Get().(*[]byte)
	}
	*c.held = append(*c.held, p...)
	return len(p), nil
}

// CloseWrite shuts the writing side of the connection if it has one:
// net/http does before closing a connection whose request it did not read
// to the end.
func (c *heldConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets net/http copy a file to a TCP connection as it does
// without the wrapper (sendfile), unless writes are held.
func (c *heldConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok && !c.hold {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// release writes what was held in one write. A failed write closes the
// connection: net/http has already been told the bytes went out, and
// closing is what it does after a failed write.
func (c *heldConn) release() error {
	c.hold = false
	if c.held == nil {
		return nil
	}
	b := c.held
	c.held = nil
	_, err := c.Conn.Write(*b)
	*b = (*b)[:0]
	heldBufs.Put(b)
	if err != nil {
		c.Conn.Close()
	}
	return err
}

// maxHeldBody is the longest body held: copying a longer one costs more
// than the write it saves (the answer to a large batch of events).
const maxHeldBody = 64 << 10

// writeLong writes body, the whole body of an answer whose header is set,
// with w; if r came on a connection from Listen, everything net/http
// writes to the connection meanwhile (the header and the body, or the part
// of them its buffer does not keep) leaves in one write, unless body is
// longer than maxHeldBody.
func writeLong(w http.ResponseWriter, r *http.Request, body []byte) {
	c, ok := r.Context().Value(heldConnKey{}).(*heldConn)
	if !ok || len(body) > maxHeldBody {
		w.Write(body)
		return
	}
	c.hold = true
	w.Write(body)
	c.release()
}

// Simple reports whether a request with this method and path may be served
// by a lane (internal/lane) instead of net/http: the health checks, the
// reads clients make most (leaderboards, scorecards, partners, members,
// events) and event ingest (POST /api/v1/events; the lane takes bodies of
// up to lane.MaxBody, a few hundred events), whose handlers write one
// whole answer and need neither streaming nor the request's cancellation
// when the client goes away (accepted events are committed whether or not
// the client waits for the answer). Lists, the feed, the ledger, exports
// and every other write stay with net/http.
func Simple(method, path string) bool {
	if method == http.MethodPost {
		return path == "/api/v1/events"
	}
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	switch {
	case path == "/healthz", path == "/readyz", path == "/api/v1/leaderboards":
		return true
	}
	for _, prefix := range simplePrefixes {
		if len(path) > len(prefix) && strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

var simplePrefixes = []string{"/api/v1/leaderboards/", "/api/v1/members/", "/api/v1/partners/", "/api/v1/events/"}
