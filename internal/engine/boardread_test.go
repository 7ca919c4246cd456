package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// LeaderboardInto answers every query as Leaderboard does (page, entries,
// error), whatever buffer it is given: boards with and without cohorts,
// ratio boards, around, offsets past the end, limits out of range, as_of,
// unknown boards and subjects.
func TestLeaderboardIntoIsLeaderboard(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	for i := range 40 {
		h.member(fmt.Sprint("x", i), []string{"p1", "p2", "p3"}[i%3])
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		m := fmt.Sprint("x", r.IntN(40))
		p := h.e.members[m].m.Partner
		day := 1 + r.IntN(28)
		switch r.IntN(4) {
		case 0:
			h.send(ev(fmt.Sprint("w", i), "deal.won", p, m, at(day, 10), map[string]any{"amount": float64(r.IntN(20) * 5000)}))
		case 1:
			h.send(ev(fmt.Sprint("s", i), "survey.csat", p, "", at(day, 10), map[string]any{"score": float64(r.IntN(5))}))
		case 2:
			h.send(ev(fmt.Sprint("r", i), "deal.registered", p, m, at(day, 10), map[string]any{"qualified": true}))
		default:
			h.send(ev(fmt.Sprint("f", i), "meeting.first", p, m, at(day, 10), nil))
		}
	}
	var buf []BoardEntry
	n := 0
	for _, id := range []string{"quarter-points", "partner-points", "revenue", "meeting-rate", "nope"} {
		for _, q := range []BoardQuery{
			{}, {Limit: 100}, {Limit: 1}, {Limit: 5, Offset: 3}, {Limit: 2000}, {Limit: -1, Offset: -4}, {Offset: 1000},
			{Limit: 1, Around: "x7"}, {Limit: 3, Around: "p2"}, {Limit: 4, Around: "p3"}, {Limit: 1, Around: "nobody"},
			{Cohort: "smb"}, {Cohort: "smb", Limit: 1, Around: "p1"}, {Cohort: "none"},
			{AsOf: at(10, 12)}, {AsOf: at(30, 12), Limit: 1, Around: "x3"}, {AsOf: at(10, 12), Limit: 1, Around: "x3"},
		} {
			want, werr := h.e.Leaderboard(id, q)
			for _, b := range [][]BoardEntry{nil, buf, make([]BoardEntry, 0, 1)} {
				got, gerr := h.e.LeaderboardInto(id, q, b)
				if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %+v:\n got  %+v, %v\n want %+v, %v", id, q, got, gerr, want, werr)
				}
				if werr == nil {
					n += len(got.Entries)
					buf = got.Entries
				}
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d entries compared: the boards are too empty to test much", n)
	}
}
