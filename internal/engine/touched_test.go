package engine

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// subjectPoints, the outbox's short way to a balance and a lifetime, gives
// what points gives, for every subject, at times before, inside and after
// the quarters awards expire in, with adjustments that grant and deduct.
func TestSubjectPointsArePoints(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		var ops []op
		for i := range rapid.IntRange(0, 30).Draw(t, "events") {
			ops = append(ops, op{ev: genEvent(t, fmt.Sprintf("e%02d", i))})
		}
		h := run(t, func(t *rapid.T, now time.Time) *harness { return newHarness(t, testProgram, now) }, ops, now).harness
		for i := range rapid.IntRange(0, 4).Draw(t, "adjustments") {
			m := rapid.SampledFrom([]string{"", "m1", "m3"}).Draw(t, "adjust member")
			p := map[string]string{"": "p1", "m1": "p1", "m3": "p2"}[m]
			at := time.Date(2026, rapid.SampledFrom([]time.Month{8, 10, 11}).Draw(t, "adjust month"), 3, 12, 0, 0, 0, berlin)
			if rapid.Bool().Draw(t, "deduct") && rapid.Bool().Draw(t, "really") {
				h.e.AddAdjustment(rung.Adjustment{ID: fmt.Sprint("a", i), Partner: p, Member: m, Points: -int64(rapid.IntRange(1, 500).Draw(t, "debit")), OccurredAt: at})
			} else {
				h.e.AddAdjustment(rung.Adjustment{ID: fmt.Sprint("a", i), Partner: p, Member: m, Points: int64(rapid.IntRange(1, 500).Draw(t, "credit")), OccurredAt: at})
			}
		}
		for _, when := range []time.Time{time.Date(2026, 9, 5, 0, 0, 0, 0, berlin), now, time.Date(2027, 1, 2, 0, 0, 0, 0, berlin), time.Date(2027, 4, 2, 0, 0, 0, 0, berlin)} {
			at := when.UnixNano()
			check := func(kind, id string, awards *awardList, adjusts []rung.Adjustment) {
				p := h.e.points(awards, adjusts, at)
				if b, l := h.e.subjectPoints(awards, adjusts, at); b != p.Balance || l != p.Lifetime {
					t.Fatalf("%s %s at %v: subjectPoints %d/%d, points %d/%d", kind, id, when, b, l, p.Balance, p.Lifetime)
				}
			}
			for id, m := range h.e.members {
				check("member", id, &m.awards, m.adjusts)
			}
			for id, p := range h.e.partners {
				check("partner", id, &p.awards, p.adjusts)
			}
		}
	})
}
