package h1

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Loop drives clients keep-alive connections to the server at base
// (http://host:port, a numeric address) from one OS thread with epoll, as
// wrk does: each answer read with one read(2) when it fits the buffer, each
// request written with one write(2), and no goroutine parked or woken per
// request. A goroutine per client on net.Conn costs the load generator
// 24–35 µs of CPU a request here, which it takes from the server's share
// of a two-core machine; the loop costs a fraction of that. key, when not
// empty, is sent as a bearer token. Loop returns when every client is done,
// with the wall time it ran.
//
// Like Conn.Do, a request on a kept-alive connection that the server closed
// before any byte of the answer is sent once more on a new connection.
func Loop(base, key string, clients int, ex Exchange) (time.Duration, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return 0, fmt.Errorf("%q is not a base URL like http://127.0.0.1:8080", base)
	}
	addr, err := net.ResolveTCPAddr("tcp", u.Host)
	if err != nil {
		return 0, err
	}
	sa, family, err := sockaddr(addr)
	if err != nil {
		return 0, err
	}
	hc, _ := New(base, key) // the request builder; base was checked above
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return 0, fmt.Errorf("epoll_create1: %w", err)
	}
	defer syscall.Close(ep)
	l := &loop{ep: ep, sa: sa, family: family, hc: hc, ex: ex, conns: make([]loopConn, clients)}
	defer l.closeAll()
	start := time.Now()
	for i := range l.conns {
		l.conns[i].fd = -1
		l.send(i)
	}
	events := make([]syscall.EpollEvent, 64)
	lastCheck := time.Now()
	for l.active > 0 {
		wait := 100
		if len(l.queue) > 0 {
			wait = 0
		}
		n, err := syscall.EpollWait(ep, events, wait)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return time.Since(start), fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			i := int(ev.Fd)
			c := &l.conns[i]
			if c.fd < 0 || c.fd != int(ev.Pad) {
				continue // closed earlier in this round
			}
			if ev.Events&syscall.EPOLLOUT != 0 {
				l.flush(i)
			}
			if c.fd >= 0 && ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
				l.receive(i)
			}
		}
		// One pass: a send that fails again queues for the next round, so
		// a server refusing connections does not keep the loop from its
		// other connections and its checks.
		q := l.queue
		l.queue = nil
		for _, i := range q {
			l.send(i)
		}
		if now := time.Now(); n == 0 || now.Sub(lastCheck) > time.Second {
			lastCheck = now
			for i := range l.conns {
				if c := &l.conns[i]; c.busy && now.Sub(c.start) > Timeout {
					l.fail(i, fmt.Errorf("no whole answer within %v", Timeout))
				}
			}
		}
	}
	return time.Since(start), nil
}

type loop struct {
	ep     int
	sa     syscall.Sockaddr
	family int
	hc     *Conn // builds requests (its header)
	ex     Exchange
	conns  []loopConn
	active int   // clients not done
	queue  []int // clients whose request failed, to send their next one
}

type loopConn struct {
	fd      int // -1: none open
	req     Request
	out     []byte // the request, and how much of it is written
	written int
	in      []byte // answer bytes read and not yet taken
	scratch []byte // a chunked body, assembled
	start   time.Time
	busy    bool // a request is out
	outOn   bool // epoll watches for room to write
	reused  bool // the connection carried an answer already
	got     bool // a byte of the current answer came
	retried bool // the current request was sent again on a new connection
	counted bool // counted in active
}

func sockaddr(a *net.TCPAddr) (syscall.Sockaddr, int, error) {
	if ip4 := a.IP.To4(); ip4 != nil {
		sa := &syscall.SockaddrInet4{Port: a.Port}
		copy(sa.Addr[:], ip4)
		return sa, syscall.AF_INET, nil
	}
	if ip6 := a.IP.To16(); ip6 != nil {
		sa := &syscall.SockaddrInet6{Port: a.Port}
		copy(sa.Addr[:], ip6)
		return sa, syscall.AF_INET6, nil
	}
	return nil, 0, fmt.Errorf("%v is not an IP address", a)
}

// send asks the exchange for client i's next request and writes it, or
// ends the client.
func (l *loop) send(i int) {
	c := &l.conns[i]
	if !c.counted {
		c.counted = true
		l.active++
	}
	if !l.ex.Next(i, &c.req) {
		l.closeConn(i)
		c.counted = false
		l.active--
		return
	}
	c.out = l.hc.appendRequest(c.out[:0], c.req.Method, c.req.Path, c.req.Body)
	c.start = time.Now()
	c.retried = false
	l.start(i)
}

// start writes the request in c.out, dialing first when no connection is
// open.
func (l *loop) start(i int) {
	c := &l.conns[i]
	c.busy, c.got, c.written = true, false, 0
	if c.fd < 0 {
		if err := l.dial(i); err != nil {
			l.fail(i, err)
			return
		}
	}
	l.flush(i)
}

