package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const testProgram = `name: API Test
timezone: UTC
metrics:
  wins: {count: deal.won}
points:
  expire: quarter
  rules:
    - id: win
      on: deal.won
      award: min(1000, event.attrs.amount / 100)
leaderboards:
  - {id: q, metric: points, for: member, window: quarter}
`

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type client struct {
	t    *testing.T
	url  string
	keys map[rung.Scope]string
	svc  *service.Service
	api  *Handler
}

func newServer(t *testing.T) *client {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := New(svc, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
		st.Close()
	})
	c := &client{t: t, url: srv.URL, keys: map[rung.Scope]string{}, svc: svc, api: h}
	for _, sc := range []rung.Scope{rung.ScopeAdmin, rung.ScopeRead, rung.ScopeIngest} {
		_, secret, err := svc.CreateAPIKey(ctx, string(sc), sc, "test")
		if err != nil {
			t.Fatal(err)
		}
		c.keys[sc] = secret
	}
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", testProgram, 200)
	c.do("PUT", "/api/v1/partners/p1", rung.ScopeIngest, "", `{"name": "Initech", "size": "smb"}`, 201)
	c.do("PUT", "/api/v1/members/m1", rung.ScopeIngest, "", `{"partner": "p1", "name": "Peter"}`, 200)
	return c
}

// do sends a request and checks the status; it returns the decoded JSON.
func (c *client) do(method, path string, scope rung.Scope, ctype, body string, want int) map[string]any {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+c.keys[scope])
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return out
}

func errMessage(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func TestAuthNeedsAKeyWithTheRightScope(t *testing.T) {
	c := newServer(t)
	tests := []struct {
		name   string
		method string
		path   string
		scope  rung.Scope
		want   int
	}{
		{"no key", "GET", "/api/v1/leaderboards/q", "", 401},
		{"read key reads", "GET", "/api/v1/leaderboards/q", rung.ScopeRead, 200},
		{"ingest key cannot read", "GET", "/api/v1/leaderboards/q", rung.ScopeIngest, 403},
		{"read key cannot ingest", "POST", "/api/v1/events", rung.ScopeRead, 403},
		{"read key cannot apply a program", "PUT", "/api/v1/program", rung.ScopeRead, 403},
		{"admin key reads", "GET", "/api/v1/leaderboards/q", rung.ScopeAdmin, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := c.do(tt.method, tt.path, tt.scope, "", "{}", tt.want)
			if tt.want >= 400 && errMessage(out) == "" {
				t.Fatalf("error without a message: %v", out)
			}
		})
	}
	req, _ := http.NewRequest("GET", c.url+"/api/v1/program", nil)
	req.Header.Set("Authorization", "Bearer rung_read_wrong")
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != 401 {
		t.Fatalf("unknown key: %d", resp.StatusCode)
	}
}

