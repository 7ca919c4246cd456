package engine

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// challengeProgram is testProgram with a partner challenge (cohorts, a
// goal), a member challenge without a goal, and quests (ordered, windowed,
// for one role).
const challengeProgram = testProgram + `
badges:
  - id: sprint-winner
    name: Sprint Winner
    points: 7
  - id: ramped
    name: Ramped
challenges:
  - id: sprint
    name: Revenue sprint
    starts: 2026-11-01
    ends: 2026-11-05
    for: partner
    metric: sourced_revenue
    goal: 1000
    cohort: size
    winners: 1
    reward: {points: 1000, badge: sprint-winner}
  - id: reg-race
    name: Registration race
    starts: 2026-11-01
    ends: 2026-11-05
    for: member
    metric: registrations
    winners: 2
    finalize_after: 48h
    reward: {points: 100}
  - id: point-race
    name: Point race
    starts: 2026-11-01
    ends: 2026-11-05
    for: member
    metric: points
    winners: 1
    reward: {points: 11}
  - id: ramp
    name: Ramp quest
    starts: 2026-11-01
    ends: 2026-11-30
    steps: [training.completed, {type: deal.registered, where: event.attrs.qualified == true}]
    within: 3d
    from: first_step
    ordered: true
    reward: {points: 50, badge: ramped}
  - id: sales-track
    name: Field-Ready
    starts: 2026-11-01
    ends: 2026-11-30
    role: sales
    steps: [{type: certification.earned, count: 2}]
    reward: {points: 10}
`

// newChallengeHarness is a harness on challengeProgram where m1 sells.
func newChallengeHarness(t tb, now time.Time) *harness {
	h := newHarness(t, challengeProgram, now)
	h.e.PutMember(rung.Member{ID: "m1", Partner: "p1", Name: "Member m1", Role: "sales", Memberships: []rung.Membership{{Partner: "p1"}}})
	return h
}

// sendAt applies an event first received at recv.
func (h *harness) sendAt(e rung.Event, recv time.Time) {
	h.t.Helper()
	st, v, _ := h.e.Classify(&e)
	if st == StatusDuplicate {
		return
	}
	h.seq++
	h.e.Apply(&rung.Record{Seq: h.seq, Version: v, ReceivedAt: recv, Event: e})
}

func won(amount float64) map[string]any { return map[string]any{"amount": amount} }

func (h *harness) standings(id string, asOf time.Time) ChallengeStandings {
	h.t.Helper()
	cs, err := h.e.Challenge(id, ChallengeQuery{AsOf: asOf, Limit: 100})
	if err != nil {
		h.t.Fatalf("%v", err)
	}
	return cs
}

