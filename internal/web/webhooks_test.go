package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// deadLetter leaves a dead delivery of a message to endpoint, as the
// deliverer does after the retry budget.
func deadLetter(t *testing.T, e *testEnv, id, endpoint string) {
	t.Helper()
	ctx := context.Background()
	m, err := outbox.New(outbox.BadgeAwarded, "member:m1", id, map[string]any{"badge": "certified"}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Emit(ctx, e.st, m); err != nil {
		t.Fatal(err)
	}
	ms, err := e.st.OutboxMessages(ctx, 0, 0, true)
	if err != nil || len(ms) == 0 {
		t.Fatalf("undispatched: %v, %v", ms, err)
	}
	if err := e.st.DispatchOutbox(ctx, []int64{ms[0].Seq}, []store.Delivery{{Message: ms[0], Endpoint: endpoint, Attempts: 10,
		NextAttemptAt: e.clock.Now(), Dead: true, LastError: "POST https://hooks.example/rung answered 503 Service Unavailable"}}); err != nil {
		t.Fatal(err)
	}
}

func TestWebhooksPageIsForAdminsOnly(t *testing.T) {
	e := newEnv(t, envOptions{})
	m := e.manager(e.data.Partners[0].ID)
	if res, _ := m.get("/admin/webhooks"); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
		t.Errorf("a manager got %d", res.StatusCode)
	}
	a := e.staff(adminEmail, adminPassword)
	res, body := a.post("/admin/webhooks", url.Values{"url": {"not a url"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "starting with https://") {
		t.Errorf("a bad address: %d %s", res.StatusCode, body)
	}
	if hooks, _ := e.st.Subscriptions(context.Background()); len(hooks) != 0 {
		t.Errorf("a bad address was stored: %v", hooks)
	}
}

func TestBrowserAdminAddsAWebhookAndReplaysADeadLetter(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	base := e.srv.URL
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
	)
	var secret, hooks string
	run(t, ctx, "add an endpoint",
		chromedp.Navigate(base+"/admin/webhooks"),
		chromedp.WaitVisible("#new-webhook", chromedp.ByID),
		chromedp.SendKeys("#url", "https://hooks.example/rung", chromedp.ByID),
		chromedp.Click(`input[name=type][value="badge.awarded"]`, chromedp.ByQuery),
		chromedp.Submit("#new-webhook", chromedp.ByID),
		chromedp.WaitVisible("#secret", chromedp.ByID),
		chromedp.Text("#secret", &secret, chromedp.ByID),
		chromedp.Text("#webhooks", &hooks, chromedp.ByID),
	)
	subs, err := e.st.Subscriptions(context.Background())
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriptions = %v, %v", subs, err)
	}
	if secret != subs[0].Secret || !strings.HasPrefix(secret, "whsec_") || !strings.Contains(hooks, "https://hooks.example/rung") || !strings.Contains(hooks, "badge.awarded") {
		t.Errorf("secret %q (stored %q), endpoints %q", secret, subs[0].Secret, hooks)
	}
	deadLetter(t, e, "badge.awarded:member:m1:7:certified", subs[0].ID)
	var dead, after, notice string
	run(t, ctx, "replay the dead letter",
		chromedp.Navigate(base+"/admin/webhooks"),
		chromedp.WaitVisible("#dead-letters", chromedp.ByID),
		chromedp.Text("#dead-letters", &dead, chromedp.ByID),
		shot("admin-webhooks"),
		chromedp.Click(`#dead-letters button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(".notice", chromedp.ByQuery),
		chromedp.Text(".notice", &notice, chromedp.ByQuery),
		chromedp.Text("#dead-letters", &after, chromedp.ByID),
	)
	if !strings.Contains(dead, "badge.awarded:member:m1:7:certified") || !strings.Contains(dead, "503") {
		t.Errorf("dead letters before: %q", dead)
	}
	if !strings.Contains(notice, "badge.awarded:member:m1:7:certified") || strings.Contains(after, "badge.awarded:member:m1:7") {
		t.Errorf("after replay: notice %q, dead letters %q", notice, after)
	}
	due, err := e.st.DueDeliveries(context.Background(), e.clock.Now(), 0)
	if err != nil || len(due) != 1 || due[0].Attempts != 0 {
		t.Errorf("the replayed delivery is not due again: %+v, %v", due, err)
	}
}
