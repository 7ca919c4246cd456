package api

import (
	"fmt"
	"testing"

	"github.com/rung-dev/rung"
)

// TestLedgerAndAuditPageBackInTime reads a ledger and the audit log a page
// at a time: every entry once, newest pages first.
func TestLedgerAndAuditPageBackInTime(t *testing.T) {
	c := newServer(t)
	for i := range 7 {
		c.do("POST", "/api/v1/events", rung.ScopeIngest, "", fmt.Sprintf(`{"id": "w%d", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:%02d:00Z", "attrs": {"amount": 10000}}`, i, i), 200)
		c.do("POST", "/api/v1/adjustments", rung.ScopeAdmin, "", fmt.Sprintf(`{"partner": "p1", "member": "m1", "points": %d, "reason": "adjustment %d"}`, i+1, i), 201)
	}
	all := c.do("GET", "/api/v1/ledger?member=m1", rung.ScopeRead, "", "", 200)["entries"].([]any)
	if len(all) < 14 {
		t.Fatalf("ledger: %d entries, want at least 14", len(all))
	}
	var paged []any
	for off := 0; off < len(all)+5; off += 5 {
		page := c.do("GET", fmt.Sprintf("/api/v1/ledger?member=m1&limit=5&offset=%d", off), rung.ScopeRead, "", "", 200)["entries"].([]any)
		paged = append(page, paged...) // each page is older than the one before
	}
	if fmt.Sprint(paged) != fmt.Sprint(all) {
		t.Errorf("the ledger paged by offset is not the whole ledger:\n%v\nwant\n%v", paged, all)
	}
	c.do("GET", "/api/v1/ledger?member=m1&offset=-1", rung.ScopeRead, "", "", 400)

	whole := c.do("GET", "/api/v1/audit?limit=1000", rung.ScopeAdmin, "", "", 200)["entries"].([]any)
	var ids []any
	next := ""
	for range 20 {
		out := c.do("GET", "/api/v1/audit?limit=3"+next, rung.ScopeAdmin, "", "", 200)
		for _, e := range out["entries"].([]any) {
			ids = append(ids, e.(map[string]any)["id"])
		}
		n, ok := out["next"]
		if !ok {
			break
		}
		next = fmt.Sprintf("&before=%v", n)
	}
	var want []any
	for _, e := range whole {
		want = append(want, e.(map[string]any)["id"])
	}
	if len(want) < 7 || fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("the audit log paged by before: %v, want %v", ids, want)
	}
}
