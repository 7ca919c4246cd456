package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/jsonstr"
)

// Leaderboard pages are the hottest read; encoding them by hand instead of
// by reflection makes a top-100 page several times cheaper. The output is
// the same JSON encoding/json would write (a test checks it).

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// boardBuf is what one leaderboard read reuses: the page's rows as the
// engine hands them over and the JSON they become.
type boardBuf struct {
	rows []engine.BoardEntry
	json []byte
}

var boardPool = sync.Pool{New: func() any { return &boardBuf{json: make([]byte, 0, 16<<10)} }}

// jsonContentType is the Content-Type header's value, set without
// allocating a slice for it each time (nothing changes a header's values in
// place).
var jsonContentType = []string{"application/json"}

// writeBoardJSON writes a page's JSON with b as the buffer, and returns it.
func writeBoardJSON(w http.ResponseWriter, r *http.Request, p *engine.BoardPage, b []byte) []byte {
	b = appendBoardPage(b, p)
	b = append(b, '\n')
	writeJSONBody(w, r, b)
	return b
}

// writeJSONBody answers r with 200 and body, a whole JSON answer, in one
// Write; a long one leaves in one write(2) (conn.go).
func writeJSONBody(w http.ResponseWriter, r *http.Request, body []byte) {
	writeJSONBodyLength(w, r, body, nil)
}

// writeJSONBodyLength is writeJSONBody with the Content-Length header's
// value for body when it is at hand (a kept page's), nil when not.
func writeJSONBodyLength(w http.ResponseWriter, r *http.Request, body []byte, length []string) {
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	// net/http adds the Content-Length of an answer that fits its 2 KiB
	// buffer without allocating (a rank of one, ~300 bytes); a longer one
	// would go chunked without it.
	if len(body) < 2048 {
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		return
	}
	if length == nil {
		length = []string{strconv.Itoa(len(body))}
	}
	hd["Content-Length"] = length // nothing changes a header's values in place
	w.WriteHeader(http.StatusOK)
	writeLong(w, r, body)
}

func appendBoardPage(b []byte, p *engine.BoardPage) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	if p.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, p.Name)
	}
	b = append(b, `,"metric":`...)
	b = appendString(b, p.Metric)
	b = append(b, `,"for":`...)
	b = appendString(b, p.For)
	b = append(b, `,"window":{"from":`...)
	b = appendTime(b, p.Window.From)
	b = append(b, `,"to":`...)
	b = appendTime(b, p.Window.To)
	b = append(b, '}')
	if p.Cohort != "" {
		b = append(b, `,"cohort":`...)
		b = appendString(b, p.Cohort)
	}
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(p.Total), 10)
	b = append(b, `,"entries":[`...)
	for i := range p.Entries {
		e := &p.Entries[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rank":`...)
		b = strconv.AppendInt(b, int64(e.Rank), 10)
		if e.CohortRank != 0 {
			b = append(b, `,"cohort_rank":`...)
			b = strconv.AppendInt(b, int64(e.CohortRank), 10)
		}
		b = append(b, `,"subject":`...)
		b = appendString(b, e.Subject)
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
		if e.Partner != "" {
			b = append(b, `,"partner":`...)
			b = appendString(b, e.Partner)
		}
		if e.Cohort != "" {
			b = append(b, `,"cohort":`...)
			b = appendString(b, e.Cohort)
		}
		b = append(b, `,"value":`...)
		b = appendFloat(b, e.Value)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendFloat writes a float as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	// Whole numbers below 2^53 (points mostly are) print as their digits:
	// the shortest decimal that reads back is the integer itself. -0 is
	// left to strconv ("-0").
	if f == math.Trunc(f) && f > -1<<53 && f < 1<<53 && (f != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	abs := f
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString writes a JSON string as encoding/json does with HTML
// escaping off.
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s, false) }
