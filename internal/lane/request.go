package lane

import (
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// request is a request head as a lane reads it, before it becomes an
// *http.Request.
type request struct {
	head   string // the whole head, which every other string is part of
	method string
	target string // as sent: path and query
	path   string // target up to '?'
	lines  int    // header lines
	host   string
	close  bool  // Connection: close
	length int64 // a POST's Content-Length
}

// MaxBody is the longest body a lane reads itself: a POST announcing a
// longer one goes to net/http.
const MaxBody = 64 << 10

// parse reads a request head (ending in its empty line) and reports
// whether the lane may serve it: GET or HEAD, or a POST with one
// Content-Length of at most MaxBody; HTTP/1.1, an origin-form target, one
// valid Host, valid header names and values without folding, and nothing
// that announces another kind of body or another protocol
// (Transfer-Encoding, Expect, Upgrade, a Connection other than keep-alive
// or close, a Content-Length on a GET or HEAD). Whatever it refuses,
// net/http answers.
func (q *request) parse(b []byte) bool {
	line, rest, _ := bytes.Cut(b, crlf)
	method, line, ok1 := bytes.Cut(line, sp)
	target, proto, ok2 := bytes.Cut(line, sp)
	if !ok1 || !ok2 || string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/' {
		return false
	}
	post := false
	switch string(method) {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		post = true
	default:
		return false
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	hosts, lengths := 0, 0
	for h := rest; len(h) > 2; {
		var line []byte
		line, h, _ = bytes.Cut(h, crlf)
		name, value, ok := bytes.Cut(line, colon)
		if !ok || len(name) == 0 {
			return false
		}
		value = bytes.Trim(value, " \t")
		if !validName(name) || !httpguts.ValidHeaderFieldValue(string(value)) {
			return false
		}
		switch {
		case equalFold(name, "host"):
			hosts++
			q.host = string(value)
		case equalFold(name, "connection"):
			switch {
			case equalFold(value, "close"):
				q.close = true
			case equalFold(value, "keep-alive"):
			default:
				return false
			}
		case equalFold(name, "content-length"):
			n, ok := contentLength(value)
			if !post || !ok || n > MaxBody {
				return false
			}
			lengths++
			q.length = n
		case equalFold(name, "transfer-encoding"), equalFold(name, "expect"),
			equalFold(name, "upgrade"), equalFold(name, "http2-settings"):
			return false
		}
		q.lines++
	}
	if hosts != 1 || !httpguts.ValidHostHeader(q.host) || (post && lengths != 1) {
		return false
	}
	q.head = string(b)
	q.method = q.head[:len(method)]
	q.target = q.head[len(method)+1 : len(method)+1+len(target)]
	q.path, _, _ = strings.Cut(q.target, "?")
	return true
}

// contentLength reads a Content-Length value: digits only, as net/http
// accepts them (no sign, no list).
func contentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// build makes the *http.Request net/http would make of the head and the
// body that follows it. ok is false when the target is not a URL net/http
// accepts.
//
// The request, its URL, its header, the header's values and the body's
// reader are the connection's, made anew in place for each request: a
// handler a lane serves must not keep them past its return (see the
// package doc).
func (q *request) build(c *conn, body []byte) (*http.Request, bool) {
	u := &c.url
	if !plainTarget(q.target) {
		parsed, err := url.ParseRequestURI(q.target)
		if err != nil || parsed.Host != "" {
			return nil, false
		}
		*u = *parsed
	} else {
		path, query, found := strings.Cut(q.target, "?")
		*u = url.URL{Path: path, RawQuery: query, ForceQuery: found && query == ""}
	}
	header := c.header
	if header == nil {
		header = make(http.Header, q.lines)
		c.header = header
	} else {
		clear(header)
	}
	if cap(c.vals) < q.lines {
		c.vals = make([]string, q.lines)
	}
	vals := c.vals[:q.lines]
	_, h, _ := strings.Cut(q.head, "\r\n")
	for i := 0; len(h) > 2; i++ {
		var line string
		line, h, _ = strings.Cut(h, "\r\n")
		name, value, _ := strings.Cut(line, ":")
		value = strings.Trim(value, " \t")
		name = textproto.CanonicalMIMEHeaderKey(name)
		if name == "Host" {
			continue // it is r.Host
		}
		vals[i] = value
		if old, ok := header[name]; ok {
			header[name] = append(old, value)
		} else {
			header[name] = vals[i : i+1 : i+1]
		}
	}
	if c.req == nil {
		// The connection's context is set once, in a template every
		// request starts from (http.Request's context is unexported).
		c.tmpl = *(&http.Request{}).WithContext(c.ctx)
		c.req = new(http.Request)
	}
	r := c.req
	*r = c.tmpl
	r.Method, r.URL, r.Proto, r.ProtoMajor, r.ProtoMinor = q.method, u, "HTTP/1.1", 1, 1
	r.Header, r.Body, r.Host, r.RemoteAddr = header, http.NoBody, q.host, c.remote
	r.RequestURI, r.Close = q.target, q.close
	if len(body) > 0 {
		c.body = bodyReader{b: body}
		r.Body, r.ContentLength = &c.body, int64(len(body))
	}
	return r, true
}

// bodyReader is the body of a request a lane serves: bytes read already.
type bodyReader struct {
	b      []byte
	closed bool
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if len(b.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.b)
	b.b = b.b[n:]
	return n, nil
}

func (b *bodyReader) Close() error {
	b.closed = true
	return nil
}

// plainTarget reports whether target is a path of letters, digits and
// "-._~/", with any query after a '?': the URL url.ParseRequestURI makes of
// it is then its path and its query as they are (no RawPath, nothing to
// unescape), and build makes it without parsing.
func plainTarget(target string) bool {
	for i := 0; i < len(target); i++ {
		switch c := target[i]; {
		case c == '?':
			return true
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/':
		default:
			return false
		}
	}
	return true
}

var (
	crlf  = []byte("\r\n")
	sp    = []byte(" ")
	colon = []byte(":")
)

// validName reports whether b is a header field name (a token).
func validName(b []byte) bool {
	for _, c := range b {
		if !httpguts.IsTokenRune(rune(c)) {
			return false
		}
	}
	return true
}

// equalFold reports whether b is s, ignoring case.
func equalFold(b []byte, s string) bool { return len(b) == len(s) && bytes.EqualFold(b, []byte(s)) }
