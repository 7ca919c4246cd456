package simulate

import (
	"context"
	"strings"
	"testing"

	"github.com/rung-dev/rung/internal/program"
)

// FuzzDraft simulates arbitrary drafts over the small history: a draft
// either fails exactly as applying it would, or gives a report whose totals
// add up from its rows and whose rows compare the same subjects.
func FuzzDraft(f *testing.F) {
	f.Add(smallProgram)
	f.Add(strings.Replace(smallProgram, "award: 50}", "award: 'event.attrs.score * 2'}", 1))
	f.Add(strings.Replace(smallProgram, "at_least: 2", "at_least: 0", 1))
	f.Add(smallProgram + "badges:\n  - {id: w, name: W, metric: wins, levels: {One: 1, Two: 2}}\n")
	f.Add("name: x\n")
	f.Add("name: [\n")
	h := small(f)
	f.Fuzz(func(t *testing.T, draft string) {
		_, perr := program.Parse([]byte(draft))
		r, err := Run(context.Background(), h, []byte(draft), Options{Now: now})
		if perr != nil {
			if err == nil || err.Error() != perr.Error() {
				t.Fatalf("parse error %v, simulation %v", perr, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("a valid draft fails: %v", err)
		}
		if len(r.Partners) != 2 || len(r.Members) != 3 {
			t.Fatalf("%d partners, %d members", len(r.Partners), len(r.Members))
		}
		var life, period Change
		for _, p := range r.Partners {
			life.Before += p.Lifetime.Before
			life.After += p.Lifetime.After
			period.After += p.Period.After
		}
		if life.Before != r.Totals.Lifetime.Before || life.After != r.Totals.Lifetime.After || period.After != r.Totals.PointsIssued.After {
			t.Fatalf("totals %+v %+v, rows add up to %+v %+v", r.Totals.Lifetime, r.Totals.PointsIssued, life, period)
		}
		if r.Totals.Lifetime.Before != 600 {
			t.Fatalf("the baseline moved: %+v", r.Totals.Lifetime)
		}
	})
}
