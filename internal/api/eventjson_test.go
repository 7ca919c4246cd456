package api

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rung-dev/rung"
)

func TestDecodeEventMatchesEncodingJSONOnTrickyInput(t *testing.T) {
	deep := func(levels int) string { // attrs holding arrays nested to depth levels in all
		n := levels - 2 // the event object and attrs are two levels
		return `{"id":"deep","attrs":{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`
	}
	cases := append([]string{
		deep(maxDepth), deep(maxDepth + 1),
		`{"events":[` + deep(maxDepth) + `]}`, `{"events":[` + deep(maxDepth+1) + `]}`,
		// A JSON array counts as a level of its own, as json.Unmarshal counts it.
		`[` + deep(maxDepth-1) + `]`, `[` + deep(maxDepth) + `]`,
		`{"id":"a","type":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`,
	}, differentialSeeds...)
	for _, body := range cases {
		if msg := differential(body); msg != "" {
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			t.Error(msg)
		}
	}
}

func TestDecodeEventReadsFieldsLikeEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		name, json string
		id, typ    string
		source     string
		attrs      map[string]any
	}{
		{"names match in any case", `{"ID":"a","Type":"t","SOURCE":"s"}`, "a", "t", "s", nil},
		{"names fold like Unicode", `{"ſource":"s","attrſ":{"k":true}}`, "", "", "s", map[string]any{"k": true}},
		{"escaped names", `{"\u0069d":"a","typ\u0065":"t"}`, "a", "t", "", nil},
		{"the last duplicate wins", `{"id":"a","id":"b","type":"x","type":"y"}`, "b", "y", "", nil},
		{"null leaves a string as it was", `{"id":"a","id":null,"type":"t","type":null}`, "a", "t", "", nil},
		{"duplicate attrs merge", `{"attrs":{"a":1,"b":2},"attrs":{"b":3}}`, "", "", "", map[string]any{"a": 1.0, "b": 3.0}},
		{"null clears attrs", `{"attrs":{"a":1},"attrs":null}`, "", "", "", nil},
		{"attrs after null", `{"attrs":null,"attrs":{"a":"x"}}`, "", "", "", map[string]any{"a": "x"}},
		{"empty attrs", `{"attrs":{}}`, "", "", "", map[string]any{}},
		{"nested values", `{"attrs":{"a":[1,"x",null,false,[],{}],"b":{"c":{"d":null}}}}`, "", "", "", map[string]any{
			"a": []any{1.0, "x", nil, false, []any{}, map[string]any{}},
			"b": map[string]any{"c": map[string]any{"d": nil}},
		}},
		{"null is an empty event", `null`, "", "", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := DecodeEvent([]byte(c.json))
			if in.Err != "" {
				t.Fatalf("rejected: %s", in.Err)
			}
			e := in.Event
			if e.ID != c.id || e.Type != c.typ || e.Source != c.source {
				t.Errorf("id, type, source = %q, %q, %q; want %q, %q, %q", e.ID, e.Type, e.Source, c.id, c.typ, c.source)
			}
			if d := diffValue("attrs", c.attrs, e.Attrs); (c.attrs != nil || e.Attrs != nil) && d != "" {
				t.Error(d)
			}
		})
	}
}

