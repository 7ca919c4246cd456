package engine

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// Like TestStateIsIndependentOfArrivalOrder, but corrections may change
// the member (within p1) and the partner (member-less events), and members
// and partners are re-put (same fields) between arrivals, as the service
// does on a rename. Compares with a bulk replay.
func TestPropertyWithTouches(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		h := newHarness(t, testProgram, now)
		var log []rung.Record
		n := rapid.IntRange(1, 40).Draw(t, "ops")
		pv := map[string]int{"p1": 1, "p2": 1, "p3": 1}
		sizes := map[string]string{"p1": "smb", "p2": "smb", "p3": "enterprise"}
		tiers := map[string]string{"p3": "Select"}
		for i := 0; i < n; i++ {
			switch rapid.IntRange(0, 9).Draw(t, "kind") {
			case 0:
				m := rapid.SampledFrom([]string{"m1", "m2", "m3", "m4"}).Draw(t, "touchm")
				h.member(m, memberPartner[m])
			case 1:
				p := rapid.SampledFrom([]string{"p1", "p2", "p3"}).Draw(t, "touchp")
				pv[p]++
				h.e.PutPartner(rung.PartnerVersion{Version: pv[p], ValidFrom: time.Unix(0, 0),
					Partner: rung.Partner{ID: p, Name: "Partner " + p, Size: sizes[p], InitialTier: tiers[p]}})
			case 2:
				id := fmt.Sprintf("e%d", rapid.IntRange(0, 5).Draw(t, "rid"))
				known, retracted, v := h.e.Known(id)
				if !known || retracted {
					continue
				}
				h.seq++
				rec := rung.Record{Seq: h.seq, Version: v + 1, Retracted: true, Event: h.e.EventBody(id)}
				h.e.Apply(&rec)
				log = append(log, rec)
			default:
				id := fmt.Sprintf("e%d", rapid.IntRange(0, 5).Draw(t, "id"))
				e := genEvent(t, id)
				st, v, _ := h.e.Classify(&e)
				if st == StatusDuplicate {
					continue
				}
				h.seq++
				rec := rung.Record{Seq: h.seq, Version: v, Event: e}
				h.e.Apply(&rec)
				log = append(log, rec)
			}
		}
		r := newHarness(t, testProgram, now)
		r.e.BeginBulk(len(log))
		for i := range log {
			r.e.Apply(&log[i])
		}
		r.e.EndBulk(now)
		if a, b := h.e.Digest(now), r.e.Digest(now); a != b {
			t.Fatalf("incremental differs from rebuild:\nincremental:\n%s\nrebuild:\n%s", dump(h.e, now), dump(r.e, now))
		}
	})
}
