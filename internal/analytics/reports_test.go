package analytics

import (
	"strings"
	"testing"
	"time"
)

func jan(d, h int) int64 { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC).UnixNano() }

// fixture is a small program: partners A and B in EMEA, C in NA; two weeks
// from Monday 5 January 2026. Every expected figure below is worked out by
// hand in the tests' comments.
func fixture() *Snapshot {
	s := &Snapshot{
		Loc: time.UTC,
		Partners: []Partner{
			{ID: "A", Name: "Alpha", Region: "emea", Size: "smb", Type: "reseller"},
			{ID: "B", Name: "Beta", Region: "emea", Size: "mid", Type: "isv"},
			{ID: "C", Name: "Gamma", Region: "na", Size: "smb", Type: "reseller"},
		},
		Members: []Member{{ID: "a1", Partner: 0}, {ID: "a2", Partner: 0}, {ID: "b1", Partner: 1}, {ID: "c1", Partner: 2}},
		Types:   []string{"portal.login", "training.completed", "deal.registered", "meeting.first", "deal.won"},
		Events: []Event{
			{At: jan(4, 10), Type: 0, Partner: 2, Member: 3}, // before the period
			{At: jan(5, 10), Type: 0, Partner: 0, Member: 0},
			{At: jan(6, 10), Type: 1, Partner: 0, Member: 0},
			{At: jan(7, 10), Type: 2, Partner: 0, Member: 1, Qualified: true},
			{At: jan(8, 10), Type: 0, Partner: 1, Member: 2},
			{At: jan(12, 10), Type: 0, Partner: 0, Member: 0}, // week 2
			{At: jan(13, 10), Type: 2, Partner: 1, Member: 2},
			{At: jan(14, 10), Type: 3, Partner: 0, Member: 1},
			{At: jan(15, 10), Type: 4, Partner: 0, Member: 1},
		},
		Awards: []Award{
			{At: jan(4, 10), Expires: jan(10, 0), Partner: 2, Member: 3, Points: 30},
			{At: jan(6, 10), Expires: jan(12, 0), Partner: 0, Member: 0, Points: 50},
			{At: jan(7, 10), Expires: jan(91, 0), Partner: 0, Member: 1, Points: 100},
			{At: jan(9, 10), Partner: 1, Member: -1, Points: 5},
			{At: jan(14, 10), Expires: jan(91, 0), Partner: 0, Member: 1, Points: 150},
			{At: jan(15, 10), Expires: jan(91, 0), Partner: 0, Member: 1, Points: 400, Outcome: true},
		},
		Debits:        []Debit{{At: jan(10, 0), Partner: 0, Member: 0, Points: 20, Redeemed: true}},
		Revenue:       []Amount{{At: jan(15, 10), Partner: 0, Value: 40000}},
		RevenueMetric: "sourced_revenue",
	}
	s.Sort()
	return s
}

var twoWeeks = Query{From: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 19, 0, 0, 0, 0, time.UTC)}

func TestEngagementHandComputed(t *testing.T) {
	r := EngagementOf(fixture(), twoWeeks)
	// 3 partners, 4 members; active: A and B (C's login is before the
	// period), members a1, a2, b1; 8 events in the period.
	if r.Empty || r.Partners != 3 || r.Members != 4 || r.ActivePartners != 2 || r.ActiveMembers != 3 || r.Events != 8 {
		t.Fatalf("engagement = %+v", r)
	}
	if len(r.Weeks) != 2 {
		t.Fatalf("weeks = %+v", r.Weeks)
	}
	// week 1: A, B active (2 of 3); a1, a2, b1; logins 2 (a1, b1),
	// training 1, registration 1
	w := r.Weeks[0]
	if w.ActivePartners != 2 || w.ActiveMembers != 3 || !near(w.ShareActive, 2.0/3) ||
		w.Events["portal.login"] != 2 || w.Events["training.completed"] != 1 || w.Events["deal.registered"] != 1 {
		t.Errorf("week 1 = %+v", w)
	}
	// week 2: A, B; a1, b1, a2; login, registration, meeting, win
	w = r.Weeks[1]
	if w.ActivePartners != 2 || w.ActiveMembers != 3 || w.Events["deal.won"] != 1 || w.Events["portal.login"] != 1 {
		t.Errorf("week 2 = %+v", w)
	}
	// by type: logins 3, registrations 2, then the ones in name order
	want := []TypeCount{{"portal.login", 3}, {"deal.registered", 2}, {"deal.won", 1}, {"meeting.first", 1}, {"training.completed", 1}}
	if len(r.ByType) != len(want) {
		t.Fatalf("by type = %+v", r.ByType)
	}
	for i := range want {
		if r.ByType[i] != want[i] {
			t.Errorf("by type %d = %+v, want %+v", i, r.ByType[i], want[i])
		}
	}

	// EMEA only: 2 partners, both active every week: share 1
	q := twoWeeks
	q.Cohort = "region:EMEA"
	r = EngagementOf(fixture(), q)
	if r.Partners != 2 || r.Members != 3 || !near(r.Weeks[0].ShareActive, 1) {
		t.Errorf("EMEA engagement = %+v", r)
	}
}

