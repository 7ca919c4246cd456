package service

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

const rewardsProgram = testProgram + `
currency: EUR
point_value: 0.05
tiers:
  levels: [Registered, Select]
rewards:
  - {id: mug, name: Mug, cost: 300, per_member: 2}
  - {id: hoodie, cost: 100, stock: 1}
  - {id: office-hour, cost: 200, tiers: [Select]}
  - {id: trip, cost: 5000}
  - {id: mdf, cost: 500, for: partner}
  - {id: coffee, cost: 100}
  - {id: sticker, cost: 1, stock: 3}
`

// setupRewards opens a service (on SQLite at path, or on s when given)
// with the rewards program: p1 (Registered) with m1, p2 (Select) with m2,
// each member holding 1,000 points.
func setupRewards(t *testing.T, s *Service) *Service {
	t.Helper()
	if s == nil {
		s = open(t, filepath.Join(t.TempDir(), "rung.db"))
	}
	ctx := context.Background()
	if _, err := s.ApplyProgram(ctx, []byte(rewardsProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []rung.Partner{{ID: "p1", Name: "Partner p1", InitialTier: "Registered"}, {ID: "p2", Name: "Partner p2", InitialTier: "Select"}} {
		if _, err := s.PutPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []rung.Member{{ID: "m1", Partner: "p1", Name: "Ann"}, {ID: "m2", Partner: "p2", Name: "Bo"}} {
		if _, err := s.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Ingest(ctx, []*Incoming{win("w1", "p1", "m1", 100000), win("w2", "p2", "m2", 100000)}); err != nil {
		t.Fatal(err)
	}
	return s
}

func balances(t *testing.T, s *Service, member string) (mb, pb int64) {
	t.Helper()
	s.Read(func(e *engine.Engine) error {
		sc, err := e.MemberScorecard(member, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		_, pts, _ := e.PartnerSummary(sc.Partner, time.Time{})
		mb, pb = sc.Points.Balance, pts.Balance
		return nil
	})
	return mb, pb
}

func TestRedeemRules(t *testing.T) {
	type try struct {
		member, partner, reward string
		rule                    string // "" when it must succeed
	}
	cases := []struct {
		name  string
		tries []try
	}{
		{"enough points: pending", []try{{"m1", "", "mug", ""}}},
		{"not eligible by tier", []try{{"m1", "", "office-hour", RuleNotEligible}, {"m2", "", "office-hour", ""}}},
		{"out of stock", []try{{"m2", "", "hoodie", ""}, {"m1", "", "hoodie", RuleOutOfStock}}},
		{"per-member limit", []try{{"m1", "", "mug", ""}, {"m1", "", "mug", ""}, {"m1", "", "mug", RulePerMemberLimit}, {"m2", "", "mug", ""}}},
		{"insufficient balance", []try{{"m1", "", "trip", RuleInsufficientBalance}}},
		{"held points count", []try{{"m1", "", "mug", ""}, {"m1", "", "mug", ""}, {"m1", "", "office-hour", RuleNotEligible},
			{"m1", "", "coffee", ""}, {"m1", "", "coffee", ""}, {"m1", "", "coffee", ""}, {"m1", "", "coffee", ""}, {"m1", "", "coffee", RuleInsufficientBalance}}},
		{"partner reward spends the partner's points", []try{{"", "p1", "mdf", ""}, {"m1", "", "mug", ""}, {"m1", "", "mug", RuleInsufficientBalance}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := setupRewards(t, nil)
			for i, tr := range tc.tries {
				r, err := s.Redeem(context.Background(), RedeemRequest{Reward: tr.reward, Member: tr.member, Partner: tr.partner, By: "test"})
				if tr.rule == "" {
					if err != nil || r.Status != rung.RedemptionPending {
						t.Fatalf("try %d (%s by %s%s): %+v, %v; want pending", i, tr.reward, tr.member, tr.partner, r, err)
					}
					continue
				}
				if got := RefusedRule(err); got != tr.rule || rung.ErrorCode(err) != rung.ECONFLICT {
					t.Fatalf("try %d (%s by %s%s): %v (rule %q); want a conflict naming %s", i, tr.reward, tr.member, tr.partner, err, got, tr.rule)
				}
			}
		})
	}
}

func TestRedeemRefusesBadRequests(t *testing.T) {
	s := setupRewards(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		req  RedeemRequest
		code string
	}{
		{RedeemRequest{Reward: "yacht", Member: "m1"}, rung.ENOTFOUND},
		{RedeemRequest{Reward: "mug", Member: "nobody"}, rung.ENOTFOUND},
		{RedeemRequest{Reward: "mug", Partner: "p1"}, rung.EINVALID},
		{RedeemRequest{Reward: "mug", Member: "m1", Partner: "p2"}, rung.EINVALID},
		{RedeemRequest{Reward: "mdf", Partner: "nobody"}, rung.ENOTFOUND},
	} {
		if _, err := s.Redeem(ctx, tc.req); rung.ErrorCode(err) != tc.code {
			t.Errorf("Redeem(%+v) = %v, want %s", tc.req, err, tc.code)
		}
	}
	if rs, _ := s.Redemptions(ctx, store.RedemptionFilter{}); len(rs) != 0 {
		t.Errorf("refused requests stored %+v", rs)
	}
}

func TestDecisionsAndPointsBack(t *testing.T) {
	s := setupRewards(t, nil)
	ctx := context.Background()
	a, err := s.Redeem(ctx, RedeemRequest{Reward: "mug", Member: "m1", By: "member:m1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Redeem(ctx, RedeemRequest{Reward: "mug", Member: "m1", By: "member:m1"})
	if err != nil {
		t.Fatal(err)
	}
	if mb, pb := balances(t, s, "m1"); mb != 400 || pb != 400 {
		t.Fatalf("balances while pending = %d, %d; want 400 (600 held)", mb, pb)
	}
	if r, err := s.DecideRedemption(ctx, a.ID, "approve", "shipped", "admin@acme"); err != nil || r.Status != rung.RedemptionFulfilled {
		t.Fatalf("approve = %+v, %v", r, err)
	}
	if r, err := s.DecideRedemption(ctx, b.ID, "reject", "out of mugs", "admin@acme"); err != nil || r.Status != rung.RedemptionRejected {
		t.Fatalf("reject = %+v, %v", r, err)
	}
	if mb, pb := balances(t, s, "m1"); mb != 700 || pb != 700 {
		t.Errorf("balances after approve and reject = %d, %d; want 700: the rejected 300 came back", mb, pb)
	}
	if _, err := s.DecideRedemption(ctx, a.ID, "reject", "", "admin"); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Errorf("deciding twice = %v, want ECONFLICT", err)
	}
	if _, err := s.DecideRedemption(ctx, a.ID, "maybe", "", "admin"); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("decision maybe = %v, want EINVALID", err)
	}
	// A rejected redemption does not count toward the per-member limit.
	if _, err := s.Redeem(ctx, RedeemRequest{Reward: "mug", Member: "m1"}); err != nil {
		t.Errorf("a second mug after one was rejected: %v", err)
	}
	audit, err := s.Store().Audit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range audit {
		actions[e.Action]++
	}
	if actions["redemption.request"] != 3 || actions["redemption.approve"] != 1 || actions["redemption.reject"] != 1 {
		t.Errorf("audit actions = %v, want 3 requests, 1 approve, 1 reject", actions)
	}
	// A rebuild from the store gives the same balances.
	before, beforeDump := digest(s), dump(s)
	if _, _, err := s.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if after := digest(s); after != before {
		bl, al := strings.Split(beforeDump, "\n"), strings.Split(dump(s), "\n")
		for i := 0; i < len(bl) || i < len(al); i++ {
			var b, a string
			if i < len(bl) {
				b = bl[i]
			}
			if i < len(al) {
				a = al[i]
			}
			if a != b {
				t.Errorf("rebuild changed the state at line %d:\n before %q\n after  %q", i, b, a)
				break
			}
		}
	}
}

func TestCatalogSaysWhatStandsInTheWay(t *testing.T) {
	s := setupRewards(t, nil)
	ctx := context.Background()
	if _, err := s.Redeem(ctx, RedeemRequest{Reward: "sticker", Member: "m2"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Catalog(ctx, "m1", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Partner != "p1" || c.Tier != "Registered" || c.MemberBalance != 1000 || c.PartnerBalance != 1000 {
		t.Errorf("catalog head = %+v", c)
	}
	got := map[string]string{}
	for _, it := range c.Rewards {
		got[it.ID] = fmt.Sprint(it.Eligible, " ", it.Blocked)
		if it.ID == "sticker" && (it.StockLeft == nil || *it.StockLeft != 2) {
			t.Errorf("sticker stock left = %v, want 2", it.StockLeft)
		}
	}
	want := map[string]string{"mug": "true ", "hoodie": "true ", "office-hour": "false not_eligible", "trip": "false insufficient_balance",
		"mdf": "true ", "coffee": "true ", "sticker": "true "}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("catalog for m1 = %v, want %v", got, want)
	}
}

func TestLiabilityReport(t *testing.T) {
	s := setupRewards(t, nil)
	ctx := context.Background()
	if _, err := s.Redeem(ctx, RedeemRequest{Reward: "mug", Member: "m1"}); err != nil {
		t.Fatal(err)
	}
	rep := s.Liability(time.Time{})
	if rep.Currency != "EUR" || rep.PointValue != 0.05 || len(rep.Partners) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Partners[0].Partner != "p2" {
		t.Errorf("first line = %+v, want p2's (the most points first)", rep.Partners[0])
	}
	p1 := rep.Partners[1]
	if p1.Partner != "p1" || p1.Points != 700 || p1.Value != 35 || p1.Held != 300 || p1.HeldValue != 15 {
		t.Errorf("p1 line = %+v, want 700 points (35 EUR), 300 held (15 EUR)", p1)
	}
	if rep.Total.Points != 1700 || rep.Total.Value != 85 || rep.Total.Held != 300 {
		t.Errorf("total = %+v, want 1700 points worth 85", rep.Total)
	}
}

// redeemConcurrently sends n requests for reward at once, spread over the
// instances, and returns how many succeeded; any error but a rule's
// refusal fails the test.
func redeemConcurrently(t *testing.T, n int, reward string, members []string, insts ...*Service) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := insts[i%len(insts)].Redeem(context.Background(), RedeemRequest{Reward: reward, Member: members[i%len(members)]})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case RefusedRule(err) == "":
				t.Errorf("Redeem: %v", err)
			}
		}()
	}
	wg.Wait()
	return ok
}

func TestConcurrentRedeemsCannotOverspend(t *testing.T) {
	s := setupRewards(t, nil)
	if ok := redeemConcurrently(t, 30, "coffee", []string{"m1"}, s); ok != 10 {
		t.Errorf("%d coffees of 100 points redeemed from 1,000 points, want 10", ok)
	}
	if mb, pb := balances(t, s, "m1"); mb != 0 || pb != 0 {
		t.Errorf("balances = %d, %d; want 0, never below", mb, pb)
	}
	if ok := redeemConcurrently(t, 20, "sticker", []string{"m1", "m2"}, s); ok != 3 {
		t.Errorf("%d stickers redeemed from a stock of 3", ok)
	}
}

func TestConcurrentRedeemsOnTwoInstancesCannotOverspend(t *testing.T) {
	url, schema := pgSchema(t)
	a := setupRewards(t, openInstance(t, url, schema))
	b := openInstance(t, url, schema)
	converge(t, 10*time.Second, a, b)
	if ok := redeemConcurrently(t, 30, "coffee", []string{"m1"}, a, b); ok != 10 {
		t.Errorf("%d coffees of 100 points redeemed from 1,000 points on two instances, want 10", ok)
	}
	if ok := redeemConcurrently(t, 20, "sticker", []string{"m2"}, a, b); ok != 3 {
		t.Errorf("%d stickers redeemed from a stock of 3 on two instances", ok)
	}
	converge(t, 10*time.Second, a, b)
	for _, s := range []*Service{a, b} {
		if mb, pb := balances(t, s, "m1"); mb != 0 || pb != 0 {
			t.Errorf("balances = %d, %d; want 0 on both instances", mb, pb)
		}
	}
}

func TestDemoRedemptionsInEveryState(t *testing.T) {
	s := setupRewards(t, nil)
	ctx := context.Background()
	n, err := s.SeedDemoRedemptions(ctx)
	if err != nil || n < 3 {
		t.Fatalf("SeedDemoRedemptions = %d, %v", n, err)
	}
	rs, err := s.Redemptions(ctx, store.RedemptionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, r := range rs {
		states[r.Status]++
	}
	if len(rs) != n || states[rung.RedemptionPending] == 0 || states[rung.RedemptionFulfilled] == 0 || states[rung.RedemptionRejected] == 0 {
		t.Errorf("demo redemptions by state = %v of %d, want some in every state", states, n)
	}
}

// dump is the engine's state as text, to show where two states differ.
func dump(s *Service) string {
	var b strings.Builder
	s.Read(func(e *engine.Engine) error {
		e.Dump(&b, now)
		return nil
	})
	return b.String()
}
