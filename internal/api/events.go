package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
)

// wireEvent is an event as it arrives in JSON.
type wireEvent struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Partner    string         `json:"partner"`
	Member     string         `json:"member"`
	OccurredAt string         `json:"occurred_at"`
	Attrs      map[string]any `json:"attrs"`
	Source     string         `json:"source"`
}

// DecodeEvent parses one event from JSON. On failure the Incoming carries
// the reason (and whatever id could be read), so the event is rejected on
// its own without failing the rest of a batch.
func DecodeEvent(raw []byte) *service.Incoming {
	in := &service.Incoming{}
	d := eventDecoder{data: raw}
	d.single(in)
	return in
}

// single reads all of d.data as one event into in, as DecodeEvent does.
// It returns the syntax error that made the event unreadable, if any, and
// whether anything but white space follows the event.
func (d *eventDecoder) single(in *service.Incoming) (trailing bool, err error) {
	d.skipSpace()
	if d.pos == len(d.data) {
		in.Err = "the event is empty: send a JSON object"
		return false, d.unexpected("an event object")
	}
	var ev decodedEvent
	if err := d.event(&ev, 0); err != nil {
		in.Err = "the event is not valid JSON: " + err.Error()
		return false, err
	}
	d.skipSpace()
	trailing = d.pos < len(d.data)
	switch {
	case ev.problem != "":
		// Name the event if its JSON is sound and its last "id" a string.
		if !trailing && ev.object && ev.lastIDString && !ev.idBigNumber {
			in.Event.ID = ev.w.ID
		}
		in.Err = "the event is not of the expected shape: " + ev.problem
	case trailing:
		in.Event.ID = ev.w.ID
		in.Err = "the event has extra data after its closing brace"
	default:
		fillEvent(in, &ev.w)
	}
	return trailing, nil
}

// fillEvent turns a decoded wire event into an incoming event.
func fillEvent(in *service.Incoming, w *wireEvent) {
	in.Event = rung.Event{ID: w.ID, Type: w.Type, Partner: w.Partner, Member: w.Member, Attrs: w.Attrs, Source: w.Source}
	if w.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, w.OccurredAt)
		if err != nil {
			in.Err = fmt.Sprintf("occurred_at %q is not an RFC 3339 time such as \"2026-11-02T14:00:00Z\" (a time zone offset is required)", w.OccurredAt)
			return
		}
		in.Event.OccurredAt = t
	}
}

// postEvents takes one event, a batch or NDJSON (SPEC §2).
func (h *Handler) postEvents(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, rung.Errorf(rung.ETOOLARGE, "the body is larger than %d MiB: send at most %d events per request", MaxBody>>20, MaxBatch))
			return
		}
		writeError(w, rung.Errorf(rung.EINVALID, "could not read the body: %v", err))
		return
	}
	events, err := parseEvents(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeError(w, err)
		return
	}
	results, err := h.svc.Ingest(r.Context(), events)
	if err != nil {
		writeError(w, err)
		return
	}
	writeResults(w, r, results)
}

// readBody reads a body of at most MaxBody bytes. One whose length is
// announced is read into a buffer of that size at once, rather than one
// that grows and is copied a dozen times on the way to a megabyte.
//
// A body of announced length is read from r.Body as it is: the server
// stops it at that length, inside MaxBody, so the limit cannot be hit.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= MaxBody {
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
}

