package program

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

// lines joins YAML lines, so tests can count them.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func mustParse(t *testing.T, src string) *Program {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// parseError parses src and returns the *rung.Error it must fail with.
func parseError(t *testing.T, src string) *rung.Error {
	t.Helper()
	p, err := Parse([]byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want an error", p)
	}
	var re *rung.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v is not a *rung.Error", err, err)
	}
	if re.Code != rung.EINVALID {
		t.Errorf("code = %q, want %q", re.Code, rung.EINVALID)
	}
	if len(re.Details) == 0 {
		t.Fatalf("error %v has no details", err)
	}
	return re
}

func TestParseAcmeExample(t *testing.T) {
	src, err := os.ReadFile("testdata/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, string(src))

	if p.Name != "Acme Partner Program" || p.Timezone != "Europe/Berlin" || p.FiscalYearStart != 1 {
		t.Errorf("header = %q %q %d", p.Name, p.Timezone, p.FiscalYearStart)
	}
	if p.Calendar == nil || p.Calendar.Loc.String() != "Europe/Berlin" || p.Calendar.FiscalStart != 1 {
		t.Errorf("calendar = %+v", p.Calendar)
	}
	if string(p.Source) != string(src) {
		t.Error("Source is not the input")
	}
	if !p.Vanity("portal.login") || p.Vanity("deal.won") || p.Activities["portal.login"].Label != "Portal login" {
		t.Errorf("activities = %+v", p.Activities)
	}
	if len(p.Cohorts) != 2 || p.Cohorts[0].Name != "size" || p.Cohorts[1].Name != "region" || p.Cohorts[0].Line != 9 {
		t.Errorf("cohorts = %+v", p.Cohorts)
	}

	wantOrder := []string{"registrations", "first_meetings", "meeting_rate", "sourced_revenue", "certified_people", "csat"}
	if strings.Join(p.MetricOrder, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("metric order = %v", p.MetricOrder)
	}
	kinds := map[string]MetricKind{"registrations": MetricCount, "first_meetings": MetricCount, "meeting_rate": MetricRatio,
		"sourced_revenue": MetricSum, "certified_people": MetricDistinct, "csat": MetricAvg}
	for name, kind := range kinds {
		if m := p.Metric(name); m == nil || m.Kind != kind {
			t.Errorf("metric %s = %+v, want kind %d", name, m, kind)
		}
	}
	if r := p.Metric("meeting_rate"); r.Num != "first_meetings" || r.Den != "registrations" || r.MinSample != 5 {
		t.Errorf("ratio = %+v", r)
	}
	if s := p.Metric("sourced_revenue"); s.Where == nil || s.Value == nil || s.Types[0] != "deal.won" || s.Line != 16 {
		t.Errorf("sum = %+v", s)
	}
	if p.Metric("points") != PointsMetric || p.Metric("nope") != nil {
		t.Error("Metric(points) is not the built-in one, or an unknown metric is not nil")
	}

	if p.Points.Expire != (Expiry{Kind: ExpireQuarter}) || len(p.Points.Rules) != 3 {
		t.Fatalf("points = %+v", p.Points)
	}
	training := p.Rule("training")
	if training.To != SubjectMember || *training.Limit != (Limit{Max: 200, Per: PerDay}) || training.When == nil ||
		training.Award.Const == nil || *training.Award.Const != 50 || training.Line != 23 {
		t.Errorf("training = %+v", training)
	}
	if c := p.Rule("certification"); c.To != "" || c.OncePer == nil || *c.Award.Const != 300 {
		t.Errorf("certification = %+v", c)
	}
	win := p.Rule("sourced-win")
	if win.Award.Const != nil || win.Award.Source != "min(1000, event.attrs.amount / 100)" ||
		win.Multiplier["Select"] != 1.2 || win.Multiplier["Elite"] != 1.5 {
		t.Errorf("sourced-win = %+v", win)
	}

	if len(p.Levels) != 2 || p.Levels[1] != (Level{Name: "Pro", At: 1000}) {
		t.Errorf("levels = %+v", p.Levels)
	}

	if len(p.Badges) != 4 {
		t.Fatalf("badges = %d", len(p.Badges))
	}
	arch := p.Badge("certified-architect")
	if arch.Name != "Certified Architect" || arch.On[0] != "certification.earned" || arch.When == nil || arch.Evidence == nil {
		t.Errorf("certified-architect = %+v", arch)
	}
	dm := p.Badge("deal-maker")
	if dm.Metric != "registrations" || len(dm.Levels) != 3 || dm.Levels[0] != (BadgeLevel{"Bronze", 5}) || dm.Levels[2] != (BadgeLevel{"Gold", 50}) {
		t.Errorf("deal-maker = %+v", dm)
	}
	rr := p.Badge("ramp-ready")
	if rr.For != SubjectPartner || len(rr.Steps) != 5 || rr.Steps[4] != (Step{Type: "deal.registered", Count: 1}) ||
		rr.Within != 14*24*time.Hour || rr.From != "joined_at" {
		t.Errorf("ramp-ready = %+v", rr)
	}

	tiers := p.Tiers
	if tiers == nil {
		t.Fatal("no tiers")
	}
	if strings.Join(tiers.Levels, ",") != "Registered,Select,Elite" || tiers.Window != (Window{Kind: WindowQuarters, N: 4}) ||
		tiers.DecisionDays != 10 || tiers.Grace != 1 || !tiers.AutoUpgrade || tiers.NudgeAt != 0.8 || tiers.AppealDays != 10 {
		t.Errorf("tiers = %+v", tiers)
	}
	sel := tiers.Criteria["Select"]
	if len(sel) != 2 || sel[0].ID != "revenue" || sel[0].Metric != "sourced_revenue" || *sel[0].AtLeast != 250000 ||
		sel[0].Label != "Sourced revenue, rolling 4 quarters" || sel[1].Label != "Certified people" {
		t.Errorf("Select criteria = %+v", sel)
	}
	if e := tiers.Criteria["Elite"]; len(e) != 2 || *e[1].AtLeast != 4.5 {
		t.Errorf("Elite criteria = %+v", e)
	}
	if isv := tiers.CriteriaFor("isv", "Select"); len(isv) != 1 || isv[0].ID != "certs" || *isv[0].AtLeast != 3 {
		t.Errorf("isv Select criteria = %+v", isv)
	}
	if reseller := tiers.CriteriaFor("reseller", "Select"); len(reseller) != 2 {
		t.Errorf("reseller Select criteria = %+v", reseller)
	}
	if b := tiers.Benefits["Select"]; len(b) != 3 || b[1] != "Published margin 12%" {
		t.Errorf("benefits = %v", b)
	}
	if p.TierRank("Registered") != 0 || p.TierRank("Elite") != 2 || p.TierRank("Gold") != -1 {
		t.Error("TierRank")
	}

	if len(p.Challenges) != 1 {
		t.Fatalf("challenges = %d", len(p.Challenges))
	}
	ch := p.Challenges[0]
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if !ch.Starts.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, berlin)) || !ch.Ends.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, berlin)) {
		t.Errorf("challenge window = %v .. %v", ch.Starts, ch.Ends)
	}
	if ch.For != SubjectPartner || ch.Metric != "sourced_revenue" || *ch.Goal != 500000 || ch.Cohort != "size" || ch.Winners != 3 ||
		ch.Reward != (ChallengeReward{Points: 1000, Badge: "sprint-winner"}) || ch.FinalizeAfter != 24*time.Hour {
		t.Errorf("challenge = %+v", ch)
	}

	if len(p.Leaderboards) != 2 {
		t.Fatalf("leaderboards = %d", len(p.Leaderboards))
	}
	if qp := p.Leaderboard("quarter-points"); qp.Metric != "points" || qp.For != SubjectMember || qp.Window.Kind != WindowQuarter {
		t.Errorf("quarter-points = %+v", qp)
	}
	if mr := p.Leaderboard("meeting-rate"); mr.Cohort != "size" || mr.For != SubjectPartner {
		t.Errorf("meeting-rate = %+v", mr)
	}

	oh := p.Reward("office-hour")
	if oh == nil || oh.Cost != 2000 || *oh.Stock != 20 || strings.Join(oh.Tiers, ",") != "Select,Elite" || oh.PerMember != 0 {
		t.Errorf("office-hour = %+v", oh)
	}

	reg := p.Registration
	if reg == nil || reg.ReviewWithin != 48*time.Hour || reg.Hold != 90*24*time.Hour || reg.MeetingWithin != 14*24*time.Hour ||
		reg.ExtendOnMeeting != 30*24*time.Hour || reg.Conflict != "first_meeting" {
		t.Errorf("registration = %+v", reg)
	}
}

