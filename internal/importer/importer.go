// Package importer reads event files for `rung import`: CSV with a header
// row, or NDJSON (one JSON event per line). Each row becomes an event or a
// row error with its line number; a bad row never stops the file.
package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/api"
	"github.com/rung-dev/rung/internal/service"
)

// Row is one event read from a file, at its line.
type Row struct {
	Line int
	In   *service.Incoming
}

// Format is a file format.
type Format string

// The formats.
const (
	CSV    Format = "csv"
	NDJSON Format = "ndjson"
)

// Detect picks the format from a file name, then from the first byte.
func Detect(name string, first byte) Format {
	switch {
	case strings.HasSuffix(name, ".csv"):
		return CSV
	case strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".json"):
		return NDJSON
	case first == '{':
		return NDJSON
	}
	return CSV
}

// Reader reads rows from a file.
type Reader interface {
	// Next returns the next row; io.EOF after the last.
	Next() (Row, error)
}

// NewReader returns a reader of the format. For CSV the first line must be
// a header naming the columns: id, type, partner, member, occurred_at and
// source are the event's fields; every other column is an attribute
// (a column "attrs.amount" or "amount" both give attrs.amount). Attribute
// values that parse as numbers become numbers, true/false booleans, empty
// cells are left out, the rest stay strings.
func NewReader(f Format, r io.Reader) (Reader, error) {
	if f == NDJSON {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		return &ndjsonReader{sc: sc}, nil
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, rung.Errorf(rung.EINVALID, "the CSV file is empty: its first line must name the columns (id,type,partner,member,occurred_at,...)")
		}
		return nil, rung.Errorf(rung.EINVALID, "line 1: the CSV header cannot be read: %v", err)
	}
	c := &csvReader{r: cr, cols: make([]string, len(head))}
	seen := map[string]bool{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		// The event's own columns match in any case; attribute names are
		// kept as written (event.attrs.dealAmount).
		if reserved[strings.ToLower(h)] {
			h = strings.ToLower(h)
		}
		if h == "" {
			return nil, rung.Errorf(rung.EINVALID, "line 1: column %d of the CSV header has no name", i+1)
		}
		if seen[h] {
			return nil, rung.Errorf(rung.EINVALID, "line 1: the CSV header names column %q twice", h)
		}
		seen[h] = true
		c.cols[i] = h
	}
	for _, need := range []string{"id", "type", "partner", "occurred_at"} {
		if !seen[need] {
			return nil, rung.Errorf(rung.EINVALID, "line 1: the CSV header has no %q column; required: id, type, partner, occurred_at (member, source and attribute columns are optional)", need)
		}
	}
	return c, nil
}

var reserved = map[string]bool{"id": true, "type": true, "partner": true, "member": true, "occurred_at": true, "source": true}

type ndjsonReader struct {
	sc   *bufio.Scanner
	line int
}

func (n *ndjsonReader) Next() (Row, error) {
	for n.sc.Scan() {
		n.line++
		b := bytes.TrimSpace(n.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		return Row{Line: n.line, In: api.DecodeEvent(b)}, nil
	}
	if err := n.sc.Err(); err != nil {
		return Row{}, fmt.Errorf("line %d: %w", n.line+1, err)
	}
	return Row{}, io.EOF
}

type csvReader struct {
	r    *csv.Reader
	cols []string
}

func (c *csvReader) Next() (Row, error) {
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Row{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// A malformed row is a row error; the reader carries on.
			return Row{Line: pe.StartLine, In: &service.Incoming{Err: "the CSV row cannot be read: " + pe.Err.Error()}}, nil
		}
		return Row{}, err
	}
	line, _ := c.r.FieldPos(0)
	in := &service.Incoming{}
	if len(rec) != len(c.cols) {
		in.Err = fmt.Sprintf("the row has %d cells but the header names %d columns", len(rec), len(c.cols))
	}
	for i, v := range rec {
		if i >= len(c.cols) {
			break
		}
		col := c.cols[i]
		switch col {
		case "id":
			in.Event.ID = strings.TrimSpace(v)
		case "type":
			in.Event.Type = strings.TrimSpace(v)
		case "partner":
			in.Event.Partner = strings.TrimSpace(v)
		case "member":
			in.Event.Member = strings.TrimSpace(v)
		case "source":
			in.Event.Source = strings.TrimSpace(v)
		case "occurred_at":
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil && in.Err == "" {
				in.Err = fmt.Sprintf("occurred_at %q is not an RFC 3339 time such as 2026-11-02T14:00:00Z", v)
			}
			in.Event.OccurredAt = t
		default:
			if v == "" {
				continue
			}
			if in.Event.Attrs == nil {
				in.Event.Attrs = map[string]any{}
			}
			in.Event.Attrs[strings.TrimPrefix(col, "attrs.")] = cellValue(v)
		}
	}
	return Row{Line: line, In: in}, nil
}

// cellValue types a CSV cell: number, boolean or string.
func cellValue(v string) any {
	t := strings.TrimSpace(v)
	switch t {
	case "true", "TRUE", "True":
		return true
	case "false", "FALSE", "False":
		return false
	}
	if looksNumeric(t) {
		if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(f, 0) {
			// Codes stay strings: leading zeros (0042), and integers too
			// long to be exact as a number.
			if !(strings.IndexAny(t, ".eE") < 0 && (math.Abs(f) > 1<<53)) {
				return f
			}
		}
	}
	return v
}

// looksNumeric reports whether a cell is written as a plain decimal
// number: optional minus, digits (no leading zero unless alone or before a
// point), optional fraction and exponent.
func looksNumeric(t string) bool {
	i := 0
	if i < len(t) && t[i] == '-' {
		i++
	}
	start := i
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	digits := i - start
	if digits == 0 || (digits > 1 && t[start] == '0') {
		return false
	}
	if i < len(t) && t[i] == '.' {
		i++
		f := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == f {
			return false
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		f := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == f {
			return false
		}
	}
	return i == len(t)
}
