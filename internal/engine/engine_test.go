package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

const testProgram = `
name: Test Program
timezone: Europe/Berlin
fiscal_year_start: 1
activities:
  portal.login: {label: Portal login, vanity: true}
cohorts:
  size: partner.size
metrics:
  registrations: {count: deal.registered, where: event.attrs.qualified == true}
  first_meetings: {count: meeting.first}
  meeting_rate: {ratio: [first_meetings, registrations], min_sample: 2}
  sourced_revenue: {sum: deal.won, value: event.attrs.amount}
  certified: {distinct: certification.earned, value: event.member}
  csat: {avg: survey.csat, value: event.attrs.score}
points:
  expire: quarter
  rules:
    - id: training
      on: training.completed
      when: event.attrs.score >= 80
      award: 50
      limit: {max: 200, per: day}
    - id: certification
      on: certification.earned
      award: 300
      once_per: event.attrs.cert_id
    - id: win
      on: deal.won
      award: min(1000, event.attrs.amount / 100)
      multiplier: {Select: 1.5}
    - id: csat
      on: survey.csat
      to: partner
      award: event.attrs.score * 2.5
levels:
  - {name: Rookie, at: 0}
  - {name: Pro, at: 500}
tiers:
  levels: [Registered, Select, Elite]
  criteria:
    Select:
      - {id: revenue, metric: sourced_revenue, at_least: 100000}
    Elite:
      - {id: revenue, metric: sourced_revenue, at_least: 1000000}
leaderboards:
  - id: quarter-points
    metric: points
    for: member
    window: quarter
  - id: partner-points
    metric: points
    for: partner
    window: quarter
    cohort: size
  - id: revenue
    metric: sourced_revenue
    for: partner
    window: 4q
  - id: meeting-rate
    metric: meeting_rate
    for: partner
    window: quarter
`

var berlin, _ = time.LoadLocation("Europe/Berlin")

// harness drives an engine the way the service does.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

type harness struct {
	t   tb
	e   *Engine
	seq int64
	now time.Time
}

func newHarness(t tb, src string, now time.Time) *harness {
	t.Helper()
	p, err := program.Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	h := &harness{t: t, e: New(), now: now}
	h.partner("p1", "smb", "")
	h.partner("p2", "smb", "")
	h.partner("p3", "enterprise", "Select")
	h.member("m1", "p1")
	h.member("m2", "p1")
	h.member("m3", "p2")
	h.member("m4", "p3")
	if err := h.e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now); err != nil {
		t.Fatalf("%v", err)
	}
	return h
}

func (h *harness) partner(id, size, tier string) {
	v := len(h.e.PartnerVersions(id)) + 1
	h.e.PutPartner(rung.PartnerVersion{Version: v, ValidFrom: time.Unix(0, 0),
		Partner: rung.Partner{ID: id, Name: "Partner " + id, Size: size, InitialTier: tier}})
}

func (h *harness) member(id, partner string) {
	h.e.PutMember(rung.Member{ID: id, Partner: partner, Name: "Member " + id,
		Memberships: []rung.Membership{{Partner: partner}}})
}

// send applies an event as the service would: classify, then apply.
func (h *harness) send(ev rung.Event) (Status, []Note) {
	h.t.Helper()
	st, v, _ := h.e.Classify(&ev)
	if st == StatusDuplicate {
		return st, nil
	}
	h.seq++
	return st, h.e.Apply(&rung.Record{Seq: h.seq, Version: v, Event: ev})
}

func (h *harness) retract(id string) {
	h.t.Helper()
	known, retracted, v := h.e.Known(id)
	if !known || retracted {
		h.t.Fatalf("retract %s: known=%v retracted=%v", id, known, retracted)
	}
	h.seq++
	h.e.Apply(&rung.Record{Seq: h.seq, Version: v + 1, Retracted: true, Event: h.e.EventBody(id)})
}

func (h *harness) balance(member string) Points {
	h.t.Helper()
	sc, err := h.e.MemberScorecard(member, h.now)
	if err != nil {
		h.t.Fatalf("%v", err)
	}
	return sc.Points
}