func TestDecodeEventStringsAreDecodedLikeEncodingJSON(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`"plain"`, "plain"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u00e9\u20AC"`, "é€"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud83d"`, "\uFFFD"},                         // a lone high surrogate
		{`"\ude00x"`, "\uFFFDx"},                       // a lone low surrogate
		{`"\ud83d\u0041"`, "\uFFFDA"},                  // high surrogate, then not a low one
		{`"\ud83d\ud83d\ude00"`, "\uFFFD😀"},            // the second high one pairs
		{`"\u0000"`, "\x00"},                           // an escaped NUL is kept
		{"\"\xff\xfe\"", "\uFFFD\uFFFD"},               // each invalid byte is U+FFFD
		{"\"\xed\xa0\x80\"", "\uFFFD\uFFFD\uFFFD"},     // a surrogate in UTF-8 is invalid
		{"\"\xe2\x82\"", "\uFFFD\uFFFD"},               // a cut-off sequence
		{"\"ok \xef\xbf\xbd \x7f\"", "ok \uFFFD \x7f"}, // U+FFFD itself and DEL pass
		{"\"caf\xc3\xa9 \\n\xff\"", "café \n\uFFFD"},   // escapes and bad bytes together
	} {
		in := DecodeEvent([]byte(`{"id":` + c.json + `}`))
		if in.Err != "" || in.Event.ID != c.want {
			t.Errorf("%s: id %q, error %q; want %q", c.json, in.Event.ID, in.Err, c.want)
		}
	}
}

func TestDecodeEventNumbersAreFloat64LikeEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		json string
		want float64
	}{
		{"0", 0}, {"-0", math.Copysign(0, -1)}, {"-0.0", math.Copysign(0, -1)}, {"42", 42}, {"-7", -7},
		{"0.1", 0.1}, {"1.5e3", 1500}, {"1E-7", 1e-7}, {"-1.5E+3", -1500}, {"1e22", 1e22}, {"1e23", 1e23},
		{"0.30000000000000004", 0.30000000000000004}, {"999999999999999", 999999999999999},
		{"9007199254740993", 9007199254740992}, {"123456789012345678901234567890", 1.2345678901234568e29},
		{"1.7976931348623157e308", math.MaxFloat64}, {"5e-324", 5e-324}, {"1e-400", 0}, {"0e999", 0},
	} {
		in := DecodeEvent([]byte(`{"attrs":{"n":` + c.json + `}}`))
		got, ok := in.Event.Attrs["n"].(float64)
		if in.Err != "" || !ok || math.Float64bits(got) != math.Float64bits(c.want) {
			t.Errorf("%s: %#v, error %q; want %v", c.json, in.Event.Attrs["n"], in.Err, c.want)
		}
	}
}

func TestDecodeEventRejectsWithAMessageThatNamesTheProblem(t *testing.T) {
	for _, c := range []struct {
		json   string
		id     string // the id the rejection still carries
		inErr  []string
		reason string
	}{
		{`{"id":"a","colour":"red"}`, "a", []string{`unknown field "colour"`, "allowed: id, type"}, "unknown field"},
		{`{"id":"a","type":5}`, "a", []string{`field "type" must be a string, not a JSON number`}, "wrong type"},
		{`{"id":"a","member":{"x":1}}`, "a", []string{`field "member" must be a string, not a JSON object`}, "wrong type"},
		{`{"id":"a","attrs":[1]}`, "a", []string{`field "attrs" must be an object, not a JSON array`}, "wrong type"},
		{`{"id":"a","attrs":{"n":1e400}}`, "a", []string{"1e400", "beyond the range"}, "number too large"},
		{`["a"]`, "", []string{"an event must be a JSON object, not a JSON array"}, "not an object"},
		{`{"id":"a", "type": }`, "", []string{"not valid JSON", "at byte 19"}, "syntax"},
		{`{"id":"a"`, "", []string{"not valid JSON", "ends early"}, "cut off"},
		{`{"attrs":{"n":01}}`, "", []string{"not valid JSON", "found '1'"}, "leading zero"},
		{`{"attrs":{"n":+1}}`, "", []string{"not valid JSON", "found '+' where a value was expected"}, "plus sign"},
		{`{"attrs":{"n":NaN}}`, "", []string{"not valid JSON", "found 'N'"}, "NaN"},
		{"{\"id\":\"a\tb\"}", "", []string{"not valid JSON", "control character 0x09"}, "raw tab"},
		{`{"id":"\x41"}`, "", []string{"not valid JSON", `\x is not a JSON escape`}, "bad escape"},
		{`{"id":"a"} {"id":"b"}`, "a", []string{"extra data after its closing brace"}, "trailing data"},
		{` `, "", []string{"empty"}, "empty"},
		{`{"id":"a","x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, "", []string{"not valid JSON", "more than 10000 deep"}, "too deep"},
		// The id of a rejected event is recovered as before: the last
		// "id" must be a string, and the JSON sound.
		{`{"id":"a","id":null,"x":1}`, "", []string{`unknown field "x"`}, "last id null"},
		{`{"id":5,"id":"b","x":1}`, "b", []string{`field "id" must be a string`}, "last id a string"},
		{`{"id":"a","x":1}}`, "", []string{`unknown field "x"`}, "JSON unsound after the event"},
	} {
		in := DecodeEvent([]byte(c.json))
		if in.Err == "" || in.Event.ID != c.id {
			t.Errorf("%s (%s): id %q, error %q; want id %q and an error", c.json[:min(len(c.json), 60)], c.reason, in.Event.ID, in.Err, c.id)
			continue
		}
		for _, s := range c.inErr {
			if !strings.Contains(in.Err, s) {
				t.Errorf("%s (%s): error %q does not say %q", c.json[:min(len(c.json), 60)], c.reason, in.Err, s)
			}
		}
	}
}

// batchOf returns {"events": [...]} with n small events and then tail
// where the closing "]}" would be.
func batchOf(n int, tail string) string {
	var b strings.Builder
	b.WriteString(`{"events": [`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id": "e%d", "attrs": {"n": %d}}`, i, i)
	}
	b.WriteString(tail)
	return b.String()
}

func TestBatchLimitsAreCheckedInTheOrderEncodingJSONChecked(t *testing.T) {
	arrayOf := func(n int, tail string) string {
		return "[" + strings.TrimPrefix(batchOf(n, tail), `{"events": [`)
	}
	for _, c := range []struct {
		name, body string
		code       string // "" for parsed
	}{
		{"a full batch", batchOf(MaxBatch, "]}"), ""},
		{"one too many", batchOf(MaxBatch+1, "]}"), rung.ETOOLARGE},
		{"one too many, then broken", batchOf(MaxBatch+1, "]"), rung.ETOOLARGE},
		{"a full batch, then junk", batchOf(MaxBatch, " x]}"), rung.ETOOLARGE},
		{"a full batch, cut off", batchOf(MaxBatch, ""), rung.EINVALID},
		{"broken inside the limit", batchOf(MaxBatch-1, ",{]}"), rung.EINVALID},
		{"an array of a full batch", arrayOf(MaxBatch, "]"), ""},
		{"an array of one too many", arrayOf(MaxBatch+1, "]"), rung.ETOOLARGE},
		{"an array of one too many, then broken", arrayOf(MaxBatch+1, ",]"), rung.EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, parse := range []func(string, []byte) ([]any, error){wrap(refParseEvents), wrap(parseEvents)} {
				events, err := parse("application/json", []byte(c.body))
				var re *rung.Error
				switch {
				case c.code == "" && (err != nil || len(events) != MaxBatch):
					t.Errorf("%d events, error %v; want %d events", len(events), err, MaxBatch)
				case c.code != "" && (!errors.As(err, &re) || re.Code != c.code):
					t.Errorf("error %v; want %s", err, c.code)
				}
			}
		})
	}
}

