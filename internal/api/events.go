package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
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
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		// Still try to recover the id for the result.
		var idOnly struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(raw, &idOnly) == nil {
			if s, ok := idOnly.ID.(string); ok {
				in.Event.ID = s
			}
		}
		in.Err = "the event is not valid JSON of the expected shape: " + jsonProblem(err)
		return in
	}
	if dec.More() {
		in.Event.ID = w.ID
		in.Err = "the event has extra data after its closing brace"
		return in
	}
	fillEvent(in, &w)
	return in
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

// jsonProblem turns a decoding error into a sentence for the sender.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s, not a JSON %s", te.Field, wantType(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ") + " (allowed: id, type, partner, member, occurred_at, attrs, source)"
	}
	return err.Error()
}

func wantType(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "map[string]interface {}":
		return "an object"
	}
	return goType
}

// postEvents takes one event, a batch or NDJSON (SPEC §2).
func (h *Handler) postEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
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
	writeResults(w, results)
}

// parseEvents reads an ingest body: NDJSON by content type, else a JSON
// object that is one event or {"events": [...]}, or a JSON array.
func parseEvents(contentType string, body []byte) ([]*service.Incoming, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-ndjson" || mt == "application/ndjson" || mt == "application/jsonl" {
		return parseNDJSON(body)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, rung.Errorf(rung.EINVALID, "the body is empty: send one event as a JSON object, {\"events\": [...]}, or NDJSON")
	}
	var items []json.RawMessage
	switch trimmed[0] {
	case '[':
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, rung.Errorf(rung.EINVALID, "the body is not valid JSON: %s", jsonProblem(err))
		}
	case '{':
		if !batchObject(trimmed) {
			if !json.Valid(trimmed) {
				var v any
				return nil, rung.Errorf(rung.EINVALID, "the body is not valid JSON: %s", jsonProblem(json.Unmarshal(trimmed, &v)))
			}
			return []*service.Incoming{DecodeEvent(trimmed)}, nil
		}
		return parseBatch(trimmed)
	default:
		return nil, rung.Errorf(rung.EINVALID, "the body is not JSON: it must start with { or [ (for NDJSON, send Content-Type: application/x-ndjson)")
	}
	if len(items) > MaxBatch {
		return nil, rung.Errorf(rung.ETOOLARGE, "the batch has %d events; at most %d are allowed per request — split it", len(items), MaxBatch)
	}
	if len(items) == 0 {
		return nil, errEmptyBatch
	}
	out := make([]*service.Incoming, len(items))
	for i, raw := range items {
		out[i] = DecodeEvent(raw)
	}
	return out, nil
}

// batchObject reports whether a JSON object's first key is "events".
func batchObject(b []byte) bool {
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	return bytes.HasPrefix(b, []byte(`"events"`))
}

var errEmptyBatch = rung.Errorf(rung.EINVALID, "the batch has no events: send at least one")

var errBatchShape = rung.Errorf(rung.EINVALID, "a batch is {\"events\": [...]}: a list of event objects and no other keys")

// parseBatch reads {"events": [...]} in one pass. An event of the wrong
// shape is rejected on its own; broken JSON fails the whole request.
func parseBatch(body []byte) ([]*service.Incoming, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	syntax := func(err error) error {
		return rung.Errorf(rung.EINVALID, "the body is not valid JSON: %s", jsonProblem(err))
	}
	for _, want := range []any{json.Delim('{'), "events", json.Delim('[')} {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if tok != want {
			return nil, errBatchShape
		}
	}
	out := make([]*service.Incoming, 0, 256)
	for dec.More() {
		if len(out) == MaxBatch {
			return nil, rung.Errorf(rung.ETOOLARGE, "the batch has more than %d events; at most %d are allowed per request — split it", MaxBatch, MaxBatch)
		}
		var w wireEvent
		err := dec.Decode(&w)
		in := &service.Incoming{}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, syntax(err)
			}
			in.Event.ID = w.ID
			in.Err = "the event is not valid JSON of the expected shape: " + jsonProblem(err)
		} else {
			fillEvent(in, &w)
		}
		out = append(out, in)
	}
	for _, want := range []json.Delim{']', '}'} {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if tok != want {
			return nil, errBatchShape
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, rung.Errorf(rung.EINVALID, "the body has more after the batch's closing brace")
	}
	if len(out) == 0 {
		return nil, errEmptyBatch
	}
	return out, nil
}

func parseNDJSON(body []byte) ([]*service.Incoming, error) {
	var out []*service.Incoming
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
		in := DecodeEvent(b)
		if in.Err != "" {
			in.Err = fmt.Sprintf("line %d: %s", line, in.Err)
		}
		if !anyJSON && json.Valid(b) {
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
			"awards":  ef.Effects.Awards,
			"metrics": ef.Effects.Metrics,
			"levels":  ef.Effects.Levels,
			"notes":   ef.Effects.Notes,
		},
	})
}
