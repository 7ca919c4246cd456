package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

// FuzzParseEvents feeds arbitrary bodies to the ingest parser: it never
// panics, a body it refuses gets an invalid or too-large error with a
// message, and every event it returns either parsed or says why not.
func FuzzParseEvents(f *testing.F) {
	seeds := []string{
		`{"id": "crm:1:deal.won", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 50000, "tags": ["a", 1, null, true], "nested": {"x": 1.5}}}`,
		`{"events": [{"id": "a"}, {"id": 5}, []]}`,
		`[{"id": "a", "type": "x"}]`,
		`{"id": "a", "occurred_at": "2026-13-40T99:00:00Z"}`,
		`{"id": "a", "unknown": 1}`,
		`{"events": "nope"}`,
		"{\"id\":\"a\"}\n\n{\"id\":\"b\"}\nnot json",
		`{"id": "a"} {"id": "b"}`,
		`null`, `"str"`, `{`, ``,
	}
	for _, s := range seeds {
		f.Add(s, "application/json")
		f.Add(s, "application/x-ndjson")
	}
	f.Fuzz(func(t *testing.T, body, ctype string) {
		events, err := parseEvents(ctype, []byte(body))
		if err != nil {
			var re *rung.Error
			if !errors.As(err, &re) || (re.Code != rung.EINVALID && re.Code != rung.ETOOLARGE) || re.Message == "" {
				t.Fatalf("error %#v is not an invalid/too-large *rung.Error with a message", err)
			}
			return
		}
		if len(events) == 0 || len(events) > MaxBatch {
			t.Fatalf("%d events accepted for parsing", len(events))
		}
		for _, in := range events {
			if in == nil {
				t.Fatal("nil event")
			}
			if in.Err != "" {
				continue
			}
			// What parsed survives a round trip unchanged.
			w := wireEvent{ID: in.Event.ID, Type: in.Event.Type, Partner: in.Event.Partner, Member: in.Event.Member, Attrs: in.Event.Attrs, Source: in.Event.Source}
			if !in.Event.OccurredAt.IsZero() {
				w.OccurredAt = in.Event.OccurredAt.Format(time.RFC3339Nano)
			}
			raw, err := json.Marshal(w)
			if err != nil {
				t.Fatalf("marshal %+v: %v", w, err)
			}
			again := DecodeEvent(raw)
			if again.Err != "" || !again.Event.OccurredAt.Equal(in.Event.OccurredAt) {
				t.Fatalf("round trip of %s: %q", raw, again.Err)
			}
			again.Event.OccurredAt = in.Event.OccurredAt
			if !reflect.DeepEqual(again.Event, in.Event) {
				t.Fatalf("round trip changed the event:\n%#v\n%#v", in.Event, again.Event)
			}
		}
	})
}
