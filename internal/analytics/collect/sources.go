package collect

import (
	"context"
	"time"

	"github.com/rung-dev/rung/internal/analytics"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// ServiceSources reads the tier, rewards and challenge sections from a
// running service: the tier reviews, overrides and appeals the engine
// holds, the redemptions in the store, and the engine's challenges.
func ServiceSources(svc *service.Service) Sources {
	return Sources{Tiers: tierSource{svc}, Rewards: rewardSource{svc}, Challenges: challengeSource{svc}}
}

type tierSource struct{ svc *service.Service }

// quarterIn reports whether quarter q starts in [from, to).
func quarterIn(e *engine.Engine, q string, from, to time.Time) bool {
	start, _, err := e.Calendar().ParseQuarter(q)
	return err == nil && !start.Before(from) && start.Before(to)
}

func (s tierSource) Decisions(from, to time.Time) []analytics.TierDecision {
	var out []analytics.TierDecision
	s.svc.Read(func(e *engine.Engine) error {
		for _, d := range e.TierDecisions("") {
			if quarterIn(e, d.Quarter, from, to) {
				out = append(out, analytics.TierDecision{Partner: d.Partner, Quarter: d.Quarter, From: d.From, To: d.To, Outcome: d.Outcome})
			}
		}
		return nil
	})
	return out
}

// InGrace lists the partners whose decision in force at t is grace.
func (s tierSource) InGrace(at time.Time) []analytics.TierGrace {
	latest := map[string]engine.TierDecision{}
	s.svc.Read(func(e *engine.Engine) error {
		for _, d := range e.TierDecisions("") {
			if d.EffectiveAt.After(at) {
				continue
			}
			if l, ok := latest[d.Partner]; !ok || d.EffectiveAt.After(l.EffectiveAt) {
				latest[d.Partner] = d
			}
		}
		return nil
	})
	var out []analytics.TierGrace
	for _, d := range latest {
		if d.Outcome == "grace" && (d.GraceUntil.IsZero() || d.GraceUntil.After(at)) {
			out = append(out, analytics.TierGrace{Partner: d.Partner, Tier: d.To, Until: d.GraceUntil})
		}
	}
	return out
}

func (s tierSource) Appeals(from, to time.Time) []analytics.TierAppeal {
	var out []analytics.TierAppeal
	s.svc.Read(func(e *engine.Engine) error {
		for _, a := range e.TierAppeals("") {
			if a.At.Before(from) || !a.At.Before(to) {
				continue
			}
			outcome := a.Status
			if outcome == "open" {
				outcome = "pending"
			}
			out = append(out, analytics.TierAppeal{Partner: a.Partner, Quarter: a.Quarter, Outcome: outcome})
		}
		return nil
	})
	return out
}

type rewardSource struct{ svc *service.Service }

func (s rewardSource) Redemptions(from, to time.Time) []analytics.Redemption {
	rs, err := s.svc.Redemptions(context.Background(), store.RedemptionFilter{})
	if err != nil {
		return nil
	}
	var out []analytics.Redemption
	for _, r := range rs {
		if r.RequestedAt.Before(from) || !r.RequestedAt.Before(to) {
			continue
		}
		out = append(out, analytics.Redemption{Partner: r.Partner, Member: r.Member, Reward: r.Reward, At: r.RequestedAt, Points: r.Points, Status: r.Status})
	}
	return out
}

func (s rewardSource) PointValue() float64 {
	var v float64
	s.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil {
			v = p.PointValue
		}
		return nil
	})
	return v
}

type challengeSource struct{ svc *service.Service }

// Challenges lists the partner challenges that ran in [from, to) with the
// partners that took part: those with a row in the standings (a member
// challenge counts the partners of its members).
func (s challengeSource) Challenges(from, to time.Time) []analytics.ChallengeRun {
	var out []analytics.ChallengeRun
	s.svc.Read(func(e *engine.Engine) error {
		for _, c := range e.Challenges(s.svc.Now()) {
			if c.Kind != "challenge" || !c.Starts.Before(to) || !c.Ends.After(from) {
				continue
			}
			st, err := e.Challenge(c.ID, engine.ChallengeQuery{Limit: 1000})
			if err != nil {
				continue
			}
			run := analytics.ChallengeRun{ID: c.ID, Name: c.Name, Starts: c.Starts, Ends: c.Ends}
			seen := map[string]bool{}
			for _, en := range st.Entries {
				p := en.Partner
				if c.For == "partner" {
					p = en.Subject
				}
				if p != "" && !seen[p] {
					seen[p] = true
					run.Participants = append(run.Participants, p)
				}
			}
			out = append(out, run)
		}
		return nil
	})
	return out
}