func (l *loop) dial(i int) error {
	c := &l.conns[i]
	fd, err := syscall.Socket(l.family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	if err := connect(fd, l.sa); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("connect: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("TCP_NODELAY: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(i), Pad: int32(fd)}
	if err := syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	c.fd, c.reused = fd, false
	c.in = c.in[:0]
	return nil
}

// connect connects the non-blocking socket fd to sa, waiting up to 5
// seconds (on loopback it takes microseconds; the loop waits meanwhile). A
// connect cut short by a signal goes on in the background, as one that
// would block does: both are waited for the same way.
func connect(fd int, sa syscall.Sockaddr) error {
	err := syscall.Connect(fd, sa)
	if err != syscall.EINPROGRESS && err != syscall.EINTR && err != syscall.EALREADY {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return syscall.ETIMEDOUT
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, int(left.Milliseconds())+1)
		if err == syscall.EINTR || (err == nil && n == 0) {
			continue
		}
		if err != nil {
			return err
		}
		soErr, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			return err
		}
		if soErr != 0 {
			return syscall.Errno(soErr)
		}
		return nil
	}
}

// flush writes what is left of client i's request; when the socket takes
// only part of it, the rest waits for EPOLLOUT.
func (l *loop) flush(i int) {
	c := &l.conns[i]
	for c.written < len(c.out) {
		n, err := syscall.Write(c.fd, c.out[c.written:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			l.watchOut(i, true)
			return
		case err != nil:
			if c.reused && !c.got && (err == syscall.EPIPE || err == syscall.ECONNRESET) {
				l.retry(i)
				return
			}
			l.fail(i, fmt.Errorf("write: %w", err))
			return
		}
		c.written += n
	}
	l.watchOut(i, false)
}

func (l *loop) watchOut(i int, on bool) {
	c := &l.conns[i]
	if c.outOn == on {
		return
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(i), Pad: int32(c.fd)}
	if on {
		ev.Events |= syscall.EPOLLOUT
	}
	c.outOn = on
	if err := syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		l.fail(i, fmt.Errorf("epoll_ctl: %w", err))
	}
}

// receive reads once from client i's connection (epoll is level-triggered:
// more waiting is reported again) and takes a whole answer when there is
// one.
func (l *loop) receive(i int) {
	c := &l.conns[i]
	if len(c.in) == cap(c.in) {
		grown := make([]byte, len(c.in), max(64<<10, 2*cap(c.in)))
		copy(grown, c.in)
		c.in = grown
	}
	n, err := syscall.Read(c.fd, c.in[len(c.in):cap(c.in)])
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return
	case err != nil || n == 0:
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		if c.busy && c.reused && !c.got && len(c.in) == 0 {
			l.retry(i)
			return
		}
		if !c.busy && len(c.in) == 0 {
			l.closeConn(i) // the server closed an idle connection
			return
		}
		l.fail(i, fmt.Errorf("read: %w", err))
		return
	}
	c.got = true
	c.in = c.in[:len(c.in)+n]
	if !c.busy {
		l.fail(i, fmt.Errorf("%d bytes came with no request out", n))
		return
	}
	a, used, err := ParseAnswer(c.in, c.scratch)
	if err != nil {
		l.fail(i, err)
		return
	}
	if used == 0 {
		return
	}
	if a.Chunked {
		c.scratch = a.Body[:0] // keep what it grew to
	}
	if used < len(c.in) {
		l.fail(i, fmt.Errorf("%d bytes after the answer to %s %s, with no request out", len(c.in)-used, c.req.Method, c.req.Path))
		return
	}
	took := time.Since(c.start)
	c.busy, c.reused = false, true
	l.ex.Done(i, a.Code, a.Body, took, nil)
	c.in = c.in[:0]
	if a.Closing || c.written < len(c.out) {
		// An answer before the whole request went out (an error on a
		// long body): what is left of it cannot go first on this
		// connection, nor be dropped from it.
		l.closeConn(i)
	}
	l.send(i)
}

// retry sends client i's request again on a new connection: the server
// closed a kept-alive one before answering.
func (l *loop) retry(i int) {
	c := &l.conns[i]
	l.closeConn(i)
	if c.retried {
		l.fail(i, errors.New("the server closed a new connection before answering"))
		return
	}
	c.retried = true
	l.start(i)
}

// fail reports client i's request as failed and closes its connection;
// the loop sends the client's next request after this round of events (not
// from here: a server that refuses every connection would otherwise have
// fail and send call each other without end).
func (l *loop) fail(i int, err error) {
	c := &l.conns[i]
	l.closeConn(i)
	if !c.busy {
		return
	}
	c.busy = false
	l.ex.Done(i, 0, nil, time.Since(c.start), err)
	l.queue = append(l.queue, i)
}

func (l *loop) closeConn(i int) {
	c := &l.conns[i]
	if c.fd < 0 {
		return
	}
	syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	c.fd = -1
	c.in = c.in[:0]
	c.outOn = false
}

func (l *loop) closeAll() {
	for i := range l.conns {
		l.closeConn(i)
	}
}
