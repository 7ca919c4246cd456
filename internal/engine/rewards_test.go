package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// program90d is testProgram with points that expire 90 days after they are
// earned, so lots of one quarter expire at different times.
var program90d = strings.Replace(testProgram, "expire: quarter", "expire: 90d", 1)

func training(id, member, partner string, t time.Time) rung.Event {
	return ev(id, "training.completed", partner, member, t, map[string]any{"score": 90.0})
}

func redemption(id, member, partner string, points int64, t time.Time) rung.Redemption {
	return rung.Redemption{ID: id, Reward: "mug", Partner: partner, Member: member, Points: points,
		Status: rung.RedemptionPending, RequestedAt: t, RequestedBy: "member:" + member}
}

func day(month time.Month, d int) time.Time { return time.Date(2026, month, d, 12, 0, 0, 0, berlin) }

func memberPoints(t *testing.T, e *Engine, member string, at time.Time) Points {
	t.Helper()
	sc, err := e.MemberScorecard(member, at)
	if err != nil {
		t.Fatal(err)
	}
	return sc.Points
}

func TestRedemptionSpendsOldestExpiringPointsFirst(t *testing.T) {
	h := newHarness(t, program90d, day(11, 20))
	h.send(training("t-aug", "m1", "p1", day(8, 1))) // expires Oct 30
	h.send(training("t-sep", "m1", "p1", day(9, 1))) // expires Nov 30
	h.e.PutRedemption(redemption("rd", "m1", "p1", 50, day(9, 15)))

	// The August points were spent before they lapsed: September's are left.
	p := memberPoints(t, h.e, "m1", day(11, 1))
	if p.Balance != 50 || len(p.Expiring) != 1 || p.Expiring[0].Points != 50 || p.Expiring[0].At.In(berlin).Format("01-02") != "11-30" {
		t.Errorf("on Nov 1: %+v, want 50 left, expiring Nov 30 (the August lot was spent)", p)
	}
	// Before the redemption both lots were there; just after, one is.
	if b := memberPoints(t, h.e, "m1", day(9, 14)).Balance; b != 100 {
		t.Errorf("balance before the request = %d, want 100", b)
	}
	if p := memberPoints(t, h.e, "m1", day(9, 16)); p.Balance != 50 || p.Expiring[0].At.Month() != 11 {
		t.Errorf("after the request: %+v, want 50 expiring in November", p)
	}
	if p.Lifetime != 100 {
		t.Errorf("lifetime = %d, want 100: redeeming does not lower lifetime points", p.Lifetime)
	}
}

func TestRedemptionStates(t *testing.T) {
	requested, decided := day(11, 5), day(11, 6)
	cases := []struct {
		name                  string
		status                string
		atRequest, afterwards int64 // m1's balance just after the request, and after the decision
		partnerAfter          int64
	}{
		{"pending holds the points", rung.RedemptionPending, 70, 70, 70},
		{"fulfilled spends them", rung.RedemptionFulfilled, 70, 70, 70},
		{"rejected gives them back", rung.RedemptionRejected, 70, 100, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testProgram, day(11, 20))
			h.send(training("t1", "m1", "p1", day(11, 2)))
			h.send(training("t2", "m1", "p1", day(11, 3)))
			r := redemption("rd", "m1", "p1", 30, requested)
			h.e.PutRedemption(r)
			if tc.status != rung.RedemptionPending {
				r.Status, r.DecidedAt, r.DecidedBy = tc.status, decided, "admin"
				h.e.PutRedemption(r)
			}
			if b := memberPoints(t, h.e, "m1", requested.Add(time.Minute)).Balance; b != tc.atRequest {
				t.Errorf("balance after the request = %d, want %d", b, tc.atRequest)
			}
			if b := memberPoints(t, h.e, "m1", decided.Add(time.Minute)).Balance; b != tc.afterwards {
				t.Errorf("balance after the decision = %d, want %d", b, tc.afterwards)
			}
			_, pts, _ := h.e.PartnerSummary("p1", decided.Add(time.Minute))
			if pts.Balance != tc.partnerAfter {
				t.Errorf("partner balance = %d, want %d (a member's redemption spends its partner's points too)", pts.Balance, tc.partnerAfter)
			}
			ledger, err := h.e.Ledger(LedgerFilter{Member: "m1"})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			var sum int64
			for _, le := range ledger {
				kinds = append(kinds, le.Kind)
				sum += le.Points
			}
			want := "[award award redemption]"
			if tc.status == rung.RedemptionRejected {
				want = "[award award redemption redemption_returned]"
			}
			if fmt.Sprint(kinds) != want || sum != tc.afterwards {
				t.Errorf("ledger kinds %v summing to %d, want %s summing to %d", kinds, sum, want, tc.afterwards)
			}
		})
	}
}

func TestStalePendingDoesNotUndoADecision(t *testing.T) {
	h := newHarness(t, testProgram, day(11, 20))
	h.send(training("t1", "m1", "p1", day(11, 2)))
	r := redemption("rd", "m1", "p1", 50, day(11, 5))
	decided := r
	decided.Status, decided.DecidedAt = rung.RedemptionRejected, day(11, 6)
	h.e.PutRedemption(decided)
	h.e.PutRedemption(r) // a follower read the request before the decision
	if got, _ := h.e.Redemption("rd"); got.Status != rung.RedemptionRejected {
		t.Errorf("status = %s, want rejected: a stale pending state must not win", got.Status)
	}
	if b := memberPoints(t, h.e, "m1", day(11, 20)).Balance; b != 50 {
		t.Errorf("balance = %d, want 50", b)
	}
}

