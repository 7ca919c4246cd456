package web

import (
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/engine"
)

// TestFiguresAgreeWithTheScorecards checks the background figures the
// console lists partners by against each partner's scorecard.
func TestFiguresAgreeWithTheScorecards(t *testing.T) {
	e := newEnv(t, envOptions{})
	s := e.web.stats.get()
	e.svc.Read(func(en *engine.Engine) error {
		for _, id := range en.PartnerIDs() {
			sc, err := en.PartnerScorecard(id, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			ps := s.Partners[id]
			if ps == nil || ps.Balance != sc.Points.Balance || ps.Lifetime != sc.Points.Lifetime || sc.Tier == nil || ps.Tier != sc.Tier.Current ||
				ps.Current != len(en.MemberIDs(id)) {
				t.Errorf("partner %s: figures %+v, scorecard points %+v tier %+v", id, ps, sc.Points, sc.Tier)
			}
		}
		return nil
	})
}
