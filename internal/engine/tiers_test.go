package engine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// tierProgram has auto-upgrades, grace, multipliers by tier and by-type
// criteria.
const tierProgram = `
name: Tier Program
timezone: Europe/Berlin
fiscal_year_start: 1
currency: EUR
metrics:
  sourced_revenue: {sum: deal.won, value: event.attrs.amount, unit: currency}
  certified_people: {distinct: certification.earned, value: event.member}
  csat: {avg: survey.csat, value: event.attrs.score}
points:
  rules:
    - id: win
      on: deal.won
      award: 100
      multiplier: {Select: 1.5, Elite: 2}
tiers:
  levels: [Registered, Select, Elite]
  window: 4q
  decision_days: 10
  grace: 1
  auto_upgrade: AUTO
  nudge_at: 0.8
  criteria:
    Select:
      - {id: revenue, metric: sourced_revenue, at_least: 100000, label: Sourced revenue}
      - {id: certs, metric: certified_people, at_least: 2, label: Certified people}
    Elite:
      - {id: revenue, metric: sourced_revenue, at_least: 1000000}
      - {id: csat, metric: csat, at_least: 4}
  by_type:
    isv:
      Select:
        - {id: certs, metric: certified_people, at_least: 1, label: Certified people}
  benefits:
    Select: [Priority support, MDF]
    Elite: [Co-selling]
`

func newTierHarness(t tb, auto bool) *harness {
	src := tierProgram
	if auto {
		src = strings.ReplaceAll(src, "AUTO", "true")
	} else {
		src = strings.ReplaceAll(src, "AUTO", "false")
	}
	return newHarness(t, src, time.Date(2027, 2, 1, 12, 0, 0, 0, berlin))
}

func win(id, partner, member string, t time.Time, amount float64) rung.Event {
	return ev(id, "deal.won", partner, member, t, map[string]any{"amount": amount})
}

func cert(id, partner, member string, t time.Time) rung.Event {
	return ev(id, "certification.earned", partner, member, t, map[string]any{"cert_id": id})
}

func awardOf(t *testing.T, e *Engine, event string) int64 {
	t.Helper()
	ef, err := e.EventEffects(event)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, a := range ef.Awards {
		n += a.Points
	}
	return n
}

func TestAutoUpgradeMidQuarterScoresFromTheMomentCriteriaHold(t *testing.T) {
	h := newTierHarness(t, true)
	h.send(cert("c1", "p1", "m1", at(2, 9)))
	h.send(cert("c2", "p1", "m2", at(3, 9)))
	h.send(win("w1", "p1", "m1", at(5, 9), 60000))
	if got := h.e.TierAt("p1", at(5, 10)); got != "Registered" {
		t.Fatalf("tier after 60k = %s, want Registered", got)
	}
	h.send(win("w2", "p1", "m1", at(10, 9), 50000))
	if got := h.e.TierAt("p1", at(10, 9)); got != "Select" {
		t.Fatalf("tier at the qualifying event = %s, want Select", got)
	}
	if got := h.e.TierAt("p1", at(10, 8)); got != "Registered" {
		t.Fatalf("tier before the qualifying event = %s, want Registered", got)
	}
	if a, b := awardOf(t, h.e, "w1"), awardOf(t, h.e, "w2"); a != 100 || b != 150 {
		t.Fatalf("awards = %d, %d; want 100 before the upgrade and 150 at it", a, b)
	}
	hist, _ := h.e.TierHistory("p1")
	if n := len(hist); n != 2 || hist[1].Kind != "auto_upgrade" || hist[1].To != "Select" || !hist[1].At.Equal(at(10, 9)) {
		t.Fatalf("history = %+v", hist)
	}
}

