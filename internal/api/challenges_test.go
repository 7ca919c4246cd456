package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const challengeProgram = `name: Challenge API Test
timezone: UTC
cohorts: {size: partner.size}
metrics:
  revenue: {sum: deal.won, value: event.attrs.amount}
points:
  rules:
    - {id: win, on: deal.won, award: 10}
badges:
  - {id: sprint-winner, name: Sprint Winner}
challenges:
  - id: sprint
    name: Revenue sprint
    starts: 2026-11-01
    ends: 2026-11-10
    for: partner
    metric: revenue
    cohort: size
    winners: 1
    reward: {points: 1000, badge: sprint-winner}
  - id: onboarding
    name: Ramp-Ready
    starts: 2026-11-01
    ends: 2026-12-31
    steps: [portal.setup, deal.won]
    reward: {points: 50}
`

// newChallengeServer is a server on challengeProgram whose clock the test
// moves.
func newChallengeServer(t *testing.T, clock *atomic.Int64) *client {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return time.Unix(0, clock.Load()).UTC() }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(svc, slog.New(slog.DiscardHandler)))
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
		st.Close()
	})
	c := &client{t: t, url: srv.URL, keys: map[rung.Scope]string{}}
	for _, sc := range []rung.Scope{rung.ScopeAdmin, rung.ScopeRead, rung.ScopeIngest} {
		_, secret, err := svc.CreateAPIKey(ctx, string(sc), sc, "test")
		if err != nil {
			t.Fatal(err)
		}
		c.keys[sc] = secret
	}
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", challengeProgram, 200)
	c.do("PUT", "/api/v1/partners/p1", rung.ScopeIngest, "", `{"name": "Initech", "size": "smb"}`, 201)
	c.do("PUT", "/api/v1/partners/p2", rung.ScopeIngest, "", `{"name": "Globex", "size": "smb"}`, 201)
	c.do("PUT", "/api/v1/partners/p3", rung.ScopeIngest, "", `{"name": "Umbrella", "size": "enterprise"}`, 201)
	c.do("PUT", "/api/v1/members/m1", rung.ScopeIngest, "", `{"partner": "p1", "name": "Peter"}`, 200)
	return c
}

