package lane

import (
	"bytes"
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
	close  bool // Connection: close
}

// parse reads a request head (ending in its empty line) and reports
// whether the lane may serve it: GET or HEAD, HTTP/1.1, an origin-form
// target, one valid Host, valid header names and values without folding,
// and nothing that announces a body or another protocol (Content-Length,
// Transfer-Encoding, Expect, Upgrade, a Connection other than keep-alive or
// close). Whatever it refuses, net/http answers.
func (q *request) parse(b []byte) bool {
	line, rest, _ := bytes.Cut(b, crlf)
	method, line, ok1 := bytes.Cut(line, sp)
	target, proto, ok2 := bytes.Cut(line, sp)
	if !ok1 || !ok2 || string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/' {
		return false
	}
	switch string(method) {
	case http.MethodGet, http.MethodHead:
	default:
		return false
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	hosts := 0
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
		case equalFold(name, "content-length"), equalFold(name, "transfer-encoding"),
			equalFold(name, "expect"), equalFold(name, "upgrade"), equalFold(name, "http2-settings"):
			return false
		}
		q.lines++
	}
	if hosts != 1 || !httpguts.ValidHostHeader(q.host) {
		return false
	}
	q.head = string(b)
	q.method = q.head[:len(method)]
	q.target = q.head[len(method)+1 : len(method)+1+len(target)]
	q.path, _, _ = strings.Cut(q.target, "?")
	return true
}

// build makes the *http.Request net/http would make of the head. ok is
// false when the target is not a URL net/http accepts.
func (q *request) build(c *conn) (*http.Request, bool) {
	u, err := url.ParseRequestURI(q.target)
	if err != nil || u.Host != "" {
		return nil, false
	}
	header := make(http.Header, q.lines)
	vals := make([]string, q.lines)
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
	r := http.Request{
		Method: q.method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: http.NoBody, Host: q.host, RemoteAddr: c.remote,
		RequestURI: q.target, Close: q.close,
	}
	return r.WithContext(c.ctx), true
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