func TestLateEventMovesAutoUpgradeEarlierAndRescoresMultipliers(t *testing.T) {
	h := newTierHarness(t, true)
	h.send(cert("c1", "p1", "m1", at(2, 9)))
	h.send(cert("c2", "p1", "m2", at(3, 9)))
	h.send(win("w1", "p1", "m1", at(10, 9), 60000))
	h.send(win("w2", "p1", "m1", at(20, 9), 50000)) // upgrade here
	h.send(win("w3", "p1", "m1", at(25, 9), 1000))
	if a, b, c := awardOf(t, h.e, "w1"), awardOf(t, h.e, "w2"), awardOf(t, h.e, "w3"); a != 100 || b != 150 || c != 150 {
		t.Fatalf("awards before the late event = %d %d %d", a, b, c)
	}
	h.send(win("late", "p1", "m2", at(4, 9), 45000)) // 105k at Nov 10
	if got := h.e.TierAt("p1", at(10, 9)); got != "Select" {
		t.Fatalf("tier at w1 after late event = %s, want Select", got)
	}
	if l, a := awardOf(t, h.e, "late"), awardOf(t, h.e, "w1"); l != 100 || a != 150 {
		t.Fatalf("awards after late event: late %d (want 100), w1 %d (want 150)", l, a)
	}
	// Retracting the late event puts the upgrade back where it was.
	h.retract("late")
	if a := awardOf(t, h.e, "w1"); a != 100 {
		t.Fatalf("w1 after retraction = %d, want 100", a)
	}
}

func TestNoDowngradeBetweenReviews(t *testing.T) {
	h := newTierHarness(t, true)
	h.send(cert("c1", "p1", "m1", at(2, 9)))
	h.send(cert("c2", "p1", "m2", at(3, 9)))
	h.send(win("w1", "p1", "m1", at(5, 9), 1500000))
	h.send(ev("s1", "survey.csat", "p1", "", at(6, 9), map[string]any{"score": 5.0}))
	if got := h.e.TierAt("p1", at(6, 9)); got != "Elite" {
		t.Fatalf("tier = %s, want Elite", got)
	}
	// The criteria stop holding (CSAT falls, revenue leaves the window
	// next year): the tier stays until a review decides.
	h.send(ev("s2", "survey.csat", "p1", "", at(7, 9), map[string]any{"score": 1.0}))
	for _, t2 := range []time.Time{at(7, 10), time.Date(2027, 12, 1, 0, 0, 0, 0, berlin)} {
		if got := h.e.TierAt("p1", t2); got != "Elite" {
			t.Fatalf("tier at %v = %s, want Elite (no downgrade without a review)", t2, got)
		}
	}
}

func TestNoAutoUpgradeWhenDisabled(t *testing.T) {
	h := newTierHarness(t, false)
	h.send(cert("c1", "p1", "m1", at(2, 9)))
	h.send(cert("c2", "p1", "m2", at(3, 9)))
	h.send(win("w1", "p1", "m1", at(5, 9), 200000))
	if got := h.e.TierAt("p1", at(20, 0)); got != "Registered" {
		t.Fatalf("tier = %s, want Registered until a review", got)
	}
	ds, err := h.e.Review("2026-Q4")
	if err != nil {
		t.Fatal(err)
	}
	d := find(t, ds, "p1")
	if d.Outcome != OutcomeUpgrade || d.To != "Select" || d.Qualified != "Select" {
		t.Fatalf("decision = %+v", d)
	}
	if want := time.Date(2027, 1, 11, 0, 0, 0, 0, berlin); !d.EffectiveAt.Equal(want) {
		t.Fatalf("effective_at = %v, want %v (decision_days after the quarter, local midnight)", d.EffectiveAt, want)
	}
	h.e.PutTierDecisions(ds)
	if got := h.e.TierAt("p1", time.Date(2027, 1, 10, 23, 0, 0, 0, berlin)); got != "Registered" {
		t.Fatalf("tier before effective = %s", got)
	}
	if got := h.e.TierAt("p1", time.Date(2027, 1, 11, 0, 0, 0, 0, berlin)); got != "Select" {
		t.Fatalf("tier at effective = %s", got)
	}
	// A win after the decision took effect earns the Select multiplier.
	h.send(win("w2", "p1", "m1", time.Date(2027, 1, 12, 9, 0, 0, 0, berlin), 1000))
	if a := awardOf(t, h.e, "w2"); a != 150 {
		t.Fatalf("award after upgrade = %d, want 150", a)
	}
}

func find(t *testing.T, ds []TierDecision, partner string) TierDecision {
	t.Helper()
	for _, d := range ds {
		if d.Partner == partner {
			return d
		}
	}
	t.Fatalf("no decision for %s in %+v", partner, ds)
	return TierDecision{}
}

