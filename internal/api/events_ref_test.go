package api

// The ingest parser as it was before the hand-written decoder (eventjson.go),
// on encoding/json: the reference FuzzDecodeEventDifferential holds the new
// one to, and the "before" of BenchmarkParseEventBatch.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
)

// DecodeEvent parses one event from JSON. On failure the Incoming carries
// the reason (and whatever id could be read), so the event is rejected on
// its own without failing the rest of a batch.
func refDecodeEvent(raw []byte) *service.Incoming {
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
	// Anything after the event but white space is refused, a stray
	// closing bracket too (Decoder.More alone would let one through).
	if len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		in.Event.ID = w.ID
		in.Err = "the event has extra data after its closing brace"
		return in
	}
	fillEvent(in, &w)
	return in
}

// parseEvents reads an ingest body: NDJSON by content type, else a JSON
// object that is one event or {"events": [...]}, or a JSON array.
func refParseEvents(contentType string, body []byte) ([]*service.Incoming, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-ndjson" || mt == "application/ndjson" || mt == "application/jsonl" {
		return refParseNDJSON(body)
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
			return []*service.Incoming{refDecodeEvent(trimmed)}, nil
		}
		return refParseBatch(trimmed)
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
		out[i] = refDecodeEvent(raw)
	}
	return out, nil
}

// parseBatch reads {"events": [...]} in one pass. An event of the wrong
// shape is rejected on its own; broken JSON fails the whole request.
func refParseBatch(body []byte) ([]*service.Incoming, error) {
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

func refParseNDJSON(body []byte) ([]*service.Incoming, error) {
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
		in := refDecodeEvent(b)
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