func TestParseFillsDefaults(t *testing.T) {
	p := mustParse(t, lines(
		"name: Minimal",
		"metrics:",
		"  wins: {count: deal.won}",
		"tiers:",
		"  levels: [Member, Gold]",
		"badges:",
		"  - id: onboarded",
		"    steps: [portal.setup, {type: demo.passed, where: event.attrs.score > 3}]",
		"challenges:",
		"  - id: sprint",
		"    starts: 2026-03-01",
		"    ends: 2026-03-31",
		"    metric: wins",
		"leaderboards:",
		"  - id: all-time",
		"    metric: points",
		"registration: {}",
	))
	if p.Timezone != "UTC" || p.FiscalYearStart != 1 || p.Calendar.Loc != time.UTC || p.Points.Expire.Kind != ExpireNever {
		t.Errorf("header defaults = %q %d %v", p.Timezone, p.FiscalYearStart, p.Points.Expire)
	}
	tr := p.Tiers
	if tr.Window != (Window{Kind: WindowQuarters, N: 4}) || tr.DecisionDays != 10 || tr.Grace != 1 || tr.NudgeAt != 0.8 ||
		tr.AppealDays != 10 || tr.AutoUpgrade {
		t.Errorf("tier defaults = %+v", tr)
	}
	b := p.Badges[0]
	if b.Name != "onboarded" || b.From != "joined_at" || b.Steps[0].Count != 1 || b.Steps[1].Where == nil || b.Steps[1].Count != 1 {
		t.Errorf("badge defaults = %+v", b)
	}
	c := p.Challenges[0]
	if c.Winners != 3 || c.FinalizeAfter != 24*time.Hour || c.For != SubjectMember || c.Name != "sprint" ||
		!c.Starts.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !c.Ends.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("challenge defaults = %+v", c)
	}
	lb := p.Leaderboards[0]
	if lb.Window.Kind != WindowAll || lb.For != SubjectMember || lb.Name != "all-time" {
		t.Errorf("leaderboard defaults = %+v", lb)
	}
	r := p.Registration
	if r.ReviewWithin != 48*time.Hour || r.Hold != 90*24*time.Hour || r.MeetingWithin != 0 || r.Conflict != "first_submitted" {
		t.Errorf("registration defaults = %+v", r)
	}
}

