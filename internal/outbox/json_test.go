package outbox

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/rung-dev/rung/internal/engine"
)

// hardStrings are strings encoding/json writes other than as they are.
var hardStrings = []string{"", "plain-id_1", `q"uote\back`, "<b>&amp;</b>", "tab\tnl\nret\r\b\f\x00\x1f\x7f",
	"ünï€ode 🎉", "bad \xff utf-8 \xc3", "line\u2028sep\u2029", "long enough to take more than eight bytes <at> once"}

func TestHandEncodingIsEncodingJSONs(t *testing.T) {
	check := func(what string, got []byte, v any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", what, got, want)
		}
	}
	nums := []int64{0, 1, -1, 12345, math.MaxInt64, math.MinInt64}
	for i, s := range hardStrings {
		o := hardStrings[(i+3)%len(hardStrings)]
		e := hardStrings[(i+5)%len(hardStrings)]
		n, m := nums[i%len(nums)], nums[(i+1)%len(nums)]
		for _, badges := range [][]engine.BadgeRef{nil, {}, {{ID: s}}, {{ID: s, Name: o, Level: e}, {ID: o, Level: s}}} {
			st := engine.SubjectState{ID: s, Kind: o, Name: e, Partner: s, Balance: n, Lifetime: m, Level: o, Tier: e, Badges: badges}
			check("state", appendState(nil, st), st)
		}
		for _, st := range []engine.SubjectState{{}, {ID: s, Kind: "member"}, {ID: s, Kind: "partner", Tier: o}} {
			check("state", appendState(nil, st), st)
		}
		pts := []PointsPayload{{}, {Subject: s, Kind: o, Partner: e, Balance: n, Lifetime: m, PreviousBalance: n}, {Subject: s, Kind: "member", Balance: m}}
		for _, p := range pts {
			check("points", appendPoints(nil, p), p)
		}
		for _, p := range []LevelPayload{{}, {Subject: s, Kind: o, Partner: e, Level: s, Previous: o}, {Subject: s, Kind: o, Level: e}} {
			check("level", appendLevel(nil, p), p)
		}
		for _, p := range []BadgePayload{{}, {Subject: s, Kind: o, Partner: e, Badge: s, Name: o, Level: e}, {Subject: s, Kind: o, Badge: e}} {
			check("badge", appendBadge(nil, p), p)
		}
	}
}

func FuzzAppendStringIsEncodingJSONs(f *testing.F) {
	for _, s := range hardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// BenchmarkEncodeStep encodes what a producer step writes for a member
// whose points changed (its state and a points.changed payload), by hand
// and with encoding/json as before.
func BenchmarkEncodeStep(b *testing.B) {
	s := engine.SubjectState{ID: "m012345", Kind: "member", Name: "Member 12345", Partner: "p0123", Balance: 1520, Lifetime: 2240,
		Level: "Silver", Badges: []engine.BadgeRef{{ID: "first-deal", Name: "First deal"}}}
	p := PointsPayload{Subject: s.ID, Kind: s.Kind, Partner: s.Partner, Balance: s.Balance, Lifetime: s.Lifetime, PreviousBalance: 1400}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for range b.N {
			buf = appendPoints(appendState(buf[:0], s), p)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := json.Marshal(s); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
