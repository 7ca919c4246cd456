package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

func TestAnalyticsEndpoints(t *testing.T) {
	c := newServer(t)
	// three wins in November 2026: 10,000 → 100 points, 20,000 → 200,
	// 200,000 → min(1000, 2000) = 1000; 1,300 issued in all
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"events": [
		{"id": "w1", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 10000}},
		{"id": "w2", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-10T10:00:00Z", "attrs": {"amount": 20000}},
		{"id": "w3", "type": "deal.won", "partner": "p1", "occurred_at": "2026-11-17T10:00:00Z", "attrs": {"amount": 200000}}]}`, 200)

	out := c.do("GET", "/api/v1/analytics/points?from=2026-11-01&to=2026-11-21", rung.ScopeRead, "", "", 200)
	if out["issued"] != 1300.0 || out["empty"] != false {
		t.Errorf("points = %v, want 1300 issued", out)
	}
	out = c.do("GET", "/api/v1/analytics/engagement?from=2026-11-01&to=2026-11-21", rung.ScopeRead, "", "", 200)
	if out["events"] != 3.0 || out["active_partners"] != 1.0 || out["active_members"] != 1.0 {
		t.Errorf("engagement = %v", out)
	}
	// the other reports answer too; those without a source say so
	for _, name := range []string{"outcomes", "indicators", "tiers", "rewards"} {
		out = c.do("GET", "/api/v1/analytics/"+name, rung.ScopeRead, "", "", 200)
		if _, ok := out["empty"]; !ok {
			t.Errorf("%s: no empty flag: %v", name, out)
		}
	}
	if out = c.do("GET", "/api/v1/analytics/tiers", rung.ScopeRead, "", "", 200); out["message"] != "No tier data yet" {
		t.Errorf("tiers = %v", out)
	}
	// a period without data is an empty report that says so, not an error
	out = c.do("GET", "/api/v1/analytics/engagement?from=2025-01-01&to=2025-02-01&cohort=size:smb", rung.ScopeRead, "", "", 200)
	if out["empty"] != true || out["message"] != "No data for this period" {
		t.Errorf("empty period = %v", out)
	}

	// CSV: a header, then a row per week (2, 9 and 16 November)
	req, _ := http.NewRequest("GET", c.url+"/api/v1/analytics/points?from=2026-11-02&to=2026-11-23&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+c.keys[rung.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "week,issued,expired,redeemed\n2026-11-02,100,0,0\n2026-11-09,200,0,0\n2026-11-16,1000,0,0\n"
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || string(raw) != want {
		t.Errorf("CSV %d %s:\n%s\nwant:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw, want)
	}

	// bad input: a clear 400; the ingest scope cannot read
	for _, q := range []string{"cohort=emea", "from=yesterday", "from=2026-11-10&to=2026-11-01", "format=xml"} {
		out = c.do("GET", "/api/v1/analytics/points?"+q, rung.ScopeRead, "", "", 400)
		if errMessage(out) == "" {
			t.Errorf("%s: no message", q)
		}
	}
	c.do("GET", "/api/v1/analytics/points", rung.ScopeIngest, "", "", 403)
}
