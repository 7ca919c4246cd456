package codec

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

func typicalRecord() *rung.Record {
	at := time.Date(2026, 5, 1, 9, 30, 0, 123456789, time.UTC)
	return &rung.Record{
		Seq: 1, Version: 1, ReceivedAt: at.Add(time.Second),
		Event: rung.Event{
			ID: "hubspot:deal-4711:deal.won", Type: "deal.won", Partner: "acct-0042", Member: "zoe@acme.de",
			OccurredAt: at, Source: "hubspot",
			Attrs: map[string]any{"amount": 125000.0, "sourced": true, "stage": "closedwon", "currency": "EUR", "score": 4.5},
		},
	}
}

func TestEncodeRecordRoundTripsTypicalEvent(t *testing.T) {
	r := typicalRecord()
	b, err := EncodeRecord(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	var got rung.Record
	got.Seq, got.Version, got.Event.ID = r.Seq, r.Version, r.Event.ID
	if err := DecodeRecord(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, r) {
		t.Errorf("got %+v\nwant %+v", got, *r)
	}
	if len(b) > 128 {
		t.Errorf("typical record takes %d bytes, want at most 128", len(b))
	}
}

func TestEncodeRecordIsDeterministic(t *testing.T) {
	r := typicalRecord()
	first, _ := EncodeRecord(nil, r)
	for range 20 {
		b, _ := EncodeRecord(nil, r)
		if !bytes.Equal(b, first) {
			t.Fatal("two encodings of one record differ")
		}
	}
}

func TestEncodeRecordNumbers(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want float64
	}{
		{0, 0}, {-1, -1}, {int64(1) << 53, 1 << 53}, {int32(-7), -7}, {float32(0.5), 0.5},
		{1e300, 1e300}, {-1e-300, -1e-300}, {float64(1 << 53), 1 << 53}, {float64(1<<53 + 2), 1<<53 + 2},
		{math.Inf(1), math.Inf(1)}, {math.Copysign(0, -1), math.Copysign(0, -1)},
	} {
		r := &rung.Record{Event: rung.Event{Attrs: map[string]any{"n": tt.in}}}
		b, err := EncodeRecord(nil, r)
		if err != nil {
			t.Fatalf("%v: %v", tt.in, err)
		}
		var got rung.Record
		if err := DecodeRecord(b, &got); err != nil {
			t.Fatalf("%v: %v", tt.in, err)
		}
		f, ok := got.Event.Attrs["n"].(float64)
		if !ok || f != tt.want || math.Signbit(f) != math.Signbit(tt.want) {
			t.Errorf("%T %v came back as %T %v", tt.in, tt.in, got.Event.Attrs["n"], got.Event.Attrs["n"])
		}
	}
}

func TestEncodeRecordRejectsUnsupportedValues(t *testing.T) {
	deep := any("leaf")
	for range maxDepth + 1 {
		deep = []any{deep}
	}
	deepStrings := any([]string{"leaf"})
	for range maxDepth {
		deepStrings = []any{deepStrings}
	}
	for name, v := range map[string]any{
		"deep []string": deepStrings,
		"struct":        struct{}{},
		"channel":       make(chan int),
		"deep":          deep,
		"nested":        map[string]any{"x": []any{1, complex(1, 2)}},
	} {
		r := &rung.Record{Event: rung.Event{ID: "e1", Attrs: map[string]any{"v": v}}}
		_, err := EncodeRecord(nil, r)
		if rung.ErrorCode(err) != rung.EINVALID || !strings.Contains(err.Error(), "e1") {
			t.Errorf("%s: got %v, want EINVALID naming the event", name, err)
		}
	}
}

