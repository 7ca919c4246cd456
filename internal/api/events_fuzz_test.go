package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
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

// FuzzDecodeEventDifferential holds the hand-written decoder to the
// encoding/json one it replaced (events_ref_test.go): for any body, both
// give the same events (fields, attrs of the same Go types and values,
// floats bit for bit), reject the same events, and refuse the same
// bodies with the same error code, whether the body is one event, a
// batch, an array or NDJSON.
func FuzzDecodeEventDifferential(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if msg := differential(body); msg != "" {
			t.Fatal(msg)
		}
	})
}

// differentialSeeds are the cases where a JSON decoder is most likely to
// part from encoding/json.
var differentialSeeds = []string{
	`{"id": "crm:1:deal.won", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 50000, "tags": ["a", 1, null, true], "nested": {"x": 1.5}}, "source": "crm"}`,
	// Field names: exact, any case, Unicode folding, escapes, unknown.
	`{"ID":"a","TYPE":"t","Partner":"p","mEmBeR":"m","OCCURRED_AT":"2026-11-02T10:00:00+01:00","Attrs":{},"SOURCE":"s"}`,
	`{"ſource":"long s","attrſ":{"k":1}}`, `{"ıd":"dotless"}`, `{"\u0069d":"escaped key"}`, `{"i\u0064":"x","type\u0000":1}`,
	"{\"id\xff\":1}", `{"id":"a","unknown":1}`, `{"id":"a","unknown":1e400}`, `{"":""}`,
	// Duplicates and null.
	`{"id":"a","id":"b"}`, `{"id":"a","id":null}`, `{"id":"a","id":null,"x":1}`, `{"id":"a","id":5}`, `{"id":"a","type":5,"id":"b"}`,
	`{"id":1e400,"id":"a","x":1}`, `{"id":[1e400],"id":"a","type":1}`, `{"id":{"a":[1,{"b":1e999}]},"id":"a","x":1}`,
	`{"type":null,"partner":null,"member":null,"occurred_at":null,"source":null,"attrs":null}`,
	`{"attrs":{"a":1},"attrs":{"b":2,"a":3}}`, `{"attrs":{"a":1},"attrs":null}`, `{"attrs":null,"attrs":{"a":1}}`,
	`{"attrs":{"a":1,"a":{"x":1},"a":[1]}}`,
	// Wrong types.
	`{"attrs":[]}`, `{"attrs":"x"}`, `{"attrs":1}`, `{"attrs":true}`, `{"id":true}`, `{"id":{}}`, `{"id":[]}`, `{"type":1.5,"id":"a"}`,
	// Values in attrs.
	`{"attrs":{"a":{"b":[1,2,{"c":null}],"d":[]},"e":{},"f":"","g":false}}`,
	`{"attrs":{"a":-0,"b":0.1,"c":1e22,"d":1e23,"e":123456789012345678,"f":1.7976931348623157e308,"g":5e-324,"h":1e-400,"i":-1.5E+3,"j":0.30000000000000004,"k":-0.0,"l":0e999,"m":1E-7,"n":999999999999999,"o":9007199254740993}}`,
	`{"attrs":{"a":1e309}}`, `{"attrs":{"a":-1e400}}`, `{"attrs":{"a":[1e400,2]}}`,
	`{"attrs":{"a":01}}`, `{"attrs":{"a":+1}}`, `{"attrs":{"a":.5}}`, `{"attrs":{"a":1.}}`, `{"attrs":{"a":NaN}}`, `{"attrs":{"a":-}}`,
	`{"attrs":{"a":1e}}`, `{"attrs":{"a":1e+}}`, `{"attrs":{"a":Infinity}}`, `{"attrs":{"a":tru}}`, `{"attrs":{"a":nul}}`,
	// Strings.
	`{"id":"\ud83d\ude00"}`, `{"id":"\ud83d"}`, `{"id":"\udc00\ud83d"}`, `{"id":"\ud83d\u0041"}`, `{"id":"\ud83d\ud83d\ude00"}`,
	`{"id":"\uD83D\uDE00\uDBFF\uDFFF"}`, `{"id":"\ud83d\u00"}`, `{"id":"\u00"}`, `{"id":"\u0000"}`, `{"id":"\/\b\f\n\r\t\"\\"}`,
	`{"id":"\q"}`, "{\"id\":\"\xff\xfe\"}", "{\"id\":\"\xed\xa0\x80\"}", "{\"id\":\"\xe2\x82\"}", "{\"id\":\"a\x01\"}",
	"{\"id\":\"\xef\xbf\xbd\"}", "{\"id\":\"\x7f\"}", "{\"attrs\":{\"\xff\":\"\xc0\xaf\"}}", `{"id":"a`, `{"id":"a\`,
	// Around the value.
	`{"id":"a"}}`, `{"id":"a"}]`, `{"id":"a"} x`, `{"id":"a"}{"id":"b"}`, `{"id":"a","x":1}}`, `{"id":"a","x":1} `,
	`null`, `null}`, `nullx`, `null x`, `1x`, `01`, `"str"`, `[]`, `true`, ` `, ``, "\t{\"id\":\"a\"}\r\n", "\v{}", `{}`, `{`, `}`,
	`{"id":"a",}`, `{"id" "a"}`, `{"id":}`, `{,}`, `{"id":"a" "type":"b"}`, `{'id':'a'}`, "\xef\xbb\xbf{}",
	// Batches.
	`{"events":[]}`, `{"events":[null]}`, `{"events":[{"id":"a"},]}`, `{"events":[{"id":"a"} {"id":"b"}]}`,
	`{"events":[{"id":"a","x":1,"id":"b"},{"id":"c","id":null,"type":2}]}`, `{"events":[1,"x",[],true,{}]}`,
	`{"events":[{"id":"a"}}`, `{"events":[{"id":"a"}]`, `{"events":[{"id":"a"}]}x`, `{"events":[{"id":"a"}],"x":1}`,
	`{"events":{"id":"a"}}`, `{"events" [`, `{"events":[1`, `{"events":[{"id":"a"}]}}`, `{ "events" : [ {"id" : "a"} , null ] }`,
	`{"events":[nullx]}`, `{"events":[01]}`, `{"events":"nope"}`, `{"events":[{"attrs":{"a":1e400},"id":"big"}]}`,
	`{"events":[,]}`, `{"events":[{"id":"a"},,]}`, `{"events":[]]}`, `{"events":[}`, `{"events":[{"id":"\ud83d"}]}`,
	`{"\u0065vents":[{"id":"a"}]}`, `{"EVENTS":[]}`, `{"events":[{"id":"a","events":[]}]}`,
	// Arrays.
	`[{"id":"a"},{"ID":5}]`, `[null]`, `[{"id":"a"}]x`, `[1,]`, `[{"id":"a","attrs":{"x":1e400}}]`, `[{"id":"a","q":1}]`,
	`[[[]]]`, `[`, `[{"id":"a"}`, `[{"id":"a"}}]`,
	// NDJSON.
	"{\"id\":\"a\"}\n{\"id\":\"b\"}}\n", "{\"id\":\"a\"}}\r\n", "x\n{}", "\n\n{\"id\":\"a\",\"x\":1}\n[1]\n", "{\"id\":\"a\"}\r\n{\"id\":\"b\"} {\n",
	// Nesting.
	`{"attrs":{"a":` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}}`,
}

// differential parses body with both parsers and describes the first
// difference, or returns "".
func differential(body string) string {
	if d := diffIncoming(refDecodeEvent([]byte(body)), decodeCopy(body)); d != "" {
		return fmt.Sprintf("DecodeEvent(%q): %s", body, d)
	}
	for _, ctype := range []string{"application/json", "application/x-ndjson"} {
		want, werr := refParseEvents(ctype, []byte(body))
		// The new parser reads a copy that is then overwritten, so an
		// event that kept a reference into the body would show it.
		buf := []byte(body)
		got, gerr := parseEvents(ctype, buf)
		for i := range buf {
			buf[i] = '#'
		}
		if (werr == nil) != (gerr == nil) {
			return fmt.Sprintf("parseEvents(%s, %q): error %v, want %v", ctype, body, gerr, werr)
		}
		if werr != nil {
			var w, g *rung.Error
			if !errors.As(werr, &w) || !errors.As(gerr, &g) || w.Code != g.Code || g.Message == "" {
				return fmt.Sprintf("parseEvents(%s, %q): error %#v, want code of %#v", ctype, body, gerr, werr)
			}
			continue
		}
		if len(want) != len(got) {
			return fmt.Sprintf("parseEvents(%s, %q): %d events, want %d", ctype, body, len(got), len(want))
		}
		for i := range want {
			if d := diffIncoming(want[i], got[i]); d != "" {
				return fmt.Sprintf("parseEvents(%s, %q) event %d: %s", ctype, body, i, d)
			}
		}
	}
	return ""
}

func decodeCopy(body string) *service.Incoming {
	buf := []byte(body)
	in := DecodeEvent(buf)
	for i := range buf {
		buf[i] = '#'
	}
	return in
}

// diffIncoming describes how got differs from want: a different event, or
// one rejected and not the other (the messages may differ; a rejection
// must have one).
func diffIncoming(want, got *service.Incoming) string {
	if (want.Err == "") != (got.Err == "") {
		return fmt.Sprintf("error %q, want %q", got.Err, want.Err)
	}
	w, g := want.Event, got.Event
	if !w.OccurredAt.Equal(g.OccurredAt) || w.OccurredAt.Format(time.RFC3339Nano) != g.OccurredAt.Format(time.RFC3339Nano) {
		return fmt.Sprintf("occurred_at %v, want %v", g.OccurredAt, w.OccurredAt)
	}
	if w.ID != g.ID || w.Type != g.Type || w.Partner != g.Partner || w.Member != g.Member || w.Source != g.Source {
		return fmt.Sprintf("event %+q, want %+q (errors %q, %q)", g, w, got.Err, want.Err)
	}
	if want.Err != "" {
		return "" // a rejected event carries only its id
	}
	if w.Attrs == nil && g.Attrs == nil {
		return ""
	}
	return diffValue("attrs", w.Attrs, g.Attrs)
}

// diffValue compares two decoded JSON values strictly: Go types, nil
// against empty, floats bit for bit.
func diffValue(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || (w == nil) != (g == nil) || len(w) != len(g) {
			return fmt.Sprintf("%s = %#v, want %#v", path, got, want)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s has no key %q", path, k)
			}
			if d := diffValue(path+"."+k, wv, gv); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || (w == nil) != (g == nil) || len(w) != len(g) {
			return fmt.Sprintf("%s = %#v, want %#v", path, got, want)
		}
		for i := range w {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
	case float64:
		if g, ok := got.(float64); !ok || math.Float64bits(g) != math.Float64bits(w) {
			return fmt.Sprintf("%s = %#v, want %#v", path, got, want)
		}
	default:
		if want != got {
			return fmt.Sprintf("%s = %#v (%T), want %#v (%T)", path, got, got, want, want)
		}
	}
	return ""
}
