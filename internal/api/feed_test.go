package api

import (
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

const badgeProgram = testProgram + `levels:
  - {name: Rookie, at: 0}
  - {name: Pro, at: 500}
badges:
  - id: closer
    name: Closer
    on: deal.won
    evidence: event.attrs.deal
    points: 50
`

func TestFeedAndBadgeEffects(t *testing.T) {
	c := newServer(t)
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", badgeProgram, 200)
	ev := `{"id": "crm:1:deal.won", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 90000, "deal": "D-1"}}`
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", ev, 200)

	feed := c.do("GET", "/api/v1/feed?limit=10&partner=p1", rung.ScopeRead, "", "", 200)
	entries := feed["entries"].([]any)
	var whats []string
	for _, e := range entries {
		whats = append(whats, e.(map[string]any)["what"].(string))
	}
	if strings.Join(whats, "|") != "earned Closer|reached Pro" {
		t.Fatalf("feed %v", feed)
	}
	if strings.Contains(strings.Join(whats, ""), "90000") {
		t.Fatalf("feed shows revenue: %v", whats)
	}

	got := c.do("GET", "/api/v1/events/crm:1:deal.won", rung.ScopeRead, "", "", 200)
	badges := got["effects"].(map[string]any)["badges"].([]any)
	if len(badges) != 1 || badges[0].(map[string]any)["change"] != "awarded" || badges[0].(map[string]any)["evidence"] != "D-1" {
		t.Fatalf("effects: %v", got["effects"])
	}
	if awards := got["effects"].(map[string]any)["awards"].([]any); len(awards) != 2 {
		t.Fatalf("awards (rule and badge bonus): %v", awards)
	}
	sc := c.do("GET", "/api/v1/members/m1/scorecard", rung.ScopeRead, "", "", 200)
	if bs := sc["badges"].([]any); len(bs) != 1 || bs[0].(map[string]any)["id"] != "closer" {
		t.Fatalf("scorecard badges: %v", sc["badges"])
	}

	c.do("DELETE", "/api/v1/events/crm:1:deal.won", rung.ScopeIngest, "", "", 200)
	got = c.do("GET", "/api/v1/events/crm:1:deal.won", rung.ScopeRead, "", "", 200)
	badges = got["effects"].(map[string]any)["badges"].([]any)
	if len(badges) != 1 || badges[0].(map[string]any)["change"] != "revoked" {
		t.Fatalf("effects after retraction: %v", got["effects"])
	}
	sc = c.do("GET", "/api/v1/members/m1/scorecard", rung.ScopeRead, "", "", 200)
	if len(sc["badges"].([]any)) != 0 || len(sc["revoked_badges"].([]any)) != 1 {
		t.Fatalf("scorecard after retraction: %v / %v", sc["badges"], sc["revoked_badges"])
	}
	feed = c.do("GET", "/api/v1/feed", rung.ScopeRead, "", "", 200)
	if len(feed["entries"].([]any)) != 0 {
		t.Fatalf("feed after retraction: %v", feed)
	}
	c.do("GET", "/api/v1/feed?partner=nope", rung.ScopeRead, "", "", 404)
	c.do("GET", "/api/v1/feed?limit=x", rung.ScopeRead, "", "", 400)
}