func TestPointsHandComputed(t *testing.T) {
	r := PointsOf(fixture(), twoWeeks)
	// issued in the period: 50 + 100 + 5 (week 1) + 150 + 400 (week 2) = 705
	if r.Issued != 705 || r.Weeks[0].Issued != 155 || r.Weeks[1].Issued != 550 {
		t.Errorf("issued = %d (%d, %d), want 705 (155, 550)", r.Issued, r.Weeks[0].Issued, r.Weeks[1].Issued)
	}
	// A redeems 20 on 10 Jan: spent from the oldest-expiring lot (a1's 50,
	// expiring 12 Jan 00:00), 30 left of it, which expire; C's 30 from 4 Jan
	// expire on 10 Jan. Expired: 30 + 30 = 60, both in week 1.
	if r.Redeemed != 20 || r.Expired != 60 || r.Weeks[0].Expired != 60 || r.Weeks[0].Redeemed != 20 {
		t.Errorf("redeemed %d expired %d weeks %+v, want 20, 60", r.Redeemed, r.Expired, r.Weeks)
	}
	// outstanding on 19 Jan: A 100+150+400 = 650, B 5 (never expires), C 0
	if r.Outstanding != 655 {
		t.Errorf("outstanding = %d, want 655", r.Outstanding)
	}
	// partners' points in the period: A 700, B 5, C 0. Sorted 0, 5, 700:
	// S = 705, Σ i·x = 0 + 10 + 2100 = 2110; G = 4220/2115 − 4/3 = 0.661939.
	// Top 10% of 3 is one partner: 700/705 = 0.992908.
	p := r.Partners
	if p.N != 3 || p.Total != 705 || abs(p.Gini-0.661939) > 1e-6 || abs(p.Top10Share-0.992908) > 1e-6 {
		t.Errorf("partners = %+v", p)
	}
	// members: a1 50, a2 650, b1 0, c1 0. Sorted 0, 0, 50, 650: S = 700,
	// Σ i·x = 150 + 2600 = 2750; G = 5500/2800 − 5/4 = 0.714286
	if m := r.Members; m.N != 4 || abs(m.Gini-0.714286) > 1e-6 {
		t.Errorf("members = %+v", m)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestOutcomesRows(t *testing.T) {
	r := OutcomesOf(fixture(), twoWeeks, nil)
	// A: points 50+100+150+400 = 700, engagement 700 − 400 (the win) = 300,
	// revenue 40,000, 1 registration, 1 win, no win rate (1 < 3).
	// B: 5 points, 1 registration. C: no event in the period, left out.
	if len(r.Partners) != 2 {
		t.Fatalf("partners = %+v", r.Partners)
	}
	a := r.Partners[0]
	if a.Partner != "A" || a.Points != 700 || a.EngagementPoints != 300 || a.Revenue != 40000 || a.Registrations != 1 || a.Won != 1 || a.WinRate != nil {
		t.Errorf("A = %+v", a)
	}
	// two partners: too few for a correlation, which says so with n = 2
	if c := r.Correlations[0]; c.N != 2 || c.Rho != nil {
		t.Errorf("revenue correlation = %+v", c)
	}
	if r.ChallengesMsg == "" || len(r.Challenges) != 0 {
		t.Errorf("without a challenge source: %+v", r)
	}
}

func TestIndicatorsHandComputed(t *testing.T) {
	r := IndicatorsOf(fixture(), twoWeeks)
	// 4 members, a1 trained: 1/4; registrations 2, 1 qualified; 1 meeting:
	// rate 1/1; 1 win
	if r.Members != 4 || r.MembersTrained != 1 || !near(r.TrainingCompletion, 0.25) || r.Registrations != 2 ||
		r.QualifiedRegistrations != 1 || r.FirstMeetings != 1 || r.FirstMeetingRate == nil || *r.FirstMeetingRate != 1 || r.Won != 1 {
		t.Errorf("indicators = %+v", r)
	}
	// funnel: 2 → 1 (0.5) → 1 (1) → 1 (1)
	if s := r.Stages; s[0].Count != 2 || s[0].Rate != nil || *s[1].Rate != 0.5 || *s[2].Rate != 1 || *s[3].Rate != 1 {
		t.Errorf("stages = %+v", s)
	}
}

type challenges []ChallengeRun

func (c challenges) Challenges(from, to time.Time) []ChallengeRun { return c }

func TestChallengeParticipantsBeforeAndDuring(t *testing.T) {
	// A challenge in week 2 with A taking part: before = week 1.
	// A: engagement points week 1: 50 + 100 = 150; week 2: 150 (the 400
	// are for the win, an outcome); revenue 0 then 40,000.
	// Others B and C: week 1: 5 + 0 → mean 2.5; week 2: 0.
	c := challenges{{ID: "sprint", Name: "Sprint", Starts: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC),
		Ends: time.Date(2026, 1, 19, 0, 0, 0, 0, time.UTC), Participants: []string{"A"}}}
	r := OutcomesOf(fixture(), twoWeeks, c)
	if len(r.Challenges) != 1 {
		t.Fatalf("challenges = %+v", r.Challenges)
	}
	e := r.Challenges[0]
	want := GroupTrend{N: 1, PointsBefore: 150, PointsDuring: 150, RevenueBefore: 0, RevenueDuring: 40000}
	if e.Participants != want {
		t.Errorf("participants = %+v, want %+v", e.Participants, want)
	}
	if o := e.Others; o.N != 2 || o.PointsBefore != 2.5 || o.PointsDuring != 0 {
		t.Errorf("others = %+v", o)
	}
}

type tierFacts struct{}

func (tierFacts) Decisions(from, to time.Time) []TierDecision {
	return []TierDecision{
		{Partner: "A", Quarter: "2026-Q1", From: "Registered", To: "Select", Outcome: "upgrade"},
		{Partner: "B", Quarter: "2026-Q1", From: "Registered", To: "Select", Outcome: "upgrade"},
		{Partner: "C", Quarter: "2026-Q1", From: "Select", To: "Select", Outcome: "stay"},
	}
}
func (tierFacts) InGrace(time.Time) []TierGrace { return []TierGrace{{Partner: "C", Tier: "Select"}} }
func (tierFacts) Appeals(from, to time.Time) []TierAppeal {
	return []TierAppeal{{Partner: "A", Outcome: "upheld"}, {Partner: "C", Outcome: "pending"}}
}

func TestTierMobilityTable(t *testing.T) {
	r := TiersOf(fixture(), twoWeeks, tierFacts{})
	// Registered→Select: A and B; Select→Select: C
	if len(r.Mobility) != 2 || r.Mobility[0] != (Mobility{"2026-Q1", "Registered", "Select", 2}) ||
		r.Mobility[1] != (Mobility{"2026-Q1", "Select", "Select", 1}) {
		t.Errorf("mobility = %+v", r.Mobility)
	}
	if len(r.Grace) != 1 || r.Appeals["upheld"] != 1 || r.Appeals["pending"] != 1 {
		t.Errorf("grace %+v appeals %+v", r.Grace, r.Appeals)
	}
	q := twoWeeks
	q.Cohort = "region:emea" // C is in NA
	r = TiersOf(fixture(), q, tierFacts{})
	if len(r.Mobility) != 1 || r.Mobility[0].Count != 2 || len(r.Grace) != 0 || r.Appeals["pending"] != 0 {
		t.Errorf("EMEA tiers = %+v", r)
	}
}

type rewardFacts struct{}

func (rewardFacts) Redemptions(from, to time.Time) []Redemption {
	return []Redemption{{Partner: "A", Reward: "mug", Points: 20, Status: "fulfilled"}, {Partner: "B", Reward: "mug", Points: 99, Status: "rejected"}}
}
func (rewardFacts) PointValue() float64 { return 0.01 }

func TestRewardsCostAndLiability(t *testing.T) {
	r := RewardsOf(fixture(), twoWeeks, rewardFacts{})
	// one redemption counts (B's was rejected): 20 points at 0.01 = 0.20;
	// liability: 655 outstanding × 0.01 = 6.55; A redeemed (revenue 40,000),
	// B did not (0)
	if r.Empty || r.Redemptions != 1 || r.Points != 20 || !near(r.Cost, 0.2) || r.Outstanding != 655 || !near(r.Liability, 6.55) {
		t.Errorf("rewards = %+v", r)
	}
	if r.Redeemers != (GroupRevenue{1, 40000}) || r.Others != (GroupRevenue{1, 0}) {
		t.Errorf("redeemers %+v others %+v", r.Redeemers, r.Others)
	}
}

func TestEmptyPeriodSaysSo(t *testing.T) {
	q := Query{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)}
	s := fixture()
	e, p, o, i := EngagementOf(s, q), PointsOf(s, q), OutcomesOf(s, q, nil), IndicatorsOf(s, q)
	tr, rw := TiersOf(s, q, nil), RewardsOf(s, q, nil)
	for name, h := range map[string]Head{"engagement": e.Head, "points": p.Head, "outcomes": o.Head, "indicators": i.Head,
		"tiers": tr.Head, "rewards": rw.Head} {
		if !h.Empty || h.Message == "" {
			t.Errorf("%s: %+v, want empty with a message", name, h)
		}
	}
	// the weeks are there, with zeros, so a chart can draw its axis
	if len(e.Weeks) != 2 || e.Weeks[0].ActivePartners != 0 || len(p.Weeks) != 2 || p.Partners.Gini != 0 {
		t.Errorf("empty engagement %+v points %+v", e, p)
	}
	// an empty snapshot too
	if r := PointsOf(&Snapshot{}, q); !r.Empty {
		t.Errorf("empty snapshot: %+v", r)
	}
}