// parseEvents reads an ingest body: NDJSON by content type, else a JSON
// object that is one event or {"events": [...]}, or a JSON array.
func parseEvents(contentType string, body []byte) ([]*service.Incoming, error) {
	mt := contentType
	if mt != "application/json" {
		mt, _, _ = mime.ParseMediaType(contentType)
	}
	if mt == "application/x-ndjson" || mt == "application/ndjson" || mt == "application/jsonl" {
		return parseNDJSON(body)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, rung.Errorf(rung.EINVALID, "the body is empty: send one event as a JSON object, {\"events\": [...]}, or NDJSON")
	}
	switch trimmed[0] {
	case '[':
		return parseArray(trimmed)
	case '{':
		if batchObject(trimmed) {
			return parseBatch(trimmed)
		}
		// The event and the list of one that holds it, in one allocation.
		one := &struct {
			in   service.Incoming
			list [1]*service.Incoming
		}{}
		// The event's strings are gathered in d.text before they become
		// one string: room for as many bytes as the body, which they do
		// not pass unless escapes grow them, saves growing it bit by bit.
		d := eventDecoder{data: trimmed, text: make([]byte, 0, len(trimmed))}
		trailing, err := d.single(&one.in)
		if err != nil {
			return nil, invalidJSON(err)
		}
		if trailing {
			return nil, rung.Errorf(rung.EINVALID, "the body is not valid JSON: it has more after the event's closing brace (at byte %d)", d.pos)
		}
		one.list[0] = &one.in
		return one.list[:], nil
	default:
		return nil, rung.Errorf(rung.EINVALID, "the body is not JSON: it must start with { or [ (for NDJSON, send Content-Type: application/x-ndjson)")
	}
}

func invalidJSON(err error) error {
	return rung.Errorf(rung.EINVALID, "the body is not valid JSON: %v", err)
}

// batchObject reports whether a JSON object's first key is "events".
func batchObject(b []byte) bool {
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	return bytes.HasPrefix(b, []byte(`"events"`))
}

var errEmptyBatch = rung.Errorf(rung.EINVALID, "the batch has no events: send at least one")

var errBatchShape = rung.Errorf(rung.EINVALID, "a batch is {\"events\": [...]}: a list of event objects and no other keys")

// incomings hands out Incomings from blocks, one allocation for many.
type incomings []service.Incoming

func (s *incomings) next() *service.Incoming {
	if len(*s) == 0 {
		*s = make([]service.Incoming, 64)
	}
	in := &(*s)[0]
	*s = (*s)[1:]
	return in
}

// batchCap guesses how many events a body of n bytes holds.
func batchCap(n int) int { return min(MaxBatch, n/128+1) }

// parseArray reads a JSON array of events. Like json.Unmarshal, it
// refuses the whole body if any of it is not well formed before it counts
// the events; each event is then read as DecodeEvent reads one.
func parseArray(body []byte) ([]*service.Incoming, error) {
	d := eventDecoder{data: body, pos: 1, names: make(map[string]string)}
	out := make([]*service.Incoming, 0, batchCap(len(body)))
	var block incomings
	n := 0
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
	} else {
		for {
			if n < MaxBatch {
				var ev decodedEvent
				if err := d.event(&ev, 1); err != nil {
					return nil, invalidJSON(err)
				}
				in := block.next()
				if ev.problem != "" {
					if ev.object && ev.lastIDString && !ev.idBigNumber {
						in.Event.ID = ev.w.ID
					}
					in.Err = "the event is not of the expected shape: " + ev.problem
				} else {
					fillEvent(in, &ev.w)
				}
				out = append(out, in)
			} else if err := d.skip(1); err != nil {
				return nil, invalidJSON(err)
			}
			n++
			more, err := d.next(']', "an event")
			if err != nil {
				return nil, invalidJSON(err)
			}
			if !more {
				break
			}
			d.skipSpace()
		}
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, invalidJSON(d.syntax("the array of events is followed by more"))
	}
	if n > MaxBatch {
		return nil, rung.Errorf(rung.ETOOLARGE, "the batch has %d events; at most %d are allowed per request — split it", n, MaxBatch)
	}
	if n == 0 {
		return nil, errEmptyBatch
	}
	return out, nil
}

