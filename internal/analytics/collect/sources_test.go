package collect

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// TestServiceSourcesReadTiersRewardsAndChallenges runs the demo program on
// a service in December 2026, publishes the third quarter's review, files
// an appeal and redeems a reward, and checks the analytics sections read
// each of them back from the service.
func TestServiceSourcesReadTiersRewardsAndChallenges(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	if _, err := svc.ApplyProgram(ctx, demo.Program, time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	d := demo.Generate(demo.Options{Seed: 5, Partners: 30, Members: 150, Months: 12, Now: now.Add(-time.Hour)})
	for _, p := range d.Partners {
		if _, err := svc.PutPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range d.Members {
		if _, err := svc.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	in := make([]*service.Incoming, len(d.Events))
	for i, ev := range d.Events {
		in[i] = &service.Incoming{Event: ev}
	}
	if _, err := svc.Ingest(ctx, in); err != nil {
		t.Fatal(err)
	}
	review, err := svc.ReviewTiers(ctx, "2026-Q3", false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.FileAppeal(ctx, review.Decisions[0].Partner, "2026-Q3", "We closed two more deals", []string{"https://crm.example/deal/1"}, "test"); err != nil {
		t.Fatal(err)
	}
	// The member with the most points redeems the cheapest member reward.
	var member, reward string
	var best int64
	svc.Read(func(e *engine.Engine) error {
		for _, m := range d.Members {
			if sc, err := e.MemberScorecard(m.ID, now); err == nil && sc.Points.Balance > best {
				best, member = sc.Points.Balance, m.ID
			}
		}
		var cost int64 = -1
		for _, r := range e.Program().Rewards {
			if r.For != "partner" && len(r.Tiers) == 0 && (cost < 0 || r.Cost < cost) {
				cost, reward = r.Cost, r.ID
			}
		}
		return nil
	})
	if _, err := svc.Redeem(ctx, service.RedeemRequest{Reward: reward, Member: member, By: "test"}); err != nil {
		t.Fatalf("redeem %s by %s (%d points): %v", reward, member, best, err)
	}

	src := ServiceSources(svc)
	loc, err := time.LoadLocation("Europe/Berlin") // the demo program's time zone
	if err != nil {
		t.Fatal(err)
	}
	q3, q4 := time.Date(2026, 7, 1, 0, 0, 0, 0, loc), time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	if ds := src.Tiers.Decisions(q3, q4); len(ds) != len(review.Decisions) {
		t.Errorf("decisions of 2026-Q3: %d, want the review's %d", len(ds), len(review.Decisions))
	}
	if ds := src.Tiers.Decisions(q4, now); len(ds) != 0 {
		t.Errorf("decisions of 2026-Q4: %d, want none", len(ds))
	}
	grace := 0
	for _, dd := range review.Decisions {
		if dd.Outcome == "grace" {
			grace++
		}
	}
	if g := src.Tiers.InGrace(now); len(g) != grace {
		t.Errorf("in grace: %d, want the review's %d", len(g), grace)
	}
	if as := src.Tiers.Appeals(now.AddDate(0, -1, 0), now.Add(time.Hour)); len(as) != 1 || as[0].Outcome != "pending" {
		t.Errorf("appeals = %+v, want one pending", as)
	}
	if rs := src.Rewards.Redemptions(now.Add(-time.Hour), now.Add(time.Hour)); len(rs) != 1 || rs[0].Member != member || rs[0].Status != rung.RedemptionPending {
		t.Errorf("redemptions = %+v, want %s's pending one", rs, member)
	}
	if v := src.Rewards.PointValue(); v != 0.01 {
		t.Errorf("point value = %v, want the demo program's 0.01", v)
	}
	runs := src.Challenges.Challenges(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), now)
	if len(runs) == 0 || len(runs[0].Participants) == 0 {
		t.Errorf("challenges in November = %+v, want the sprint with its partners", runs)
	}
}
