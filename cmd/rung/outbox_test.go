package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/outbox"
)

// TestServeDeliversSignedWebhooksAndWritesBackToHubSpot: a server with a
// webhook endpoint and HubSpot write-back reports a badge earned through
// the API to both.
func TestServeDeliversSignedWebhooksAndWritesBackToHubSpot(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	if out, err := runCmd(t, "program", "apply", writeFile(t, dir, "program.yaml", badgeProgram), "--db", db); err != nil {
		t.Fatalf("program apply: %v\n%s", err, out)
	}
	out, err := runCmd(t, "apikey", "create", "--scope", "admin", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(out)

	type got struct {
		env outbox.Envelope
		err error
	}
	hooks := make(chan got, 100)
	var secret string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var g got
		g.err = outbox.Verify(secret, r.Header.Get(outbox.SignatureHeader), b, time.Now(), 5*time.Minute)
		json.Unmarshal(b, &g.env)
		hooks <- g
	}))
	defer receiver.Close()
	patches := make(chan string, 100)
	hubspot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		patches <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization") + " " + string(b)
	}))
	defer hubspot.Close()

	url, _, _ := serveUntil(t, db, "--webhook-every", "20ms", "--hubspot-token", "pat-1", "--hubspot-url", hubspot.URL,
		"--hubspot-properties", "points=rung_points,badges=rung_badges")
	code, res := call(t, "POST", url+"/api/v1/webhooks", key, `{"url": "`+receiver.URL+`", "types": ["badge.awarded"]}`)
	if code != 201 {
		t.Fatalf("POST /api/v1/webhooks: %d %v", code, res)
	}
	secret, _ = res["secret"].(string)
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/partners/p1", `{"name": "Initech"}`},
		{"PUT", "/api/v1/members/ann", `{"partner": "p1", "name": "Ann"}`},
		{"POST", "/api/v1/events", `{"id": "lms:1", "type": "certification.earned", "partner": "p1", "member": "ann", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"cert_id": "ARCH-42"}}`},
	} {
		if code, res := call(t, c.method, url+c.path, key, c.body); code/100 != 2 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, code, res)
		}
	}
	select {
	case g := <-hooks:
		if g.err != nil || g.env.Type != "badge.awarded" || g.env.Subject != "member:ann" || !strings.Contains(string(g.env.Data), `"certified-architect"`) {
			t.Errorf("webhook: %+v, signature: %v", g.env, g.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook arrived")
	}
	// The partner's creation is written back first (0 points), then the
	// badge's event (100 points), in order.
	var seen []string
	want := `PATCH /crm/v3/objects/companies/p1 Bearer pat-1 {"properties":{"rung_badges":"","rung_points":"100"}}`
	for len(seen) == 0 || seen[len(seen)-1] != want {
		select {
		case p := <-patches:
			if !strings.HasPrefix(p, `PATCH /crm/v3/objects/companies/p1 Bearer pat-1 {"properties":{"rung_badges":"","rung_points":"`) {
				t.Fatalf("HubSpot got %s", p)
			}
			seen = append(seen, p)
		case <-time.After(30 * time.Second):
			t.Fatalf("HubSpot got %q, never %s", seen, want)
		}
	}
}

func TestServeRefusesBadWriteBackFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rung.db")
	for args, says := range map[string]string{
		"--hubspot-token x --hubspot-properties rank=rung_rank": "is not a write-back field",
		"--salesforce-token x": "needs both --salesforce-url and --salesforce-token",
		"--webhook-attempts 0": "at least 1",
	} {
		_, err := runCmd(t, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want an error saying %q", args, err, says)
		}
	}
}
