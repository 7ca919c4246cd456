package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

const badgeTestProgram = `
name: Badges
timezone: Europe/Berlin
metrics:
  registrations: {count: deal.registered}
  revenue: {sum: deal.won, value: event.attrs.amount}
  csat: {avg: survey.csat, value: event.attrs.score}
points:
  expire: quarter
  rules:
    - id: reg
      on: deal.registered
      award: 100
levels:
  - {name: Rookie, at: 0}
  - {name: Pro, at: 250}
leaderboards:
  - {id: points, metric: points, for: member, window: all}
badges:
  - id: certified-architect
    name: Certified Architect
    on: certification.earned
    when: event.attrs.cert == "architect"
    evidence: event.attrs.cert_id
    points: 50
  - id: deal-maker
    name: Deal Maker
    metric: registrations
    levels: {Bronze: 2, Silver: 3, Gold: 5}
    points: 10
  - id: big-seller
    name: Big Seller
    for: partner
    metric: revenue
    levels: {Bronze: 1000, Gold: 5000}
  - id: happy
    name: Happy Customers
    for: partner
    metric: csat
    levels: {Good: 4}
  - id: ramp-ready
    name: Ramp-Ready
    for: partner
    steps: [portal.setup, training.icp, demo.passed, pitch.validated, deal.registered]
    within: 14d
    from: joined_at
  - id: quick-learner
    name: Quick Learner
    steps: [{type: training.completed, count: 2}, demo.passed]
    within: 2d
    from: first_step
    ordered: true
  - id: sales-closer
    name: Sales Closer
    role: sales
    on: deal.won
    evidence: event.attrs.deal
`

// newBadgeTest is a harness on badgeTestProgram; p1 joined on 2 November,
// 09:00 Berlin time, and m1 is in sales.
func newBadgeTest(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, badgeTestProgram, at(30, 12))
	h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: time.Unix(0, 0),
		Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "smb", JoinedAt: at(2, 9)}})
	h.e.PutMember(rung.Member{ID: "m1", Partner: "p1", Name: "Member m1", Role: "sales", Memberships: []rung.Membership{{Partner: "p1"}}})
	return h
}

// badges returns a subject's badges as "id/level@day" (level and day
// when set), as of t (zero: now).
func (h *harness) badges(subject string, partner bool, t time.Time) []string {
	h.t.Helper()
	var sc Scorecard
	var err error
	if partner {
		sc, err = h.e.PartnerScorecard(subject, t)
	} else {
		sc, err = h.e.MemberScorecard(subject, t)
	}
	if err != nil {
		h.t.Fatalf("%v", err)
	}
	var out []string
	for _, b := range sc.Badges {
		s := b.ID
		if b.Level != "" {
			s += "/" + b.Level
		}
		out = append(out, s+"@"+b.AwardedAt.In(berlin).Format("02T15"))
	}
	return out
}

func TestEventBadgeNeedsEvidence(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]any
		want  []string
		note  string
	}{
		{"with evidence", map[string]any{"cert": "architect", "cert_id": "ARC-1"}, []string{"certified-architect@03T10"}, ""},
		{"when does not hold", map[string]any{"cert": "sales", "cert_id": "S-1"}, nil, ""},
		{"evidence missing", map[string]any{"cert": "architect"}, nil, "badge certified-architect: not awarded without evidence"},
		{"evidence empty", map[string]any{"cert": "architect", "cert_id": " "}, nil, "badge certified-architect: not awarded without evidence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBadgeTest(t)
			_, notes := h.send(ev("lms:1:certification.earned", "certification.earned", "p1", "m2", at(3, 10), tt.attrs))
			if got := h.badges("m2", false, time.Time{}); !slices.Equal(got, tt.want) {
				t.Errorf("badges %v, want %v", got, tt.want)
			}
			if tt.note != "" && !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, tt.note) }) {
				t.Errorf("notes %v, want one containing %q", notes, tt.note)
			}
			if tt.note == "" && len(notes) > 0 {
				t.Errorf("unexpected notes %v", notes)
			}
		})
	}
}