func wrap[T any](parse func(string, []byte) ([]T, error)) func(string, []byte) ([]any, error) {
	return func(ct string, body []byte) ([]any, error) {
		out, err := parse(ct, body)
		anys := make([]any, len(out))
		for i := range out {
			anys[i] = out[i]
		}
		return anys, err
	}
}

func TestParsedEventsDoNotShareTheBody(t *testing.T) {
	body := []byte(batchOf(3, `,{"id":"caf\u00e9","type":"t","partner":"p","member":"m","source":"s","attrs":{"k":"v","l":["w"]}}]}`))
	events, err := parseEvents("application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	copy(body, bytes.Repeat([]byte("#"), len(body)))
	e := events[3].Event
	if e.ID != "café" || e.Type != "t" || e.Partner != "p" || e.Member != "m" || e.Source != "s" ||
		e.Attrs["k"] != "v" || e.Attrs["l"].([]any)[0] != "w" || events[0].Event.ID != "e0" {
		t.Fatalf("events changed with the body: %+v", e)
	}
}

func TestParseFloatMatchesStrconvBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	check := func(s string) {
		want, werr := strconv.ParseFloat(s, 64)
		got, ok := parseFloat([]byte(s))
		if ok != (werr == nil) || (ok && math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("parseFloat(%s) = %v, %t; strconv says %v, %v", s, got, ok, want, werr)
		}
	}
	for _, s := range []string{"0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "0.2", "0.3", "1e22", "1e23", "-1e22",
		"123456789012345", "1234567890123456", "12345678901234567", "9007199254740993", "0.000000000000001",
		"1.5e-3", "15e-25", "999999999999999e22", "999999999999999e-22", "1e308", "1e309", "-1e309", "1e-324",
		"2.2250738585072011e-308", "4.9e-324", "1e007", "1e0007", "1E+2", "1e-0", "0e-999", "123.456e2"} {
		check(s)
	}
	for i := 0; i < 300000; i++ {
		var b []byte
		if rng.IntN(2) == 0 {
			b = append(b, '-')
		}
		intDigits := 1 + rng.IntN(17)
		if rng.IntN(4) == 0 {
			b = append(b, '0')
		} else {
			b = append(b, byte('1'+rng.IntN(9)))
			for j := 1; j < intDigits; j++ {
				b = append(b, byte('0'+rng.IntN(10)))
			}
		}
		if rng.IntN(2) == 0 {
			b = append(b, '.')
			for j := 1 + rng.IntN(17); j > 0; j-- {
				b = append(b, byte('0'+rng.IntN(10)))
			}
		}
		if rng.IntN(2) == 0 {
			b = append(b, "eE"[rng.IntN(2)])
			if s := rng.IntN(3); s < 2 {
				b = append(b, "+-"[s])
			}
			b = strconv.AppendInt(b, int64(rng.IntN(40)), 10)
		}
		check(string(b))
	}
}

