package source

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestArrivalOrderDoesNotChangeTheOutcome checks an invariant of versions:
// whatever order a record's deliveries arrive in, and however often each
// is resent, the record's event ends up as its newest version made it.
func TestArrivalOrderDoesNotChangeTheOutcome(t *testing.T) {
	e := newEnv(t)
	base := e.now.Add(-3 * time.Hour).UnixMilli()
	deal := 5000
	rapid.Check(t, func(rt *rapid.T) {
		deal++
		n := rapid.IntRange(1, 6).Draw(rt, "versions")
		amounts := rapid.SliceOfN(rapid.IntRange(1, 1000000), n, n).Draw(rt, "amounts")
		bodies := make([]string, n)
		for i, a := range amounts {
			bodies[i] = hubspotDeal(deal, base+int64(i)*1000, "dealstage", "closedwon", "amount", fmt.Sprint(a), "partner_id", "p1", "dealname", "d")
		}
		order := rapid.SliceOfN(rapid.IntRange(0, n-1), n, 3*n).Draw(rt, "arrivals")
		sent := map[int]bool{}
		for _, i := range order {
			sent[i] = true
		}
		for i := range n { // every version arrives at least once
			if !sent[i] {
				order = append(order, i)
			}
		}
		for _, i := range order {
			res, err := e.hubspot(bodies[i])
			if err != nil || res.Status != "applied" {
				rt.Fatalf("delivery %d: %+v, %v", i, res, err)
			}
		}
		id := fmt.Sprintf("hubspot:deal:%d:deal.won", deal)
		ev, ok := e.event(id)
		if !ok {
			rt.Fatalf("no event %s", id)
		}
		if want := float64(amounts[n-1]); ev.Attrs["amount"] != want || ev.Attrs[VersionAttr] != float64(base+int64(n-1)*1000) {
			rt.Fatalf("after arrivals %v: amount %v (version %v), want %v of the newest version", order, ev.Attrs["amount"], ev.Attrs[VersionAttr], want)
		}
	})
}