func TestGraceThenDowngrade(t *testing.T) {
	h := newTierHarness(t, false)
	// p3 starts at Select and meets nothing.
	ds, _ := h.e.Review("2026-Q3")
	d := find(t, ds, "p3")
	if d.Outcome != OutcomeGrace || d.From != "Select" || d.To != "Select" || d.Qualified != "Registered" || d.GraceLeft != 0 {
		t.Fatalf("first failed review = %+v, want grace keeping Select", d)
	}
	if want := time.Date(2027, 1, 11, 0, 0, 0, 0, berlin); !d.GraceUntil.Equal(want) {
		t.Fatalf("grace until %v, want %v", d.GraceUntil, want)
	}
	h.e.PutTierDecisions(ds)
	sc, _ := h.e.PartnerScorecard("p3", time.Date(2026, 11, 1, 0, 0, 0, 0, berlin))
	if sc.Tier.Status != "grace" || sc.Tier.Current != "Select" {
		t.Fatalf("tier card in grace = %+v", sc.Tier)
	}
	ds, _ = h.e.Review("2026-Q4")
	d = find(t, ds, "p3")
	if d.Outcome != OutcomeDowngrade || d.To != "Registered" {
		t.Fatalf("second failed review = %+v, want downgrade", d)
	}
	h.e.PutTierDecisions(ds)
	if got := h.e.TierAt("p3", time.Date(2027, 1, 11, 0, 0, 0, 0, berlin)); got != "Registered" {
		t.Fatalf("tier after downgrade = %s", got)
	}
	// A partner that recovers in between resets its grace.
	h2 := newTierHarness(t, false)
	ds, _ = h2.e.Review("2026-Q3")
	h2.e.PutTierDecisions(ds)
	h2.send(cert("c1", "p3", "m4", at(2, 9)))
	h2.send(ev("c2", "certification.earned", "p3", "m4x", at(2, 10), map[string]any{"cert_id": "x"}))
	h2.send(win("w", "p3", "m4", at(3, 9), 200000))
	ds, _ = h2.e.Review("2026-Q4")
	if d := find(t, ds, "p3"); d.Outcome != OutcomeStay {
		t.Fatalf("recovered partner = %+v, want stay", d)
	}
}

func TestReviewIsIdempotent(t *testing.T) {
	h := newTierHarness(t, false)
	h.send(cert("c1", "p1", "m1", at(2, 9)))
	h.send(cert("c2", "p1", "m2", at(3, 9)))
	h.send(win("w1", "p1", "m1", at(5, 9), 200000))
	a, _ := h.e.Review("2026-Q4")
	h.e.PutTierDecisions(a)
	d1 := h.e.Digest(h.now)
	b, _ := h.e.Review("2026-Q4")
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("second review differs:\n%+v\n%+v", a, b)
	}
	h.e.PutTierDecisions(b)
	if d2 := h.e.Digest(h.now); d1 != d2 {
		t.Fatal("publishing the same review twice changed the state")
	}
}

func TestOverrideExpiresAndReviewsRecordWhatTheyWouldHaveDone(t *testing.T) {
	h := newTierHarness(t, false)
	h.e.PutTierOverride(TierOverride{ID: "o1", Partner: "p2", Tier: "Elite", Reason: "strategic launch partner",
		From: at(1, 0), Until: at(15, 0)})
	h.send(win("w1", "p2", "m3", at(10, 9), 1000))
	h.send(win("w2", "p2", "m3", at(20, 9), 1000))
	if a, b := awardOf(t, h.e, "w1"), awardOf(t, h.e, "w2"); a != 200 || b != 100 {
		t.Fatalf("awards = %d, %d; want Elite 200 under the override and 100 after it expired", a, b)
	}
	sc, _ := h.e.PartnerScorecard("p2", at(10, 10))
	if sc.Tier.Status != "override" || sc.Tier.Current != "Elite" {
		t.Fatalf("tier card under override = %+v", sc.Tier)
	}
	// An override in force when the decision takes effect: the review
	// says override, and what it would have done.
	h.e.PutTierOverride(TierOverride{ID: "o2", Partner: "p2", Tier: "Select", Reason: "pilot", From: at(25, 0)})
	ds, _ := h.e.Review("2026-Q4")
	d := find(t, ds, "p2")
	if d.Outcome != OutcomeOverride || d.To != "Select" || d.Would != OutcomeStay || d.WouldTo != "Registered" {
		t.Fatalf("decision under override = %+v", d)
	}
}