func ev(id, typ, partner, member string, at time.Time, attrs map[string]any) rung.Event {
	return rung.Event{ID: id, Type: typ, Partner: partner, Member: member, OccurredAt: at, Attrs: attrs}
}

func at(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, berlin) }

func TestRuleAwardsWhenConditionHolds(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	tests := []struct {
		name   string
		attrs  map[string]any
		points int64
		note   string
	}{
		{"score above threshold", map[string]any{"score": 91.0}, 50, ""},
		{"score below threshold", map[string]any{"score": 70.0}, 0, ""},
		{"missing attribute fails with a note", map[string]any{}, 0, "rule training: when"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.balance("m1").Lifetime
			id := "lms:" + string(rune('a'+i)) + ":training.completed"
			_, notes := h.send(ev(id, "training.completed", "p1", "m1", at(2+i, 10), tt.attrs))
			if got := h.balance("m1").Lifetime - before; got != tt.points {
				t.Errorf("awarded %d, want %d", got, tt.points)
			}
			if tt.note != "" && (len(notes) == 0 || !strings.Contains(notes[0], tt.note)) {
				t.Errorf("notes %v, want one containing %q", notes, tt.note)
			}
		})
	}
}

func TestCapTrimsAwardToWhatIsLeft(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	for i := 0; i < 5; i++ {
		h.send(ev("t"+string(rune('0'+i)), "training.completed", "p1", "m1", at(3, 8+i), map[string]any{"score": 90.0}))
	}
	if got := h.balance("m1").Lifetime; got != 200 {
		t.Fatalf("lifetime %d, want 200 (cap 200/day)", got)
	}
	ef, _ := h.e.EventEffects("t4")
	if len(ef.Awards) != 0 || len(ef.Notes) == 0 || !strings.Contains(ef.Notes[0], "limit 200 per day") {
		t.Fatalf("capped event effects = %+v, want no award and a limit note", ef)
	}
	// The next local day has a fresh cap.
	h.send(ev("t5", "training.completed", "p1", "m1", at(4, 8), map[string]any{"score": 90.0}))
	if got := h.balance("m1").Lifetime; got != 250 {
		t.Fatalf("lifetime %d, want 250", got)
	}
}

func TestLateEventTakesItsPlaceUnderTheCap(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	for i := 1; i <= 4; i++ {
		h.send(ev("t"+string(rune('0'+i)), "training.completed", "p1", "m1", at(3, 8+i), map[string]any{"score": 90.0}))
	}
	// An earlier event arrives late: it gets its award, the last one is capped.
	h.send(ev("t0", "training.completed", "p1", "m1", at(3, 7), map[string]any{"score": 90.0}))
	ef0, _ := h.e.EventEffects("t0")
	ef4, _ := h.e.EventEffects("t4")
	if len(ef0.Awards) != 1 || ef0.Awards[0].Points != 50 {
		t.Errorf("late early event: %+v, want 50 points", ef0.Awards)
	}
	if len(ef4.Awards) != 0 {
		t.Errorf("last event keeps %+v, want capped to nothing", ef4.Awards)
	}
	// Retracting the early one frees the cap again.
	h.retract("t0")
	ef4, _ = h.e.EventEffects("t4")
	if len(ef4.Awards) != 1 || ef4.Awards[0].Points != 50 {
		t.Errorf("after retraction t4 = %+v, want 50 points", ef4.Awards)
	}
	if got := h.balance("m1").Lifetime; got != 200 {
		t.Errorf("lifetime %d, want 200", got)
	}
}

