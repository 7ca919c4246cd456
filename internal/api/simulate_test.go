package api

import (
	"encoding/csv"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

// wins posts two won deals for m1: 50,000 (500 points) and 200,000 (capped
// at 1,000 points).
func wins(c *client) {
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"events": [
		{"id": "w1", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 50000}},
		{"id": "w2", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-03T10:00:00Z", "attrs": {"amount": 200000}}]}`, 200)
}

// TestSimulateEndpoint: the active program changes nothing (against the
// live engine); a draft that caps wins at 600 takes 400 points off m1 and
// p1; the CSV is a download of the same rows.
func TestSimulateEndpoint(t *testing.T) {
	c := newServer(t)
	wins(c)
	out := c.do("POST", "/api/v1/program/simulate", rung.ScopeAdmin, "application/yaml", testProgram, 200)
	if out["baseline"] != "live" || len(out["members"].([]any)) != 0 || len(out["partners"].([]any)) != 0 {
		t.Fatalf("active program: %v", out)
	}
	if tot := out["totals"].(map[string]any); tot["points_issued"].(map[string]any)["delta"].(float64) != 0 || tot["points_issued"].(map[string]any)["before"].(float64) != 1500 {
		t.Fatalf("totals: %v", tot)
	}
	draft := strings.Replace(testProgram, "min(1000,", "min(600,", 1)
	out = c.do("POST", "/api/v1/program/simulate?sort=-lifetime&limit=5", rung.ScopeAdmin, "application/yaml", draft, 200)
	m := out["members"].([]any)
	if len(m) != 1 {
		t.Fatalf("members: %v", m)
	}
	row := m[0].(map[string]any)
	if row["id"] != "m1" || !reflect.DeepEqual(row["lifetime"], map[string]any{"before": 1500.0, "after": 1100.0, "delta": -400.0}) {
		t.Fatalf("m1: %v", row)
	}

	req, _ := http.NewRequest("POST", c.url+"/api/v1/program/simulate?format=csv&all=true", strings.NewReader(draft))
	req.Header.Set("Authorization", "Bearer "+c.keys[rung.ScopeAdmin])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %v %v", resp.Header, err)
	}
	if len(lines) != 3 || lines[1][1] != "p1" || lines[2][1] != "m1" {
		t.Fatalf("csv lines: %v", lines)
	}
}

// TestSimulateRefusals: the same line-numbered errors as PUT, admin scope,
// a bad sort key or period, and nothing applied.
func TestSimulateRefusals(t *testing.T) {
	c := newServer(t)
	bad := "name: Broken\npoints:\n  rules:\n    - id: a\n      on: deal.won\n      award: [1]\n"
	put := c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", bad, 400)
	sim := c.do("POST", "/api/v1/program/simulate", rung.ScopeAdmin, "application/yaml", bad, 400)
	if !reflect.DeepEqual(put, sim) {
		t.Fatalf("simulate answers\n%v\nPUT answers\n%v", sim, put)
	}
	c.do("POST", "/api/v1/program/simulate", rung.ScopeRead, "application/yaml", testProgram, 403)
	if out := c.do("POST", "/api/v1/program/simulate?sort=points", rung.ScopeAdmin, "application/yaml", testProgram, 400); !strings.Contains(errMessage(out), "lifetime") {
		t.Fatalf("sort: %v", out)
	}
	c.do("POST", "/api/v1/program/simulate?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", rung.ScopeAdmin, "application/yaml", testProgram, 400)
	c.do("POST", "/api/v1/program/simulate?format=xml", rung.ScopeAdmin, "application/yaml", testProgram, 400)
	empty := c.do("POST", "/api/v1/program/simulate?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z", rung.ScopeAdmin, "application/yaml", testProgram, 200)
	if empty["empty"] != true || !strings.Contains(empty["message"].(string), "no events") {
		t.Fatalf("empty period: %v", empty)
	}
	if prog := c.do("GET", "/api/v1/program", rung.ScopeRead, "", "", 200); prog["version"].(float64) != 1 {
		t.Fatalf("a simulation applied something: %v", prog)
	}
}
