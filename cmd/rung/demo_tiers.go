package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
)

// tierSeed is what the demo's tier history holds.
type tierSeed struct {
	quarter         string
	decisions       int
	grace           int
	appealPartner   string
	appealedQuarter string
}

// seedDemoTiers gives the demo a tier history: the review of the last
// quarter that ended, published (partners that started above what they
// qualify for are in grace), and an open appeal of one of its decisions.
func seedDemoTiers(ctx context.Context, svc *service.Service, now time.Time) (tierSeed, error) {
	var s tierSeed
	has := false
	svc.Read(func(e *engine.Engine) error {
		p := e.Program()
		has = p != nil && p.Tiers != nil
		s.quarter = e.QuarterLabel(now)
		start, _, err := e.Calendar().ParseQuarter(s.quarter)
		if err == nil {
			s.quarter = e.QuarterLabel(start.Add(-time.Hour))
		}
		return nil
	})
	if !has {
		return s, nil
	}
	r, err := svc.ReviewTiers(ctx, s.quarter, false, "demo")
	if err != nil {
		return s, fmt.Errorf("demo tier review: %w", err)
	}
	s.decisions = len(r.Decisions)
	var appeal *engine.TierDecision
	for i, d := range r.Decisions {
		if d.Outcome == engine.OutcomeGrace {
			s.grace++
		}
		if appeal == nil && (d.Outcome == engine.OutcomeGrace || d.Outcome == engine.OutcomeDowngrade) {
			appeal = &r.Decisions[i]
		}
	}
	if appeal == nil && len(r.Decisions) > 0 {
		appeal = &r.Decisions[0]
	}
	if appeal != nil {
		_, err := svc.FileAppeal(ctx, appeal.Partner, appeal.Quarter,
			"Two enterprise renewals closed on the last day of the quarter were booked in the CRM a week late; with them we meet the revenue criterion.",
			[]string{"https://crm.example.com/opportunities/renewal-1", "https://crm.example.com/opportunities/renewal-2"}, "demo partner admin")
		if err != nil {
			return s, fmt.Errorf("demo appeal: %w", err)
		}
		s.appealPartner, s.appealedQuarter = appeal.Partner, appeal.Quarter
	}
	return s, nil
}