func TestEventBadgeKeepsEvidenceAndEarliestEvent(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("c2", "certification.earned", "p1", "m2", at(5, 10), map[string]any{"cert": "architect", "cert_id": "ARC-2"}))
	h.send(ev("c1", "certification.earned", "p1", "m2", at(4, 10), map[string]any{"cert": "architect", "cert_id": "ARC-1"}))
	sc, _ := h.e.MemberScorecard("m2", time.Time{})
	if len(sc.Badges) != 1 || sc.Badges[0].Evidence != "ARC-1" || !slices.Equal(sc.Badges[0].Events, []string{"c1"}) ||
		sc.Badges[0].Name != "Certified Architect" || !sc.Badges[0].AwardedAt.Equal(at(4, 10)) {
		t.Fatalf("badges %+v, want Certified Architect from c1 with ARC-1 on the 4th", sc.Badges)
	}
}

func TestBadgeRoleLimitsWhoHoldsIt(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("w1", "deal.won", "p1", "m1", at(4, 10), map[string]any{"amount": 10.0, "deal": "D1"}))
	h.send(ev("w2", "deal.won", "p1", "m2", at(4, 11), map[string]any{"amount": 10.0, "deal": "D2"}))
	if got := h.badges("m1", false, time.Time{}); !slices.Equal(got, []string{"sales-closer@04T10"}) {
		t.Errorf("m1 (sales): %v", got)
	}
	if got := h.badges("m2", false, time.Time{}); len(got) != 0 {
		t.Errorf("m2 (no role): %v", got)
	}
	// m2 moves into sales: the badge follows from the facts.
	h.e.PutMember(rung.Member{ID: "m2", Partner: "p1", Name: "Member m2", Role: "sales", Memberships: []rung.Membership{{Partner: "p1"}}})
	if got := h.badges("m2", false, time.Time{}); !slices.Equal(got, []string{"sales-closer@04T11"}) {
		t.Errorf("m2 in sales: %v", got)
	}
}

func TestMetricBadgeLevels(t *testing.T) {
	tests := []struct {
		name  string
		days  []int // registrations, by day of November, in arrival order
		want  []string
		later []string // after retracting the first arrival
	}{
		{"one: nothing", []int{3}, nil, nil},
		{"two: bronze", []int{3, 4}, []string{"deal-maker/Bronze@04T10"}, nil},
		{"three in order", []int{3, 4, 5}, []string{"deal-maker/Bronze@04T10", "deal-maker/Silver@05T10"}, []string{"deal-maker/Bronze@05T10"}},
		{"three late", []int{5, 3, 4}, []string{"deal-maker/Bronze@04T10", "deal-maker/Silver@05T10"}, []string{"deal-maker/Bronze@04T10"}},
		{"five: gold", []int{7, 6, 5, 4, 3}, []string{"deal-maker/Bronze@04T10", "deal-maker/Silver@05T10", "deal-maker/Gold@07T10"},
			[]string{"deal-maker/Bronze@04T10", "deal-maker/Silver@05T10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBadgeTest(t)
			for _, d := range tt.days {
				h.send(ev("r"+time.Duration(d).String(), "deal.registered", "p1", "m2", at(d, 10), nil))
			}
			if got := h.badges("m2", false, time.Time{}); !slices.Equal(got, tt.want) {
				t.Errorf("badges %v, want %v", got, tt.want)
			}
			h.retract("r" + time.Duration(tt.days[0]).String())
			if got := h.badges("m2", false, time.Time{}); !slices.Equal(got, tt.later) {
				t.Errorf("after retraction: badges %v, want %v", got, tt.later)
			}
		})
	}
}

