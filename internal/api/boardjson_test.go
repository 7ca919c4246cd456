package api

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/engine"
)

// The hand-written encoder writes exactly what encoding/json writes.
func TestBoardPageEncodesLikeEncodingJSON(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	pages := []engine.BoardPage{
		{ID: "q", Metric: "points", For: "member", Window: engine.Span{From: time.Date(2026, 10, 1, 0, 0, 0, 0, berlin), To: time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)},
			Total: 3, Entries: []engine.BoardEntry{
				{Rank: 1, Subject: "m1", Name: "Zoë \"Z\" <b>&</b>\u2028\x01\xff\b\f\x7f", Partner: "p1", Value: 1234.5},
				{Rank: 2, CohortRank: 1, Subject: "m2", Cohort: "smb", Value: 1e-7},
				{Rank: 2, Subject: "m3", Value: 1e21},
				{Rank: 4, Subject: "m4", Value: -0.000001},
				{Rank: 5, Subject: "m5", Value: math.MaxInt64},
			}},
		{ID: "c", Name: "Cohort board", Metric: "meeting_rate", For: "partner", Cohort: "smb", Entries: []engine.BoardEntry{}},
	}
	for _, p := range pages {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(p)
		got := append(appendBoardPage(nil, &p), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("got  %s\nwant %s", got, want.Bytes())
		}
	}
}

// appendFloat writes what encoding/json writes for every float a board may
// hold: whole numbers on both sides of 2^53 (its fast path's edge), zeros,
// fractions, tiny and huge values.
func TestAppendFloatIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1 << 53, 1<<53 - 1, 1<<53 + 2, -(1 << 53), -(1<<53 - 1),
		1e15, 1e20, 1e21 - 65536, 1e21, 123456789012345680, 1e-6, 1e-7, -1e-7, 0.1, math.MaxFloat64, math.SmallestNonzeroFloat64, math.MaxInt64}
	for range 20000 {
		vals = append(vals,
			float64(r.Int64N(1<<54)-1<<53),                  // whole, around the fast path's edge
			math.Trunc(r.NormFloat64()*1e4),                 // whole, small, both signs
			r.NormFloat64()*math.Pow(10, r.Float64()*40-20), // any size
			math.Float64frombits(r.Uint64()))                // anything (NaN, Inf skipped below)
	}
	for _, f := range vals {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFloat(nil, f); !bytes.Equal(got, want) {
			t.Fatalf("%v (%x): got %s, want %s", f, math.Float64bits(f), got, want)
		}
	}
}

// appendString writes what encoding/json writes (HTML escaping off) for
// any string: plain runs of every length around its eight-byte steps, with
// quotes, backslashes, control characters, DEL, multi-byte and invalid
// UTF-8, U+2028 and U+2029 at every offset.
func TestAppendStringIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "Z", " ", "~", "\x7f", "\"", "\\", "\x00", "\x1f", "\n", "\t", "é", "€", "😀", "\u2028", "\u2029", "\xff", "\xe2\x82", "<", ">", "&"}
	strs := []string{"", "plain", "Bench Member 12345", "exactly8", "sixteen-bytes-ab"}
	for range 20000 {
		var sb strings.Builder
		for n := r.IntN(40); n > 0; n-- {
			if r.IntN(4) == 0 {
				sb.WriteString(pieces[r.IntN(len(pieces))])
			} else {
				sb.WriteByte(byte(0x20 + r.IntN(0x5f)))
			}
		}
		strs = append(strs, sb.String())
	}
	for i := 0; i < 256; i++ { // each byte value alone and after seven plain ones
		strs = append(strs, string([]byte{byte(i)}), "abcdefg"+string([]byte{byte(i)})+"hijklmnopq")
	}
	for _, s := range strs {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(append(got, '\n'), want.Bytes()) {
			t.Fatalf("%q: got %s, want %s", s, got, want.Bytes())
		}
	}
}