func places(cs ChallengeStandings) string {
	var b strings.Builder
	for _, en := range cs.Entries {
		b.WriteString(en.Subject)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(en.Place))
		if en.Winner {
			b.WriteByte('*')
		}
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

// challengeAwards returns a ledger's challenge rewards as rule@partner/member.
func (h *harness) challengeAwards(partner string) []string {
	h.t.Helper()
	entries, err := h.e.Ledger(LedgerFilter{Partner: partner})
	if err != nil {
		h.t.Fatalf("%v", err)
	}
	var out []string
	for _, le := range entries {
		if le.Challenge != "" {
			out = append(out, le.Rule+"/"+le.Member+"="+strconv.FormatInt(le.Points, 10))
		}
	}
	return out
}

func TestChallengeRules(t *testing.T) {
	final := time.Date(2026, 11, 7, 0, 0, 0, 0, berlin) // ends Nov 6 00:00 + 24h
	tests := []struct {
		name   string
		events []rung.Event
		want   string // the sprint's standings as of final
		cohort string // its cohort winners
	}{
		{"the best wins", []rung.Event{ev("a", "deal.won", "p1", "", at(2, 9), won(5000)), ev("b", "deal.won", "p2", "", at(2, 9), won(3000))},
			"p1:1* p2:2", "smb=p1"},
		{"ties share a place and both win", []rung.Event{ev("a", "deal.won", "p1", "", at(2, 9), won(5000)), ev("b", "deal.won", "p2", "", at(3, 9), won(5000))},
			"p1:1* p2:1*", "smb=p1,p2"},
		{"each cohort has its winner", []rung.Event{ev("a", "deal.won", "p1", "", at(2, 9), won(5000)), ev("b", "deal.won", "p3", "m4", at(2, 9), won(2000))},
			"p1:1* p3:2*", "enterprise=p3 smb=p1"},
		{"below the goal nobody wins", []rung.Event{ev("a", "deal.won", "p1", "", at(2, 9), won(900)), ev("b", "deal.won", "p3", "m4", at(2, 9), won(500))},
			"p1:1 p3:2", ""},
		{"outside the dates does not count", []rung.Event{ev("a", "deal.won", "p1", "", at(6, 0), won(5000)), ev("b", "deal.won", "p2", "", time.Date(2026, 10, 31, 23, 59, 0, 0, berlin), won(5000)),
			ev("c", "deal.won", "p2", "", at(5, 23), won(1000))}, "p2:1*", "smb=p2"},
		{"a team counts its members' events", []rung.Event{ev("a", "deal.won", "p1", "m1", at(2, 9), won(600)), ev("b", "deal.won", "p1", "m2", at(2, 9), won(600)),
			ev("c", "deal.won", "p2", "m3", at(2, 9), won(1100))}, "p1:1* p2:2", "smb=p1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newChallengeHarness(t, final)
			for _, e := range tc.events {
				h.sendAt(e, e.OccurredAt)
			}
			cs := h.standings("sprint", final)
			if cs.Status != ChallengeFinal || cs.Provisional {
				t.Fatalf("status %s provisional %v, want final", cs.Status, cs.Provisional)
			}
			if got := places(cs); got != tc.want {
				t.Fatalf("standings %q, want %q", got, tc.want)
			}
			var cw []string
			for _, c := range cs.CohortWinners {
				cw = append(cw, c.Cohort+"="+strings.Join(c.Winners, ","))
			}
			if got := strings.Join(cw, " "); got != tc.cohort {
				t.Fatalf("cohort winners %q, want %q", got, tc.cohort)
			}
			// Every winner got the reward once, a ledger award at F.
			for _, en := range cs.Entries {
				awards := h.challengeAwards(en.Subject)
				sprint := slices.DeleteFunc(slices.Clone(awards), func(s string) bool { return !strings.HasPrefix(s, "challenge:sprint/") })
				if want := map[bool]int{true: 1, false: 0}[en.Winner]; len(sprint) != want {
					t.Fatalf("%s has sprint rewards %v, want %d", en.Subject, sprint, want)
				}
				sc, _ := h.e.PartnerScorecard(en.Subject, final)
				has := slices.ContainsFunc(sc.Badges, func(b BadgeCard) bool { return b.ID == "sprint-winner" })
				if has != en.Winner {
					t.Fatalf("%s holds sprint-winner %v, winner %v", en.Subject, has, en.Winner)
				}
			}
		})
	}
}

