package engine

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// TestDeferredBoardsEqualImmediate applies the same random events
// (versions, retractions) to two engines, one of which defers its boards'
// index updates and flushes them at random points, as the service does a
// group at a time: after each flush, and on reads made while deferring
// (which flush first), every board, its ranks and cohort ranks, and every
// subject's standings are the same, and after FlushBoards nothing is left
// to put into an index.
func TestDeferredBoardsEqualImmediate(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		plain := newHarness(t, testProgram, now)
		deferred := newHarness(t, testProgram, now)
		deferred.e.DeferBoards()
		n := rapid.IntRange(1, 60).Draw(t, "events")
		for i := range n {
			ev := genEvent(t, fmt.Sprintf("e%02d", rapid.IntRange(0, 20).Draw(t, "id")))
			retract := rapid.IntRange(0, 5).Draw(t, "retract") == 0
			for _, h := range []*harness{plain, deferred} {
				known, _, v := h.e.Known(ev.ID)
				if retract && !known {
					continue
				}
				h.seq++
				h.e.Apply(&rung.Record{Seq: h.seq, Version: v + 1, Retracted: retract, Event: ev})
			}
			switch rapid.IntRange(0, 4).Draw(t, "then") {
			case 0:
				deferred.e.FlushBoards()
				for _, b := range deferred.e.boards {
					if len(b.dirty) > 0 {
						t.Fatalf("after event %d: board %s still has %d subjects to put after FlushBoards", i, b.def.ID, len(b.dirty))
					}
				}
				deferred.e.DeferBoards()
			case 1:
				// A read while deferring flushes first.
				for _, m := range []string{"m1", "m2", "m3", "m4"} {
					want, _ := plain.e.MemberScorecard(m, time.Time{})
					got, _ := deferred.e.MemberScorecard(m, time.Time{})
					if fmt.Sprint(got.Ranks) != fmt.Sprint(want.Ranks) {
						t.Fatalf("after event %d: member %s standings deferred %+v, immediate %+v", i, m, got.Ranks, want.Ranks)
					}
				}
			default:
				continue
			}
			if got, want := dump(deferred.e, now), dump(plain.e, now); got != want {
				t.Fatalf("after event %d: deferred boards\n%s\nimmediate\n%s", i, got, want)
			}
		}
	})
}
