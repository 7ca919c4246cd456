package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func TestDemoHasAPublishedReviewPartnersInGraceAndAnOpenAppeal(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	svc, err := service.Open(ctx, st, service.Options{Logger: quietLog(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, _, err := loadDemo(ctx, svc, demo.Options{Seed: 1, Partners: 40, Members: 120, Months: 6, Now: now}); err != nil {
		t.Fatal(err)
	}
	// Seeding again changes nothing: the review is published once, the
	// decision appealed once.
	if _, err := seedDemoTiers(ctx, svc, now); err == nil {
		t.Error("a second appeal of the same decision was accepted")
	}
	r, err := svc.ReviewTiers(ctx, "", true, "test")
	if err == nil {
		t.Fatal("a review without a quarter was accepted")
	}
	var q string
	for _, a := range svc.TierAppeals("") {
		if a.Status == "open" {
			q = a.Quarter
		}
	}
	if q == "" {
		t.Fatal("the demo has no open appeal")
	}
	r, err = svc.ReviewTiers(ctx, q, true, "test")
	if err != nil || !r.Already || len(r.Decisions) == 0 {
		t.Fatalf("the demo's review of %s: %+v, %v", q, r.Already, err)
	}
	grace := 0
	for _, d := range r.Decisions {
		if d.Outcome == "grace" {
			grace++
		}
	}
	if grace == 0 {
		t.Errorf("no partner of the demo is in grace after the review of %s", q)
	}
}