func TestParseReadsCurrencyAndMetricUnits(t *testing.T) {
	p := mustParse(t, lines(
		"name: T",
		"currency: EUR",
		"metrics:",
		"  revenue: {sum: deal.won, value: event.attrs.amount, label: Revenue, rolling 4 quarters, unit: currency}",
		"  wins: {count: deal.won, unit: number}",
		"  registrations: {count: deal.registered}",
		"  win_rate: {ratio: [wins, registrations], unit: percent}",
	))
	if p.Currency != "EUR" {
		t.Errorf("currency = %q, want EUR", p.Currency)
	}
	if l := p.Metric("revenue").Label; l != "Revenue, rolling 4 quarters" {
		t.Errorf("label before unit = %q", l)
	}
	want := map[string]Unit{"revenue": UnitCurrency, "wins": UnitNumber, "registrations": UnitNumber, "win_rate": UnitPercent, "points": UnitNumber}
	for name, u := range want {
		if got := p.Metric(name).Unit; got != u {
			t.Errorf("metric %s unit = %q, want %q", name, got, u)
		}
	}
	if p := mustParse(t, "name: T\n"); p.Currency != "" {
		t.Errorf("currency without the key = %q, want none", p.Currency)
	}
}

func TestParseAwardNumberIsConstantAndStringIsCEL(t *testing.T) {
	p := mustParse(t, lines(
		"name: T",
		"points:",
		"  rules:",
		"    - {id: a, on: x, award: 50}",
		"    - {id: b, on: x, award: 12.5}",
		"    - {id: c, on: x, award: event.attrs.n * 2}",
		"    - {id: d, on: x, award: '50'}",
	))
	rules := p.Points.Rules
	if rules[0].Award.Const == nil || *rules[0].Award.Const != 50 || rules[1].Award.Const == nil || *rules[1].Award.Const != 12.5 {
		t.Errorf("constants = %+v %+v", rules[0].Award, rules[1].Award)
	}
	if rules[2].Award.Const != nil || rules[3].Award.Const != nil {
		t.Error("a string award must be CEL")
	}
	v := &Vars{Event: map[string]any{"attrs": map[string]any{"n": 21.0}}}
	if n, err := rules[2].Award.Number(v); err != nil || n != 42 {
		t.Errorf("award c = %v, %v", n, err)
	}
	if n, err := rules[3].Award.Number(v); err != nil || n != 50 {
		t.Errorf("award d = %v, %v", n, err)
	}
}

func TestParseQuestChallengeWithSteps(t *testing.T) {
	p := mustParse(t, lines(
		"name: T",
		"timezone: America/New_York",
		"challenges:",
		"  - id: learning-track",
		"    starts: '2026-01-05'",
		"    ends: 2026-03-31",
		"    role: delivery",
		"    steps:",
		"      - training.basics",
		"      - {type: lab.passed, count: 3, where: event.attrs.level == 'advanced'}",
		"    within: 6w",
		"    from: first_step",
		"    ordered: true",
		"    finalize_after: 48h",
		"    winners: 0",
	))
	c := p.Challenges[0]
	ny, _ := time.LoadLocation("America/New_York")
	if !c.Starts.Equal(time.Date(2026, 1, 5, 0, 0, 0, 0, ny)) || !c.Ends.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, ny)) {
		t.Errorf("window = %v .. %v", c.Starts, c.Ends)
	}
	if len(c.Steps) != 2 || c.Steps[1].Type != "lab.passed" || c.Steps[1].Count != 3 || c.Steps[1].Where == nil ||
		c.Within != 42*24*time.Hour || c.From != "first_step" || !c.Ordered || c.Role != "delivery" ||
		c.FinalizeAfter != 48*time.Hour || c.Winners != 0 || c.Metric != "" {
		t.Errorf("quest = %+v", c)
	}
}