func TestChallengeIsProvisionalUntilFinalized(t *testing.T) {
	h := newChallengeHarness(t, at(3, 12))
	h.sendAt(ev("a", "deal.won", "p1", "", at(2, 9), won(5000)), at(2, 9))
	cs := h.standings("sprint", time.Time{})
	if cs.Status != ChallengeRunning || !cs.Provisional || places(cs) != "p1:1*" {
		t.Fatalf("running: %s %v %q", cs.Status, cs.Provisional, places(cs))
	}
	if got := h.challengeAwards("p1"); len(got) != 0 {
		t.Fatalf("reward before finalization: %v", got)
	}
	h.e.SetNow(at(6, 12))
	if cs := h.standings("sprint", time.Time{}); cs.Status != ChallengeFinalizing || !cs.Provisional {
		t.Fatalf("after the end: %s %v, want finalizing and provisional", cs.Status, cs.Provisional)
	}
	h.e.SetNow(at(7, 0))
	if cs := h.standings("sprint", time.Time{}); cs.Status != ChallengeFinal || cs.Provisional {
		t.Fatalf("at F: %s %v, want final", cs.Status, cs.Provisional)
	}
	if got := h.challengeAwards("p1"); !slices.Equal(got, []string{"challenge:sprint/=1000"}) {
		t.Fatalf("rewards %v", got)
	}
	// As of a time before F the standings are still provisional.
	if cs := h.standings("sprint", at(5, 12)); cs.Status != ChallengeRunning || !cs.Provisional {
		t.Fatalf("as of the last day: %s %v", cs.Status, cs.Provisional)
	}
}

func TestChallengeFinalizationWithLateEvents(t *testing.T) {
	h := newChallengeHarness(t, at(5, 12))
	h.sendAt(ev("a", "deal.won", "p1", "", at(2, 9), won(5000)), at(2, 9))
	h.sendAt(ev("b", "deal.won", "p2", "", at(3, 9), won(4000)), at(3, 9))
	// Late but before F: a deal from the last day, sent the morning after.
	h.sendAt(ev("c", "deal.won", "p2", "", at(5, 22), won(2000)), at(6, 8))
	h.e.SetNow(at(6, 8))
	h.e.SetNow(at(7, 0)) // F
	if got := places(h.standings("sprint", time.Time{})); got != "p2:1* p1:2" {
		t.Fatalf("final standings %q: the event received before F must count", got)
	}
	// After F: a late event counts in metrics but not in the result.
	h.sendAt(ev("d", "deal.won", "p1", "", at(4, 9), won(9000)), at(7, 9))
	h.e.SetNow(at(8, 0))
	cs := h.standings("sprint", time.Time{})
	if got := places(cs); got != "p2:1* p1:2" {
		t.Fatalf("a late event changed the result: %q", got)
	}
	mv, _ := h.e.PartnerMetric("p1", "sourced_revenue", program.Window{Kind: program.WindowAll}, at(8, 0))
	if mv.Value != 14000 {
		t.Fatalf("the late event is not in the metric: %v", mv.Value)
	}
	if got := h.challengeAwards("p2"); !slices.Equal(got, []string{"challenge:sprint/=1000"}) {
		t.Fatalf("p2 rewards %v, want one", got)
	}
	if got := h.challengeAwards("p1"); len(got) != 0 {
		t.Fatalf("p1 rewards %v, want none", got)
	}
	// Time passing and a rebuild from the log give the same result and
	// the reward once.
	h.e.SetNow(at(20, 0))
	h.e.SetNow(at(20, 0))
	r := newChallengeHarness(t, at(20, 0))
	replayInto(t, h, r)
	if a, b := h.e.Digest(at(20, 0)), r.e.Digest(at(20, 0)); a != b {
		t.Fatalf("rebuild differs:\nincremental:\n%s\nrebuild:\n%s", dump(h.e, at(20, 0)), dump(r.e, at(20, 0)))
	}
	if got := r.challengeAwards("p2"); !slices.Equal(got, []string{"challenge:sprint/=1000"}) {
		t.Fatalf("rebuilt rewards %v, want one", got)
	}
	// A correction of a counted event changes the result, and its effects
	// say so.
	h.sendAt(ev("b", "deal.won", "p2", "", at(3, 9), won(100)), at(21, 0))
	if got := places(h.standings("sprint", time.Time{})); got != "p1:1* p2:2" {
		t.Fatalf("after correcting a counted event: %q", got)
	}
	if got := h.challengeAwards("p2"); len(got) != 0 {
		t.Fatalf("p2 kept the reward: %v", got)
	}
	ef, err := h.e.EventEffects("a")
	if err != nil {
		t.Fatal(err)
	}
	if len(ef.Challenges) != 1 || ef.Challenges[0].Change != "won" || ef.Challenges[0].Subject != "p1" || ef.Challenges[0].Points != 1000 {
		t.Fatalf("effects of p1's last counted event: %+v", ef.Challenges)
	}
	if !slices.ContainsFunc(ef.Awards, func(le LedgerEntry) bool { return le.Challenge == "sprint" }) {
		t.Fatalf("the reward is not among the event's awards: %+v", ef.Awards)
	}
}