func TestDecodeRecordRejectsDamage(t *testing.T) {
	good, _ := EncodeRecord(nil, typicalRecord())
	cases := map[string][]byte{
		"empty":           nil,
		"unknown version": append([]byte{9}, good[1:]...),
		"unknown flags":   append([]byte{1, 0x80}, good[2:]...),
		"trailing bytes":  append(good[:len(good):len(good)], 0),
		"huge length":     {1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge count":      {1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"varint overflow": {1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"bad time form":   {1, 3 << 1, 0, 0, 0, 0},
		"bad nanos":       {1, 2 << 1, 0, 0, 0, 0, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0},
	}
	for i := 1; i < len(good); i++ {
		cases["truncated"+string(rune('A'+i%26))+string(rune('a'+i/26))] = good[:i]
	}
	for name, b := range cases {
		var r rung.Record
		if err := DecodeRecord(b, &r); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
}

// jsonValue draws what encoding/json produces for an any.
func jsonValue(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		kinds := 6
		if depth <= 0 {
			kinds = 4
		}
		switch rapid.IntRange(0, kinds-1).Draw(t, "kind") {
		case 0:
			return nil
		case 1:
			return rapid.Bool().Draw(t, "bool")
		case 2:
			return rapid.OneOf(
				rapid.Float64(),
				rapid.Map(rapid.Int64Range(-1<<53, 1<<53), func(i int64) float64 { return float64(i) }),
			).Filter(func(f float64) bool { return !math.IsNaN(f) }).Draw(t, "number")
		case 3:
			return rapid.String().Draw(t, "string")
		case 4:
			return rapid.SliceOfN(jsonValue(depth-1), 0, 4).Draw(t, "array")
		default:
			return rapid.MapOfN(rapid.String(), jsonValue(depth-1), 0, 4).Draw(t, "object")
		}
	})
}

func anyTime(t *rapid.T, label string) time.Time {
	switch rapid.IntRange(0, 2).Draw(t, label+" form") {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, rapid.Int64().Draw(t, label+" nanos")).UTC()
	}
	sec := rapid.Int64Range(-62135596800, 253402300799).Draw(t, label+" sec") // years 1 to 9999
	return time.Unix(sec, rapid.Int64Range(0, 999999999).Draw(t, label+" nsec")).UTC()
}

func TestRecordRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := &rung.Record{
			Seq:        rapid.Int64().Draw(t, "seq"),
			Version:    rapid.Int().Draw(t, "version"),
			Retracted:  rapid.Bool().Draw(t, "retracted"),
			ReceivedAt: anyTime(t, "received_at"),
			Event: rung.Event{
				ID:         rapid.String().Draw(t, "id"),
				Type:       rapid.String().Draw(t, "type"),
				Partner:    rapid.String().Draw(t, "partner"),
				Member:     rapid.String().Draw(t, "member"),
				OccurredAt: anyTime(t, "occurred_at"),
				Source:     rapid.String().Draw(t, "source"),
			},
		}
		if rapid.Bool().Draw(t, "has attrs") {
			r.Event.Attrs = rapid.MapOfN(rapid.String(), jsonValue(3), 0, 8).Draw(t, "attrs")
		}
		b, err := EncodeRecord([]byte("prefix"), r)
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:6]) != "prefix" {
			t.Fatal("EncodeRecord did not append to dst")
		}
		// Decode into a record holding leftovers of another one.
		got := rung.Record{Seq: r.Seq, Version: r.Version, Event: rung.Event{ID: r.Event.ID, Attrs: map[string]any{"old": 1.0}}}
		if err := DecodeRecord(b[6:], &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, r) {
			t.Fatalf("round trip:\n got  %#v\n want %#v", got, *r)
		}
		again, _ := EncodeRecord(nil, &got)
		if !bytes.Equal(again, b[6:]) {
			t.Fatal("re-encoding the decoded record gives other bytes")
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	good, _ := EncodeRecord(nil, typicalRecord())
	f.Add(good)
	nested, _ := EncodeRecord(nil, &rung.Record{Event: rung.Event{Attrs: map[string]any{
		"a": []any{1.5, "x", nil, true, map[string]any{"b": []any{}}},
	}}})
	f.Add(nested)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r, head rung.Record
		err := DecodeRecord(b, &r)
		// The head decoder checks the same bytes alike.
		herr := DecodeRecordHead(b, &head, nil)
		if (err == nil) != (herr == nil) || (err != nil && err.Error() != herr.Error()) {
			t.Fatalf("DecodeRecord: %v; DecodeRecordHead: %v", err, herr)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if want := attrsNoNaN(r); !reflect.DeepEqual(head, want) {
			t.Fatalf("head %#v, want %#v", head, want)
		}
		// The kept decoder, into a used map, decodes alike.
		kept := rung.Record{Event: rung.Event{Attrs: map[string]any{"stale": 1.0}}}
		if err := DecodeRecordKept(b, &kept, kept.Event.Attrs, new(Names)); err != nil {
			t.Fatalf("DecodeRecord accepted what DecodeRecordKept refused: %v", err)
		}
		if len(kept.Event.Attrs) != len(r.Event.Attrs) || !reflect.DeepEqual(attrsNoNaN(kept), attrsNoNaN(r)) {
			t.Fatalf("kept %#v, want %#v", kept, r)
		}
		// What decodes, encodes; and that decodes to the same record.
		b2, err := EncodeRecord(nil, &r)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var r2 rung.Record
		if err := DecodeRecord(b2, &r2); err != nil {
			t.Fatalf("decode of re-encoding: %v", err)
		}
		if !reflect.DeepEqual(attrsNoNaN(r), attrsNoNaN(r2)) {
			t.Fatalf("re-encoding changed the record:\n%#v\n%#v", r, r2)
		}
	})
}