func TestOncePerAwardsOncePerKey(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("c1", "certification.earned", "p1", "m1", at(5, 10), map[string]any{"cert_id": "ARCH-1"}))
	h.send(ev("c2", "certification.earned", "p1", "m1", at(6, 10), map[string]any{"cert_id": "ARCH-1"}))
	h.send(ev("c3", "certification.earned", "p1", "m1", at(7, 10), map[string]any{"cert_id": "SALES-1"}))
	if got := h.balance("m1").Lifetime; got != 600 {
		t.Fatalf("lifetime %d, want 600 (two distinct certs)", got)
	}
	// Another member may earn the same key.
	h.send(ev("c4", "certification.earned", "p1", "m2", at(7, 10), map[string]any{"cert_id": "ARCH-1"}))
	if got := h.balance("m2").Lifetime; got != 300 {
		t.Fatalf("m2 lifetime %d, want 300", got)
	}
	// A late, earlier copy takes the award; the first one loses it.
	h.send(ev("c0", "certification.earned", "p1", "m1", at(4, 10), map[string]any{"cert_id": "ARCH-1"}))
	ef1, _ := h.e.EventEffects("c1")
	ef0, _ := h.e.EventEffects("c0")
	if len(ef1.Awards) != 0 || len(ef0.Awards) != 1 {
		t.Fatalf("c0 %v c1 %v: the earliest event must hold the key", ef0.Awards, ef1.Awards)
	}
}

func TestAwardExpressionMultiplierAndRounding(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	tests := []struct {
		name    string
		partner string
		member  string
		amount  float64
		want    int64
	}{
		{"capped by min", "p1", "m1", 250000, 1000},
		{"amount / 100", "p2", "m3", 50000, 500},
		{"Select multiplier 1.5 rounds half away from zero", "p3", "m4", 3300, 50}, // 33 * 1.5 = 49.5 → 50
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "crm:w" + string(rune('0'+i)) + ":deal.won"
			h.send(ev(id, "deal.won", tt.partner, tt.member, at(10, 10), map[string]any{"amount": tt.amount}))
			ef, _ := h.e.EventEffects(id)
			if len(ef.Awards) != 1 || ef.Awards[0].Points != tt.want {
				t.Fatalf("awards %+v, want %d points", ef.Awards, tt.want)
			}
		})
	}
}

func TestPartnerRuleAndVanityTypes(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("s1", "survey.csat", "p1", "", at(5, 10), map[string]any{"score": 4.0}))
	h.send(ev("l1", "portal.login", "p1", "m1", at(5, 10), nil))
	sc, _ := h.e.PartnerScorecard("p1", h.now)
	if sc.Points.Lifetime != 10 {
		t.Fatalf("partner lifetime %d, want 10 (csat 4 × 2.5; logins are vanity)", sc.Points.Lifetime)
	}
}

func TestPointsExpireAtQuarterEndInProgramTimeZone(t *testing.T) {
	h := newHarness(t, testProgram, time.Date(2027, 1, 15, 12, 0, 0, 0, berlin))
	// 23:30 local on the last day of Q4 is still Q4: expires at Q4's end.
	h.send(ev("late", "training.completed", "p1", "m1", time.Date(2026, 12, 31, 23, 30, 0, 0, berlin), map[string]any{"score": 90.0}))
	// 00:30 local on the first day of Q1 belongs to Q1.
	h.send(ev("early", "training.completed", "p1", "m1", time.Date(2027, 1, 1, 0, 30, 0, 0, berlin), map[string]any{"score": 90.0}))
	lg, _ := h.e.Ledger(LedgerFilter{Member: "m1"})
	if len(lg) != 2 {
		t.Fatalf("ledger %+v", lg)
	}
	q1 := time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)
	if !lg[0].ExpiresAt.Equal(q1) {
		t.Errorf("Q4 award expires %v, want %v", lg[0].ExpiresAt, q1)
	}
	if !lg[1].ExpiresAt.Equal(time.Date(2027, 4, 1, 0, 0, 0, 0, berlin)) {
		t.Errorf("Q1 award expires %v", lg[1].ExpiresAt)
	}
	p := h.balance("m1")
	if p.Balance != 50 || p.Lifetime != 100 {
		t.Errorf("balance %d lifetime %d, want 50 and 100 (Q4 points expired)", p.Balance, p.Lifetime)
	}
	// As of the last moment of Q4 both count... the Q1 one had not occurred.
	sc, _ := h.e.MemberScorecard("m1", time.Date(2026, 12, 31, 23, 59, 0, 0, berlin))
	if sc.Points.Balance != 50 || len(sc.Points.Expiring) != 1 || !sc.Points.Expiring[0].At.Equal(q1) {
		t.Errorf("as of Q4 end: %+v", sc.Points)
	}
}

