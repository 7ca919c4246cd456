package opsmetrics

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// A request's access log line through slog costs a record with seven
// attributes (more than a record holds inline, so a slice), a walk over them
// with a value switch each, and the request id boxed for the context lookup
// of WithRequestID: about a tenth of a leaderboard read's CPU. When the log
// is a plain text handler (NewTextHandler), the middleware writes the line
// itself, the same bytes slog's text handler would write (a table and a fuzz
// test hold them to slog).

// A TextLineHandler is a log handler that can take a record already
// formatted as a line of slog's text format.
type TextLineHandler interface {
	slog.Handler
	// TextLines returns a function that writes line, one record at level in
	// the text format of slog.NewTextHandler with no options and no
	// attributes or groups added (the newline included), as the handler
	// would write that record; or nil when the handler does not write that
	// format. Records written so keep their order with the handler's own.
	TextLines() func(level slog.Level, line []byte)
}

// NewTextHandler returns slog.NewTextHandler(w, nil), which the access log
// middleware can hand its lines already formatted (TextLineHandler).
func NewTextHandler(w io.Writer) slog.Handler {
	lw := &lockedWriter{w: w}
	return textHandler{slog.NewTextHandler(lw, nil), lw}
}

// textHandler is a text handler with no options. What it derives
// (WithAttrs, WithGroup) is the plain slog handler: lines formatted
// elsewhere lack the attributes it adds.
type textHandler struct {
	*slog.TextHandler
	w *lockedWriter
}

func (h textHandler) TextLines() func(slog.Level, []byte) { return h.w.writeLine }

// lockedWriter orders the lines of slog's handler and those formatted
// elsewhere: one write a line, one at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (w *lockedWriter) writeLine(_ slog.Level, line []byte) { w.Write(line) }

// TextLines passes its handler's on: the request id it would add is in
// the access log line already.
func (h idHandler) TextLines() func(slog.Level, []byte) {
	if th, ok := h.Handler.(TextLineHandler); ok {
		return th.TextLines()
	}
	return nil
}

// accessLine is what an access log line says.
type accessLine struct {
	at                      time.Time
	level                   slog.Level
	id, method, path, route string
	status                  int
	bytes                   int64
	took                    time.Duration
}

// lineBufs holds the buffers lines are formatted in.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendAccessLine appends l as slog's text handler writes it, and
// reports false (b unchanged in length) when a value is one it leaves to
// slog: text that is not ASCII, a time outside years 0–9999, a duration
// that is negative or a second or more.
func appendAccessLine(b []byte, l *accessLine) ([]byte, bool) {
	n := len(b)
	var ok bool
	if b, ok = appendLogTime(append(b, "time="...), l.at); !ok {
		return b[:n], false
	}
	b = append(b, " level="...)
	switch l.level {
	case slog.LevelInfo:
		b = append(b, "INFO"...)
	case slog.LevelError:
		b = append(b, "ERROR"...)
	case slog.LevelDebug:
		b = append(b, "DEBUG"...)
	case slog.LevelWarn:
		b = append(b, "WARN"...)
	default:
		return b[:n], false
	}
	b = append(b, ` msg="http request" request_id=`...)
	if b, ok = appendLogString(b, l.id); !ok {
		return b[:n], false
	}
	b = append(b, " method="...)
	if b, ok = appendLogString(b, l.method); !ok {
		return b[:n], false
	}
	b = append(b, " path="...)
	if b, ok = appendLogString(b, l.path); !ok {
		return b[:n], false
	}
	b = append(b, " route="...)
	if b, ok = appendLogString(b, l.route); !ok {
		return b[:n], false
	}
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, l.bytes, 10)
	b = append(b, " took="...)
	if b, ok = appendLogDuration(b, l.took); !ok {
		return b[:n], false
	}
	return append(b, '\n'), true
}

// appendLogString appends s as slog's text handler does when s is ASCII:
// as it is, or quoted (strconv.Quote) when it is empty or holds a space,
// '=', '"' or a control character.
func appendLogString(b []byte, s string) ([]byte, bool) {
	quote := s == ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return b, false
		}
		if c <= ' ' || c == '=' || c == '"' {
			quote = true
		}
	}
	if quote {
		return strconv.AppendQuote(b, s), true
	}
	return append(b, s...), true
}

// appendLogTime appends t as slog's text handler does: RFC 3339 with
// milliseconds (truncated) and the zone's offset, Z for none.
func appendLogTime(b []byte, t time.Time) ([]byte, bool) {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return b, false
	}
	hour, min, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, min, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	_, off := t.Zone()
	if off == 0 {
		return append(b, 'Z'), true
	}
	if off%60 != 0 {
		return b, false // RFC 3339 has no seconds in an offset; leave it to slog
	}
	off /= 60
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendDigits(b, off/60, 2)
	b = append(b, ':')
	return appendDigits(b, off%60, 2), true
}

// appendDigits appends v, at least 0, in n (at most 9) decimal digits with
// leading zeros.
func appendDigits(b []byte, v, n int) []byte {
	var d [9]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// appendLogDuration appends d as time.Duration.String writes it, for d
// from 0 to under a second.
func appendLogDuration(b []byte, d time.Duration) ([]byte, bool) {
	switch {
	case d < 0 || d >= time.Second:
		return b, false
	case d == 0:
		return append(b, "0s"...), true
	case d < time.Microsecond:
		return append(strconv.AppendInt(b, int64(d), 10), "ns"...), true
	case d < time.Millisecond:
		b = appendFraction(b, int64(d), 3)
		return append(b, "µs"...), true
	}
	b = appendFraction(b, int64(d), 6)
	return append(b, "ms"...), true
}

// appendFraction appends v/10^places with the fraction's trailing zeros
// (and its point, when nothing is left of it) dropped.
func appendFraction(b []byte, v int64, places int) []byte {
	p := int64(1)
	for range places {
		p *= 10
	}
	b = strconv.AppendInt(b, v/p, 10)
	frac := v % p
	if frac == 0 {
		return b
	}
	for frac%10 == 0 {
		frac /= 10
		places--
	}
	b = append(b, '.')
	return appendDigits(b, int(frac), places)
}