func TestRedeemBalancesCountTheHeldListGiven(t *testing.T) {
	h := newHarness(t, testProgram, day(11, 20))
	h.send(training("t1", "m1", "p1", day(11, 2)))
	h.send(training("t2", "m2", "p1", day(11, 2)))
	h.e.PutRedemption(redemption("known", "m1", "p1", 40, day(11, 3)))
	// The store's list (under its lock) is what counts: here it holds a
	// redemption of m2 this engine has not seen yet, and not "known".
	held := []rung.Redemption{redemption("other", "m2", "p1", 20, day(11, 4)), redemption("elsewhere", "m3", "p2", 5, day(11, 4))}
	mb, pb, err := h.e.RedeemBalances("p1", "m1", held, day(11, 10))
	if err != nil || mb != 50 || pb != 80 {
		t.Errorf("RedeemBalances = %d, %d, %v; want member 50, partner 80", mb, pb, err)
	}
	if _, pb, _ := h.e.RedeemBalances("p1", "", nil, day(11, 10)); pb != 100 {
		t.Errorf("partner balance with nothing held = %d, want 100", pb)
	}
	if _, _, err := h.e.RedeemBalances("nobody", "", nil, day(11, 10)); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("unknown partner: %v, want ENOTFOUND", err)
	}
}

func TestLiabilityIsPointsOutstandingByPartner(t *testing.T) {
	h := newHarness(t, testProgram, day(11, 20))
	h.send(training("t1", "m1", "p1", day(11, 2)))
	h.send(training("t2", "m3", "p2", day(11, 2)))
	h.send(training("t-old", "m3", "p2", day(9, 2))) // expired at the quarter's end
	h.e.PutRedemption(redemption("rd", "m1", "p1", 20, day(11, 3)))
	got := h.e.Liability(day(11, 20))
	want := "[{p1 Partner p1 30 20} {p2 Partner p2 50 0}]"
	if fmt.Sprint(got) != want {
		t.Errorf("Liability = %v, want %s", got, want)
	}
}

// TestRedemptionsAreIndependentOfArrivalOrder extends the determinism
// property to redemptions: events, redemption requests and decisions in
// any interleaving (a decision may even arrive before its request, as a
// follower may read them) give the same state, and a rebuild (events
// replayed in bulk, then the redemptions' stored states) gives it too.
func TestRedemptionsAreIndependentOfArrivalOrder(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		type step struct {
			ev *rung.Event
			rd *rung.Redemption
		}
		var steps []step
		n := rapid.IntRange(1, 20).Draw(t, "events")
		for i := range n {
			e := genEvent(t, fmt.Sprintf("e%02d", i))
			steps = append(steps, step{ev: &e})
		}
		final := map[string]rung.Redemption{}
		for i := range rapid.IntRange(0, 6).Draw(t, "redemptions") {
			member := rapid.SampledFrom([]string{"m1", "m2", "m3", ""}).Draw(t, "member")
			partner := memberPartner[member]
			if member == "" {
				partner = rapid.SampledFrom([]string{"p1", "p2"}).Draw(t, "partner")
			}
			at := time.Date(2026, rapid.SampledFrom([]time.Month{9, 11}).Draw(t, "month"), rapid.IntRange(1, 6).Draw(t, "day"), 10, 0, 0, 0, berlin)
			r := redemption(fmt.Sprintf("rd%d", i), member, partner, int64(rapid.IntRange(1, 400).Draw(t, "points")), at)
			steps = append(steps, step{rd: &r})
			if status := rapid.SampledFrom([]string{"", rung.RedemptionFulfilled, rung.RedemptionRejected}).Draw(t, "status"); status != "" {
				d := r
				d.Status, d.DecidedAt = status, at.Add(time.Duration(rapid.IntRange(1, 500).Draw(t, "hours"))*time.Hour)
				steps = append(steps, step{rd: &d})
				final[r.ID] = d
			} else {
				final[r.ID] = r
			}
		}
		apply := func(label string) *harness {
			h := newHarness(t, testProgram, now)
			perm := rapid.Permutation(steps).Draw(t, label)
			for _, s := range perm {
				if s.rd != nil {
					h.e.PutRedemption(*s.rd)
					continue
				}
				h.send(*s.ev)
			}
			return h
		}
		a, b := apply("orderA"), apply("orderB")
		if da, db := a.e.Digest(now), b.e.Digest(now); da != db {
			t.Fatalf("two arrival orders differ:\nA:\n%s\nB:\n%s", dump(a.e, now), dump(b.e, now))
		}
		r := newHarness(t, testProgram, now)
		r.e.BeginBulk(len(steps))
		for _, s := range steps {
			if s.ev != nil {
				r.send(*s.ev)
			}
		}
		for _, rd := range final {
			r.e.PutRedemption(rd)
		}
		r.e.EndBulk(now)
		if da, dr := a.e.Digest(now), r.e.Digest(now); da != dr {
			t.Fatalf("incremental differs from rebuild:\nincremental:\n%s\nrebuild:\n%s", dump(a.e, now), dump(r.e, now))
		}
	})
}
