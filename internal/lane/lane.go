// Package lane serves the simplest HTTP/1.1 requests itself and hands every
// other connection to net/http.
//
// A leaderboard read or a single event's POST over HTTP spends most of its
// CPU outside Rung: in net/http's per-request machinery (a goroutine
// started per request to watch the connection, a cancelable context, the
// header parser's maps, a copy of the answer's header, buffered writers)
// and in system calls. On two cores shared with the clients that decides
// how many requests a second the server answers. A lane reads a
// connection's requests itself while they are the kind it knows: GET or
// HEAD without a body, or POST with one Content-Length of at most MaxBody;
// HTTP/1.1, a head that arrives whole in 8 KiB, a path its Serves function
// accepts. It reads a POST's whole body before the handler runs, builds the
// same *http.Request net/http would, calls the same handler, buffers the
// answer and sends it in one write. The first request of any other kind (a
// PUT, a chunked or longer body, Expect, HTTP/1.0, an Upgrade, a bad or
// oversized head, a body cut short) ends the lane's part: the connection,
// with the bytes read so far, goes to the fallback *http.Server through the
// listener New returns, and net/http serves it from then on, exactly as it
// would have from the start.
//
// What a lane does not do for the requests it serves: cancel the request's
// context when the client goes away (net/http's background read), stream
// an answer as the handler writes it (answers up to MaxBuffered are sent
// whole with their Content-Length; a longer one is sent as it comes and
// ends the connection), offer http.Flusher or http.Hijacker. Serves should
// therefore accept only requests whose handlers need none of that.
//
// A connection's requests are made anew in one place: the *http.Request,
// its URL, Header and Body, and the http.ResponseWriter are the same
// objects for each of them. A handler a lane serves must not keep any of
// them, nor a goroutine that uses them, past its return (strings and the
// request's context it may keep).
package lane

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// MaxBuffered is the longest answer a lane holds to send whole, with its
// Content-Length, in one write.
const MaxBuffered = 1 << 20

// maxHead is the longest request head (request line and headers) a lane
// reads; a longer one goes to net/http, which answers it.
const maxHead = 8 << 10

// Server serves the connections of one listener.
type Server struct {
	ln      net.Listener
	srv     *http.Server
	serves  func(method, path string) bool
	handoff *handoff
	base    context.Context

	closing atomic.Bool
	mu      sync.Mutex
	conns   map[*conn]struct{}
}

// New returns a lane for the connections of ln and the listener through
// which it hands connections to net/http: serve that listener with srv
// (srv.Serve(rest)). The lane serves a request itself when serves(method,
// path) says it may, with srv's Handler, timeouts (ReadHeaderTimeout,
// IdleTimeout, WriteTimeout), ConnContext and ErrorLog. Run it with Serve;
// end it with Shutdown or Close, and srv with its own.
func New(ln net.Listener, srv *http.Server, serves func(method, path string) bool) (*Server, net.Listener) {
	s := &Server{
		ln: ln, srv: srv, serves: serves,
		handoff: newHandoff(ln.Addr()),
		conns:   map[*conn]struct{}{},
	}
	base := context.Background()
	if srv.BaseContext != nil {
		base = srv.BaseContext(ln)
	}
	s.base = context.WithValue(base, http.ServerContextKey, srv)
	return s, s.handoff
}

// Serve accepts connections until the listener fails or the lane is shut
// down; it then returns http.ErrServerClosed, or the listener's error.
func (s *Server) Serve() error {
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Too many open files and the like: wait and try again, as
				// net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logf("lane: accept error: %v; retrying in %v", err, delay)
				time.Sleep(delay)
				continue
			}
			s.handoff.Close()
			return err
		}
		delay = 0
		c := s.newConn(nc)
		if c == nil {
			nc.Close()
			return http.ErrServerClosed
		}
		go c.serve()
	}
}