// parseBatch reads {"events": [...]} in one pass. An event of the wrong
// shape is rejected on its own; broken JSON fails the whole request, as
// does more than MaxBatch events, whichever comes first.
func parseBatch(body []byte) ([]*service.Incoming, error) {
	d := eventDecoder{data: body, pos: 1, names: make(map[string]string)}
	d.skipSpace()
	d.pos += len(`"events"`) // batchObject saw it
	if err := d.colon(); err != nil {
		return nil, invalidJSON(err)
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return nil, errBatchShape
	}
	d.pos++
	out := make([]*service.Incoming, 0, batchCap(len(body)))
	var block incomings
	for {
		d.skipSpace()
		if d.pos == len(d.data) || d.data[d.pos] == ']' || d.data[d.pos] == '}' {
			break
		}
		if len(out) == MaxBatch {
			return nil, rung.Errorf(rung.ETOOLARGE, "the batch has more than %d events; at most %d are allowed per request — split it", MaxBatch, MaxBatch)
		}
		if len(out) > 0 {
			if d.data[d.pos] != ',' {
				return nil, invalidJSON(d.unexpected("',' or ']' after an event"))
			}
			d.pos++
			d.skipSpace()
		}
		var ev decodedEvent
		if err := d.event(&ev, 0); err != nil {
			return nil, invalidJSON(err)
		}
		in := block.next()
		if ev.problem != "" {
			in.Event.ID = ev.w.ID
			in.Err = "the event is not of the expected shape: " + ev.problem
		} else {
			fillEvent(in, &ev.w)
		}
		out = append(out, in)
	}
	if d.pos == len(d.data) || d.data[d.pos] != ']' {
		return nil, invalidJSON(d.unexpected("',' or ']' after an event"))
	}
	d.pos++
	d.skipSpace()
	if d.pos == len(d.data) || d.data[d.pos] != '}' {
		return nil, errBatchShape
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, rung.Errorf(rung.EINVALID, "the body has more after the batch's closing brace")
	}
	if len(out) == 0 {
		return nil, errEmptyBatch
	}
	return out, nil
}

func parseNDJSON(body []byte) ([]*service.Incoming, error) {
	var out []*service.Incoming
	var block incomings
	d := eventDecoder{names: make(map[string]string)}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), MaxBody)
	line := 0
	anyJSON := false
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		d.data, d.pos = b, 0
		in := block.next()
		trailing, err := d.single(in)
		if in.Err != "" {
			in.Err = fmt.Sprintf("line %d: %s", line, in.Err)
		}
		if err == nil && !trailing {
			anyJSON = true
		}
		out = append(out, in)
		if len(out) > MaxBatch {
			return nil, rung.Errorf(rung.ETOOLARGE, "the NDJSON body has more than %d events; at most %d are allowed per request — split it", MaxBatch, MaxBatch)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, rung.Errorf(rung.EINVALID, "could not read the NDJSON body: %v", err)
	}
	if len(out) == 0 {
		return nil, rung.Errorf(rung.EINVALID, "the NDJSON body has no events: send one JSON object per line")
	}
	if !anyJSON {
		return nil, rung.Errorf(rung.EINVALID, "no line of the NDJSON body is JSON: send one event object per line")
	}
	return out, nil
}

func (h *Handler) deleteEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v, err := h.svc.Retract(r.Context(), id, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": "retracted", "version": v})
}

// eventVersion is one version of an event in GET /events/{id}.
type eventVersion struct {
	Version    int         `json:"version"`
	Retracted  bool        `json:"retracted,omitempty"`
	ReceivedAt time.Time   `json:"received_at"`
	Event      *rung.Event `json:"event,omitempty"`
}

func (h *Handler) getEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := asOf(r); err != nil {
		writeError(w, err)
		return
	}
	ef, cur, err := h.svc.EventEffects(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	versions := make([]eventVersion, 0, len(ef.Versions))
	for _, rec := range ef.Versions {
		v := eventVersion{Version: rec.Version, Retracted: rec.Retracted, ReceivedAt: rec.ReceivedAt}
		if !rec.Retracted {
			e := rec.Event
			v.Event = &e
		}
		versions = append(versions, v)
	}
	status := "active"
	if ef.Effects.Retracted {
		status = "retracted"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"event":    cur,
		"status":   status,
		"version":  ef.Effects.Version,
		"versions": versions,
		"effects": map[string]any{
			"awards":     ef.Effects.Awards,
			"metrics":    ef.Effects.Metrics,
			"levels":     ef.Effects.Levels,
			"badges":     ef.Effects.Badges,
			"notes":      ef.Effects.Notes,
			"challenges": ef.Effects.Challenges,
		},
	})
}
