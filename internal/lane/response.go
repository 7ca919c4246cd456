package lane

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// response is the http.ResponseWriter of a request a lane serves. It holds
// the answer until the handler returns, unless the answer grows past
// MaxBuffered: then it sends what it has and the rest as the handler writes
// it, and the connection ends with the answer.
type response struct {
	c       *conn
	head    bool // a HEAD request: the body is counted, not sent
	header  http.Header
	status  int
	wrote   bool  // the status is set
	n       int64 // body bytes written by the handler
	length  int64 // the handler's Content-Length, or -1
	sent    bool  // the head went out: the body streams
	failed  bool  // a write to the connection failed
	closing bool  // the connection ends after this answer, which says so
	cut     bool  // the connection ends after this answer, which is short
}

// answer serves r and reports whether the connection stays open.
func (c *conn) answer(r *http.Request) bool {
	h := c.w.header
	if h == nil {
		h = make(http.Header, 4)
	} else {
		clear(h)
	}
	w := &c.w
	*w = response{c: c, head: r.Method == http.MethodHead, header: h, length: -1, closing: r.Close}
	c.out = c.out[:0]
	c.s.srv.Handler.ServeHTTP(w, r)
	keep := w.finish()
	if cap(c.out) > 64<<10 || cap(c.headBuf) > 64<<10 {
		c.out, c.headBuf = nil, nil // a rare long answer's buffers are not kept
	}
	return keep
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wrote || code < 200 { // informational answers are not sent
		return
	}
	w.wrote, w.status = true, code
	if v := w.header.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			w.length = n
		} else {
			delete(w.header, "Content-Length") // as net/http drops a bad one
		}
	}
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.length >= 0 && w.n+int64(len(p)) > w.length {
		return 0, http.ErrContentLength // and nothing of p is written, as with net/http
	}
	w.n += int64(len(p))
	if w.head {
		// Not sent; the start is kept to sniff a Content-Type from, as
		// net/http does.
		if n := sniffLen - len(w.c.out); n > 0 {
			w.c.out = append(w.c.out, p[:min(n, len(p))]...)
		}
		return len(p), nil
	}
	if len(p) == 0 {
		return 0, nil
	}
	if w.sent {
		if w.failed {
			return 0, errWriteFailed
		}
		if _, err := w.c.write(p, w); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.c.out = append(w.c.out, p...)
	if len(w.c.out) > MaxBuffered {
		// Too long to hold: send the head and what there is, and stream the
		// rest; without a Content-Length the connection's end ends it.
		w.closing, w.sent = true, true
		b := append(w.appendHead(make([]byte, 0, 1024+len(w.c.out)), -1), w.c.out...)
		w.c.out = nil
		if _, err := w.c.write(b, w); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// sniffLen is how much of a body http.DetectContentType reads.
const sniffLen = 512

var errWriteFailed = fmt.Errorf("lane: the connection failed")

// finish sends the held answer and reports whether the connection stays
// open.
func (w *response) finish() bool {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.sent {
		return false
	}
	body := w.c.out
	if w.head {
		body = nil
	}
	if w.length >= 0 && w.n < w.length && !w.head {
		w.cut = true // short of its Content-Length: the connection's end ends it, as net/http does
	}
	if hasClose(w.header) || w.c.s.closing.Load() {
		w.closing = true
	}
	length := w.n
	if w.head && w.n == 0 {
		length = -1
	}
	b := append(w.appendHead(w.c.headBuf[:0], length), body...)
	_, err := w.c.write(b, w)
	w.c.headBuf = b[:0]
	return err == nil && !w.closing && !w.cut
}

// appendHead appends the status line and the headers as net/http writes
// them: the handler's, in order, less those the status forbids; then Date,
// Content-Length (when length ≥ 0), Content-Type (sniffed from the body)
// unless the handler set them, and Connection: close when the connection
// ends after the answer. A lane's answer is never chunked: it is sent
// whole with its length, or ends with the connection.
func (w *response) appendHead(b []byte, length int64) []byte {
	h := w.header
	allowed := bodyAllowed(w.status)
	switch {
	case w.status == http.StatusNotModified:
		delete(h, "Content-Type")
		delete(h, "Content-Length")
	case !allowed:
		delete(h, "Content-Length")
	}
	delete(h, "Transfer-Encoding")
	announce := w.closing && !hasClose(h)
	if announce {
		delete(h, "Connection")
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(w.status), 10)
	b = append(b, ' ')
	if text := http.StatusText(w.status); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(w.status), 10)
	}
	b = append(b, "\r\n"...)
	var keys [16]string
	ks := keys[:0]
	for k := range h {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			if strings.ContainsAny(v, "\r\n") {
				v = newlineToSpace.Replace(v)
			}
			b = append(b, textproto.TrimString(v)...)
			b = append(b, "\r\n"...)
		}
	}
	if _, ok := h["Date"]; !ok {
		b = append(b, "Date: "...)
		b = append(b, w.c.dateNow()...)
		b = append(b, "\r\n"...)
	}
	if _, ok := h["Content-Length"]; !ok && length >= 0 && allowed {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, length, 10)
		b = append(b, "\r\n"...)
	}
	if _, ok := h["Content-Type"]; !ok && allowed && len(w.c.out) > 0 && h.Get("Content-Encoding") == "" {
		b = append(b, "Content-Type: "...)
		b = append(b, http.DetectContentType(w.c.out)...)
		b = append(b, "\r\n"...)
	}
	if announce {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...)
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// hasClose reports whether h's Connection header asks to close.
func hasClose(h http.Header) bool {
	v, ok := h["Connection"]
	return ok && httpguts.HeaderValuesContainsToken(v, "close")
}

// write writes b to the connection within WriteTimeout.
func (c *conn) write(b []byte, w *response) (int, error) {
	if t := c.s.srv.WriteTimeout; t > 0 {
		now := time.Now()
		if c.writeBy.Sub(now) < t/2 {
			c.writeBy = now.Add(t)
			c.nc.SetWriteDeadline(c.writeBy)
		}
	}
	n, err := c.nc.Write(b)
	if err != nil {
		w.failed, w.closing = true, true
	}
	return n, err
}

// dateNow returns the Date header's value for now, formatted once a second.
func (c *conn) dateNow() []byte {
	now := time.Now()
	if s := now.Unix(); s != c.dateSec || c.date == nil {
		c.dateSec = s
		c.date = now.UTC().AppendFormat(c.date[:0], http.TimeFormat)
	}
	return c.date
}

// bodyAllowed reports whether an answer with this status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
