package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

var redemptionTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"RedemptionRoundTrips", testRedemptionRoundTrips},
	{"RedemptionCheckSeesHeldOfPartnerAndReward", testRedemptionCheckSeesHeld},
	{"RedemptionRefusedByCheckWritesNothing", testRedemptionRefusedWritesNothing},
	{"RedemptionDecidedOnce", testRedemptionDecidedOnce},
	{"ConcurrentRedeemsDoNotOverspend", testConcurrentRedeemsDoNotOverspend},
}

func newRedemption(id, reward, partner, member string, points int64, at time.Time) rung.Redemption {
	return rung.Redemption{ID: id, Reward: reward, Partner: partner, Member: member, Points: points,
		Status: rung.RedemptionPending, RequestedAt: at, RequestedBy: "member:" + member}
}

func accept([]rung.Redemption) error { return nil }

func testRedemptionRoundTrips(t *testing.T, s store.Store) {
	ctx := context.Background()
	before, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := newRedemption("rd-1", "mug", "p1", "m1", 500, base)
	if err := s.Redeem(ctx, r, accept); err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	want := r
	want.RequestedAt = base.UTC()
	got, err := s.RedemptionsByID(ctx, []string{"rd-1", "nobody"})
	if err != nil || len(got) != 1 || got[0] != want {
		t.Fatalf("RedemptionsByID = %+v, %v; want %+v", got, err, want)
	}
	if err := s.Redeem(ctx, r, accept); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Errorf("Redeem of a taken id = %v, want ECONFLICT", err)
	}
	cs, err := s.Changes(ctx, before, 10)
	if err != nil || len(cs) != 1 || cs[0].Kind != store.ChangeRedemption || cs[0].Key != "rd-1" {
		t.Errorf("change feed after Redeem = %+v, %v; want one redemption change", cs, err)
	}
	decided := newRedemption("rd-0", "mdf", "p2", "", 900, base.Add(-time.Hour))
	decided.Status, decided.DecidedAt, decided.DecidedBy, decided.Reason = rung.RedemptionRejected, base.Add(time.Minute).UTC(), "admin", "no budget"
	decided.RequestedAt = decided.RequestedAt.UTC()
	if err := s.PutRedemption(ctx, decided); err != nil {
		t.Fatalf("PutRedemption: %v", err)
	}
	all, err := s.ListRedemptions(ctx, store.RedemptionFilter{})
	if err != nil || len(all) != 2 || all[0].ID != "rd-1" || all[1] != decided {
		t.Errorf("ListRedemptions = %+v, %v; want rd-1 then rd-0 (newest first) with every field", all, err)
	}
	for _, tc := range []struct {
		f    store.RedemptionFilter
		want []string
	}{
		{store.RedemptionFilter{Partner: "p2"}, []string{"rd-0"}},
		{store.RedemptionFilter{Member: "m1"}, []string{"rd-1"}},
		{store.RedemptionFilter{Reward: "mdf"}, []string{"rd-0"}},
		{store.RedemptionFilter{Status: rung.RedemptionPending}, []string{"rd-1"}},
		{store.RedemptionFilter{Status: rung.RedemptionFulfilled}, nil},
		{store.RedemptionFilter{Limit: 1}, []string{"rd-1"}},
		{store.RedemptionFilter{Oldest: true}, []string{"rd-0", "rd-1"}},
		{store.RedemptionFilter{Oldest: true, Limit: 1}, []string{"rd-0"}},
		{store.RedemptionFilter{Oldest: true, Offset: 1}, []string{"rd-1"}},
		{store.RedemptionFilter{Offset: 1, Limit: 5}, []string{"rd-0"}},
		{store.RedemptionFilter{Offset: 2}, nil},
		{store.RedemptionFilter{Partners: []string{"p2", "p9"}}, []string{"rd-0"}},
		{store.RedemptionFilter{Partners: []string{"p1", "p2"}}, []string{"rd-1", "rd-0"}},
		{store.RedemptionFilter{Partners: []string{}}, nil},
		{store.RedemptionFilter{Partners: []string{"p1"}, Status: rung.RedemptionRejected}, nil},
	} {
		rs, err := s.ListRedemptions(ctx, tc.f)
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		if err != nil || fmt.Sprint(ids) != fmt.Sprint(tc.want) {
			t.Errorf("ListRedemptions(%+v) = %v, %v; want %v", tc.f, ids, err, tc.want)
		}
		// A count is of what the filter selects, its paging aside.
		all := tc.f
		all.Offset, all.Limit = 0, 0
		want, _ := s.ListRedemptions(ctx, all)
		if n, err := s.CountRedemptions(ctx, tc.f); err != nil || n != len(want) {
			t.Errorf("CountRedemptions(%+v) = %d, %v; want %d", tc.f, n, err, len(want))
		}
	}
	bad := newRedemption("rd-bad", "mug", "p1", "m1", 0, base)
	if err := s.Redeem(ctx, bad, accept); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Errorf("Redeem of 0 points = %v, want refused (ECONFLICT)", err)
	}
}