func TestAppealOverturnSetsTheNewTierFromTheDecision(t *testing.T) {
	h := newTierHarness(t, false)
	for _, q := range []string{"2026-Q3", "2026-Q4"} {
		ds, _ := h.e.Review(q)
		h.e.PutTierDecisions(ds)
	}
	jan := time.Date(2027, 1, 20, 9, 0, 0, 0, berlin)
	h.send(win("w1", "p3", "m4", jan, 1000))
	if a := awardOf(t, h.e, "w1"); a != 100 {
		t.Fatalf("award after downgrade = %d", a)
	}
	h.e.PutTierAppeal(TierAppeal{ID: "a1", Partner: "p3", Quarter: "2026-Q4", Text: "deals booked late", At: jan, Status: AppealOpen})
	if a := awardOf(t, h.e, "w1"); a != 100 {
		t.Fatalf("an open appeal changed the award: %d", a)
	}
	h.e.PutTierAppeal(TierAppeal{ID: "a1", Partner: "p3", Quarter: "2026-Q4", Text: "deals booked late", At: jan,
		Status: AppealOverturned, Tier: "Select", Reply: "confirmed with finance", DecidedAt: jan.Add(48 * time.Hour)})
	if got := h.e.TierAt("p3", time.Date(2027, 1, 11, 0, 0, 0, 0, berlin)); got != "Select" {
		t.Fatalf("tier after overturn = %s", got)
	}
	if a := awardOf(t, h.e, "w1"); a != 150 {
		t.Fatalf("award after overturn = %d, want 150", a)
	}
	hist, _ := h.e.TierHistory("p3")
	kinds := []string{}
	for _, c := range hist {
		kinds = append(kinds, c.Kind)
	}
	if !slices.Contains(kinds, "appeal") {
		t.Fatalf("history has no appeal: %+v", hist)
	}
	mb, _ := h.e.TierMobility("2026-Q4")
	if mb.Counts["Select"][1] != 1 {
		t.Fatalf("mobility after overturn = %+v, want Select→Select 1", mb.Counts)
	}
}

func TestByTypeCriteria(t *testing.T) {
	h := newTierHarness(t, true)
	h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: time.Unix(0, 0),
		Partner: rung.Partner{ID: "p2", Name: "Partner p2", Size: "smb", Type: "isv"}})
	h.send(cert("c1", "p2", "m3", at(2, 9)))
	if got := h.e.TierAt("p2", at(2, 9)); got != "Select" {
		t.Fatalf("isv with one certified person = %s, want Select", got)
	}
	h.send(cert("c2", "p1", "m1", at(2, 9)))
	if got := h.e.TierAt("p1", at(2, 9)); got != "Registered" {
		t.Fatalf("reseller with one certified person = %s, want Registered", got)
	}
}

func TestRollingWindowBoundariesInProgramTimeZone(t *testing.T) {
	h := newTierHarness(t, false)
	// 2026-Q4's four quarters start at 2026-01-01 00:00 in Berlin, which is
	// 2025-12-31 23:00 UTC.
	h.send(cert("c1", "p1", "m1", time.Date(2026, 1, 1, 0, 30, 0, 0, berlin)))
	h.send(cert("c2", "p1", "m2", time.Date(2025, 12, 31, 23, 30, 0, 0, berlin)))
	h.send(win("in", "p1", "m1", time.Date(2026, 12, 31, 23, 59, 0, 0, berlin), 100000))
	ds, _ := h.e.Review("2026-Q4")
	d := find(t, ds, "p1")
	certs := d.Checks[0].Criteria[1]
	rev := d.Checks[0].Criteria[0]
	if certs.Value != 1 || rev.Value != 100000 {
		t.Fatalf("window values: certs %v (want 1: 23:30 Dec 31 is outside), revenue %v", certs.Value, rev.Value)
	}
	// An event at 00:00 of the next quarter in Berlin is outside.
	h.send(cert("c3", "p1", "m2", time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)))
	ds, _ = h.e.Review("2026-Q4")
	if v := find(t, ds, "p1").Checks[0].Criteria[1].Value; v != 1 {
		t.Fatalf("certs with an event at the next quarter's start = %v, want 1", v)
	}
}

