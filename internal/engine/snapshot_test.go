package engine

import (
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/program"
)

// TestSnapshotAgreesWithScorecards replays the demo history with a few
// adjustments and checks that every subject's snapshot — now, and as of a
// past time (boards computed, not live) — says what its scorecard says:
// points, level, badges, ranks and tier.
func TestSnapshotAgreesWithScorecards(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo history")
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	e, d, p := snapshotDemo(t, now)

	for _, at := range []time.Time{now, now.AddDate(0, -2, 0)} {
		from := at.AddDate(0, -1, 0)
		s := e.Snapshot(from, at)
		if len(s.Members) != len(d.Members) || len(s.Partners) != len(d.Partners) || len(s.Boards) != len(p.Leaderboards) {
			t.Fatalf("snapshot: %d members, %d partners, %d boards", len(s.Members), len(s.Partners), len(s.Boards))
		}
		check := func(st SnapshotState, sc Scorecard) {
			t.Helper()
			if st.Lifetime != sc.Points.Lifetime || st.Balance != sc.Points.Balance {
				t.Errorf("%s at %s: points %d/%d, scorecard %d/%d", st.ID, at, st.Lifetime, st.Balance, sc.Points.Lifetime, sc.Points.Balance)
			}
			if sc.Level != nil && st.Level != sc.Level.Name {
				t.Errorf("%s: level %q, scorecard %q", st.ID, st.Level, sc.Level.Name)
			}
			var badges []string
			for _, b := range sc.Badges {
				k := b.ID
				if b.Level != "" {
					k += ":" + b.Level
				}
				badges = append(badges, k)
			}
			slices.Sort(badges)
			if !slices.Equal(st.Badges, badges) {
				t.Errorf("%s: badges %v, scorecard %v", st.ID, st.Badges, badges)
			}
			for _, r := range sc.Ranks {
				if i := slices.Index(s.Boards, r.Leaderboard); st.Ranks[i] != r.Rank {
					t.Errorf("%s on %s: rank %d, scorecard %d", st.ID, r.Leaderboard, st.Ranks[i], r.Rank)
				}
			}
			ranked := 0
			for _, r := range st.Ranks {
				if r > 0 {
					ranked++
				}
			}
			if ranked != len(sc.Ranks) {
				t.Errorf("%s: ranked on %d boards, scorecard %d", st.ID, ranked, len(sc.Ranks))
			}
			var inPeriod int64
			led, _ := e.Ledger(LedgerFilter{Member: st.ID, From: from, To: at.Add(time.Nanosecond)})
			if st.Partner == st.ID {
				led, _ = e.Ledger(LedgerFilter{Partner: st.ID, From: from, To: at.Add(time.Nanosecond)})
			}
			for _, l := range led {
				if l.Kind == "award" {
					inPeriod += l.Points
				}
			}
			if st.InPeriod != inPeriod {
				t.Errorf("%s: %d points in the period, ledger %d", st.ID, st.InPeriod, inPeriod)
			}
		}
		scored := 0
		for _, st := range s.Members {
			sc, _ := e.MemberScorecard(st.ID, at)
			check(st, sc)
			if st.Lifetime > 0 {
				scored++
			}
		}
		qualified := 0
		for _, st := range s.Partners {
			sc, _ := e.PartnerScorecard(st.ID, at)
			check(st, sc)
			if st.Tier != sc.Tier.Current {
				t.Errorf("%s: tier %q, scorecard %q", st.ID, st.Tier, sc.Tier.Current)
			}
			if st.Qualified != "Registered" {
				qualified++
			}
		}
		if scored == 0 {
			t.Fatalf("nobody scored as of %s", at)
		}
		t.Logf("as of %s: %d members scored, %d partners qualify above Registered", at, scored, qualified)
	}
}

// snapshotDemo loads the demo history (40 partners, 300 members) in bulk,
// with two adjustments.
func snapshotDemo(t *testing.T, now time.Time) (*Engine, *demo.Data, *program.Program) {
	t.Helper()
	d := demo.Generate(demo.Options{Now: now, Partners: 40, Members: 300})
	p, err := program.Parse(demo.Program)
	if err != nil {
		t.Fatal(err)
	}
	e := New()
	for _, pt := range d.Partners {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: pt})
	}
	for _, m := range d.Members {
		m.Memberships = []rung.Membership{{Partner: m.Partner, JoinedAt: m.JoinedAt}}
		e.PutMember(m)
	}
	e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
	e.BeginBulk(len(d.Events))
	for i := range d.Events {
		e.Apply(&rung.Record{Seq: int64(i + 1), Version: 1, Event: d.Events[i]})
	}
	m0 := d.Members[0]
	e.AddAdjustment(rung.Adjustment{ID: "a1", Partner: m0.Partner, Member: m0.ID, Points: 500, OccurredAt: now.AddDate(0, -1, 0)})
	e.AddAdjustment(rung.Adjustment{ID: "a2", Partner: m0.Partner, Member: m0.ID, Points: -200, OccurredAt: now.AddDate(0, 0, -3)})
	e.EndBulk(now)
	return e, d, p
}

// A snapshot read in parts on several goroutines is the snapshot read in
// one (the race detector watches the parts share the engine).
func TestSnapshotInPartsIsSnapshotInOne(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo history")
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	e, _, _ := snapshotDemo(t, now)
	defer func(n int) { partMin = n }(partMin)
	from := now.AddDate(0, -1, 0)
	partMin = 1 << 30
	one := e.Snapshot(from, now)
	partMin = 16
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	parts := e.Snapshot(from, now)
	if !reflect.DeepEqual(one, parts) {
		t.Fatal("the snapshot read in parts differs from the one read in one")
	}
	if len(parts.Members) != 300 || len(parts.Partners) != 40 {
		t.Fatalf("%d members, %d partners", len(parts.Members), len(parts.Partners))
	}
}
