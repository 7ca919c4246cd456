package engine

import (
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/program"
)

// TestDemoHistoryEarnsBadges replays the demo's history and checks that
// every badge of the demo program that events can award (all but the
// challenge's) is held by someone, and that the feed shows them.
func TestDemoHistoryEarnsBadges(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo history")
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	d := demo.Generate(demo.Options{Now: now})
	p, err := program.Parse(demo.Program)
	if err != nil {
		t.Fatal(err)
	}
	e := New()
	e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
	for _, pt := range d.Partners {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: pt})
	}
	for _, m := range d.Members {
		m.Memberships = []rung.Membership{{Partner: m.Partner, JoinedAt: m.JoinedAt}}
		e.PutMember(m)
	}
	e.BeginBulk(len(d.Events))
	for i := range d.Events {
		e.Apply(&rung.Record{Seq: int64(i + 1), Version: 1, Event: d.Events[i]})
	}
	e.EndBulk(now)

	held := map[string]int{}
	for _, id := range e.PartnerIDs() {
		sc, _ := e.PartnerScorecard(id, now)
		for _, b := range sc.Badges {
			held[b.ID]++
		}
	}
	for _, id := range e.MemberIDs("") {
		sc, _ := e.MemberScorecard(id, now)
		for _, b := range sc.Badges {
			held[b.ID+"/"+b.Level]++
			held[b.ID]++
		}
	}
	for _, b := range p.Badges {
		if len(b.On) == 0 && b.Metric == "" && len(b.Steps) == 0 {
			continue // a challenge's reward
		}
		if held[b.ID] == 0 {
			t.Errorf("nobody holds %s", b.ID)
		}
	}
	for _, lv := range []string{"deal-maker/Bronze", "deal-maker/Silver", "deal-maker/Gold"} {
		if held[lv] == 0 {
			t.Errorf("nobody holds %s", lv)
		}
	}
	t.Logf("held: %v", held)
	feed, err := e.Feed(FeedFilter{Limit: 20})
	if err != nil || len(feed) != 20 {
		t.Fatalf("feed: %d entries, %v", len(feed), err)
	}
	// PartnerAwarded adds up what the ledger lists as awards, over any span.
	spans := [][2]time.Time{{}, {now.AddDate(0, -3, 0), now}, {now.AddDate(-1, 0, 0), now.AddDate(0, -6, 0)}, {{}, now.AddDate(0, -1, 0)}, {now.AddDate(0, -2, 0), {}}}
	nonzero := 0
	for _, id := range e.PartnerIDs() {
		for _, sp := range spans {
			l, err := e.Ledger(LedgerFilter{Partner: id, From: sp[0], To: sp[1]})
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			for _, le := range l {
				if le.Kind == "award" {
					want += le.Points
				}
			}
			if got := e.PartnerAwarded(id, sp[0], sp[1]); got != want {
				t.Fatalf("partner %s, %v to %v: PartnerAwarded %d, the ledger's awards %d", id, sp[0], sp[1], got, want)
			} else if got != 0 {
				nonzero++
			}
		}
	}
	if nonzero == 0 || e.PartnerAwarded("nobody", time.Time{}, time.Time{}) != 0 {
		t.Errorf("PartnerAwarded: %d nonzero sums; an unknown partner has %d", nonzero, e.PartnerAwarded("nobody", time.Time{}, time.Time{}))
	}
}

// TestDemoHistoryRunsChallenges checks the demo's challenges on its
// history: the sprint has provisional standings, with those over the goal
// winning, and every quest has been completed by someone.
func TestDemoHistoryRunsChallenges(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo history")
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	d := demo.Generate(demo.Options{Now: now})
	p, err := program.Parse(demo.Program)
	if err != nil {
		t.Fatal(err)
	}
	e := New()
	e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
	for _, pt := range d.Partners {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: pt})
	}
	for _, m := range d.Members {
		m.Memberships = []rung.Membership{{Partner: m.Partner, JoinedAt: m.JoinedAt}}
		e.PutMember(m)
	}
	e.BeginBulk(len(d.Events))
	for i := range d.Events {
		e.Apply(&rung.Record{Seq: int64(i + 1), Version: 1, ReceivedAt: d.Events[i].OccurredAt, Event: d.Events[i]})
	}
	e.EndBulk(now)
	for _, c := range e.Challenges(now) {
		cs, err := e.Challenge(c.ID, ChallengeQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, en := range cs.Entries {
			if !en.CompletedAt.IsZero() {
				done++
			}
		}
		t.Logf("%s: %s, %d entries, %d done, winners %v %v", c.ID, cs.Status, cs.Total, done, cs.Winners, cs.CohortWinners)
		switch c.Kind {
		case "quest":
			if done == 0 {
				t.Errorf("nobody completed the quest %s", c.ID)
			}
		default:
			if cs.Status != ChallengeRunning || !cs.Provisional || cs.Total < 10 || len(cs.Winners) == 0 || len(cs.CohortWinners) == 0 {
				t.Errorf("%s: %s provisional=%v total %d winners %v cohorts %v", c.ID, cs.Status, cs.Provisional, cs.Total, cs.Winners, cs.CohortWinners)
			}
		}
	}
}