func TestMetricBadgeOnSumAndAverage(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("w1", "deal.won", "p1", "m2", at(3, 10), map[string]any{"amount": 600.0}))
	h.send(ev("w2", "deal.won", "p1", "m2", at(4, 10), map[string]any{"amount": 600.0}))
	h.send(ev("s1", "survey.csat", "p1", "", at(3, 12), map[string]any{"score": 5.0}))
	h.send(ev("s2", "survey.csat", "p1", "", at(4, 12), map[string]any{"score": 2.0}))
	want := []string{"happy/Good@03T12", "big-seller/Bronze@04T10"}
	if got := h.badges("p1", true, time.Time{}); !slices.Equal(got, want) {
		t.Fatalf("badges %v, want %v", got, want)
	}
	// A late survey before the first pulls the average below 4 at every
	// point: the level was never reached.
	h.send(ev("s0", "survey.csat", "p1", "", at(2, 12), map[string]any{"score": 1.0}))
	if got := h.badges("p1", true, time.Time{}); !slices.Equal(got, want[1:]) {
		t.Fatalf("after a low early survey: %v, want %v", got, want[1:])
	}
	if rs := h.e.Revocations(); len(rs) != 1 || rs[0].Badge != "happy" || rs[0].RevokedBy != "s0" {
		t.Fatalf("revocations %+v", rs)
	}
	sc, _ := h.e.PartnerScorecard("p1", time.Time{})
	if sc.Badges[0].Evidence != "revenue 1200" {
		t.Errorf("evidence %q", sc.Badges[0].Evidence)
	}
}

// rampSteps are Ramp-Ready's five steps, one a day from the day given.
func rampSteps(h *harness, from int) {
	for i, typ := range []string{"portal.setup", "training.icp", "demo.passed", "pitch.validated", "deal.registered"} {
		h.send(ev("ramp:"+typ, typ, "p1", "m2", at(from+i, 11), nil))
	}
}