func TestDeductionsSpendOldestExpiringFirst(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("t1", "training.completed", "p1", "m1", time.Date(2026, 9, 10, 10, 0, 0, 0, berlin), map[string]any{"score": 90.0}))
	h.send(ev("t2", "training.completed", "p1", "m1", at(10, 10), map[string]any{"score": 90.0}))
	h.now = time.Date(2026, 9, 20, 10, 0, 0, 0, berlin)
	h.e.AddAdjustment(rung.Adjustment{ID: "a1", Partner: "p1", Member: "m1", Points: -30, Reason: "correction", OccurredAt: h.now})
	// The deduction spent 30 of the Q3 lot; at Q4 the Q3 rest expired.
	h.now = at(30, 12)
	p := h.balance("m1")
	if p.Balance != 50 || p.Lifetime != 70 {
		t.Fatalf("balance %d lifetime %d, want 50 and 70", p.Balance, p.Lifetime)
	}
}

func TestCorrectionReplacesEffects(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("w", "deal.won", "p1", "m1", at(10, 10), map[string]any{"amount": 20000.0}))
	st, _ := h.send(ev("w", "deal.won", "p1", "m1", at(10, 10), map[string]any{"amount": 20000.0}))
	if st != StatusDuplicate {
		t.Fatalf("same content: %s, want duplicate", st)
	}
	st, _ = h.send(ev("w", "deal.won", "p1", "m1", at(10, 10), map[string]any{"amount": 30000.0}))
	if st != StatusCorrected {
		t.Fatalf("new content: %s, want corrected", st)
	}
	if got := h.balance("m1").Lifetime; got != 300 {
		t.Fatalf("lifetime %d, want 300 (only the corrected version counts)", got)
	}
	mv, _ := h.e.PartnerMetric("p1", "sourced_revenue", program.Window{Kind: program.WindowQuarter}, h.now)
	if mv.Value != 30000 {
		t.Fatalf("sourced revenue %v, want 30000", mv.Value)
	}
}

func TestLeaderboardTiesShareRankAndEarliestComesFirst(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("a", "deal.won", "p1", "m1", at(5, 10), map[string]any{"amount": 50000.0})) // 500 at day 5
	h.send(ev("b", "deal.won", "p2", "m3", at(3, 10), map[string]any{"amount": 50000.0})) // 500 at day 3: first
	h.send(ev("c", "deal.won", "p1", "m2", at(4, 10), map[string]any{"amount": 90000.0})) // 900
	h.send(ev("d", "deal.won", "p3", "m4", at(4, 10), map[string]any{"amount": 20000.0})) // 200*1.5=300
	page, err := h.e.Leaderboard("quarter-points", BoardQuery{Limit: 10})
	if err != nil {
		t.Fatalf("%v", err)
	}
	var got []string
	for _, en := range page.Entries {
		got = append(got, en.Subject+":"+itoa(en.Rank))
	}
	want := "m2:1 m3:2 m1:2 m4:4"
	if strings.Join(got, " ") != want {
		t.Fatalf("board %v, want %s", got, want)
	}
	// around centres the page; offset pages.
	page, _ = h.e.Leaderboard("quarter-points", BoardQuery{Limit: 1, Around: "m1"})
	if len(page.Entries) != 1 || page.Entries[0].Subject != "m1" {
		t.Fatalf("around: %+v", page.Entries)
	}
	page, _ = h.e.Leaderboard("quarter-points", BoardQuery{Limit: 2, Offset: 2})
	if page.Total != 4 || len(page.Entries) != 2 || page.Entries[0].Subject != "m1" {
		t.Fatalf("offset: %+v", page)
	}
	// as_of in the past: only what had occurred by then.
	page, _ = h.e.Leaderboard("quarter-points", BoardQuery{Limit: 10, AsOf: at(4, 12)})
	if page.Total != 3 || page.Entries[0].Subject != "m2" {
		t.Fatalf("as_of day 4: %+v", page)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCohortIsFixedAtWindowStart(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("s1", "survey.csat", "p1", "", at(5, 10), map[string]any{"score": 4.0}))
	h.send(ev("s2", "survey.csat", "p3", "", at(5, 10), map[string]any{"score": 2.0}))
	page, _ := h.e.Leaderboard("partner-points", BoardQuery{Cohort: "smb"})
	if page.Total != 1 || page.Entries[0].Subject != "p1" || page.Entries[0].CohortRank != 1 || page.Entries[0].Rank != 1 {
		t.Fatalf("smb cohort: %+v", page)
	}
	// p1 grows mid-quarter: a new version valid from now. It stays smb for
	// this quarter's race.
	h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: at(20, 0), Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "enterprise"}})
	page, _ = h.e.Leaderboard("partner-points", BoardQuery{Cohort: "smb"})
	if page.Total != 1 || page.Entries[0].Subject != "p1" {
		t.Fatalf("after size change, smb cohort: %+v", page)
	}
}