func TestParseCohort(t *testing.T) {
	for _, bad := range []string{"emea", "region:", "colour:red"} {
		if _, _, err := ParseCohort(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if f, v, err := ParseCohort("Region:EMEA"); err != nil || f != "region" || v != "EMEA" {
		t.Errorf("got %q %q %v", f, v, err)
	}
}

func TestQueryPartnersLimitsEveryReport(t *testing.T) {
	q := twoWeeks
	q.Partners = map[string]bool{"B": true}
	// B alone: 1 partner, 1 member, 2 events, 5 points
	e, p := EngagementOf(fixture(), q), PointsOf(fixture(), q)
	if e.Partners != 1 || e.Members != 1 || e.Events != 2 || p.Issued != 5 || p.Outstanding != 5 {
		t.Errorf("engagement %+v points issued %d outstanding %d", e, p.Issued, p.Outstanding)
	}
}

func TestCSVKeepsFormulasOut(t *testing.T) {
	s := fixture()
	s.Partners[0].Name = "=HYPERLINK(\"http://evil\")"
	var b strings.Builder
	if err := OutcomesOf(s, twoWeeks, nil).WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	// A: 700 points, 300 engagement, 40,000 revenue, 1 registration, 1 win
	want := "partner,name,points,engagement_points,revenue,registrations,won,win_rate\n" +
		"A,\"'=HYPERLINK(\"\"http://evil\"\")\",700,300,40000,1,1,\n" +
		"B,Beta,5,5,0,1,0,\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}