// attrsNoNaN drops the attrs of records whose floats may be NaN, which
// DeepEqual never finds equal.
func attrsNoNaN(r rung.Record) rung.Record {
	r.Event.Attrs = nil
	return r
}

func TestDecodeRecordAllocationIsBounded(t *testing.T) {
	// An array claiming as many elements as there are bytes, nested to
	// the limit: the decoder must fail without making room for them all.
	var b []byte
	b = append(b, 1, 0, 0, 0, 0, 0, 2, 0) // attrs count 1, key ""
	for range maxDepth - 1 {
		b = append(b, tagArray, 0xff, 0x7f) // count 16383
	}
	b = append(b, make([]byte, 16000)...)
	allocs := testing.AllocsPerRun(10, func() {
		var r rung.Record
		DecodeRecord(b, &r)
	})
	var ms runtimeMem
	before := ms.read()
	var r rung.Record
	DecodeRecord(b, &r)
	if grown := ms.read() - before; grown > 64*uint64(len(b)) {
		t.Errorf("decoding %d hostile bytes allocated %d bytes (%v allocs)", len(b), grown, allocs)
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	body, _ := EncodeRecord(nil, typicalRecord())
	var r rung.Record
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeRecord(body, &r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkEncodeRecord(b *testing.B) {
	r := typicalRecord()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = EncodeRecord(buf[:0], r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func TestDeepestAllowedNestingRoundTrips(t *testing.T) {
	v := any([]string{"leaf"})
	want := any([]any{"leaf"})
	for range maxDepth - 2 {
		v, want = map[string]any{"k": v}, map[string]any{"k": want}
	}
	r := &rung.Record{Event: rung.Event{Attrs: map[string]any{"v": v}}}
	b, err := EncodeRecord(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	var got rung.Record
	if err := DecodeRecord(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Event.Attrs["v"], want) {
		t.Error("deep value changed in the round trip")
	}
}

// runtimeMem reads the bytes allocated so far.
type runtimeMem struct{ s runtime.MemStats }

func (m *runtimeMem) read() uint64 {
	runtime.ReadMemStats(&m.s)
	return m.s.TotalAlloc
}

func TestAppendRecordUsesRaw(t *testing.T) {
	r := &rung.Record{Event: rung.Event{ID: "a", Type: "deal.won", Partner: "p", Attrs: map[string]any{"amount": 5.0}}}
	enc, err := EncodeRecord(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendRecord([]byte("x"), r)
	if err != nil || string(got) != "x"+string(enc) {
		t.Fatalf("without Raw: %q, %v; want the encoding after the prefix", got, err)
	}
	r.Raw = []byte("raw bytes")
	got, err = AppendRecord([]byte("x"), r)
	if err != nil || string(got) != "xraw bytes" {
		t.Fatalf("with Raw: %q, %v; want Raw verbatim", got, err)
	}
}

// Decoding into a reused map leaves only the new record's attributes.
func TestDecodeRecordReusing(t *testing.T) {
	a := &rung.Record{Event: rung.Event{Type: "t", Attrs: map[string]any{"x": 1.0, "old": "gone"}}}
	b := &rung.Record{Event: rung.Event{Type: "t", Attrs: map[string]any{"x": 2.0, "nested": map[string]any{"k": true}}}}
	none := &rung.Record{Event: rung.Event{Type: "t"}}
	attrs := map[string]any{}
	for _, want := range []*rung.Record{a, b, none, a} {
		enc, err := EncodeRecord(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		var got rung.Record
		if err := DecodeRecordReusing(enc, &got, attrs); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Event.Attrs, want.Event.Attrs) {
			t.Errorf("attrs %v, want %v", got.Event.Attrs, want.Event.Attrs)
		}
	}
}

// The kept decoder decodes what DecodeRecord does, into the map it is
// given, with its strings in the bytes it was given and nothing allocated
// for them; it refuses what DecodeRecord refuses.
func TestDecodeRecordKept(t *testing.T) {
	in := typicalRecord()
	b, err := EncodeRecord(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	var want rung.Record
	if err := DecodeRecord(b, &want); err != nil {
		t.Fatal(err)
	}
	var names Names
	attrs := map[string]any{"left over": true}
	var got rung.Record
	if err := DecodeRecordKept(b, &got, attrs, &names); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("kept %#v, want %#v", got, want)
	}
	if reflect.ValueOf(got.Event.Attrs).UnsafePointer() != reflect.ValueOf(attrs).UnsafePointer() {
		t.Error("the attrs are not the map given")
	}
	start, end := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&b[len(b)-1]))
	if p := uintptr(unsafe.Pointer(unsafe.StringData(got.Event.Partner))); p < start || p > end {
		t.Error("the partner is not in the bytes given")
	}
	decodes, kepts := testing.AllocsPerRun(100, func() { DecodeRecordReusing(b, &got, attrs) }),
		testing.AllocsPerRun(100, func() { DecodeRecordKept(b, &got, attrs, &names) })
	if kepts >= decodes {
		t.Errorf("%v allocations a record, no fewer than DecodeRecordReusing's %v", kepts, decodes)
	}
	bad := b[:len(b)-1]
	if err1, err2 := DecodeRecord(bad, &want), DecodeRecordKept(bad, &got, attrs, &names); err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("truncated: %v / %v", err1, err2)
	}
}

func TestDecodeRecordNamedSharesTypeAndSource(t *testing.T) {
	var names Names
	var first rung.Record
	for i := range 3 {
		in := rung.Record{Seq: 1, Version: 1, ReceivedAt: time.Unix(100, 0).UTC(), Event: rung.Event{ID: "e", Type: "deal.won",
			Partner: "p1", Member: "m1", Source: "crm", OccurredAt: time.Unix(50, 0).UTC(), Attrs: map[string]any{"amount": float64(i)}}}
		b, err := EncodeRecord(nil, &in)
		if err != nil {
			t.Fatal(err)
		}
		var named, plain rung.Record
		named.Event.ID, named.Seq, named.Version = "e", 1, 1
		plain.Event.ID, plain.Seq, plain.Version = "e", 1, 1
		if err := DecodeRecordNamed(b, &named, &names); err != nil {
			t.Fatal(err)
		}
		if err := DecodeRecord(b, &plain); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(named, plain) || !reflect.DeepEqual(named, in) {
			t.Fatalf("named decode %+v, plain %+v, encoded %+v", named, plain, in)
		}
		if i == 0 {
			first = named
		} else if unsafe.StringData(named.Event.Type) != unsafe.StringData(first.Event.Type) ||
			unsafe.StringData(named.Event.Source) != unsafe.StringData(first.Event.Source) {
			t.Errorf("record %d: type and source not shared with the first record's", i)
		}
	}
}

// The head decoder sets what DecodeRecord sets but the attributes, checks
// them, allocates nothing once it knows the names, and its type and source
// stay valid when the bytes are written again.
func TestDecodeRecordHead(t *testing.T) {
	in := typicalRecord()
	b, err := EncodeRecord(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	var full rung.Record
	if err := DecodeRecord(b, &full); err != nil {
		t.Fatal(err)
	}
	var names Names
	var head rung.Record
	if err := DecodeRecordHead(b, &head, &names); err != nil {
		t.Fatal(err)
	}
	full.Event.Attrs = nil
	if !reflect.DeepEqual(head, full) {
		t.Errorf("head %#v, want %#v", head, full)
	}
	if n := testing.AllocsPerRun(100, func() { DecodeRecordHead(b, &head, &names) }); n != 0 {
		t.Errorf("%v allocations a record, want 0", n)
	}
	typ, src := head.Event.Type, head.Event.Source
	clear(b)
	if typ != in.Event.Type || src != in.Event.Source {
		t.Errorf("type %q and source %q changed with the bytes", typ, src)
	}
	// damaged attributes fail as they do for DecodeRecord
	b, _ = EncodeRecord(nil, in)
	bad := b[:len(b)-1]
	if err1, err2 := DecodeRecord(bad, &full), DecodeRecordHead(bad, &head, &names); err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("truncated: %v / %v", err1, err2)
	}
}