func TestRatioBelowMinSampleIsNotRanked(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("r1", "deal.registered", "p1", "m1", at(3, 10), map[string]any{"qualified": true}))
	h.send(ev("f1", "meeting.first", "p1", "m1", at(4, 10), nil))
	page, _ := h.e.Leaderboard("meeting-rate", BoardQuery{})
	if page.Total != 0 {
		t.Fatalf("one registration (min_sample 2): %+v", page)
	}
	h.send(ev("r2", "deal.registered", "p1", "m1", at(5, 10), map[string]any{"qualified": true}))
	page, _ = h.e.Leaderboard("meeting-rate", BoardQuery{})
	if page.Total != 1 || page.Entries[0].Value != 0.5 {
		t.Fatalf("two registrations, one meeting: %+v", page)
	}
}

func TestMemberLevelFromLifetimePoints(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("w", "deal.won", "p1", "m1", at(10, 10), map[string]any{"amount": 60000.0}))
	sc, _ := h.e.MemberScorecard("m1", h.now)
	if sc.Level == nil || sc.Level.Name != "Pro" || sc.Level.Next != "" {
		t.Fatalf("level %+v, want Pro (600 ≥ 500)", sc.Level)
	}
	ef, _ := h.e.EventEffects("w")
	if len(ef.Levels) != 1 || ef.Levels[0].Level != "Pro" {
		t.Fatalf("event effects levels %+v, want Pro reached", ef.Levels)
	}
}

// On the day clocks go back in Berlin (25 hours long), the daily cap covers
// the whole local day: 00:30 and 23:30 share one cap, and 00:10 the next
// day starts a new one.
func TestDailyCapFollowsLocalDayAcrossDST(t *testing.T) {
	h := newHarness(t, testProgram, time.Date(2026, 10, 28, 12, 0, 0, 0, berlin))
	day := func(d, hh, mm int) time.Time { return time.Date(2026, 10, d, hh, mm, 0, 0, berlin) }
	times := []time.Time{day(25, 0, 30), day(25, 2, 30), day(25, 9, 0), day(25, 18, 0), day(25, 23, 30), day(26, 0, 10)}
	for i, at := range times {
		h.send(ev("dst"+strconv.Itoa(i), "training.completed", "p1", "m1", at, map[string]any{"score": 90.0}))
	}
	// Four awards of 50 fill the 200 cap on the 25th; the fifth (23:30) is
	// capped; the 26th gets its own.
	ef, _ := h.e.EventEffects("dst4")
	if len(ef.Awards) != 0 {
		t.Fatalf("23:30 on the long day: %+v, want capped", ef.Awards)
	}
	ef, _ = h.e.EventEffects("dst5")
	if len(ef.Awards) != 1 || ef.Awards[0].Points != 50 {
		t.Fatalf("00:10 the next day: %+v, want 50", ef.Awards)
	}
	if got := h.balance("m1").Lifetime; got != 250 {
		t.Fatalf("lifetime %d, want 250", got)
	}
}