func TestTierCardSaysWhatIsMissing(t *testing.T) {
	h := newTierHarness(t, false)
	h.send(cert("c1", "p1", "m1", at(2, 9)))
	h.send(win("w1", "p1", "m1", at(5, 9), 58000))
	sc, _ := h.e.PartnerScorecard("p1", at(20, 0))
	tc := sc.Tier
	want := []string{"€42,000 more sourced revenue", "1 more certified person"}
	if tc.Next != "Select" || !reflect.DeepEqual(tc.Missing, want) {
		t.Fatalf("tier card = %+v, missing want %q", tc, want)
	}
	if tc.Criteria[0].Progress != 0.58 || tc.Criteria[1].Progress != 0.5 || tc.Criteria[0].Met {
		t.Fatalf("criteria = %+v", tc.Criteria)
	}
	if !reflect.DeepEqual(tc.NextBenefits, []string{"Priority support", "MDF"}) {
		t.Fatalf("next benefits = %v", tc.NextBenefits)
	}
	// All but one criterion met: a nudge.
	h.send(cert("c2", "p1", "m2", at(6, 9)))
	ns := h.e.Nudges(at(20, 0))
	if len(ns) != 1 || ns[0].Partner != "p1" || ns[0].Tier != "Select" || ns[0].ID != NudgeID("p1", "Select", "2026-Q4") {
		t.Fatalf("nudges = %+v", ns)
	}
}

func TestBadQuarterAndMissingTiersAreInvalid(t *testing.T) {
	h := newTierHarness(t, false)
	for _, q := range []string{"2026Q4", "2026-Q5", ""} {
		if _, err := h.e.Review(q); rung.ErrorCode(err) != rung.EINVALID {
			t.Errorf("Review(%q) error = %v, want EINVALID", q, err)
		}
	}
	h2 := newHarness(t, "name: x\ntimezone: UTC\n", h.now)
	if _, err := h2.e.Review("2026-Q4"); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("review without tiers: %v", err)
	}
}

// TestTiersAreIndependentOfArrivalOrder extends the determinism property
// to tiers: auto-upgrades (which move multipliers) and published decisions
// give the same state in any arrival order and on a rebuild.
func TestTiersAreIndependentOfArrivalOrder(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) { checkTierOrders(t, now) })
}

// TestTierHistoriesWithCorrectionsAreIndependentOfArrivalOrder runs the
// general determinism check (versions, duplicates, retractions in any
// interleaving, then a rebuild) on the auto-upgrading tier program.
func TestTierHistoriesWithCorrectionsAreIndependentOfArrivalOrder(t *testing.T) {
	checkArrivalOrder(t, tierSetup)
}

func tierSetup(t *rapid.T, now time.Time) *harness {
	src := strings.ReplaceAll(tierProgram, "AUTO", "true")
	src = strings.ReplaceAll(src, "at_least: 100000, label", "at_least: 150000, label")
	h := newHarness(t, src, now)
	h.e.PutTierDecisions([]TierDecision{{Quarter: "2026-Q3", Partner: "p3", From: "Select", To: "Registered",
		Qualified: "Registered", Outcome: OutcomeDowngrade, EffectiveAt: time.Date(2026, 10, 11, 0, 0, 0, 0, berlin)}})
	h.e.PutTierOverride(TierOverride{ID: "o", Partner: "p2", Tier: "Elite", Reason: "r",
		From: time.Date(2026, 11, 3, 0, 0, 0, 0, berlin), Until: time.Date(2026, 11, 5, 0, 0, 0, 0, berlin)})
	return h
}

