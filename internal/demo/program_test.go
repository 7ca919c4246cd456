package demo

import (
	"testing"

	"github.com/rung-dev/rung/internal/program"
)

func TestProgramParses(t *testing.T) {
	p, err := program.Parse(Program)
	if err != nil {
		t.Fatalf("demo program does not parse: %v", err)
	}
	if p.Name != "Acme Cloud Partner Program" {
		t.Errorf("name = %q", p.Name)
	}
	boards := map[string]*program.Leaderboard{}
	for _, b := range p.Leaderboards {
		boards[b.ID] = b
	}
	for _, id := range []string{"quarter-points", "partner-points-quarter", "meeting-rate", "sourced-revenue-4q"} {
		if boards[id] == nil {
			t.Errorf("leaderboard %s missing", id)
		}
	}
	if b := boards["sourced-revenue-4q"]; b != nil && (b.Window != program.Window{Kind: program.WindowQuarters, N: 4} || b.Cohort != "region") {
		t.Errorf("sourced-revenue-4q: window %+v cohort %q", b.Window, b.Cohort)
	}
	for _, name := range []string{"registrations", "first_meetings", "meeting_rate", "sourced_revenue", "certified_people", "csat", "trainings"} {
		if p.Metrics[name] == nil {
			t.Errorf("metric %s missing", name)
		}
	}
	if m := p.Metrics["meeting_rate"]; m != nil && (m.Kind != program.MetricRatio || m.MinSample != 5) {
		t.Errorf("meeting_rate: %+v", m)
	}
	if p.Currency != "EUR" || p.Metrics["sourced_revenue"].Unit != program.UnitCurrency || p.Metrics["meeting_rate"].Unit != program.UnitPercent ||
		p.Metrics["registrations"].Unit != program.UnitNumber {
		t.Errorf("currency %q, units: sourced_revenue %q, meeting_rate %q, registrations %q", p.Currency,
			p.Metrics["sourced_revenue"].Unit, p.Metrics["meeting_rate"].Unit, p.Metrics["registrations"].Unit)
	}
	if p.Tiers == nil || len(p.Tiers.Levels) != 3 || p.Tiers.ByType["isv"] == nil {
		t.Errorf("tiers: %+v", p.Tiers)
	}
	if len(p.Levels) != 4 || len(p.Rewards) != 5 || len(p.Challenges) != 4 || p.Registration == nil {
		t.Errorf("levels %d, rewards %d, challenges %d, registration %v", len(p.Levels), len(p.Rewards), len(p.Challenges), p.Registration)
	}
	if a, ok := p.Activities["portal.login"]; !ok || !a.Vanity {
		t.Errorf("portal.login is not vanity: %+v", a)
	}
}

func TestProgramScoresWhatTheDataHolds(t *testing.T) {
	p, err := program.Parse(Program)
	if err != nil {
		t.Fatal(err)
	}
	emitted := map[string]bool{}
	for _, k := range kinds {
		emitted[k.typ] = true
	}
	check := func(where string, types []string) {
		for _, typ := range types {
			if !emitted[typ] {
				t.Errorf("%s uses %s, which the generator never emits", where, typ)
			}
		}
	}
	for _, r := range p.Points.Rules {
		check("rule "+r.ID, r.On)
	}
	for _, name := range p.MetricOrder {
		check("metric "+name, p.Metrics[name].Types)
	}
	for _, b := range p.Badges {
		check("badge "+b.ID, b.On)
		for _, s := range b.Steps {
			check("badge "+b.ID, []string{s.Type})
		}
	}
}