// TestDecodeEventMatchesEncodingJSONOnGeneratedEvents complements the
// byte-level fuzzing, which seldom writes long valid JSON: it generates
// event-like JSON from a grammar full of the cases that matter (field
// names in other cases and foldings, duplicates, nulls, escapes, invalid
// UTF-8, numbers of every form, nesting), wraps it as one event, a batch,
// an array or NDJSON, sometimes breaks a byte, and compares the two
// parsers on it.
func TestDecodeEventMatchesEncodingJSONOnGeneratedEvents(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	space := func() string {
		if rng.IntN(4) > 0 {
			return ""
		}
		return pick(" ", "\n", "\t", "\r\n ", "  ")
	}
	str := func() string {
		var b strings.Builder
		b.WriteByte('"')
		for n := rng.IntN(6); n > 0; n-- {
			b.WriteString(pick("a", "Z", "é", "😀", `\"`, `\\`, `\/`, `\n`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\udc00`,
				`\uD83D\u0041`, "\xff", "\xed\xa0\x80", "\xe2\x82", "\x7f", `\u0000`, "2026-11-02T10:00:00Z", "ſ", " "))
		}
		b.WriteByte('"')
		return b.String()
	}
	num := func() string {
		return pick("0", "-0", "1", "-1", "42", "0.5", "-0.0", "1e3", "1E+2", "1e-7", "123456789012345678",
			"1.7976931348623157e308", "1e309", "-1e400", "5e-324", "1e-400", "0.30000000000000004", "99.99", "7e22", "7e23")
	}
	var value func(depth int) string
	value = func(depth int) string {
		switch r := rng.IntN(10); {
		case r < 3:
			return str()
		case r < 5:
			return num()
		case r < 6:
			return pick("true", "false", "null")
		case r < 8 && depth < 4:
			var parts []string
			for n := rng.IntN(4); n > 0; n-- {
				parts = append(parts, space()+value(depth+1)+space())
			}
			return "[" + strings.Join(parts, ",") + "]"
		case depth < 4:
			var parts []string
			for n := rng.IntN(4); n > 0; n-- {
				parts = append(parts, space()+pick(`"a"`, `"b"`, `"\u0061"`, str())+space()+":"+space()+value(depth+1))
			}
			return "{" + strings.Join(parts, ",") + "}"
		}
		return num()
	}
	event := func() string {
		var parts []string
		for n := rng.IntN(9); n > 0; n-- {
			var k, v string
			switch r := rng.IntN(20); {
			case r < 12:
				k = pick(`"id"`, `"type"`, `"partner"`, `"member"`, `"source"`, `"occurred_at"`)
				v = str()
				if k == `"occurred_at"` && rng.IntN(2) == 0 {
					v = pick(`"2026-11-02T10:00:00Z"`, `"2026-11-02T10:00:00.123+01:00"`, `"2026-11-02 10:00:00Z"`, `"2026-13-02T10:00:00Z"`, `""`)
				}
			case r < 15:
				k, v = `"attrs"`, value(1)
				if rng.IntN(3) > 0 {
					k, v = `"attrs"`, "{"+space()+`"n"`+space()+":"+space()+value(2)+"}"
				}
			case r < 18:
				k = pick(`"ID"`, `"Type"`, `"ſource"`, `"attrſ"`, `"ıd"`, `"\u0069d"`, `"OCCURRED_AT"`, `"MEMBER"`, `"Partner"`)
				v = pick(str(), value(1))
			default:
				k = pick(`"colour"`, `"events"`, `"i d"`, str())
				v = value(1)
			}
			if rng.IntN(8) == 0 {
				v = pick("null", num(), "[]", "{}", "true")
			}
			parts = append(parts, space()+k+space()+":"+space()+v+space())
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	n := 5000
	if testing.Short() {
		n = 500
	}
	for i := 0; i < n; i++ {
		var events []string
		for n := 1 + rng.IntN(4); n > 0; n-- {
			if rng.IntN(20) == 0 {
				events = append(events, value(1))
			} else {
				events = append(events, event())
			}
		}
		var body string
		switch rng.IntN(4) {
		case 0:
			body = events[0]
		case 1:
			body = `{"events":[` + strings.Join(events, ","+space()) + "]}"
		case 2:
			body = "[" + strings.Join(events, ",") + "]"
		default:
			body = strings.Join(events, pick("\n", "\r\n", "\n\n"))
		}
		if rng.IntN(8) == 0 && len(body) > 0 { // break it
			at := rng.IntN(len(body))
			switch rng.IntN(3) {
			case 0:
				body = body[:at] + body[at+1:]
			case 1:
				body = body[:at] + pick("}", "]", ",", `"`, "\\", "x", "\x01", " ") + body[at:]
			default:
				body = body[:at]
			}
		}
		if msg := differential(body); msg != "" {
			t.Fatal(msg)
		}
	}
}

func TestFieldNamesFoldForEveryRuneAsEncodingJSONFolds(t *testing.T) {
	// Every rune outside ASCII that folds to an ASCII letter, and a few
	// near misses (ı, İ, ﬀ), put in place of each letter of each field.
	var runes []rune
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if f := foldRune(r); f < utf8.RuneSelf {
			runes = append(runes, r)
		}
	}
	runes = append(runes, 'ı', 'İ', 'ﬀ')
	for _, name := range fieldNames[1:] {
		for i := range name {
			for _, r := range runes {
				key := name[:i] + string(r) + name[i+1:]
				for _, body := range []string{`{"` + key + `":"v"}`, `{"` + key + `":{"k":"v"}}`} {
					if msg := differential(body); msg != "" {
						t.Error(msg)
					}
				}
			}
		}
	}
}

// A stray closing bracket after an event is extra data like any other.
func TestStrayClosingBracketIsRefused(t *testing.T) {
	for _, body := range []string{
		`{"id":"a","type":"t","partner":"p","occurred_at":"2026-01-01T00:00:00Z"}}`,
		`{"id":"a","type":"t","partner":"p","occurred_at":"2026-01-01T00:00:00Z"} ]`,
	} {
		in := DecodeEvent([]byte(body))
		if !strings.Contains(in.Err, "extra data") || in.Event.ID != "a" {
			t.Errorf("%s: err %q, id %q; want extra data refused for event a", body, in.Err, in.Event.ID)
		}
		good := `{"id":"b","type":"t","partner":"p","occurred_at":"2026-01-01T00:00:00Z"}`
		evs, err := parseEvents("application/x-ndjson", []byte(good+"\n"+body+"\n"))
		if err != nil || len(evs) != 2 || evs[0].Err != "" || !strings.Contains(evs[1].Err, "extra data") {
			t.Errorf("NDJSON %s: %v %+v; want the line refused", body, err, evs)
		}
	}
}