func TestStepBadgeRampReady(t *testing.T) {
	tests := []struct {
		name string
		from int
		want []string
	}{
		{"five tasks in the first days", 3, []string{"ramp-ready@07T11"}},
		{"the last 13 days after joining", 11, []string{"ramp-ready@15T11"}},
		{"the last 14 days and 2 hours after joining", 12, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBadgeTest(t)
			rampSteps(h, tt.from)
			if got := h.badges("p1", true, time.Time{}); !slices.Equal(got, tt.want) {
				t.Errorf("badges %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStepBadgeFromFirstStepOrdered(t *testing.T) {
	tests := []struct {
		name   string
		events []rung.Event
		want   []string
	}{
		{"two trainings then a demo within 2 days", []rung.Event{
			ev("t1", "training.completed", "p1", "m2", at(3, 9), nil),
			ev("t2", "training.completed", "p1", "m2", at(3, 15), nil),
			ev("d1", "demo.passed", "p1", "m2", at(4, 10), nil),
		}, []string{"quick-learner@04T10"}},
		{"demo before the second training does not count", []rung.Event{
			ev("t1", "training.completed", "p1", "m2", at(3, 9), nil),
			ev("d1", "demo.passed", "p1", "m2", at(3, 12), nil),
			ev("t2", "training.completed", "p1", "m2", at(3, 15), nil),
		}, nil},
		{"too slow from the first step", []rung.Event{
			ev("t1", "training.completed", "p1", "m2", at(3, 9), nil),
			ev("t2", "training.completed", "p1", "m2", at(4, 15), nil),
			ev("d1", "demo.passed", "p1", "m2", at(5, 10), nil),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBadgeTest(t)
			for i := len(tt.events) - 1; i >= 0; i-- { // latest first
				h.send(tt.events[i])
			}
			if got := h.badges("m2", false, time.Time{}); !slices.Equal(got, tt.want) {
				t.Errorf("badges %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStepWindowCountsLocalDays: 14 days from joining end at the same
// local time 14 days later, whatever the clock change in between (29 March
// in Berlin): 10:00 UTC on 3 April, not 11:00 as 14×24h would.
func TestStepWindowCountsLocalDays(t *testing.T) {
	joined := time.Date(2026, 3, 20, 12, 0, 0, 0, berlin) // 11:00 UTC
	tests := []struct {
		name string
		last time.Time
		want bool
	}{
		{"at the local deadline", time.Date(2026, 4, 3, 10, 0, 0, 0, time.UTC), true},
		{"half an hour later, inside 14×24h", time.Date(2026, 4, 3, 10, 30, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBadgeTest(t)
			h.e.PutPartner(rung.PartnerVersion{Version: 3, ValidFrom: time.Unix(0, 0),
				Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "smb", JoinedAt: joined}})
			for i, typ := range []string{"portal.setup", "training.icp", "demo.passed", "pitch.validated"} {
				h.send(ev("s"+typ, typ, "p1", "m2", joined.AddDate(0, 0, i+1), nil))
			}
			h.send(ev("last", "deal.registered", "p1", "m2", tt.last, nil))
			sc, _ := h.e.PartnerScorecard("p1", time.Time{})
			if got := len(sc.Badges) == 1; got != tt.want {
				t.Errorf("held %v (%+v), want %v", got, sc.Badges, tt.want)
			}
		})
	}
}

func TestRetractionRevokesBadge(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("c1", "certification.earned", "p1", "m2", at(3, 10), map[string]any{"cert": "architect", "cert_id": "ARC-1"}))
	known, _, v := h.e.Known("c1")
	if !known {
		t.Fatal("c1 unknown")
	}
	h.seq++
	received := at(20, 9)
	h.e.Apply(&rung.Record{Seq: h.seq, Version: v + 1, Retracted: true, ReceivedAt: received, Event: h.e.EventBody("c1")})

	if got := h.badges("m2", false, time.Time{}); len(got) != 0 {
		t.Fatalf("badges after retraction %v", got)
	}
	sc, _ := h.e.MemberScorecard("m2", time.Time{})
	if len(sc.Revoked) != 1 || sc.Revoked[0].ID != "certified-architect" || !sc.Revoked[0].RevokedAt.Equal(received) {
		t.Fatalf("revoked %+v", sc.Revoked)
	}
	// As of a time before the revocation, it was held.
	if got := h.badges("m2", false, at(10, 0)); !slices.Equal(got, []string{"certified-architect@03T10"}) {
		t.Errorf("as of the 10th: %v", got)
	}
	// Before it was awarded, it was not.
	if got := h.badges("m2", false, at(3, 9)); len(got) != 0 {
		t.Errorf("as of before the award: %v", got)
	}
	ef, _ := h.e.EventEffects("c1")
	if len(ef.Badges) != 1 || ef.Badges[0].Change != "revoked" || ef.Badges[0].Badge != "certified-architect" {
		t.Errorf("effects of the retracted event: %+v", ef.Badges)
	}
	// The bonus points went with it.
	if pts := h.balance("m2"); pts.Lifetime != 0 {
		t.Errorf("lifetime %d after revocation, want 0", pts.Lifetime)
	}
}

func TestCorrectionThatRemovesAStepRevokes(t *testing.T) {
	h := newBadgeTest(t)
	rampSteps(h, 3)
	if got := h.badges("p1", true, time.Time{}); len(got) != 1 {
		t.Fatalf("before the correction: %v", got)
	}
	// The demo was in fact passed three weeks later.
	st, _ := h.send(ev("ramp:demo.passed", "demo.passed", "p1", "m2", at(26, 11), nil))
	if st != StatusCorrected {
		t.Fatalf("status %s", st)
	}
	if got := h.badges("p1", true, time.Time{}); len(got) != 0 {
		t.Fatalf("after the correction: %v", got)
	}
	rs := h.e.Revocations()
	if len(rs) != 1 || rs[0].Badge != "ramp-ready" || rs[0].RevokedBy != "ramp:demo.passed" || rs[0].Retraction || len(rs[0].Events) != 5 {
		t.Fatalf("revocations %+v", rs)
	}
	// A correction that keeps the badge revokes nothing.
	h2 := newBadgeTest(t)
	rampSteps(h2, 3)
	h2.send(ev("ramp:demo.passed", "demo.passed", "p1", "m2", at(5, 15), nil))
	if got := h2.badges("p1", true, time.Time{}); !slices.Equal(got, []string{"ramp-ready@07T11"}) || len(h2.e.Revocations()) != 0 {
		t.Fatalf("harmless correction: %v, revocations %+v", got, h2.e.Revocations())
	}
}

func TestBadgeBonusPointsInTheLedger(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("r1", "deal.registered", "p1", "m2", at(3, 10), nil))
	h.send(ev("r2", "deal.registered", "p1", "m2", at(4, 10), nil))
	led, err := h.e.Ledger(LedgerFilter{Member: "m2"})
	if err != nil {
		t.Fatal(err)
	}
	var bonus *LedgerEntry
	for i := range led {
		if led[i].Badge != "" {
			bonus = &led[i]
		}
	}
	if bonus == nil || bonus.Points != 10 || bonus.Rule != "badge:deal-maker:Bronze" || bonus.Badge != "deal-maker" || bonus.BadgeLevel != "Bronze" ||
		bonus.Event != "r2" || !bonus.OccurredAt.Equal(at(4, 10)) || !bonus.ExpiresAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)) {
		t.Fatalf("bonus entry %+v in %+v", bonus, led)
	}
	// 210 points: Rookie; the third registration and Silver's bonus make 320: Pro.
	if sc, _ := h.e.MemberScorecard("m2", time.Time{}); sc.Points.Lifetime != 210 || sc.Level.Name != "Rookie" {
		t.Fatalf("points %+v level %+v", sc.Points, sc.Level)
	}
	h.send(ev("r3", "deal.registered", "p1", "m2", at(5, 10), nil))
	sc, _ := h.e.MemberScorecard("m2", time.Time{})
	if sc.Points.Lifetime != 320 || sc.Level.Name != "Pro" {
		t.Fatalf("points %+v level %+v", sc.Points, sc.Level)
	}
	ef, _ := h.e.EventEffects("r3")
	if len(ef.Badges) != 1 || ef.Badges[0].Level != "Silver" || ef.Badges[0].Points != 10 || len(ef.Awards) != 2 || len(ef.Levels) != 1 {
		t.Fatalf("effects of r3: %+v", ef)
	}
	// The board follows the bonus points.
	page, err := h.e.Leaderboard("points", BoardQuery{Limit: 10})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Value != 320 {
		t.Fatalf("board %+v, %v", page, err)
	}
	// Retracting a registration takes Silver and its bonus away.
	h.retract("r1")
	sc, _ = h.e.MemberScorecard("m2", time.Time{})
	if sc.Points.Lifetime != 210 || len(sc.Badges) != 1 {
		t.Fatalf("after retraction: points %+v badges %+v", sc.Points, sc.Badges)
	}
	if page, _ := h.e.Leaderboard("points", BoardQuery{Limit: 10}); page.Entries[0].Value != 210 {
		t.Fatalf("board after retraction %+v", page.Entries)
	}
}

func TestRecognitionFeed(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("c1", "certification.earned", "p1", "m2", at(3, 10), map[string]any{"cert": "architect", "cert_id": "ARC-1"}))
	h.send(ev("w1", "deal.won", "p1", "m1", at(4, 10), map[string]any{"amount": 2000.0, "deal": "D1"}))
	h.send(ev("r1", "deal.registered", "p2", "m3", at(5, 10), nil))
	h.send(ev("r2", "deal.registered", "p2", "m3", at(6, 10), nil))
	h.send(ev("r3", "deal.registered", "p2", "m3", at(7, 10), nil))

	feed, err := h.e.Feed(FeedFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range feed {
		got = append(got, f.At.In(berlin).Format("02")+" "+f.Subject+" "+f.What)
	}
	want := []string{
		"07 m3 earned Deal Maker (Silver)",
		"07 m3 reached Pro",
		"06 m3 earned Deal Maker (Bronze)",
		"04 m1 earned Sales Closer",
		"04 p1 earned Big Seller (Bronze)",
		"03 m2 earned Certified Architect",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("feed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range feed {
		if strings.Contains(f.What, "2000") || f.Partner == "" || f.PartnerName == "" || f.Name == "" {
			t.Errorf("entry %+v", f)
		}
	}
	// One partner's, limited, as of a time.
	feed, _ = h.e.Feed(FeedFilter{Partner: "p1", Limit: 1})
	if len(feed) != 1 || feed[0].Subject != "m1" {
		t.Errorf("p1, limit 1: %+v", feed)
	}
	feed, _ = h.e.Feed(FeedFilter{AsOf: at(5, 0)})
	if len(feed) != 3 {
		t.Errorf("as of the 5th: %+v", feed)
	}
	if _, err := h.e.Feed(FeedFilter{Partner: "nope"}); err == nil {
		t.Error("unknown partner: no error")
	}
}

// TestEachHeldBadgeListsWhatScorecardsShow: every badge on a member's or
// partner's scorecard, and nothing a retraction took away.
func TestEachHeldBadgeListsWhatScorecardsShow(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("c1", "certification.earned", "p1", "m2", at(4, 10), map[string]any{"cert": "architect", "cert_id": "ARC-1"}))
	h.send(ev("c2", "certification.earned", "p1", "m1", at(4, 11), map[string]any{"cert": "architect", "cert_id": "ARC-2"}))
	for i, id := range []string{"r1", "r2", "r3"} {
		h.send(ev(id, "deal.registered", "p1", "m1", at(5+i, 10), nil))
	}
	h.send(ev("w1", "deal.won", "p1", "m1", at(9, 10), map[string]any{"amount": 2000, "deal": "D-1"}))
	h.retract("c2")

	var got []string
	h.e.EachHeldBadge(func(b HeldBadge) {
		s := b.Kind + ":" + b.Subject + ":" + b.ID
		if b.Level != "" {
			s += "/" + b.Level
		}
		got = append(got, s+"@"+b.AwardedAt.In(berlin).Format("02T15"))
	})
	var want []string
	for _, s := range []struct {
		id      string
		partner bool
	}{{"m1", false}, {"m2", false}, {"p1", true}} {
		kind := "member"
		if s.partner {
			kind = "partner"
		}
		for _, b := range h.badges(s.id, s.partner, time.Time{}) {
			want = append(want, kind+":"+s.id+":"+b)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || len(want) < 4 {
		t.Errorf("EachHeldBadge %v, scorecards %v", got, want)
	}
}

// A correction that moves the event behind a member's badge to a partner
// the engine does not know (a log written elsewhere, or a partner removed
// from a copy) takes the badge away without failing: the revocation names
// the member's own partner.
func TestCorrectionToAnUnknownPartnerRevokes(t *testing.T) {
	h := newBadgeTest(t)
	h.send(ev("c1", "certification.earned", "p1", "m2", at(3, 10), map[string]any{"cert": "architect", "cert_id": "ARC-1"}))
	if got := h.badges("m2", false, time.Time{}); len(got) != 1 {
		t.Fatalf("before the correction: %v", got)
	}
	h.send(ev("c1", "certification.earned", "nowhere", "m2", at(3, 10), map[string]any{"cert": "architect", "cert_id": "ARC-1"}))
	if got := h.badges("m2", false, time.Time{}); len(got) != 0 {
		t.Fatalf("after the move to an unknown partner: %v", got)
	}
	rs := h.e.Revocations()
	if len(rs) != 1 || rs[0].Subject != "m2" || rs[0].Kind != "member" || rs[0].Partner != "p1" || rs[0].RevokedBy != "c1" {
		t.Fatalf("revocations %+v", rs)
	}
}
