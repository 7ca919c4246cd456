package api

import (
	"encoding/csv"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

const rewardsProgram = testProgram + `currency: EUR
point_value: 0.01
rewards:
  - {id: mug, name: Mug, cost: 300, per_member: 1}
  - {id: trip, name: Trip, cost: 90000}
  - {id: cap, name: Cap, cost: 10, stock: 0}
`

func newRewardsServer(t *testing.T) *client {
	c := newServer(t)
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", rewardsProgram, 200)
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"id": "w1", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-19T10:00:00Z", "attrs": {"amount": 100000}}`, 200)
	return c
}

func errRule(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	if len(ds) != 1 {
		return ""
	}
	d, _ := ds[0].(map[string]any)
	k, _ := d["key"].(string)
	return k
}

func TestRedeemOverTheAPI(t *testing.T) {
	c := newRewardsServer(t)
	cat := c.do("GET", "/api/v1/rewards?member=m1", rung.ScopeRead, "", "", 200)
	if cat["member_balance"] != 1000.0 || len(cat["rewards"].([]any)) != 3 {
		t.Fatalf("catalog = %v", cat)
	}
	red := c.do("POST", "/api/v1/rewards/mug/redeem", rung.ScopeIngest, "", `{"member": "m1"}`, 201)
	if red["status"] != "pending" || red["points"] != 300.0 || red["partner"] != "p1" {
		t.Fatalf("redeem = %v", red)
	}
	id := red["id"].(string)
	for _, tc := range []struct{ reward, rule string }{{"mug", "per_member_limit"}, {"trip", "insufficient_balance"}, {"cap", "out_of_stock"}} {
		out := c.do("POST", "/api/v1/rewards/"+tc.reward+"/redeem", rung.ScopeIngest, "", `{"member": "m1"}`, 409)
		if errRule(out) != tc.rule || errMessage(out) == "" {
			t.Errorf("redeem %s: %v, want a 409 naming %s", tc.reward, out, tc.rule)
		}
	}
	c.do("POST", "/api/v1/rewards/mug/redeem", rung.ScopeIngest, "", `{"member": "m1", "color": "red"}`, 400)
	c.do("POST", "/api/v1/rewards/yacht/redeem", rung.ScopeIngest, "", `{"member": "m1"}`, 404)
	c.do("POST", "/api/v1/rewards/mug/redeem", rung.ScopeRead, "", `{"member": "m1"}`, 403)

	list := c.do("GET", "/api/v1/redemptions?status=pending", rung.ScopeRead, "", "", 200)
	if rs := list["redemptions"].([]any); len(rs) != 1 || rs[0].(map[string]any)["id"] != id {
		t.Errorf("pending = %v", list)
	}
	c.do("GET", "/api/v1/redemptions?status=lost", rung.ScopeRead, "", "", 400)
	c.do("POST", "/api/v1/redemptions/"+id+"/decision", rung.ScopeIngest, "", `{"decision": "approve"}`, 403)
	c.do("POST", "/api/v1/redemptions/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "maybe"}`, 400)
	got := c.do("POST", "/api/v1/redemptions/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "reject", "reason": "no stock of mugs"}`, 200)
	if got["status"] != "rejected" || got["reason"] != "no stock of mugs" {
		t.Errorf("reject = %v", got)
	}
	c.do("POST", "/api/v1/redemptions/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "approve"}`, 409)
	if sc := c.do("GET", "/api/v1/members/m1/scorecard", rung.ScopeRead, "", "", 200); sc["points"].(map[string]any)["balance"] != 1000.0 {
		t.Errorf("balance after reject = %v, want 1000 (points back)", sc["points"])
	}
	ledger := c.do("GET", "/api/v1/ledger?member=m1", rung.ScopeRead, "", "", 200)
	var kinds []string
	for _, e := range ledger["entries"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	if strings.Join(kinds, ",") != "award,redemption,redemption_returned" {
		t.Errorf("ledger kinds = %v", kinds)
	}
	if one := c.do("GET", "/api/v1/redemptions/"+id, rung.ScopeRead, "", "", 200); one["decided_by"] == "" {
		t.Errorf("redemption = %v", one)
	}
}

func TestLiabilityReportJSONAndCSV(t *testing.T) {
	c := newRewardsServer(t)
	c.do("POST", "/api/v1/rewards/mug/redeem", rung.ScopeIngest, "", `{"member": "m1"}`, 201)
	rep := c.do("GET", "/api/v1/reports/liability", rung.ScopeRead, "", "", 200)
	total := rep["total"].(map[string]any)
	if rep["currency"] != "EUR" || rep["as_of"] == nil || total["points"] != 700.0 || total["value"] != 7.0 || total["held"] != 300.0 {
		t.Errorf("report = %v", rep)
	}
	c.do("GET", "/api/v1/reports/liability?as_of=yesterday", rung.ScopeRead, "", "", 400)
	req, _ := http.NewRequest("GET", c.url+"/api/v1/reports/liability?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+c.keys[rung.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %v, %s", err, raw)
	}
	want := [][]string{
		{"partner", "name", "points", "value", "held", "held_value", "currency", "as_of"},
		{"p1", "Initech", "700", "7", "300", "3", "EUR", "2026-11-20T12:00:00Z"},
		{"", "Total", "700", "7", "300", "3", "EUR", "2026-11-20T12:00:00Z"},
	}
	if len(rows) != len(want) {
		t.Fatalf("CSV rows = %v", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("CSV row %d = %v, want %v", i, rows[i], want[i])
		}
	}
}

// TestRedemptionsPageByOffset lists redemptions a page at a time.
func TestRedemptionsPageByOffset(t *testing.T) {
	c := newRewardsServer(t)
	var ids []string
	for range 2 {
		red := c.do("POST", "/api/v1/rewards/mug/redeem", rung.ScopeIngest, "", `{"member": "m1"}`, 201)
		ids = append(ids, red["id"].(string))
		// Rejected, so the member may ask again (one mug each).
		c.do("POST", "/api/v1/redemptions/"+red["id"].(string)+"/decision", rung.ScopeAdmin, "", `{"decision": "reject", "reason": "again"}`, 200)
	}
	first := c.do("GET", "/api/v1/redemptions?limit=1", rung.ScopeRead, "", "", 200)["redemptions"].([]any)
	second := c.do("GET", "/api/v1/redemptions?limit=1&offset=1", rung.ScopeRead, "", "", 200)["redemptions"].([]any)
	// Both at the same instant (the test clock): the id orders them.
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("pages %v and %v, want one redemption each", first, second)
	}
	got := []string{first[0].(map[string]any)["id"].(string), second[0].(map[string]any)["id"].(string)}
	slices.Sort(ids)
	if got[0] != ids[1] || got[1] != ids[0] {
		t.Errorf("pages hold %v, want %s then %s", got, ids[1], ids[0])
	}
	c.do("GET", "/api/v1/redemptions?offset=x", rung.ScopeRead, "", "", 400)
}