// replayInto rebuilds r from h's log: every record h applied, in order,
// in bulk as at start-up.
func replayInto(t *testing.T, h, r *harness) {
	t.Helper()
	r.e.BeginBulk(h.e.events.len())
	var recs []rung.Record
	for ev := range h.e.events.all {
		// The harness keeps no log: send each event's current version,
		// with its first receipt.
		if ev.retracted {
			continue
		}
		recs = append(recs, rung.Record{Seq: ev.seq, Version: 1, ReceivedAt: unixTime(ev.recv), Event: *h.e.eventOf(ev)})
	}
	slices.SortFunc(recs, func(a, b rung.Record) int { return int(a.Seq - b.Seq) })
	for i := range recs {
		r.e.Apply(&recs[i])
	}
	r.e.EndBulk(r.now)
}

func TestMemberChallengeWinnersAndTies(t *testing.T) {
	h := newChallengeHarness(t, at(10, 0))
	reg := map[string]any{"qualified": true}
	for i, m := range []string{"m1", "m1", "m2", "m2", "m3", "m4"} {
		p := map[string]string{"m1": "p1", "m2": "p1", "m3": "p2", "m4": "p3"}[m]
		h.sendAt(ev("r"+strconv.Itoa(i), "deal.registered", p, m, at(2, 9+i), reg), at(2, 9+i))
	}
	h.e.SetNow(at(10, 0))
	cs := h.standings("reg-race", time.Time{})
	// m1 and m2 tie for first; m3 and m4 share third, outside winners: 2.
	if got := places(cs); got != "m1:1* m2:1* m3:3 m4:3" {
		t.Fatalf("standings %q", got)
	}
	if got := h.challengeAwards("p1"); !slices.Equal(got, []string{"challenge:reg-race/m1=100", "challenge:reg-race/m2=100"}) {
		t.Fatalf("rewards %v", got)
	}
	sc, _ := h.e.MemberScorecard("m3", time.Time{})
	i := slices.IndexFunc(sc.Challenges, func(c ChallengeCard) bool { return c.ID == "reg-race" })
	if i < 0 || sc.Challenges[i].Rank != 3 || sc.Challenges[i].Value != 1 || !sc.Challenges[i].Final || sc.Challenges[i].Won {
		t.Fatalf("m3's card: %+v", sc.Challenges)
	}
	feed, _ := h.e.Feed(FeedFilter{})
	if !slices.ContainsFunc(feed, func(f FeedEntry) bool {
		return f.Kind == "challenge" && f.Subject == "m1" && f.Challenge == "reg-race" && strings.Contains(f.What, "1st place")
	}) {
		t.Fatalf("no challenge win in the feed: %+v", feed)
	}
}

func TestPointsChallengeLeavesRewardsOut(t *testing.T) {
	h := newChallengeHarness(t, at(10, 0))
	h.sendAt(ev("t1", "training.completed", "p1", "m1", at(2, 9), map[string]any{"score": 90.0}), at(2, 9))
	h.sendAt(ev("t2", "training.completed", "p1", "m2", at(2, 9), map[string]any{"score": 90.0}), at(2, 9))
	h.e.SetNow(at(10, 0))
	// m1 and m2 both have 50 points: a tie; the other challenges' rewards
	// (none here) and badge bonuses never count.
	if got := places(h.standings("point-race", time.Time{})); got != "m1:1* m2:1*" {
		t.Fatalf("standings %q", got)
	}
}

