package engine

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// TestWarmChangesNothing checks that Warm only reads: applying random
// records with Warm called over the records ahead (some not yet applied,
// some of members the engine has never seen, and windows longer than Warm
// reads) gives the state applying them alone gives, and no call of Warm
// moves the digest.
func TestWarmChangesNothing(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 80).Draw(t, "events")
		var recs []rung.Record
		for i := range n {
			ev := genEvent(t, fmt.Sprintf("e%02d", rapid.IntRange(0, n).Draw(t, "id")))
			if rapid.IntRange(0, 9).Draw(t, "stranger") == 0 {
				ev.Member = fmt.Sprintf("new%d", i)
			}
			recs = append(recs, rung.Record{Event: ev})
		}
		window := rapid.IntRange(2, 2*WarmMax+3).Draw(t, "window")
		plain, warmed := newBadgeHarness(t, now), newBadgeHarness(t, now)
		apply := func(h *harness, recs []rung.Record, warm bool) {
			for i := range recs {
				if warm && i%window == 0 {
					ahead := make([]*rung.Record, 0, window)
					for j := i; j < min(i+window, len(recs)); j++ {
						ahead = append(ahead, &recs[j])
					}
					before := h.e.Digest(now)
					h.e.Warm(ahead)
					if after := h.e.Digest(now); after != before {
						t.Fatalf("Warm changed the state at record %d", i)
					}
				}
				st, v, _ := h.e.Classify(&recs[i].Event)
				if st == StatusDuplicate {
					continue
				}
				h.seq++
				rec := rung.Record{Seq: h.seq, Version: v, Event: recs[i].Event}
				h.e.Apply(&rec)
			}
		}
		apply(plain, recs, false)
		apply(warmed, recs, true)
		if a, b := dump(plain.e, now), dump(warmed.e, now); a != b {
			t.Fatalf("applying with Warm differs:\nplain:\n%s\nwarmed:\n%s", a, b)
		}
	})
}
