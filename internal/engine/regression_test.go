package engine

import (
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

const allWindowProgram = `
name: All
timezone: Europe/Berlin
points:
  rules:
    - {id: win, on: deal.won, award: 100}
leaderboards:
  - {id: all-time, metric: points, for: member, window: all}
  - {id: default-window, metric: points, for: member}
`

// A leaderboard with window: all (also the default when window is omitted)
// must list every member with points.
func TestAllTimeBoardListsSubjects(t *testing.T) {
	h := newHarness(t, allWindowProgram, at(30, 12))
	h.send(ev("w1", "deal.won", "p1", "m1", at(5, 10), nil))
	for _, id := range []string{"all-time", "default-window"} {
		page, err := h.e.Leaderboard(id, BoardQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 1 {
			t.Errorf("%s live: total %d, want 1 (window %v..%v)", id, page.Total, page.Window.From, page.Window.To)
		}
		page, _ = h.e.Leaderboard(id, BoardQuery{AsOf: at(20, 0)})
		if page.Total != 1 {
			t.Errorf("%s as_of: total %d, want 1", id, page.Total)
		}
	}
	mv, _ := h.e.MemberMetric("m1", "points", program.Window{Kind: program.WindowAll}, h.now)
	if !mv.OK || mv.Value != 100 {
		t.Errorf("all-time points metric %+v, want 100", mv)
	}
}

// A correction that moves an event to another member and back leaves the
// event twice in the first member's list; a later PutMember then evaluates
// it twice and the points are counted twice.
func TestCorrectionBackAndForthThenPutMemberCountsOnce(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	w := func(member string) rung.Event {
		return ev("w", "deal.won", "p1", member, at(10, 10), map[string]any{"amount": 20000.0})
	}
	h.send(w("m1"))
	h.send(w("m2"))
	h.send(w("m1"))
	if got := h.balance("m1").Lifetime; got != 200 {
		t.Fatalf("before: lifetime %d, want 200", got)
	}
	h.e.PutMember(rung.Member{ID: "m1", Partner: "p1", Name: "Renamed", Memberships: []rung.Membership{{Partner: "p1"}}})
	if got := h.balance("m1").Lifetime; got != 200 {
		t.Errorf("after PutMember: m1 lifetime %d, want 200", got)
	}
	sc, _ := h.e.PartnerScorecard("p1", h.now)
	if sc.Points.Lifetime != 200 {
		t.Errorf("after PutMember: p1 lifetime %d, want 200", sc.Points.Lifetime)
	}
	mv, _ := h.e.PartnerMetric("p1", "sourced_revenue", program.Window{Kind: program.WindowQuarter}, h.now)
	if mv.Value != 20000 {
		t.Errorf("sourced revenue %v, want 20000", mv.Value)
	}
	// and the same through the partner: p1 -> p2 -> p1, then a partner update
}

func TestCorrectionPartnerBackAndForthThenPutPartnerCountsOnce(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	s := func(partner string) rung.Event {
		return ev("s", "survey.csat", partner, "", at(10, 10), map[string]any{"score": 4.0})
	}
	h.send(s("p1"))
	h.send(s("p2"))
	h.send(s("p1"))
	h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: time.Unix(0, 0), Partner: rung.Partner{ID: "p1", Name: "Renamed", Size: "smb"}})
	sc, _ := h.e.PartnerScorecard("p1", h.now)
	if sc.Points.Lifetime != 10 {
		t.Errorf("after PutPartner: p1 lifetime %d, want 10", sc.Points.Lifetime)
	}
}

// Reads run under a shared read lock: they must not write engine state.
// staticBoard -> cohortOfHandle -> cohortValue -> partnerVars fills p.vars.
func TestConcurrentAsOfReadsDoNotWrite(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 12, 0, 0, 0, berlin) }
	h := newHarness(t, testProgram, d(2027, 5, 10))
	h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: d(2026, 12, 1), Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "mid"}})
	h.e.PutPartner(rung.PartnerVersion{Version: 3, ValidFrom: d(2027, 1, 15), Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "enterprise"}})
	h.send(ev("s1", "survey.csat", "p1", "", d(2027, 2, 1), map[string]any{"score": 4.0}))
	h.send(ev("s2", "survey.csat", "p1", "", d(2027, 4, 2), map[string]any{"score": 4.0}))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { // what 8 HTTP readers under s.mu.RLock do
			defer wg.Done()
			h.e.Leaderboard("partner-points", BoardQuery{AsOf: d(2027, 2, 10)})
		}()
	}
	wg.Wait()
}

// "within a tie, the subject that reached the value first comes first":
// a repeated distinct key does not change the value, so it must not move
// the subject behind one that reached the value later.
const distinctProgram = `
name: D
timezone: Europe/Berlin
metrics:
  certified: {distinct: certification.earned, value: event.member}
leaderboards:
  - {id: certs, metric: certified, for: partner, window: quarter}
`

func TestTieOrderIsWhenValueWasReached(t *testing.T) {
	h := newHarness(t, distinctProgram, at(30, 12))
	h.send(ev("a1", "certification.earned", "p1", "m1", at(2, 10), nil)) // p1 reaches 1 on day 2
	h.send(ev("b1", "certification.earned", "p2", "m3", at(5, 10), nil)) // p2 reaches 1 on day 5
	h.send(ev("a2", "certification.earned", "p1", "m1", at(9, 10), nil)) // p1 still 1
	page, _ := h.e.Leaderboard("certs", BoardQuery{})
	if len(page.Entries) != 2 || page.Entries[0].Subject != "p1" {
		t.Errorf("entries %+v, want p1 (reached 1 on day 2) before p2 (day 5)", page.Entries)
	}
}