func TestQuestRules(t *testing.T) {
	reg := map[string]any{"qualified": true}
	train := map[string]any{"score": 90.0}
	tests := []struct {
		name   string
		events []rung.Event
		done   bool
		steps  []int // the checklist: done per step
	}{
		{"in order within the window", []rung.Event{ev("a", "training.completed", "p1", "m2", at(2, 9), train), ev("b", "deal.registered", "p1", "m2", at(4, 9), reg)}, true, []int{1, 1}},
		{"out of order does not complete", []rung.Event{ev("b", "deal.registered", "p1", "m2", at(1, 9), reg), ev("a", "training.completed", "p1", "m2", at(2, 9), train)}, false, []int{1, 0}},
		{"the where filter", []rung.Event{ev("a", "training.completed", "p1", "m2", at(2, 9), train), ev("b", "deal.registered", "p1", "m2", at(3, 9), map[string]any{"qualified": false})}, false, []int{1, 0}},
		{"outside the window from the first step", []rung.Event{ev("a", "training.completed", "p1", "m2", at(2, 9), train), ev("b", "deal.registered", "p1", "m2", at(5, 10), reg)}, false, []int{1, 0}},
		{"before the quest starts", []rung.Event{ev("a", "training.completed", "p1", "m2", time.Date(2026, 10, 31, 9, 0, 0, 0, berlin), train), ev("b", "deal.registered", "p1", "m2", at(1, 9), reg)}, false, []int{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newChallengeHarness(t, at(20, 0))
			for _, e := range tc.events {
				h.sendAt(e, e.OccurredAt)
			}
			sc, _ := h.e.MemberScorecard("m2", time.Time{})
			i := slices.IndexFunc(sc.Challenges, func(c ChallengeCard) bool { return c.ID == "ramp" })
			if i < 0 {
				t.Fatalf("no ramp card: %+v", sc.Challenges)
			}
			card := sc.Challenges[i]
			var steps []int
			for _, s := range card.Steps {
				steps = append(steps, s.Done)
			}
			if card.Won != tc.done || !slices.Equal(steps, tc.steps) || card.Kind != "quest" || *card.Goal != 2 {
				t.Fatalf("card %+v, want done %v steps %v", card, tc.done, tc.steps)
			}
			awards := slices.DeleteFunc(h.challengeAwards("p1"), func(s string) bool { return !strings.HasPrefix(s, "challenge:ramp/") })
			held := slices.ContainsFunc(sc.Badges, func(b BadgeCard) bool { return b.ID == "ramped" })
			if tc.done != (len(awards) == 1) || held != tc.done {
				t.Fatalf("rewards %v, badge %v; done %v", awards, held, tc.done)
			}
			if tc.done && !card.CompletedAt.Equal(at(4, 9)) {
				t.Fatalf("completed at %v, want the completing event's time", card.CompletedAt)
			}
		})
	}
}

func TestQuestForOneRole(t *testing.T) {
	h := newChallengeHarness(t, at(20, 0))
	cert := func(id, m, p string) rung.Event {
		return ev(id, "certification.earned", p, m, at(3, 9), map[string]any{"cert_id": id})
	}
	h.sendAt(cert("c1", "m1", "p1"), at(3, 9))
	h.sendAt(cert("c2", "m1", "p1"), at(3, 9))
	h.sendAt(cert("c3", "m2", "p1"), at(3, 9))
	h.sendAt(cert("c4", "m2", "p1"), at(3, 9))
	cs := h.standings("sales-track", time.Time{})
	if len(cs.Entries) != 1 || cs.Entries[0].Subject != "m1" || cs.Entries[0].CompletedAt.IsZero() {
		t.Fatalf("only the seller completes Field-Ready: %+v", cs.Entries)
	}
	sc, _ := h.e.MemberScorecard("m2", time.Time{})
	if slices.ContainsFunc(sc.Challenges, func(c ChallengeCard) bool { return c.ID == "sales-track" }) {
		t.Fatalf("m2 (no role) sees the sales track: %+v", sc.Challenges)
	}
	// m2 becomes a seller: the track completes from the facts it has.
	h.e.PutMember(rung.Member{ID: "m2", Partner: "p1", Name: "Member m2", Role: "sales", Memberships: []rung.Membership{{Partner: "p1"}}})
	if cs := h.standings("sales-track", time.Time{}); len(cs.Entries) != 2 {
		t.Fatalf("after the role change: %+v", cs.Entries)
	}
}

