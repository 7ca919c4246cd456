package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// An award list's memoized sums equal a walk over its awards, at every
// time asked, through inserts and removes of awards before, at and after
// the memo's time, with expiries before, at and after it, and with times
// asked that mostly move forward but sometimes go back.
func TestPointsMemoIsTheWalk(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l awardList
		var held []*Award
		now := int64(rapid.IntRange(0, 100).Draw(t, "start"))
		steps := rapid.IntRange(1, 600).Draw(t, "steps")
		for s := range steps {
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0, 1: // insert, mostly near now
				at := now + int64(rapid.IntRange(-30, 30).Draw(t, "at"))
				var exp int64
				if rapid.IntRange(0, 2).Draw(t, "expires") > 0 {
					exp = at + int64(rapid.IntRange(0, 40).Draw(t, "lasts"))
				}
				a := &Award{Event: &eventState{id: fmt.Sprint("e", s)}, Rule: "r",
					Points: int64(rapid.IntRange(-5, 100).Draw(t, "points")), At: at, Expires: exp}
				l.insert(a)
				held = append(held, a)
			case 2: // remove
				if len(held) == 0 {
					continue
				}
				i := rapid.IntRange(0, len(held)-1).Draw(t, "victim")
				l.remove(held[i])
				held = slices.Delete(held, i, i+1)
			default: // ask, mostly later
				if rapid.IntRange(0, 4).Draw(t, "back") == 0 {
					now -= int64(rapid.IntRange(0, 50).Draw(t, "earlier"))
				} else {
					now += int64(rapid.IntRange(0, 10).Draw(t, "later"))
				}
				var wb, wl int64
				for _, a := range held {
					if a.At <= now {
						wl += a.Points
						if a.Expires == 0 || a.Expires > now {
							wb += a.Points
						}
					}
				}
				if b, lt := l.sum(now); b != wb || lt != wl {
					t.Fatalf("step %d at %d: memo %d/%d, walk %d/%d (memo %+v)", s, now, b, lt, wb, wl, l.memo)
				}
			}
		}
	})
}

// subjectPoints, with its memoized sums, gives what points gives, asked
// between arrivals (new events, corrections that move them, retractions)
// at times that mostly move forward, across the quarter ends awards expire
// at, and sometimes go back.
func TestSubjectPointsMemoFollowsArrivals(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		h := newHarness(t, testProgram, now)
		ask := time.Date(2026, 9, 1, 0, 0, 0, 0, berlin)
		n := rapid.IntRange(1, 60).Draw(t, "steps")
		for s := range n {
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0:
				id := fmt.Sprintf("e%02d", rapid.IntRange(0, s).Draw(t, "retracted"))
				if known, retracted, _ := h.e.Known(id); known && !retracted {
					h.retract(id)
				}
			case 1:
				m := rapid.SampledFrom([]string{"", "m1", "m3"}).Draw(t, "adjust member")
				p := map[string]string{"": "p1", "m1": "p1", "m3": "p2"}[m]
				at := time.Date(2026, rapid.SampledFrom([]time.Month{8, 10, 11}).Draw(t, "adjust month"), 3, 12, 0, 0, 0, berlin)
				h.e.AddAdjustment(rung.Adjustment{ID: fmt.Sprint("a", s), Partner: p, Member: m, Points: int64(rapid.IntRange(1, 500).Draw(t, "credit")), OccurredAt: at})
			default:
				// Ids repeat, so some arrivals correct an earlier event.
				h.send(genEvent(t, fmt.Sprintf("e%02d", rapid.IntRange(0, s).Draw(t, "id"))))
			}
			for range rapid.IntRange(0, 3).Draw(t, "asks") {
				if rapid.IntRange(0, 5).Draw(t, "back") == 0 {
					ask = ask.Add(-time.Duration(rapid.IntRange(0, 60*24).Draw(t, "hours back")) * time.Hour)
				} else {
					ask = ask.Add(time.Duration(rapid.IntRange(0, 24*20).Draw(t, "hours on")) * time.Hour)
				}
				at := ask.UnixNano()
				check := func(kind, id string, awards *awardList, adjusts []rung.Adjustment) {
					p := h.e.points(awards, adjusts, at)
					if b, l := h.e.subjectPoints(awards, adjusts, at); b != p.Balance || l != p.Lifetime {
						t.Fatalf("step %d: %s %s at %v: subjectPoints %d/%d, points %d/%d", s, kind, id, ask, b, l, p.Balance, p.Lifetime)
					}
				}
				for id, m := range h.e.members {
					check("member", id, &m.awards, m.adjusts)
				}
				for id, p := range h.e.partners {
					check("partner", id, &p.awards, p.adjusts)
				}
			}
		}
	})
}