func testRedemptionCheckSeesHeld(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, r := range []rung.Redemption{
		newRedemption("a", "mug", "p1", "m1", 10, base),            // same partner
		newRedemption("b", "hat", "p2", "m3", 20, base.Add(1)),     // same reward (below)
		newRedemption("c", "mdf", "p2", "", 30, base.Add(2)),       // neither
		newRedemption("d", "mdf", "p1", "", 40, base.Add(3)),       // same partner, rejected below
		newRedemption("e", "hat", "p1", "m2", 50, base.Add(4)),     // both, fulfilled below
		newRedemption("f", "mug", "p3", "m9", 60, base.Add(5)),     // neither
		newRedemption("g", "hat", "p4", "m8", 70, base.Add(-1000)), // same reward, earliest
	} {
		if err := s.Redeem(ctx, r, accept); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DecideRedemption(ctx, "d", rung.RedemptionRejected, "admin", "out of season", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideRedemption(ctx, "e", rung.RedemptionFulfilled, "admin", "", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var seen []string
	err := s.Redeem(ctx, newRedemption("new", "hat", "p1", "m1", 1, base.Add(time.Hour)), func(held []rung.Redemption) error {
		for _, h := range held {
			seen = append(seen, h.ID+":"+h.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[g:pending a:pending b:pending e:fulfilled]"; fmt.Sprint(seen) != want {
		t.Errorf("check saw %v, want %s: pending and fulfilled redemptions of the partner or the reward, oldest first", seen, want)
	}
}

func testRedemptionRefusedWritesNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	before, _ := s.LastChange(ctx)
	refusal := rung.Errorf(rung.ECONFLICT, "insufficient balance")
	err := s.Redeem(ctx, newRedemption("rd-1", "mug", "p1", "m1", 500, base), func([]rung.Redemption) error { return refusal })
	if !errors.Is(err, refusal) {
		t.Errorf("Redeem refused by check = %v, want the check's error as it is", err)
	}
	if rs, _ := s.ListRedemptions(ctx, store.RedemptionFilter{}); len(rs) != 0 {
		t.Errorf("a refused redemption was stored: %+v", rs)
	}
	if after, _ := s.LastChange(ctx); after != before {
		t.Errorf("a refused redemption wrote a change (feed %d → %d)", before, after)
	}
}

func testRedemptionDecidedOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.Redeem(ctx, newRedemption("rd-1", "mug", "p1", "m1", 500, base), accept); err != nil {
		t.Fatal(err)
	}
	at := base.Add(time.Hour)
	r, err := s.DecideRedemption(ctx, "rd-1", rung.RedemptionFulfilled, "admin@acme", "shipped", at)
	if err != nil || r.Status != rung.RedemptionFulfilled || !r.DecidedAt.Equal(at) || r.DecidedBy != "admin@acme" || r.Reason != "shipped" {
		t.Fatalf("DecideRedemption = %+v, %v", r, err)
	}
	got, _ := s.RedemptionsByID(ctx, []string{"rd-1"})
	if len(got) != 1 || got[0] != r {
		t.Errorf("stored %+v, want %+v", got, r)
	}
	if _, err := s.DecideRedemption(ctx, "rd-1", rung.RedemptionRejected, "admin", "", at); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Errorf("deciding twice = %v, want ECONFLICT", err)
	}
	if _, err := s.DecideRedemption(ctx, "nobody", rung.RedemptionRejected, "admin", "", at); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("deciding an unknown id = %v, want ENOTFOUND", err)
	}
	if err := s.Redeem(ctx, newRedemption("rd-2", "mug", "p1", "m1", 5, base), accept); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideRedemption(ctx, "rd-2", rung.RedemptionPending, "admin", "", at); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("deciding to pending = %v, want EINVALID", err)
	}
}

// testConcurrentRedeemsDoNotOverspend redeems from many goroutines at once,
// each with a check that allows a partner 100 points (three redemptions of
// 30) and the reward a stock of 7: whatever the interleaving, no partner
// overspends and exactly the stock is taken.
func testConcurrentRedeemsDoNotOverspend(t *testing.T, s store.Store) {
	ctx := context.Background()
	const budget, cost, stock = 100, 30, 7
	check := func(r rung.Redemption) func([]rung.Redemption) error {
		return func(held []rung.Redemption) error {
			var spent int64
			var taken int
			for _, h := range held {
				if h.Partner == r.Partner {
					spent += h.Points
				}
				if h.Reward == r.Reward {
					taken++
				}
			}
			if spent+r.Points > budget {
				return rung.Errorf(rung.ECONFLICT, "insufficient balance")
			}
			if taken >= stock {
				return rung.Errorf(rung.ECONFLICT, "out of stock")
			}
			return nil
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := map[string]int{}
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRedemption(fmt.Sprintf("rd-%02d", i), "mug", fmt.Sprintf("p%d", i%3), "m", cost, base.Add(time.Duration(i)))
			err := s.Redeem(ctx, r, check(r))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
			case rung.ErrorCode(err) == rung.ECONFLICT:
				refused[rung.ErrorMessage(err)]++
			default:
				t.Errorf("Redeem: %v", err)
			}
		}()
	}
	wg.Wait()
	rs, err := s.ListRedemptions(ctx, store.RedemptionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	perPartner := map[string]int64{}
	for _, r := range rs {
		perPartner[r.Partner] += r.Points
	}
	for p, spent := range perPartner {
		if spent > budget {
			t.Errorf("partner %s spent %d of %d", p, spent, budget)
		}
	}
	// Three partners could take 3 each (90 of 100), but the stock of 7 runs out first.
	if len(rs) != stock {
		t.Errorf("%d redemptions stored, want the stock of %d (refused: %v)", len(rs), stock, refused)
	}
	if refused["out of stock"] == 0 || len(rs)+refused["out of stock"]+refused["insufficient balance"] != 24 {
		t.Errorf("refusals = %v with %d stored, want the rest of 24 refused", refused, len(rs))
	}
}
