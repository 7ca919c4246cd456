package engine

import (
	"fmt"
	"slices"
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

// A member's or a partner's list of events holds exactly the events that
// name it, whether the log was applied live or in bulk (which fills the lists at its end,
// or when something reads them), with corrections that move events
// between members and lists read in the middle of the load.
func TestSubjectEventListsAfterBulkLoad(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		var ops []op
		for i := range rapid.IntRange(0, 40).Draw(t, "records") {
			id := fmt.Sprintf("e%02d", rapid.IntRange(0, i).Draw(t, "event"))
			ops = append(ops, op{ev: genEvent(t, id), retract: rapid.IntRange(0, 9).Draw(t, "retract") == 0})
		}
		// Without badges a load places each event once, at its end; with
		// them, every record as it comes.
		src := rapid.SampledFrom([]string{testProgram, badgeProgram}).Draw(t, "program")
		live := run(t, func(t *rapid.T, now time.Time) *harness { return newHarness(t, src, now) }, ops, now)
		h := newHarness(t, src, now)
		h.e.BeginBulk(len(live.log))
		for i := range live.log {
			rec := live.log[i]
			h.e.Apply(&rec)
			if rapid.IntRange(0, 9).Draw(t, "read") == 0 {
				h.e.MemberSubjects(rapid.SampledFrom([]string{"m1", "m2", "m3", "m4"}).Draw(t, "member"), func(string) {})
			}
			if rapid.IntRange(0, 9).Draw(t, "read partner") == 0 {
				h.e.PartnerSubjects(rapid.SampledFrom([]string{"p1", "p2", "p3"}).Draw(t, "partner"), func(string) {})
			}
		}
		h.e.EndBulk(now)
		for _, e := range []*Engine{live.e, h.e} {
			for id, m := range e.members {
				var want []string
				for ev := range e.events.all {
					if e.memberOf(ev) == m {
						want = append(want, ev.id)
					}
				}
				var got []string
				for _, x := range m.events {
					got = append(got, e.events.at(x).id)
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("member %s lists %v, want %v", id, got, want)
				}
			}
			for id, p := range e.partners {
				var want []string
				for ev := range e.events.all {
					if e.partnerOf(ev) == p {
						want = append(want, ev.id)
					}
				}
				var got []string
				for _, x := range p.events {
					got = append(got, e.events.at(x).id)
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("partner %s lists %v, want %v", id, got, want)
				}
			}
		}
	})
}
