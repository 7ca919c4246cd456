package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

const tierAPIProgram = `name: Tier API Test
timezone: Europe/Berlin
currency: EUR
metrics:
  revenue: {sum: deal.won, value: event.attrs.amount, unit: currency}
points:
  rules:
    - id: win
      on: deal.won
      award: 100
      multiplier: {Select: 2}
tiers:
  levels: [Registered, Select]
  decision_days: 10
  grace: 0
  appeal_days: 5
  criteria:
    Select:
      - {id: revenue, metric: revenue, at_least: 100000, label: Sourced revenue}
  benefits:
    Select: [MDF]
`

func tierServer(t *testing.T) *client {
	c := newServer(t)
	c.do("PUT", "/api/v1/program?effective_from=2020-01-01T00:00:00Z", rung.ScopeAdmin, "application/yaml", tierAPIProgram, 200)
	c.do("PUT", "/api/v1/partners/p1", rung.ScopeIngest, "", `{"name": "Initech", "size": "smb", "joined_at": "2025-06-01T00:00:00Z"}`, 200)
	c.do("PUT", "/api/v1/partners/p2", rung.ScopeIngest, "", `{"name": "Hooli", "initial_tier": "Select", "joined_at": "2025-06-01T00:00:00Z"}`, 201)
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"events": [
		{"id": "w1", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-08-01T10:00:00Z", "attrs": {"amount": 150000}}]}`, 200)
	return c
}

func decisionsOf(t *testing.T, out map[string]any) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	list, _ := out["decisions"].([]any)
	for _, x := range list {
		d := x.(map[string]any)
		got[d["partner"].(string)] = d
	}
	return got
}

func TestTierReviewRefusesAQuarterNotEndedAndBadQuarters(t *testing.T) {
	c := tierServer(t)
	out := c.do("POST", "/api/v1/tiers/review", rung.ScopeAdmin, "", `{"quarter": "2026-Q4"}`, 400)
	if !strings.Contains(errMessage(out), "has not ended") {
		t.Errorf("message = %q", errMessage(out))
	}
	for _, body := range []string{`{"quarter": "2026Q4"}`, `{"quarter": "2026-Q9", "dry_run": true}`, `{}`} {
		out := c.do("POST", "/api/v1/tiers/review", rung.ScopeAdmin, "", body, 400)
		if !strings.Contains(errMessage(out), "quarter") {
			t.Errorf("%s: message = %q", body, errMessage(out))
		}
	}
	// A dry run of the running quarter is fine, and records nothing.
	dry := c.do("POST", "/api/v1/tiers/review", rung.ScopeAdmin, "", `{"quarter": "2026-Q4", "dry_run": true}`, 200)
	if d := decisionsOf(t, dry)["p1"]; d["outcome"] != "upgrade" || d["to"] != "Select" || dry["dry_run"] != true {
		t.Errorf("dry run = %v", dry)
	}
	if got := c.do("GET", "/api/v1/tiers/decisions", rung.ScopeRead, "", "", 200); len(got["decisions"].([]any)) != 0 {
		t.Errorf("refused and dry reviews recorded decisions: %v", got)
	}
}

func TestTierReviewPublishesOnceThenAppealsAndOverrides(t *testing.T) {
	c := tierServer(t)
	first := c.do("POST", "/api/v1/tiers/review", rung.ScopeAdmin, "", `{"quarter": "2026-Q3"}`, 200)
	ds := decisionsOf(t, first)
	if ds["p1"]["outcome"] != "upgrade" || ds["p2"]["outcome"] != "downgrade" || ds["p2"]["to"] != "Registered" ||
		ds["p1"]["effective_at"] != "2026-10-11T00:00:00+02:00" {
		t.Fatalf("decisions = %v", first)
	}
	again := c.do("POST", "/api/v1/tiers/review", rung.ScopeAdmin, "", `{"quarter": "2026-Q3"}`, 200)
	a, _ := json.Marshal(first["decisions"])
	b, _ := json.Marshal(again["decisions"])
	if string(a) != string(b) || again["already_published"] != true {
		t.Fatalf("second review differs or is not marked:\n%s\n%s", a, b)
	}
	// p1's wins after the decision take effect earn the Select multiplier.
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"id": "w2", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 1}}`, 200)
	ev := c.do("GET", "/api/v1/events/w2", rung.ScopeRead, "", "", 200)
	if !strings.Contains(fmt.Sprint(ev), "points:200") {
		t.Errorf("w2 effects = %v, want 200 points", ev)
	}
	mb := c.do("GET", "/api/v1/tiers/mobility?quarter=2026-Q3", rung.ScopeRead, "", "", 200)
	counts := mb["counts"].(map[string]any)
	if fmt.Sprint(counts["Registered"]) != "[0 1]" || fmt.Sprint(counts["Select"]) != "[1 0]" {
		t.Errorf("mobility = %v", counts)
	}

	// Appeals: not on a decision that does not exist; once per decision.
	c.do("POST", "/api/v1/tiers/appeals", rung.ScopeAdmin, "", `{"partner": "p2", "quarter": "2026-Q1", "text": "x"}`, 404)
	c.do("POST", "/api/v1/tiers/appeals", rung.ScopeAdmin, "", `{"partner": "p2", "quarter": "2026-Q3", "text": ""}`, 400)
	c.do("POST", "/api/v1/tiers/appeals", rung.ScopeAdmin, "", `{"partner": "p2", "quarter": "2026-Q3", "text": "x", "evidence": ["not a link"]}`, 400)
	ap := c.do("POST", "/api/v1/tiers/appeals", rung.ScopeAdmin, "", `{"partner": "p2", "quarter": "2026-Q3", "text": "two deals were booked in October by mistake", "evidence": ["https://crm.example/deals/1"], "by": "ceo@hooli.example"}`, 201)
	appeal := ap["appeal"].(map[string]any)
	if appeal["status"] != "open" || appeal["due_at"] == nil {
		t.Fatalf("appeal = %v", appeal)
	}
	c.do("POST", "/api/v1/tiers/appeals", rung.ScopeAdmin, "", `{"partner": "p2", "quarter": "2026-Q3", "text": "again"}`, 409)
	id := url.PathEscape(appeal["id"].(string))
	c.do("POST", "/api/v1/tiers/appeals/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "overturn", "tier": "Gold"}`, 400)
	c.do("POST", "/api/v1/tiers/appeals/appeal:nope/decision", rung.ScopeAdmin, "", `{"decision": "uphold"}`, 404)
	c.do("POST", "/api/v1/tiers/appeals/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "overturn", "tier": "Select", "reply": "confirmed with finance"}`, 200)
	c.do("POST", "/api/v1/tiers/appeals/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "uphold"}`, 409)
	pt := c.do("GET", "/api/v1/partners/p2/tiers", rung.ScopeRead, "", "", 200)
	if tier := pt["tier"].(map[string]any); tier["current"] != "Select" {
		t.Errorf("p2 after overturn = %v", tier)
	}
	if h := fmt.Sprint(pt["history"]); !strings.Contains(h, "overturned") || !strings.Contains(h, "confirmed with finance") {
		t.Errorf("history = %s", h)
	}

	// Overrides: a known tier and a reason.
	c.do("POST", "/api/v1/tiers/overrides", rung.ScopeAdmin, "", `{"partner": "p1", "tier": "Platinum", "reason": "x"}`, 400)
	c.do("POST", "/api/v1/tiers/overrides", rung.ScopeAdmin, "", `{"partner": "p1", "tier": "Registered"}`, 400)
	c.do("POST", "/api/v1/tiers/overrides", rung.ScopeAdmin, "", `{"partner": "nope", "tier": "Registered", "reason": "x"}`, 404)
	o := c.do("POST", "/api/v1/tiers/overrides", rung.ScopeAdmin, "", `{"partner": "p1", "tier": "Registered", "reason": "contract paused", "until": "2026-12-01T00:00:00Z"}`, 201)
	pt = c.do("GET", "/api/v1/partners/p1/tiers", rung.ScopeRead, "", "", 200)
	if tier := pt["tier"].(map[string]any); tier["current"] != "Registered" || tier["status"] != "override" {
		t.Errorf("p1 under override = %v", tier)
	}
	pt = c.do("GET", "/api/v1/partners/p1/tiers?as_of=2026-12-02T00:00:00Z", rung.ScopeRead, "", "", 200)
	if tier := pt["tier"].(map[string]any); tier["current"] != "Select" {
		t.Errorf("p1 after the override expired = %v", tier)
	}
	oid := o["override"].(map[string]any)["id"].(string)
	c.do("DELETE", "/api/v1/tiers/overrides/"+oid, rung.ScopeAdmin, "", "", 200)
	c.do("DELETE", "/api/v1/tiers/overrides/"+oid, rung.ScopeAdmin, "", "", 409)

	audit := fmt.Sprint(c.do("GET", "/api/v1/audit", rung.ScopeAdmin, "", "", 200))
	for _, action := range []string{"tiers.review", "tiers.appeal", "tiers.appeal.overturn", "tiers.override", "tiers.override.end"} {
		if !strings.Contains(audit, action) {
			t.Errorf("audit has no %s", action)
		}
	}
}
