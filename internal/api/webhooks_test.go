package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func TestWebhooksAndDeadLettersAPI(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(svc, slog.New(slog.DiscardHandler)))
	defer func() { srv.Close(); svc.Close(); st.Close() }()
	_, admin, _ := svc.CreateAPIKey(ctx, "admin", rung.ScopeAdmin, "test")
	_, read, _ := svc.CreateAPIKey(ctx, "read", rung.ScopeRead, "test")
	call := func(method, path, key, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
		}
		out := map[string]any{}
		if len(raw) > 0 {
			json.Unmarshal(raw, &out)
		}
		return out
	}
	call("GET", "/api/v1/webhooks", read, "", 403)
	for body, says := range map[string]string{
		`{"url": "ftp://x"}`: "absolute http or https URL",
		`{"url": "https://crm.example/hook", "types": ["points.exploded"]}`: "is not one of",
		`{"url": "https://crm.example/hook", "secret": "short"}`:            "at least 16",
		`{"url": "https://crm.example/hook", "colour": "red"}`:              "allowed: id, url",
	} {
		if msg := errMessage(call("POST", "/api/v1/webhooks", admin, body, 400)); !strings.Contains(msg, says) {
			t.Errorf("%s: %q does not say %q", body, msg, says)
		}
	}
	made := call("POST", "/api/v1/webhooks", admin, `{"id": "crm", "url": "https://crm.example/hook", "types": ["badge.awarded"]}`, 201)
	if s, _ := made["secret"].(string); !strings.HasPrefix(s, "whsec_") || made["enabled"] != true {
		t.Fatalf("created webhook = %v", made)
	}
	call("POST", "/api/v1/webhooks", admin, `{"id": "crm", "url": "https://crm.example/other"}`, 409)
	list := call("GET", "/api/v1/webhooks", admin, "", 200)
	hooks, _ := list["webhooks"].([]any)
	if len(hooks) != 1 || hooks[0].(map[string]any)["secret"] != nil || hooks[0].(map[string]any)["url"] != "https://crm.example/hook" {
		t.Fatalf("webhooks = %v", list)
	}

	// A dead letter, as the deliverer leaves one.
	m, _ := outbox.New(outbox.BadgeAwarded, "member:m1", "badge.awarded:member:m1:2:certified@Gold", map[string]any{"badge": "certified"}, now)
	if err := outbox.Emit(ctx, st, m); err != nil {
		t.Fatal(err)
	}
	ms, _ := st.OutboxMessages(ctx, 0, 0, true)
	if err := st.DispatchOutbox(ctx, []int64{ms[0].Seq}, []store.Delivery{{Message: ms[0], Endpoint: "crm", Attempts: 10, NextAttemptAt: now, Dead: true, LastError: "HTTP 503"}}); err != nil {
		t.Fatal(err)
	}
	call("GET", "/api/v1/outbox?dead=maybe", admin, "", 400)
	dead := call("GET", "/api/v1/outbox?dead=true", admin, "", 200)
	ds, _ := dead["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["last_error"] != "HTTP 503" || ds[0].(map[string]any)["message"].(map[string]any)["id"] != m.ID {
		t.Fatalf("dead letters = %v", dead)
	}
	path := "/api/v1/outbox/" + url.PathEscape(m.ID) + "/replay"
	if got := call("POST", path, admin, "", 200); got["replayed"] != 1.0 {
		t.Errorf("replay = %v", got)
	}
	call("POST", path, admin, "", 404)
	if dead := call("GET", "/api/v1/outbox?dead=true", admin, "", 200); len(dead["deliveries"].([]any)) != 0 {
		t.Errorf("dead letters after replay = %v", dead)
	}
	call("DELETE", "/api/v1/webhooks/crm", admin, "", 204)
	call("DELETE", "/api/v1/webhooks/crm", admin, "", 404)
	if es, _ := st.Audit(ctx, store.AuditFilter{Limit: 10}); len(es) < 3 || es[0].Action != "webhook.delete" {
		t.Errorf("audit = %+v", es)
	}
}