func TestIngestOneBatchAndNDJSON(t *testing.T) {
	c := newServer(t)
	one := `{"id": "crm:1:deal.won", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 50000}}`
	out := c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/json", one, 200)
	res := out["results"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["status"] != "accepted" {
		t.Fatalf("single: %v", out)
	}
	out = c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/json", `{"events": [`+one+`, {"id": "x", "type": "deal.won", "partner": "ghost", "occurred_at": "2026-11-02T10:00:00Z"}, {"id": 5}]}`, 200)
	res = out["results"].([]any)
	statuses := []string{}
	for _, r := range res {
		statuses = append(statuses, r.(map[string]any)["status"].(string))
	}
	if strings.Join(statuses, ",") != "duplicate,rejected,rejected" {
		t.Fatalf("batch statuses %v", statuses)
	}
	nd := `{"id": "n1", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-03T10:00:00Z", "attrs": {"amount": 1000}}
not json
{"id": "n2", "type": "deal.won", "partner": "p1", "occurred_at": "yesterday"}
`
	out = c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/x-ndjson", nd, 200)
	res = out["results"].([]any)
	if len(res) != 3 || res[0].(map[string]any)["status"] != "accepted" ||
		!strings.Contains(res[1].(map[string]any)["error"].(string), "line 2") ||
		!strings.Contains(res[2].(map[string]any)["error"].(string), "RFC 3339") {
		t.Fatalf("ndjson results %v", res)
	}
	sc := c.do("GET", "/api/v1/members/m1/scorecard", rung.ScopeRead, "", "", 200)
	if pts := sc["points"].(map[string]any); pts["lifetime"].(float64) != 510 {
		t.Fatalf("scorecard %v", sc)
	}
}

func TestMalformedAndOversizedBodies(t *testing.T) {
	c := newServer(t)
	out := c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/json", `{"id": "a", `, 400)
	if !strings.Contains(errMessage(out), "not valid JSON") {
		t.Fatalf("malformed: %v", out)
	}
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/json", ``, 400)
	for _, empty := range []string{`{"events": []}`, `[]`} {
		if out := c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/json", empty, 400); !strings.Contains(errMessage(out), "no events") {
			t.Fatalf("empty batch %s: %v", empty, out)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"events": [`)
	for i := 0; i < MaxBatch+1; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id": "e%d"}`, i)
	}
	b.WriteString(`]}`)
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/json", b.String(), 413)
	huge := `{"id": "big", "attrs": {"x": "` + strings.Repeat("a", MaxBody) + `"}}`
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/json", huge, 413)
}

func TestRetractionAndEventExplanation(t *testing.T) {
	c := newServer(t)
	ev := `{"id": "crm:7:deal.won", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 20000}}`
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", ev, 200)
	corrected := strings.Replace(ev, "20000", "30000", 1)
	out := c.do("POST", "/api/v1/events", rung.ScopeIngest, "", corrected, 200)
	if out["results"].([]any)[0].(map[string]any)["status"] != "corrected" {
		t.Fatalf("correction: %v", out)
	}
	got := c.do("GET", "/api/v1/events/crm:7:deal.won", rung.ScopeRead, "", "", 200)
	versions := got["versions"].([]any)
	awards := got["effects"].(map[string]any)["awards"].([]any)
	if len(versions) != 2 || len(awards) != 1 || awards[0].(map[string]any)["points"].(float64) != 300 || awards[0].(map[string]any)["rule"] != "win" {
		t.Fatalf("event: %v", got)
	}
	c.do("DELETE", "/api/v1/events/crm:7:deal.won", rung.ScopeIngest, "", "", 200)
	got = c.do("GET", "/api/v1/events/crm:7:deal.won", rung.ScopeRead, "", "", 200)
	if got["status"] != "retracted" || len(got["versions"].([]any)) != 3 {
		t.Fatalf("after retraction: %v", got)
	}
	ledger := c.do("GET", "/api/v1/ledger?member=m1", rung.ScopeRead, "", "", 200)
	if len(ledger["entries"].([]any)) != 0 {
		t.Fatalf("ledger after retraction: %v", ledger)
	}
	c.do("DELETE", "/api/v1/events/crm:7:deal.won", rung.ScopeIngest, "", "", 409)
	c.do("GET", "/api/v1/events/nope", rung.ScopeRead, "", "", 404)
}

func TestProgramErrorsNameTheirLines(t *testing.T) {
	c := newServer(t)
	bad := "name: Broken\npoints:\n  rules:\n    - id: a\n      on: deal.won\n      award: [1]\n"
	out := c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", bad, 400)
	details := out["error"].(map[string]any)["details"].([]any)
	if len(details) == 0 || details[0].(map[string]any)["line"].(float64) != 6 {
		t.Fatalf("details %v, want an error on line 6", details)
	}
	prog := c.do("GET", "/api/v1/program", rung.ScopeRead, "", "", 200)
	if prog["version"].(float64) != 1 {
		t.Fatalf("program %v: the broken file must not be applied", prog)
	}
	c.do("POST", "/api/v1/program/validate", rung.ScopeRead, "application/yaml", testProgram, 200)
}

func TestLeaderboardAndLedgerParameters(t *testing.T) {
	c := newServer(t)
	for i, amt := range []int{10000, 30000, 20000} {
		m := fmt.Sprintf("m%d", i+1)
		c.do("POST", "/api/v1/events", rung.ScopeIngest, "", fmt.Sprintf(`{"id": "w%d", "type": "deal.won", "partner": "p1", "member": "%s", "occurred_at": "2026-11-0%dT10:00:00Z", "attrs": {"amount": %d}}`, i, m, i+2, amt), 200)
	}
	lb := c.do("GET", "/api/v1/leaderboards/q?limit=2", rung.ScopeRead, "", "", 200)
	entries := lb["entries"].([]any)
	if lb["total"].(float64) != 3 || len(entries) != 2 || entries[0].(map[string]any)["subject"] != "m2" {
		t.Fatalf("leaderboard %v", lb)
	}
	lb = c.do("GET", "/api/v1/leaderboards/q?as_of=2026-11-03T12:00:00Z", rung.ScopeRead, "", "", 200)
	if lb["total"].(float64) != 2 || lb["entries"].([]any)[0].(map[string]any)["subject"] != "m2" {
		t.Fatalf("as_of board %v", lb)
	}
	c.do("GET", "/api/v1/leaderboards/q?as_of=yesterday", rung.ScopeRead, "", "", 400)
	c.do("GET", "/api/v1/leaderboards/nope", rung.ScopeRead, "", "", 404)
	c.do("GET", "/api/v1/ledger", rung.ScopeRead, "", "", 400)
	lg := c.do("GET", "/api/v1/ledger?partner=p1&from=2026-11-03T00:00:00Z", rung.ScopeRead, "", "", 200)
	if len(lg["entries"].([]any)) != 2 {
		t.Fatalf("ledger from: %v", lg)
	}
	adj := c.do("POST", "/api/v1/adjustments", rung.ScopeAdmin, "", `{"partner": "p1", "member": "m1", "points": -50, "reason": "duplicate deal"}`, 201)
	if a, _ := adj["adjustment"].(map[string]any); a == nil || !strings.HasPrefix(fmt.Sprint(a["id"]), "adj:") || a["by"] == "" || a["by"] == nil ||
		a["created_at"] == "0001-01-01T00:00:00Z" || a["occurred_at"] != a["created_at"] || a["points"] != -50.0 {
		t.Fatalf("the adjustment answered is not the one stored, with its id, author and times: %v", adj)
	}
	c.do("POST", "/api/v1/adjustments", rung.ScopeAdmin, "", `{"partner": "p1", "points": 10}`, 400)
	audit := c.do("GET", "/api/v1/audit", rung.ScopeAdmin, "", "", 200)
	if len(audit["entries"].([]any)) == 0 {
		t.Fatal("audit log is empty after an adjustment")
	}
}

func TestHealth(t *testing.T) {
	c := newServer(t)
	c.do("GET", "/healthz", "", "", "", 200)
	c.do("GET", "/readyz", "", "", "", 200)
}

func TestLedgerAsOfAndPartnerFilter(t *testing.T) {
	c := newServer(t)
	c.do("PUT", "/api/v1/partners/p2", rung.ScopeIngest, "", `{"name": "Other"}`, 201)
	c.do("PUT", "/api/v1/partners/p2", rung.ScopeIngest, "", `{"name": "Other"}`, 200)
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"id": "w1", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 10000}}`, 200)
	lg := c.do("GET", "/api/v1/ledger?partner=p1&as_of=2026-11-01T00:00:00Z", rung.ScopeRead, "", "", 200)
	if len(lg["entries"].([]any)) != 0 {
		t.Fatalf("as_of before the event: %v", lg)
	}
	lg = c.do("GET", "/api/v1/ledger?member=m1&partner=p2", rung.ScopeRead, "", "", 200)
	if len(lg["entries"].([]any)) != 0 {
		t.Fatalf("member m1's entries for partner p2: %v", lg)
	}
	for _, path := range []string{"/api/v1/ledger?partner=p1&as_of=garbage", "/api/v1/partners/p1?as_of=x", "/api/v1/members/m1?as_of=x", "/api/v1/events/w1?as_of=x"} {
		c.do("GET", path, rung.ScopeRead, "", "", 400)
	}
}

func TestUnparsableBodiesAreRefusedWhole(t *testing.T) {
	c := newServer(t)
	c.do("POST", "/api/v1/events", rung.ScopeIngest, "application/x-ndjson", "this is not json\nnor this\n", 400)
	c.do("PUT", "/api/v1/partners/p3", rung.ScopeIngest, "", `{"name": "A"} junk`, 400)
}