func TestParseLeaderboardChallengeWindow(t *testing.T) {
	p := mustParse(t, lines(
		"name: T",
		"challenges:",
		"  - {id: sprint, starts: 2026-11-01, ends: 2026-11-30, metric: points}",
		"leaderboards:",
		"  - {id: a, metric: points, window: challenge, challenge: sprint}",
		"  - {id: b, metric: points, challenge: sprint}",
		"  - {id: c, metric: points, window: 90d}",
		"  - {id: d, metric: points, window: 4q}",
	))
	lb := p.Leaderboards
	if lb[0].Window.Kind != WindowChallenge || lb[0].Challenge != "sprint" || lb[1].Window.Kind != WindowChallenge {
		t.Errorf("challenge boards = %+v %+v", lb[0], lb[1])
	}
	if lb[2].Window != (Window{Kind: WindowDays, N: 90}) || lb[3].Window != (Window{Kind: WindowQuarters, N: 4}) {
		t.Errorf("windows = %+v %+v", lb[2].Window, lb[3].Window)
	}
}

func TestParseExpiry(t *testing.T) {
	for src, want := range map[string]Expiry{
		"never":   {Kind: ExpireNever},
		"quarter": {Kind: ExpireQuarter},
		"year":    {Kind: ExpireYear},
		"90d":     {Kind: ExpireDays, Days: 90},
	} {
		p := mustParse(t, lines("name: T", "points: {expire: "+src+"}"))
		if p.Points.Expire != want {
			t.Errorf("expire %s = %+v, want %+v", src, p.Points.Expire, want)
		}
	}
}

// brokenBase has tiers, metrics, a cohort and a badge for cases that
// reference them; it is valid on its own (lines 1-11).
var brokenBase = lines(
	"name: T",                       // 1
	"tiers:",                        // 2
	"  levels: [Silver, Gold]",      // 3
	"cohorts:",                      // 4
	"  size: partner.size",          // 5
	"metrics:",                      // 6
	"  wins: {count: deal.won}",     // 7
	"  rate: {ratio: [wins, wins]}", // 8
	"badges:",                       // 9
	"  - {id: winner, on: x, evidence: event.id}", // 10
	"activities: {portal.login: {vanity: true}}",  // 11
)

func TestParseBaseOfBrokenCasesIsValid(t *testing.T) {
	mustParse(t, brokenBase)
}