func TestQuestRewardIsTakenBackOnRetraction(t *testing.T) {
	h := newChallengeHarness(t, at(20, 0))
	h.sendAt(ev("a", "training.completed", "p1", "m2", at(2, 9), map[string]any{"score": 90.0}), at(2, 9))
	h.sendAt(ev("b", "deal.registered", "p1", "m2", at(3, 9), map[string]any{"qualified": true}), at(3, 9))
	ef, _ := h.e.EventEffects("b")
	if !slices.ContainsFunc(ef.Challenges, func(c ChallengeEffect) bool {
		return c.Challenge == "ramp" && c.Change == "completed" && c.Points == 50
	}) {
		t.Fatalf("effects: %+v", ef.Challenges)
	}
	h.retract("b")
	if got := h.challengeAwards("p1"); slices.Contains(got, "challenge:ramp/m2=50") {
		t.Fatalf("reward kept after the retraction: %v", got)
	}
	if got := h.badges("m2", false, time.Time{}); slices.Contains(got, "ramped") {
		t.Fatalf("badge kept: %v", got)
	}
	if rv := h.e.Revocations(); len(rv) != 1 || rv[0].Badge != "ramped" {
		t.Fatalf("revocations %+v, want the reward badge", rv)
	}
}

func TestChallengesListWithStatus(t *testing.T) {
	h := newChallengeHarness(t, at(6, 12))
	got := map[string]ChallengeStatus{}
	for _, c := range h.e.Challenges(time.Time{}) {
		got[c.ID] = c.Status
	}
	want := map[string]ChallengeStatus{"sprint": ChallengeFinalizing, "reg-race": ChallengeFinalizing, "point-race": ChallengeFinalizing, "ramp": ChallengeRunning, "sales-track": ChallengeRunning}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: %s, want %s", k, got[k], v)
		}
	}
	if _, err := h.e.Challenge("nope", ChallengeQuery{}); err == nil || !strings.Contains(err.Error(), "sprint") {
		t.Fatalf("unknown challenge: %v", err)
	}
}

// TestChallengesAreIndependentOfArrivalOrder is the determinism check on a
// program with final challenges and quests: any arrival order and a
// rebuild give the same results and rewards.
func TestChallengesAreIndependentOfArrivalOrder(t *testing.T) {
	checkArrivalOrder(t, func(t *rapid.T, now time.Time) *harness { return newChallengeHarness(t, now) })
}

func TestChallengeLoadedAfterItsEndCountsItsHistory(t *testing.T) {
	h := newChallengeHarness(t, at(20, 0))
	// An import after F: every event of the window arrives late.
	h.sendAt(ev("a", "deal.won", "p1", "", at(2, 9), won(5000)), at(20, 0))
	h.sendAt(ev("b", "deal.won", "p2", "", at(3, 9), won(7000)), at(20, 0))
	if got := places(h.standings("sprint", time.Time{})); got != "p2:1* p1:2" {
		t.Fatalf("imported history: %q", got)
	}
	// Once something of the window had arrived by F, later arrivals are late.
	h2 := newChallengeHarness(t, at(20, 0))
	h2.sendAt(ev("a", "deal.won", "p1", "", at(2, 9), won(5000)), at(2, 9))
	h2.sendAt(ev("b", "deal.won", "p2", "", at(3, 9), won(7000)), at(20, 0))
	if got := places(h2.standings("sprint", time.Time{})); got != "p1:1*" {
		t.Fatalf("with a late event: %q", got)
	}
}
