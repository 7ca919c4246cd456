package service

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

const tierServiceProgram = `
name: Tier Service Test
timezone: UTC
currency: EUR
metrics:
  sourced_revenue: {sum: deal.won, value: event.attrs.amount, unit: currency}
  certified_people: {distinct: certification.earned, value: event.member}
points:
  rules:
    - id: win
      on: deal.won
      award: 100
      multiplier: {Select: 2}
tiers:
  levels: [Registered, Select]
  nudge_at: 0.8
  criteria:
    Select:
      - {id: revenue, metric: sourced_revenue, at_least: 100000, label: Sourced revenue}
      - {id: certs, metric: certified_people, at_least: 2, label: Certified people}
`

func tierService(t *testing.T) (*Service, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rung.db")
	s := open(t, path)
	ctx := context.Background()
	if _, err := s.ApplyProgram(ctx, []byte(tierServiceProgram), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", JoinedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	res, err := s.Ingest(ctx, []*Incoming{
		{Event: rung.Event{ID: "c1", Type: "certification.earned", Partner: "p1", Member: "m1", OccurredAt: at}},
		{Event: rung.Event{ID: "c2", Type: "certification.earned", Partner: "p1", Member: "m2", OccurredAt: at}},
		{Event: rung.Event{ID: "w1", Type: "deal.won", Partner: "p1", Member: "m1", OccurredAt: at, Attrs: map[string]any{"amount": 58000.0}}},
	})
	if err != nil || res[0].Status != "accepted" || res[2].Status != "accepted" {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	return s, path
}

func TestNudgesAreRecordedOncePerPartnerTierAndQuarter(t *testing.T) {
	s, _ := tierService(t)
	ctx := context.Background()
	if n, err := s.RecordNudges(ctx); err != nil || n != 1 {
		t.Fatalf("first sweep: %d new, %v; want 1 (one criterion of two met)", n, err)
	}
	if n, err := s.RecordNudges(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d new, %v; want 0", n, err)
	}
	ns, err := s.Nudges(ctx, "p1")
	if err != nil || len(ns) != 1 {
		t.Fatalf("nudges = %+v, %v", ns, err)
	}
	n := ns[0]
	if n.Tier != "Select" || n.Quarter != "2026-Q4" || !strings.Contains(n.Message, "€42,000 more sourced revenue") {
		t.Errorf("nudge = %+v", n)
	}
	if other, _ := s.Nudges(ctx, "p2"); len(other) != 0 {
		t.Errorf("another partner's nudges: %+v", other)
	}
}

func TestScheduledReviewPublishesTheQuarterThatEndedOnceAndSurvivesARestart(t *testing.T) {
	s, path := tierService(t)
	ctx := context.Background()
	var review func(context.Context, time.Time) error
	var period func(time.Time) time.Time
	for _, j := range s.TierJobs() {
		if j.Name == "tiers.review" {
			review, period = j.Run, j.Period
		}
	}
	p := period(now)
	if !p.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("period of %v = %v, want the start of 2026-Q4", now, p)
	}
	if err := review(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := review(ctx, p); err != nil {
		t.Fatalf("running the review again: %v", err)
	}
	var ds []engine.TierDecision
	s.Read(func(e *engine.Engine) error { ds = e.TierDecisions("p1"); return nil })
	if len(ds) != 1 || ds[0].Quarter != "2026-Q3" || ds[0].Outcome != engine.OutcomeStay || ds[0].By != "scheduler" {
		t.Fatalf("decisions = %+v", ds)
	}
	if _, err := s.FileAppeal(ctx, "p1", "2026-Q3", "we had two people certified", []string{"https://lms.example/c/2"}, "ceo"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideAppeal(ctx, AppealID("2026-Q3", "p1"), "overturn", "Select", "confirmed", "admin"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Store().Close()
	// A restart loads the recorded actions: the overturned decision's
	// tier applies to the events after it.
	s2 := open(t, path)
	res, err := s2.Ingest(ctx, []*Incoming{{Event: rung.Event{ID: "w2", Type: "deal.won", Partner: "p1", OccurredAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Attrs: map[string]any{"amount": 1.0}}}})
	if err != nil || res[0].Status != "accepted" {
		t.Fatalf("%+v %v", res, err)
	}
	var tier string
	var pts int64
	s2.Read(func(e *engine.Engine) error {
		tier = e.TierAt("p1", now)
		ef, _ := e.EventEffects("w2")
		for _, a := range ef.Awards {
			pts += a.Points
		}
		return nil
	})
	if tier != "Select" || pts != 200 {
		t.Errorf("after restart: tier %s, w2 earned %d; want Select and 200", tier, pts)
	}
	if as := s2.TierAppeals("p1"); len(as) != 1 || as[0].Status != engine.AppealOverturned || as[0].Overdue {
		t.Errorf("appeals after restart = %+v", as)
	}
}

// A review published and an override set on one instance reach the other:
// both score the next event with the same tier.
func TestTierActionsReachEveryInstance(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	a, b := openInstance(t, url, schema), openInstance(t, url, schema)
	if _, err := a.ApplyProgram(ctx, []byte(tierServiceProgram), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", JoinedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	if _, err := a.Ingest(ctx, []*Incoming{
		{Event: rung.Event{ID: "c1", Type: "certification.earned", Partner: "p1", Member: "m1", OccurredAt: at}},
		{Event: rung.Event{ID: "c2", Type: "certification.earned", Partner: "p1", Member: "m2", OccurredAt: at}},
		{Event: rung.Event{ID: "w1", Type: "deal.won", Partner: "p1", Member: "m1", OccurredAt: at, Attrs: map[string]any{"amount": 200000.0}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReviewTiers(ctx, "2026-Q3", false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetTierOverride(ctx, engine.TierOverride{Partner: "p1", Tier: "Registered", Reason: "paused",
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)}, "test"); err != nil {
		t.Fatal(err)
	}
	tiers := func(s *Service) string {
		var out string
		s.Read(func(e *engine.Engine) error {
			out = e.TierAt("p1", time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)) + "/" + e.TierAt("p1", time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
			return nil
		})
		return out
	}
	deadline := time.Now().Add(5 * time.Second)
	for tiers(b) != "Select/Registered" {
		if time.Now().After(deadline) {
			t.Fatalf("instance b sees %s, a %s; want Select/Registered", tiers(b), tiers(a))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r, err := b.ReviewTiers(ctx, "2026-Q3", false, "test"); err != nil || !r.Already {
		t.Errorf("b publishes the review a published: %+v %v", r.Already, err)
	}
}
