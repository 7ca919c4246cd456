package collect

import (
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/analytics"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
)

// demoSnapshot replays the demo's history (the size `rung demo` uses) in
// an engine and builds its snapshot.
func demoSnapshot(t testing.TB, now time.Time) *analytics.Snapshot {
	t.Helper()
	d := demo.Generate(demo.Options{Now: now})
	p, err := program.Parse(demo.Program)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New()
	e.SetVersions([]*engine.Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
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
	return FromEngine(e, d.Events)
}

// TestDemoEngagementGoesWithRevenueInEMEAOnly checks the story the demo's
// analytics tell (internal/demo/referrals.go): over the year, the rank
// correlation between partners' engagement points and sourced revenue is
// strong in EMEA, where partners source their own deals, and near zero in
// the other regions, where the vendor refers most deals to incumbents.
func TestDemoEngagementGoesWithRevenueInEMEAOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo history")
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	s := demoSnapshot(t, now)
	revenue := func(cohort string) analytics.Correlation {
		o := analytics.OutcomesOf(s, analytics.Query{From: now.AddDate(-1, 0, 0), To: now, Cohort: cohort}, nil)
		for _, c := range o.Correlations {
			if c.Outcome == "sourced_revenue" {
				t.Logf("%-13s n=%3d ρ=%.2f [%.2f, %.2f]", cohort, c.N, *c.Rho, *c.Low, *c.High)
				return c.Correlation
			}
		}
		t.Fatalf("%s: no revenue correlation", cohort)
		return analytics.Correlation{}
	}
	if c := revenue("region:emea"); c.N < 100 || *c.Rho < 0.6 || *c.Low < 0.5 {
		t.Errorf("EMEA: ρ = %.2f [%.2f, %.2f], want a strong correlation", *c.Rho, *c.Low, *c.High)
	}
	for _, region := range []string{"region:na", "region:apac", "region:latam"} {
		if c := revenue(region); c.Rho == nil || *c.Rho > 0.3 || *c.Rho < -0.3 {
			t.Errorf("%s: ρ = %v, want near zero", region, c.Rho)
		}
	}
}