// Expiry in days counts 24-hour days from the event, across DST changes.
func TestDayExpiryAcrossDST(t *testing.T) {
	src := strings.Replace(testProgram, "expire: quarter", "expire: 7d", 1)
	h := newHarness(t, src, time.Date(2026, 11, 10, 12, 0, 0, 0, berlin))
	at := time.Date(2026, 10, 24, 12, 0, 0, 0, berlin)
	h.send(ev("x", "training.completed", "p1", "m1", at, map[string]any{"score": 90.0}))
	lg, _ := h.e.Ledger(LedgerFilter{Member: "m1"})
	if len(lg) != 1 || !lg[0].ExpiresAt.Equal(at.Add(7*24*time.Hour)) {
		t.Fatalf("ledger %+v, want expiry 168 h after the event", lg)
	}
}

// A member who moved shows, on a board as of before the move, the partner
// it had then.
func TestBoardAsOfShowsThePartnerOfThatTime(t *testing.T) {
	h := newHarness(t, testProgram, at(30, 12))
	h.send(ev("w", "deal.won", "p1", "m1", at(5, 10), map[string]any{"amount": 10000.0}))
	h.e.PutMember(rung.Member{ID: "m1", Partner: "p2", Name: "Member m1",
		Memberships: []rung.Membership{{Partner: "p1", LeftAt: at(20, 0)}, {Partner: "p2", JoinedAt: at(20, 0)}}})
	page, _ := h.e.Leaderboard("quarter-points", BoardQuery{AsOf: at(10, 0)})
	if len(page.Entries) != 1 || page.Entries[0].Partner != "p1" {
		t.Fatalf("as of day 10: %+v, want m1 at p1", page.Entries)
	}
	page, _ = h.e.Leaderboard("quarter-points", BoardQuery{})
	if len(page.Entries) != 1 || page.Entries[0].Partner != "p2" {
		t.Fatalf("now: %+v, want m1 at p2", page.Entries)
	}
}

// Rules that read `partner` and `member` see them, also when only an older
// program version reads them; a program that reads neither scores the same
// without them.
func TestRulesSeePartnerAndMemberWhenTheyReadThem(t *testing.T) {
	const reads = `
name: t
timezone: UTC
activities: {deal.won: {label: Won}, training.completed: {label: Trained}}
points:
  rules:
    - {id: smb, on: deal.won, when: "partner.size == 'smb' && partner.tier == ''", award: 10}
    - {id: role, on: training.completed, when: "member.name == 'Member m1'", award: 5}
`
	const plain = `
name: t
timezone: UTC
activities: {deal.won: {label: Won}, training.completed: {label: Trained}}
points:
  rules:
    - {id: any, on: deal.won, award: 1}
    - {id: any-training, on: training.completed, award: 1}
`
	tests := []struct {
		name     string
		versions []string
		want     map[string]int64 // lifetime points by member
	}{
		{"reads them", []string{reads}, map[string]int64{"m1": 15, "m2": 10, "m3": 10}},
		{"reads neither", []string{plain}, map[string]int64{"m1": 2, "m2": 2, "m3": 1}},
		// Events before day 10 follow the first version.
		{"an older version reads them", []string{reads, plain}, map[string]int64{"m1": 15, "m2": 10, "m3": 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testProgram, at(30, 12))
			var vs []*Version
			for i, src := range tt.versions {
				p, err := program.Parse([]byte(src))
				if err != nil {
					t.Fatal(err)
				}
				vs = append(vs, &Version{N: i + 1, From: at(10*i+1, 0), Program: p})
			}
			vs[0].From = time.Unix(0, 0)
			if err := h.e.SetVersions(vs, h.now); err != nil {
				t.Fatal(err)
			}
			h.send(ev("w1", "deal.won", "p1", "m1", at(2, 10), nil))
			h.send(ev("t1", "training.completed", "p1", "m1", at(2, 11), nil))
			h.send(ev("t2", "training.completed", "p1", "m2", at(2, 11), nil))
			h.send(ev("w2", "deal.won", "p1", "m2", at(3, 10), nil))
			h.send(ev("w3", "deal.won", "p2", "m3", at(3, 10), nil))
			h.send(ev("w4", "deal.won", "p3", "m4", at(3, 10), nil)) // enterprise
			for m, want := range tt.want {
				if got := h.balance(m).Lifetime; got != want {
					t.Errorf("%s: lifetime %d, want %d", m, got, want)
				}
			}
		})
	}
}
