package service

import (
	"fmt"
	"testing"

	"github.com/rung-dev/rung"
)

// TestWarmerWarmsEachRecordOnceBeforeItIsApplied drives the applier's
// warmer over groups of requests of many sizes (none, one record, more
// than it warms at once): each record is warmed once, before or when it
// is applied, in the order of the group, never more than warmAhead at a
// time, and only a last lone record goes unwarmed (alone there is nothing
// to overlap its reads with).
func TestWarmerWarmsEachRecordOnceBeforeItIsApplied(t *testing.T) {
	for _, sizes := range [][]int{{}, {0}, {1}, {2}, {1, 1}, {1, 1, 1}, {warmAhead}, {warmAhead + 1}, {0, 1, 40, 0, 3, 70}, {5000}, {1, 0, 0, warmAhead - 1, 1}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			var group []*request
			var all []*rung.Record
			for k, n := range sizes {
				r := &request{}
				for i := range n {
					rec := &rung.Record{Event: rung.Event{ID: fmt.Sprintf("r%d-%d", k, i)}}
					r.batch.records = append(r.batch.records, rec)
					all = append(all, rec)
				}
				group = append(group, r)
			}
			w := warmer{group: group}
			var warmed []*rung.Record
			applied := 0
			for _, r := range group {
				for _, rec := range r.batch.records {
					w.before(func(recs []*rung.Record) {
						if len(recs) > warmAhead {
							t.Fatalf("warmed %d records at once, more than %d", len(recs), warmAhead)
						}
						warmed = append(warmed, recs...)
					})
					if len(warmed) <= applied && applied != len(all)-1 {
						t.Fatalf("record %s applied before it was warmed", rec.Event.ID)
					}
					applied++
				}
			}
			want := all
			if len(warmed) == len(all)-1 {
				want = all[:len(all)-1] // the last record, alone
			}
			if len(warmed) != len(want) {
				t.Fatalf("warmed %d records, want %d", len(warmed), len(want))
			}
			for i := range want {
				if warmed[i] != want[i] {
					t.Fatalf("warmed record %d is %s, want %s", i, warmed[i].Event.ID, want[i].Event.ID)
				}
			}
		})
	}
}
