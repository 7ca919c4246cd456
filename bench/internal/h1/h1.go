// Package h1 is the benchmark tools' HTTP/1.1 client: one keep-alive
// connection per simulated client, each request written with one system
// call from bytes built in place, each answer read by parsing the status
// line, the headers it needs and a Content-Length or chunked body. It is
// what wrk-style load generators do: net/http's client spends more CPU per
// request than a small server handler does (pools, header maps, a
// goroutine pair per connection), and on a machine where the load
// generator shares the cores with the server that cost comes out of the
// server's share.
//
// It speaks only what Rung's server answers: no TLS, no redirects, no
// compression, no 100-continue, no proxies. A Conn is not safe for
// concurrent use.
package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Timeout bounds one request: sending it and reading the whole answer.
const Timeout = 2 * time.Minute

// Conn is one client's keep-alive connection to a server. It dials on
// first use and again after the server closed the connection.
type Conn struct {
	addr   string // host:port to dial
	header []byte // "Host: …\r\n" and, when a key is set, "Authorization: Bearer …\r\n"
	c      net.Conn
	r      *bufio.Reader
	req    []byte
	reused bool // c has carried a request already
}

// New returns a connection to the server at base (http://host:port) that
// sends key, when not empty, as a bearer token. It does not dial yet.
func New(base, key string) (*Conn, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%q is not a base URL like http://127.0.0.1:8080", base)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	h := append([]byte("Host: "), u.Host...)
	h = append(h, "\r\n"...)
	if key != "" {
		h = append(h, "Authorization: Bearer "...)
		h = append(h, key...)
		h = append(h, "\r\n"...)
	}
	return &Conn{addr: addr, header: h}, nil
}

// Close closes the connection, if one is open.
func (c *Conn) Close() error {
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c, c.r = nil, nil
	return err
}

// Do sends one request and reads the whole answer's body into buf (reset
// first), returning the status code. A body, when not nil, is sent as
// application/json. A request on a kept-alive connection that the server
// had closed meanwhile (no answer byte came back) is sent once more on a
// new connection, as net/http does for requests that may be repeated;
// Rung's writes are idempotent (events by id, partners and members by PUT).
func (c *Conn) Do(method, path string, body []byte, buf *bytes.Buffer) (int, error) {
	c.req = c.appendRequest(c.req[:0], method, path, body)
	code, err := c.roundTrip(buf)
	if err != nil && errors.Is(err, errStale) {
		c.Close()
		code, err = c.roundTrip(buf)
	}
	if err != nil {
		c.Close()
		if errors.Is(err, errStale) {
			err = io.ErrUnexpectedEOF
		}
	}
	return code, err
}

func (c *Conn) appendRequest(b []byte, method, path string, body []byte) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\n"...)
	b = append(b, c.header...)
	if body != nil {
		b = append(b, "Content-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// errStale says a reused connection ended before any byte of the answer.
var errStale = errors.New("the server closed the kept-alive connection")

func (c *Conn) roundTrip(buf *bytes.Buffer) (int, error) {
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		c.c, c.reused = nc, false
		if c.r == nil {
			c.r = bufio.NewReaderSize(nc, 64<<10)
		} else {
			c.r.Reset(nc)
		}
	}
	reused := c.reused
	c.reused = true
	if err := c.c.SetDeadline(time.Now().Add(Timeout)); err != nil {
		return 0, err
	}
	if _, err := c.c.Write(c.req); err != nil {
		if reused && isReset(err) {
			return 0, errStale
		}
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if reused && len(line) == 0 && (err == io.EOF || isReset(err)) {
			return 0, errStale
		}
		return 0, fmt.Errorf("reading the status line: %w", err)
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, fmt.Errorf("not an HTTP/1.x status line: %q", line)
	}
	code, ok := atoi(line[9:12])
	if !ok {
		return 0, fmt.Errorf("bad status code in %q", line)
	}
	length, chunked, closing := -1, false, line[7] == '0' // HTTP/1.0 closes by default
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return code, fmt.Errorf("reading the headers: %w", err)
		}
		if len(h) <= 2 && (len(h) == 1 || h[0] == '\r') {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return code, fmt.Errorf("bad header line %q", h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case equalFold(name, "content-length"):
			n, ok := atoi(value)
			if !ok {
				return code, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case equalFold(name, "transfer-encoding"):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case equalFold(name, "connection"):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	buf.Reset()
	switch {
	case code == 204 || code == 304 || code < 200:
	case chunked:
		err = c.readChunked(buf)
	case length >= 0:
		buf.Grow(length)
		_, err = io.CopyN(buf, c.r, int64(length))
	default:
		_, err = buf.ReadFrom(c.r)
		closing = true
	}
	if err != nil {
		return code, fmt.Errorf("reading the body: %w", err)
	}
	if closing {
		c.Close()
	}
	return code, nil
}

func (c *Conn) readChunked(buf *bytes.Buffer) error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size := bytes.TrimSpace(line)
		if i := bytes.IndexByte(size, ';'); i >= 0 {
			size = size[:i]
		}
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			// Trailers, then the empty line.
			for {
				t, err := c.r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimSpace(t)) == 0 {
					return nil
				}
			}
		}
		if _, err := io.CopyN(buf, c.r, n); err != nil {
			return err
		}
		if _, err := c.r.Discard(2); err != nil {
			return err
		}
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// atoi reads a non-negative decimal number of at most 18 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// equalFold reports whether b is s, ignoring ASCII case (s is lower case).
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