// decode re-reads a JSON object into a typed value.
func decode[T any](t *testing.T, v any) T {
	t.Helper()
	raw, _ := json.Marshal(v)
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

type standingsJSON struct {
	Status      string `json:"status"`
	Provisional bool   `json:"provisional"`
	AsOf        string `json:"as_of"`
	Total       int    `json:"total"`
	Winners     []string
	Cohorts     []struct {
		Cohort  string   `json:"cohort"`
		Winners []string `json:"winners"`
	} `json:"cohort_winners"`
	Entries []struct {
		Place   int     `json:"place"`
		Subject string  `json:"subject"`
		Value   float64 `json:"value"`
		Winner  bool    `json:"winner"`
		Done    int     `json:"done"`
	} `json:"entries"`
}

func TestChallengeEndpoints(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC).UnixNano())
	c := newChallengeServer(t, &clock)
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"events": [
		{"id": "w1", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 5000}},
		{"id": "w2", "type": "deal.won", "partner": "p2", "occurred_at": "2026-11-03T10:00:00Z", "attrs": {"amount": 7000}},
		{"id": "w3", "type": "deal.won", "partner": "p3", "occurred_at": "2026-11-03T10:00:00Z", "attrs": {"amount": 100}},
		{"id": "s1", "type": "portal.setup", "partner": "p1", "member": "m1", "occurred_at": "2026-11-01T10:00:00Z"}]}`, 200)

	list := c.do("GET", "/api/v1/challenges", rung.ScopeRead, "", "", 200)
	got := map[string]string{}
	for _, x := range list["challenges"].([]any) {
		m := x.(map[string]any)
		got[m["id"].(string)] = m["status"].(string) + "/" + m["kind"].(string)
	}
	if got["sprint"] != "running/challenge" || got["onboarding"] != "running/quest" {
		t.Fatalf("list: %v", got)
	}

	s := decode[standingsJSON](t, c.do("GET", "/api/v1/challenges/sprint", rung.ScopeRead, "", "", 200))
	if s.Status != "running" || !s.Provisional || s.Total != 3 || s.Entries[0].Subject != "p2" || !s.Entries[0].Winner {
		t.Fatalf("provisional standings: %+v", s)
	}
	// The partner scorecard shows its place.
	sc := c.do("GET", "/api/v1/partners/p1/scorecard", rung.ScopeRead, "", "", 200)
	cards := decode[[]struct {
		ID    string  `json:"id"`
		Value float64 `json:"value"`
		Rank  int     `json:"rank"`
	}](t, sc["challenges"])
	if len(cards) != 1 || cards[0].ID != "sprint" || cards[0].Value != 5000 || cards[0].Rank != 2 {
		t.Fatalf("scorecard challenges: %+v", cards)
	}
	// The member completed the quest with its deal.
	q := decode[standingsJSON](t, c.do("GET", "/api/v1/challenges/onboarding", rung.ScopeRead, "", "", 200))
	if q.Total != 1 || q.Entries[0].Subject != "m1" || q.Entries[0].Done != 2 || !q.Entries[0].Winner {
		t.Fatalf("quest: %+v", q)
	}
	ef := c.do("GET", "/api/v1/events/w1", rung.ScopeRead, "", "", 200)
	if chs := ef["effects"].(map[string]any)["challenges"].([]any); len(chs) != 1 || chs[0].(map[string]any)["change"] != "completed" {
		t.Fatalf("effects of the completing event: %v", ef["effects"])
	}

	// Past the end plus 24h: the next write moves the clock; final.
	clock.Store(time.Date(2026, 11, 12, 0, 0, 1, 0, time.UTC).UnixNano())
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"id": "late", "type": "deal.won", "partner": "p1", "occurred_at": "2026-11-09T10:00:00Z", "attrs": {"amount": 90000}}`, 200)
	s = decode[standingsJSON](t, c.do("GET", "/api/v1/challenges/sprint", rung.ScopeRead, "", "", 200))
	if s.Status != "final" || s.Provisional || s.Entries[0].Subject != "p2" || len(s.Winners) != 1 || s.Winners[0] != "p2" {
		t.Fatalf("final standings (the late event must not count): %+v", s)
	}
	if len(s.Cohorts) != 2 || s.Cohorts[0].Cohort != "enterprise" || s.Cohorts[0].Winners[0] != "p3" {
		t.Fatalf("cohort winners: %+v", s.Cohorts)
	}
	// As of before the end: provisional again.
	s = decode[standingsJSON](t, c.do("GET", "/api/v1/challenges/sprint?as_of=2026-11-04T00:00:00Z", rung.ScopeRead, "", "", 200))
	if s.Status != "running" || !s.Provisional || s.Total != 3 {
		t.Fatalf("as of the 4th: %+v", s)
	}
	led := c.do("GET", "/api/v1/ledger?partner=p2", rung.ScopeRead, "", "", 200)
	var rewards int
	for _, x := range led["entries"].([]any) {
		if x.(map[string]any)["challenge"] == "sprint" {
			rewards++
		}
	}
	if rewards != 1 {
		t.Fatalf("p2's ledger has %d sprint rewards, want 1: %v", rewards, led)
	}
	c.do("GET", "/api/v1/challenges/nope", rung.ScopeRead, "", "", 404)
	c.do("GET", "/api/v1/challenges/onboarding?cohort=smb", rung.ScopeRead, "", "", 400)
	c.do("GET", "/api/v1/challenges/sprint?as_of=yesterday", rung.ScopeRead, "", "", 400)
	c.do("GET", "/api/v1/challenges", "", "", "", 401)
}