func TestParseReportsBrokenFiles(t *testing.T) {
	cases := []struct {
		name   string
		src    string // appended to brokenBase when base is set
		base   bool
		line   int
		key    string
		phrase string
	}{
		{"unknown top-level key", lines("name: T", "pointz: {}"), false, 2, "pointz", `allowed keys are name, description, timezone`},
		{"misspelled key gets a suggestion", lines("name: T", "pointz: {}"), false, 2, "pointz", `did you mean "points"`},
		{"missing name", lines("points: {}"), false, 1, "name", `missing required key "name"`},
		{"empty file", "", false, 1, "", "the program is empty"},
		{"top level is a list", lines("- a", "- b"), false, 1, "", "expected a mapping"},
		{"YAML syntax error", lines("name: T", "points: [a", "levels: 3"), false, 2, "", "invalid YAML"},
		{"duplicate key", lines("name: T", "name: U"), false, 2, "name", `duplicate key "name" (first on line 1)`},
		{"unknown time zone", lines("name: T", "timezone: Mars/Olympus"), false, 2, "timezone", `unknown time zone "Mars/Olympus"`},
		{"fiscal year start 13", lines("name: T", "fiscal_year_start: 13"), false, 2, "fiscal_year_start", "1 to 12"},
		{"fiscal year start 0", lines("name: T", "fiscal_year_start: 0"), false, 2, "fiscal_year_start", "1 to 12, got 0"},
		{"fiscal year start text", lines("name: T", "fiscal_year_start: March"), false, 2, "fiscal_year_start", `expected a whole number, got a string ("March")`},
		{"unknown currency", lines("name: T", "currency: EUX"), false, 2, "currency", `unknown currency "EUX": expected an ISO 4217 currency code`},
		{"currency in lower case", lines("name: T", "currency: eur"), false, 2, "currency", `three capital letters such as EUR or USD, got "eur" (did you mean "EUR"?)`},
		{"currency as a symbol", lines("name: T", "currency: €"), false, 2, "currency", `three capital letters`},
		{"currency not text", lines("name: T", "currency: 978"), false, 2, "currency", `expected an ISO 4217 currency code such as EUR or USD, got a number (978)`},
		{"metric unit unknown", "name: T\nmetrics:\n  m: {count: x, unit: dollars}\n", false, 3, "metrics.m.unit", `expected number, currency or percent, got a string ("dollars")`},
		{"metric unit currency without currency", "name: T\nmetrics:\n  m: {sum: x, value: event.attrs.amount, unit: currency}\n", false, 3, "metrics.m.unit", "unit currency needs the program's currency: add a top-level key like currency: EUR"},
		{"metric unit currency with a broken currency", "name: T\ncurrency: EURO\nmetrics:\n  m: {sum: x, value: event.attrs.amount, unit: currency}\n", false, 2, "currency", "three capital letters"},
		{"invalid activity type", lines("name: T", "activities: {Portal Login: {label: x}}"), false, 2, `activities["Portal Login"]`, "invalid event type"},
		{"leaderboard unknown cohort", lines("leaderboards:", "  - {id: l, metric: wins, cohort: region}"), true, 13, "leaderboards[0].cohort", `unknown cohort "region": expected one of size`},
		{"cohort CEL over event", "name: T\ncohorts:\n  bad: event.type\n", false, 3, "cohorts.bad", "undeclared reference to 'event'"},
		{"cohort not a string", "name: T\ncohorts:\n  big: partner.attrs.employees > 100\n", false, 3, "cohorts.big", "giving a string, but it gives a bool"},
		{"metric named points", "name: T\nmetrics:\n  points: {count: x}\n", false, 3, "metrics.points", "reserved"},
		{"metric with two kinds", "name: T\nmetrics:\n  m: {count: x, sum: y, value: event.attrs.a}\n", false, 3, "metrics.m", "exactly one of count, sum, avg, distinct or ratio, got count and sum"},
		{"sum without value", "name: T\nmetrics:\n  m: {sum: deal.won}\n", false, 3, "metrics.m.value", `missing required key "value"`},
		{"sum value not a number", "name: T\nmetrics:\n  m: {sum: deal.won, value: string(event.attrs.a)}\n", false, 3, "metrics.m.value", "giving a number, but it gives a string"},
		{"count takes no value", "name: T\nmetrics:\n  m: {count: deal.won, value: event.attrs.a}\n", false, 3, "metrics.m.value", "takes no value"},
		{"where not a bool", "name: T\nmetrics:\n  m: {count: deal.won, where: size(event.attrs)}\n", false, 3, "metrics.m.where", "giving a bool, but it gives a number (int)"},
		{"leaderboard metric typo", lines("leaderboards:", "  - {id: l, metric: winz}"), true, 13, "leaderboards[0].metric", `unknown metric "winz": expected one of rate, wins, points (built in)`},
		{"ratio part unknown", "name: T\nmetrics:\n  a: {count: x}\n  r: {ratio: [a, nope]}\n", false, 4, "metrics.r.ratio[1]", `unknown metric "nope": expected one of a, r, points (built in)`},
		{"ratio of ratios", "name: T\nmetrics:\n  a: {count: x}\n  r: {ratio: [a, a]}\n  rr: {ratio: [r, a]}\n", false, 5, "metrics.rr.ratio[0]", `metric "r" is itself a ratio`},
		{"ratio with three parts", "name: T\nmetrics:\n  a: {count: x}\n  r: {ratio: [a, a, a]}\n", false, 4, "metrics.r.ratio", "got 3 items"},
		{"expire monthly", "name: T\npoints:\n  expire: monthly\n", false, 3, "points.expire", "expected never, quarter, year or <N>d"},
		{"rule missing award", "name: T\npoints:\n  rules:\n    - id: a\n      on: x\n", false, 4, "points.rules[0].award", `missing required key "award"`},
		{"rule missing id", "name: T\npoints:\n  rules:\n    - {on: x, award: 1}\n", false, 4, "points.rules[0].id", `missing required key "id"`},
		{"duplicate rule id", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1}\n    - {id: a, on: y, award: 1}\n", false, 5, "points.rules[1].id", `duplicate rule id "a" (first on line 4)`},
		{"award is a list", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: [1, 2]}\n", false, 4, "points.rules[0].award", "expected an integer or a CEL expression giving a number, got a list"},
		{"award gives a string", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: '\"fifty\"'}\n", false, 4, "points.rules[0].award", "giving a number, but it gives a string"},
		{"negative award", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: -5}\n", false, 4, "points.rules[0].award", "0 or more"},
		{"when does not compile", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, when: event.attrs.score >=}\n", false, 4, "points.rules[0].when", "invalid CEL expression"},
		{"when names an unknown variable", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, when: evnt.attrs.x == 1}\n", false, 4, "points.rules[0].when", "undeclared reference to 'evnt'"},
		{"when not a bool", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, when: event.attrs.a + 1.5 + size(event.attrs)}\n", false, 4, "points.rules[0].when", "giving a bool"},
		{"invalid event type", "name: T\npoints:\n  rules:\n    - {id: a, on: Deal Won, award: 1}\n", false, 4, "points.rules[0].on", `invalid event type "Deal Won"`},
		{"invalid event type in a list", "name: T\npoints:\n  rules:\n    - {id: a, on: [ok, -bad], award: 1}\n", false, 4, "points.rules[0].on[1]", `invalid event type "-bad"`},
		{"to team", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, to: team}\n", false, 4, "points.rules[0].to", `expected member or partner, got a string ("team")`},
		{"limit per hour", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, limit: {max: 5, per: hour}}\n", false, 4, "points.rules[0].limit.per", "expected day, week, month, quarter or year"},
		{"limit max 0", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, limit: {max: 0, per: day}}\n", false, 4, "points.rules[0].limit.max", "positive whole number"},
		{"limit without per", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, limit: {max: 5}}\n", false, 4, "points.rules[0].limit.per", `missing required key "per"`},
		{"multiplier unknown tier", lines("points:", "  rules:", "    - {id: a, on: x, award: 1, multiplier: {Platinum: 2}}"), true, 14, "points.rules[0].multiplier.Platinum", `unknown tier "Platinum": expected one of Gold, Silver`},
		{"multiplier without tiers", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, multiplier: {Gold: 2}}\n", false, 4, "points.rules[0].multiplier.Gold", "no tiers section"},
		{"rule on a vanity type", lines("points:", "  rules:", "    - {id: a, on: portal.login, award: 1}"), true, 14, "points.rules[0].on", "vanity"},
		{"once_per does not compile", "name: T\npoints:\n  rules:\n    - {id: a, on: x, award: 1, once_per: 'event.attrs.('}\n", false, 4, "points.rules[0].once_per", "invalid CEL expression"},
		{"levels not ascending", "name: T\nlevels:\n  - {name: A, at: 0}\n  - {name: B, at: 500}\n  - {name: C, at: 400}\n", false, 5, "levels[2].at", "ascending"},
		{"first level not at 0", "name: T\nlevels:\n  - {name: A, at: 10}\n", false, 3, "levels[0].at", "first level must start at 0"},
		{"negative multiplier", lines("points:", "  rules:", "    - {id: a, on: x, award: 1, multiplier: {Gold: -1}}"), true, 14, "points.rules[0].multiplier.Gold", "factor of 0 or more"},
		{"badge with on and metric", "name: T\nmetrics: {m: {count: x}}\nbadges:\n  - {id: b, on: x, evidence: event.id, metric: m, levels: {A: 1}}\n", false, 4, "badges[0]", "awarded one way"},
		{"badge with no kind", "name: T\nbadges:\n  - {id: b, name: B}\n", false, 3, "badges[0]", "a badge needs on"},
		{"event badge without evidence", "name: T\nbadges:\n  - {id: b, on: x}\n", false, 3, "badges[0].evidence", `missing required key "evidence"`},
		{"evidence not a string", "name: T\nbadges:\n  - {id: b, on: x, evidence: size(event.attrs)}\n", false, 3, "badges[0].evidence", "giving a string"},
		{"badge metric unknown", "name: T\nbadges:\n  - {id: b, metric: deals, levels: {A: 1}}\n", false, 3, "badges[0].metric", `unknown metric "deals"`},
		{"badge levels not ascending", "name: T\nmetrics: {m: {count: x}}\nbadges:\n  - {id: b, metric: m, levels: {A: 5, B: 5}}\n", false, 4, "badges[0].levels.B", "must ascend"},
		{"badge levels on an event badge", "name: T\nbadges:\n  - {id: b, on: x, evidence: event.id, levels: {A: 1}}\n", false, 3, "badges[0].levels", "only used by metric or step badges"},
		{"step badge from bad", "name: T\nbadges:\n  - {id: b, steps: [a, b], from: signup}\n", false, 3, "badges[0].from", "expected joined_at or first_step"},
		{"step count 0", "name: T\nbadges:\n  - {id: b, steps: [{type: a, count: 0}]}\n", false, 3, "badges[0].steps[0].count", "positive whole number"},
		{"within without unit", "name: T\nbadges:\n  - {id: b, steps: [a], within: 14}\n", false, 3, "badges[0].within", "expected a duration such as 24h, 14d or 2w"},
		{"duplicate badge id", "name: T\nbadges:\n  - {id: b, steps: [a]}\n  - {id: b, steps: [c]}\n", false, 4, "badges[1].id", `duplicate badge id "b"`},
		{"tiers without levels", "name: T\ntiers:\n  grace: 2\n", false, 3, "tiers.levels", `missing required key "levels"`},
		{"per_member as text", "name: T\nrewards:\n  - {id: r, cost: 5, per_member: once}\n", false, 3, "rewards[0].per_member", `expected a whole number (0 or more), got a string ("once")`},
		{"criteria unknown tier", "name: T\nmetrics: {m: {count: x}}\ntiers:\n  levels: [A, B]\n  criteria:\n    C: [{metric: m, at_least: 1}]\n", false, 6, "tiers.criteria.C", `unknown tier "C": expected one of A, B`},
		{"criteria unknown metric", "name: T\ntiers:\n  levels: [A, B]\n  criteria:\n    B: [{metric: revenue, at_least: 1}]\n", false, 5, "tiers.criteria.B[0].metric", `unknown metric "revenue": the program defines none`},
		{"criterion without target", "name: T\nmetrics: {m: {count: x}}\ntiers:\n  levels: [A, B]\n  criteria:\n    B: [{metric: m}]\n", false, 6, "tiers.criteria.B[0].at_least", "missing the target"},
		{"nudge_at above 1", "name: T\ntiers:\n  levels: [A]\n  nudge_at: 1.5\n", false, 4, "tiers.nudge_at", "between 0 and 1"},
		{"tier window challenge", "name: T\ntiers:\n  levels: [A]\n  window: challenge\n", false, 4, "tiers.window", "expected a window"},
		{"benefits of unknown tier", "name: T\ntiers:\n  levels: [A]\n  benefits: {Z: [x]}\n", false, 4, "tiers.benefits.Z", `unknown tier "Z"`},
		{"duplicate tier", "name: T\ntiers:\n  levels: [A, A]\n", false, 3, "tiers.levels[1]", `duplicate tier "A"`},
		{"challenge ends before it starts", "name: T\nchallenges:\n  - id: c\n    metric: points\n    starts: 2026-11-10\n    ends: 2026-11-01\n", false, 6, "challenges[0].ends", "ends (2026-11-01) before it starts (2026-11-10)"},
		{"challenge date is not a date", "name: T\nchallenges:\n  - {id: c, metric: points, starts: Nov 1, ends: 2026-11-30}\n", false, 3, "challenges[0].starts", "expected a date like 2026-11-01"},
		{"challenge unknown cohort", "name: T\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-01, ends: 2026-11-30, cohort: size}\n", false, 3, "challenges[0].cohort", `unknown cohort "size"`},
		{"challenge unknown metric", "name: T\nchallenges:\n  - {id: c, metric: revenue, starts: 2026-11-01, ends: 2026-11-30}\n", false, 3, "challenges[0].metric", `unknown metric "revenue"`},
		{"challenge reward unknown badge", "name: T\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-01, ends: 2026-11-30, reward: {badge: gold}}\n", false, 3, "challenges[0].reward.badge", `unknown badge "gold"`},
		{"challenge with metric and steps", "name: T\nchallenges:\n  - {id: c, metric: points, steps: [a], starts: 2026-11-01, ends: 2026-11-30}\n", false, 3, "challenges[0].steps", "not both"},
		{"challenge without metric", "name: T\nchallenges:\n  - {id: c, starts: 2026-11-01, ends: 2026-11-30}\n", false, 3, "challenges[0].metric", `missing required key "metric"`},
		{"challenge finalize_after 0h", "name: T\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-01, ends: 2026-11-30, finalize_after: 0h}\n", false, 3, "challenges[0].finalize_after", "positive whole number of hours"},
		{"leaderboard window challenge without challenge", "name: T\nleaderboards:\n  - {id: l, metric: points, window: challenge}\n", false, 3, "leaderboards[0].challenge", "needs challenge: <id>"},
		{"leaderboard unknown challenge", "name: T\nleaderboards:\n  - {id: l, metric: points, window: challenge, challenge: nope}\n", false, 3, "leaderboards[0].challenge", `unknown challenge "nope"`},
		{"leaderboard unknown metric", "name: T\nleaderboards:\n  - {id: l, metric: revenue}\n", false, 3, "leaderboards[0].metric", `unknown metric "revenue": the program defines none; use points (built in)`},
		{"leaderboard bad window", "name: T\nleaderboards:\n  - {id: l, metric: points, window: 3x}\n", false, 3, "leaderboards[0].window", "expected a window: all, quarter"},
		{"leaderboard for everyone", "name: T\nleaderboards:\n  - {id: l, metric: points, for: everyone}\n", false, 3, "leaderboards[0].for", "expected member or partner"},
		{"reward without cost", "name: T\nrewards:\n  - {id: r, name: Mug}\n", false, 3, "rewards[0].cost", `missing required key "cost"`},
		{"reward for unknown tier", "name: T\ntiers: {levels: [A]}\nrewards:\n  - {id: r, cost: 5, tiers: [A, Z]}\n", false, 4, "rewards[0].tiers[1]", `unknown tier "Z"`},
		{"reward negative stock", "name: T\nrewards:\n  - {id: r, cost: 5, stock: -1}\n", false, 3, "rewards[0].stock", "0 or more"},
		{"registration conflict policy", "name: T\nregistration:\n  conflict: coin_flip\n", false, 3, "registration.conflict", "expected first_meeting, first_submitted or manual"},
		{"registration hold in months", "name: T\nregistration:\n  hold: 3m\n", false, 3, "registration.hold", "expected a duration"},
		{"invalid id", "name: T\nrewards:\n  - {id: 'a b', cost: 5}\n", false, 3, "rewards[0].id", `invalid id "a b"`},
		{"section of the wrong shape", "name: T\nbadges: {id: b}\n", false, 2, "badges", "expected a list of badges, got a mapping"},
		{"alias loop", "name: T\nlevels: &a [*a]\n", false, 1, "", "refers to a node that contains it"},
		{"alias bomb", aliasBomb(), false, 1, "", "expand to too much"},
		{"second document", "name: T\n---\nname: U\n", false, 2, "", "one YAML document"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			if tc.base {
				src = brokenBase + src
			}
			err := parseError(t, src)
			var found bool
			for _, d := range err.Details {
				if d.Line == tc.line && d.Key == tc.key && strings.Contains(d.Message, tc.phrase) {
					found = true
				}
			}
			if !found || len(err.Details) != 1 {
				t.Errorf("want one error, on line %d, key %q, message containing %q; got:\n%v", tc.line, tc.key, tc.phrase, err)
			}
		})
	}
}