func checkTierOrders(t *rapid.T, now time.Time) {
	setup := tierSetup
	{
		n := rapid.IntRange(1, 20).Draw(t, "events")
		var evs []rung.Event
		for i := 0; i < n; i++ {
			e := genEvent(t, fmt.Sprintf("e%02d", i))
			if e.Type == "deal.won" {
				e.Attrs["amount"] = float64(rapid.IntRange(10, 120).Draw(t, "k")) * 1000
			}
			evs = append(evs, e)
		}
		perm := rapid.Permutation(evs).Draw(t, "order")
		var ops []op
		for _, e := range evs {
			ops = append(ops, op{ev: e})
		}
		var permOps []op
		for _, e := range perm {
			permOps = append(permOps, op{ev: e})
		}
		a := run(t, setup, ops, now)
		b := run(t, setup, permOps, now)
		if da, db := a.e.Digest(now), b.e.Digest(now); da != db {
			t.Fatalf("two arrival orders differ:\nA:\n%s\nB:\n%s", dump(a.e, now), dump(b.e, now))
		}
		r := replay(t, setup, a, now)
		if da, dr := a.e.Digest(now), r.Digest(now); da != dr {
			t.Fatalf("incremental differs from rebuild:\nincremental:\n%s\nrebuild:\n%s", dump(a.e, now), dump(r, now))
		}
		// Publishing a review after the fact equals having it before.
		ds, err := a.e.Review("2026-Q3")
		if err != nil {
			t.Fatal(err)
		}
		a.e.PutTierDecisions(ds)
		r.PutTierDecisions(ds)
		if da, dr := a.e.Digest(now), r.Digest(now); da != dr {
			t.Fatalf("after publishing, incremental differs from rebuild")
		}
	}
}

// TestTierTimelinesOverManyQuarters spreads wins over a year with a
// one-quarter tier window, so a late win's effect on the criteria ends
// long before the newest events: the timeline kept past that horizon must
// be the one a rebuild computes, in any arrival order.
func TestTierTimelinesOverManyQuarters(t *testing.T) {
	now := time.Date(2026, 12, 20, 12, 0, 0, 0, berlin)
	src := strings.ReplaceAll(tierProgram, "AUTO", "true")
	src = strings.ReplaceAll(src, "window: 4q", "window: quarter")
	src = strings.ReplaceAll(src, "      - {id: certs, metric: certified_people, at_least: 2, label: Certified people}\n", "")
	src = strings.ReplaceAll(src, "at_least: 1000000}", "at_least: 300000}")
	setup := func(t *rapid.T, now time.Time) *harness { return newHarness(t, src, now) }
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 24).Draw(t, "events")
		var evs []rung.Event
		for i := range n {
			member := rapid.SampledFrom([]string{"m1", "m2", "m3", "m4"}).Draw(t, "member")
			typ := rapid.SampledFrom([]string{"deal.won", "deal.won", "deal.won", "survey.csat"}).Draw(t, "type")
			at := time.Date(2026, time.Month(rapid.IntRange(1, 12).Draw(t, "month")), rapid.IntRange(1, 28).Draw(t, "day"), 12, 0, 0, 0, berlin)
			ev := rung.Event{ID: fmt.Sprintf("e%02d", i), Type: typ, Partner: memberPartner[member], Member: member, OccurredAt: at, Attrs: map[string]any{}}
			if typ == "deal.won" {
				ev.Attrs["amount"] = float64(rapid.IntRange(20, 160).Draw(t, "k")) * 1000
			} else {
				ev.Member = ""
				ev.Attrs["score"] = float64(rapid.IntRange(3, 5).Draw(t, "csat"))
			}
			evs = append(evs, ev)
		}
		perm := rapid.Permutation(evs).Draw(t, "order")
		var ops, permOps []op
		for i := range evs {
			ops = append(ops, op{ev: evs[i]})
			permOps = append(permOps, op{ev: perm[i]})
		}
		a := run(t, setup, ops, now)
		b := run(t, setup, permOps, now)
		if da, db := a.e.Digest(now), b.e.Digest(now); da != db {
			t.Fatalf("two arrival orders differ:\nA:\n%s\nB:\n%s", dump(a.e, now), dump(b.e, now))
		}
		if r := replay(t, setup, a, now); a.e.Digest(now) != r.Digest(now) {
			t.Fatalf("incremental differs from rebuild:\nincremental:\n%s\nrebuild:\n%s", dump(a.e, now), dump(r, now))
		}
	})
}