// Shutdown stops accepting connections, closes the lane's idle ones and
// waits until the others have sent the answer they are working on, or ctx
// ends. It does not shut down the fallback server: call its Shutdown too.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	err := s.ln.Close()
	s.handoff.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listener and every connection the lane holds at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	err := s.ln.Close()
	s.handoff.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
	return err
}

// closeIdle closes the connections waiting for a request and reports
// whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.nc.Close()
		}
	}
	return len(s.conns) == 0
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, remote: nc.RemoteAddr().String()}
	c.ctx = s.base
	if s.srv.ConnContext != nil {
		c.ctx = s.srv.ConnContext(c.ctx, nc)
	}
	c.ctx = context.WithValue(c.ctx, http.LocalAddrContextKey, nc.LocalAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	s.conns[c] = struct{}{}
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.srv.ErrorLog != nil {
		s.srv.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// The states of a lane's connection, for Shutdown.
const (
	stateActive int32 = iota // reading or serving a request
	stateIdle                // waiting for the first byte of a request
	stateClosed              // closed by Shutdown
)

// conn is one connection the lane serves.
type conn struct {
	s      *Server
	nc     net.Conn
	remote string
	ctx    context.Context
	state  atomic.Int32
	served int // requests answered

	in      []byte // bytes read and not yet served
	out     []byte // the answer's body, held
	headBuf []byte // the answer as it goes out: head and body

	readBy, writeBy time.Time // the deadlines last set
	date            []byte    // the Date header's value, for dateSec
	dateSec         int64

	// What each request is made of, anew in place (request.build,
	// response.go's answer): the request, a template holding the
	// connection's context, the URL, the header and its values, and the
	// answer's writer with its header.
	req    *http.Request
	tmpl   http.Request
	url    url.URL
	header http.Header
	vals   []string
	body   bodyReader
	w      response
}

// serve reads and answers requests until the connection ends or is
// handed over.
func (c *conn) serve() {
	handed := false
	defer func() {
		if err := recover(); err != nil && err != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			c.s.logf("http: panic serving %v: %v\n%s", c.remote, err, buf)
		}
		if !handed {
			c.nc.Close()
		}
		c.s.forget(c)
	}()
	c.in = make([]byte, 0, 4<<10)
	for {
		head, ok, err := c.readHead()
		if err != nil {
			// A head cut short goes to net/http, which answers it (400),
			// unless it is under 4 bytes after an earlier request: net/http
			// waits for 4 bytes of a next request before reading it.
			if err != io.EOF || len(c.in) == 0 || (c.served > 0 && len(c.in) < 4) {
				return
			}
			ok = false
		}
		var q request
		var r *http.Request
		ok = ok && q.parse(c.in[:head])
		if ok && q.length > 0 {
			if err := c.readBody(head + int(q.length)); err != nil {
				// A body cut short goes to net/http with what came, which
				// answers it as it would have from the start; a timeout or
				// Shutdown ends the connection.
				if err != io.EOF {
					return
				}
				ok = false
			}
		}
		if ok = ok && c.s.serves(q.method, q.path); ok {
			r, ok = q.build(c, c.in[head:head+int(q.length)])
		}
		if !ok {
			handed = true
			c.nc.SetDeadline(time.Time{}) // net/http sets its own
			c.s.handoff.give(c.nc, c.in)
			return
		}
		keep := c.answer(r)
		c.served++
		if rest := c.in[head+int(q.length):]; cap(c.in) > maxHead && len(rest) <= 4<<10 {
			c.in = append(make([]byte, 0, 4<<10), rest...) // a long body's room is not kept
		} else {
			c.in = c.in[:copy(c.in, rest)]
		}
		if !keep || c.s.closing.Load() {
			return
		}
	}
}

// readHead reads until c.in holds a whole request head and returns its
// length. ok is false when the head is longer than maxHead or its line
// endings are not CRLF: net/http is to answer those. An error (the client
// closed, a timeout, Shutdown) ends the connection.
func (c *conn) readHead() (n int, ok bool, err error) {
	var started time.Time
	for {
		if n = headEnd(c.in); n > 0 {
			return n, true, nil
		}
		// net/http waits for 4 bytes of a request after the first before
		// reading it: until then nothing is decided.
		if (n < 0 && (c.served == 0 || len(c.in) >= 4)) || len(c.in) >= maxHead {
			return 0, false, nil
		}
		now := time.Now()
		if len(c.in) == 0 {
			// Waiting for a request: IdleTimeout (or ReadTimeout) bounds
			// the wait. The deadline is moved only once it is half used:
			// setting one costs about as much as parsing a request.
			idle := c.s.srv.IdleTimeout
			if idle <= 0 {
				idle = c.s.srv.ReadTimeout
			}
			if t := c.s.srv.ReadHeaderTimeout; c.served == 0 && t > 0 {
				idle = t // a new connection's first request comes within ReadHeaderTimeout, as with net/http
			}
			if idle > 0 && (c.readBy.Sub(now) < idle/2 || c.readBy.Sub(now) > idle) {
				c.readBy = now.Add(idle)
				c.nc.SetReadDeadline(c.readBy)
			} else if idle <= 0 && !c.readBy.IsZero() {
				c.readBy = time.Time{}
				c.nc.SetReadDeadline(c.readBy)
			}
			c.state.Store(stateIdle)
		} else if started.IsZero() {
			// Part of a head came: the rest must come within
			// ReadHeaderTimeout of it.
			started = now
			if t := c.s.srv.ReadHeaderTimeout; t > 0 && (c.readBy.IsZero() || c.readBy.After(now.Add(t))) {
				c.readBy = now.Add(t)
				c.nc.SetReadDeadline(c.readBy)
			}
		}
		if cap(c.in) < maxHead && len(c.in) == cap(c.in) {
			c.in = append(make([]byte, 0, maxHead), c.in...)
		}
		m, err := c.nc.Read(c.in[len(c.in):cap(c.in)])
		if len(c.in) == 0 && !c.state.CompareAndSwap(stateIdle, stateActive) {
			return 0, false, errors.New("lane: shut down")
		}
		c.in = c.in[:len(c.in)+m]
		if err != nil {
			return 0, false, err
		}
	}
}

// readBody reads until c.in holds the first n bytes of a request: its
// head, read already, and its body. The body's bytes must come within
// ReadTimeout of when the lane starts waiting for them (net/http counts
// ReadTimeout from the head's first byte: the lane is a little more
// patient); without a ReadTimeout they may take as long as they take, as
// with net/http. It returns io.EOF when the client ends the connection
// first.
func (c *conn) readBody(n int) error {
	if cap(c.in) < n {
		c.in = append(make([]byte, 0, n), c.in...)
	}
	if len(c.in) < n {
		// The deadline of the head (ReadHeaderTimeout, or the idle
		// wait's) is not the body's.
		if t := c.s.srv.ReadTimeout; t > 0 {
			c.readBy = time.Now().Add(t)
			c.nc.SetReadDeadline(c.readBy)
		} else if !c.readBy.IsZero() {
			c.readBy = time.Time{}
			c.nc.SetReadDeadline(c.readBy)
		}
	}
	for len(c.in) < n {
		m, err := c.nc.Read(c.in[len(c.in):n])
		c.in = c.in[:len(c.in)+m]
		if err != nil && len(c.in) < n {
			return err
		}
	}
	return nil
}

// headEnd returns the length of the request head at the start of b, up to
// and including its empty line; 0 if b does not hold all of it yet; -1 if
// a line ends in a bare LF.
func headEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i == 0 || b[i-1] != '\r' {
			return -1
		}
		if i >= 3 && b[i-2] == '\n' && b[i-3] == '\r' {
			return i + 1
		}
	}
	return 0
}