// aliasBomb is a small file whose aliases expand to ten million nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("name: T\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 7; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("levels: *a6\n")
	return b.String()
}

func TestParseReportsEveryErrorTogether(t *testing.T) {
	err := parseError(t, lines(
		"name: T",
		"timezone: Nowhere/Town",
		"points:",
		"  rules:",
		"    - {id: a, on: x, award: [1]}",
		"    - {id: b, on: x, award: 1, when: 'event.'}",
		"leaderboards:",
		"  - {id: l, metric: revenue}",
	))
	if err.Message != "program has 4 errors" {
		t.Errorf("message = %q", err.Message)
	}
	var gotLines []int
	for _, d := range err.Details {
		gotLines = append(gotLines, d.Line)
	}
	if want := []int{2, 5, 6, 8}; !slicesEqual(gotLines, want) {
		t.Errorf("lines = %v, want %v (sorted by line):\n%v", gotLines, want, err)
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseOneErrorSaysOneError(t *testing.T) {
	err := parseError(t, "name: T\nfiscal_year_start: 14\n")
	if err.Message != "program has 1 error" {
		t.Errorf("message = %q", err.Message)
	}
}

func TestParseCELErrorPointsAtItsColumn(t *testing.T) {
	err := parseError(t, lines(
		"name: T",
		"points:",
		"  rules:",
		"    - id: a",
		"      on: x",
		"      award: 1",
		"      when: event.attrs.x == evnt",
	))
	d := err.Details[0]
	// The expression starts at column 13; evnt is its 18th character.
	if d.Line != 7 || d.Column != 13+17 {
		t.Errorf("position = %d:%d, want 7:30 (%v)", d.Line, d.Column, d)
	}
}

func TestParseBrokenDefinitionDoesNotCascade(t *testing.T) {
	// The metric is broken, but references to it are not reported as
	// unknown: one mistake, one error.
	err := parseError(t, lines(
		"name: T",
		"metrics:",
		"  wins: {count: Deal.Won}",
		"leaderboards:",
		"  - {id: l, metric: wins}",
	))
	if len(err.Details) != 1 || err.Details[0].Line != 3 {
		t.Errorf("want one error on line 3, got:\n%v", err)
	}
}

func TestParseSpecLabelWithCommaStaysText(t *testing.T) {
	p := mustParse(t, lines(
		"name: T",
		"metrics: {m: {count: x}}",
		"tiers:",
		"  levels: [A, B]",
		"  criteria:",
		"    B: [{id: m, metric: m, at_least: 1, label: Sourced revenue, rolling 4 quarters}]",
	))
	if got := p.Tiers.Criteria["B"][0].Label; got != "Sourced revenue, rolling 4 quarters" {
		t.Errorf("label = %q", got)
	}
}

func TestParseAcceptsDocumentMarkers(t *testing.T) {
	p := mustParse(t, "---\nname: T\n---\n")
	if p.Name != "T" {
		t.Errorf("name = %q", p.Name)
	}
}

func TestParseFollowsAliases(t *testing.T) {
	p := mustParse(t, lines(
		"name: T",
		"metrics: {m: {count: x}}",
		"tiers:",
		"  levels: [A, B]",
		"  criteria:",
		"    B: &b [{metric: m, at_least: 1}]",
		"  by_type:",
		"    isv: {B: *b}",
	))
	if got := p.Tiers.CriteriaFor("isv", "B"); len(got) != 1 || got[0].ID != "m" {
		t.Errorf("criteria = %+v", got)
	}
}

func FuzzParse(f *testing.F) {
	if src, err := os.ReadFile("testdata/acme.yaml"); err == nil {
		f.Add(src)
	}
	f.Add([]byte(brokenBase))
	for _, s := range []string{
		"", "name: T\n", "- a\n", "name: T\npoints: [a\n", "name: T\nbadges: {id: b}\n",
		"name: T\npoints:\n  rules:\n    - {id: a, on: x, award: min(1, 2)}\n",
		"name: T\nchallenges:\n  - {id: c, metric: points, starts: 2026-11-10, ends: 2026-11-01}\n",
		"name: &a T\nlevels: [*a, *a]\n", "a: &a [*a]\n", "? [a]\n: b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src)
		if err == nil {
			if p == nil || p.Calendar == nil {
				t.Fatal("no program and no error")
			}
			return
		}
		var re *rung.Error
		if !errors.As(err, &re) || re.Code != rung.EINVALID || len(re.Details) == 0 {
			t.Fatalf("error %T %v is not an EINVALID *rung.Error with details", err, err)
		}
		for _, d := range re.Details {
			if d.Line < 1 || d.Message == "" {
				t.Fatalf("detail without line or message: %+v", d)
			}
		}
	})
}
