package service

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
)

// SeedDemoRedemptions fills a demo with redemptions in every state: the
// members with the most points redeem what they can, and of those
// requests some are fulfilled, some rejected (points back) and the rest
// wait in the queue. It returns how many it made.
func (s *Service) SeedDemoRedemptions(ctx context.Context) (int, error) {
	type cand struct {
		member  string
		balance int64
	}
	var cands []cand
	var rewards []*program.Reward
	var admins []string // one member per partner, for the team rewards
	s.Read(func(e *engine.Engine) error {
		p := e.Program()
		if p == nil {
			return nil
		}
		rewards = p.Rewards
		for _, pid := range e.PartnerIDs() {
			ms := e.MemberIDs(pid)
			if len(ms) > 0 {
				admins = append(admins, pid)
			}
			for _, id := range ms {
				sc, err := e.MemberScorecard(id, time.Time{})
				if err == nil && sc.Points.Balance > 0 {
					cands = append(cands, cand{id, sc.Points.Balance})
				}
			}
		}
		return nil
	})
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].balance != cands[j].balance {
			return cands[i].balance > cands[j].balance
		}
		return cands[i].member < cands[j].member
	})
	var made []rung.Redemption
	try := func(req RedeemRequest) error {
		r, err := s.Redeem(ctx, req)
		switch {
		case err == nil:
			made = append(made, r)
		case RefusedRule(err) == "":
			return fmt.Errorf("demo redemption of %s: %w", req.Reward, err)
		}
		return nil
	}
	for i, c := range cands {
		if i >= 12 || len(made) >= 14 {
			break
		}
		for j := range rewards {
			rw := rewards[(i+j)%len(rewards)]
			if rw.For == program.SubjectPartner {
				continue
			}
			if err := try(RedeemRequest{Reward: rw.ID, Member: c.member, By: "member:" + c.member}); err != nil {
				return len(made), err
			}
		}
	}
	for _, pid := range admins[:min(3, len(admins))] {
		for _, rw := range rewards {
			if rw.For == program.SubjectPartner {
				if err := try(RedeemRequest{Reward: rw.ID, Partner: pid, By: "demo"}); err != nil {
					return len(made), err
				}
			}
		}
	}
	reasons := []string{"The summit is sold out; your points are back.", "Please redeem again with your work address."}
	for i, r := range made {
		var err error
		// The first three take one state each; then two in three are
		// decided, most of them approved.
		switch {
		case i == 0, i > 2 && i%3 == 0:
		case i == 2, i > 2 && i%6 == 5:
			_, err = s.DecideRedemption(ctx, r.ID, "reject", reasons[(i/3)%len(reasons)], "demo")
		default:
			_, err = s.DecideRedemption(ctx, r.ID, "approve", "Shipped.", "demo")
		}
		if err != nil {
			return len(made), err
		}
	}
	return len(made), nil
}
