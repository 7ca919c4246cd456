package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/source"
	"github.com/rung-dev/rung/internal/store"
)

// rejectedDelivery sends a signed LMS delivery that the demo program's
// webhook mapping rejects (it lacks course_id), and returns its id.
func rejectedDelivery(t *testing.T, e *testEnv) string {
	t.Helper()
	t.Setenv("RUNG_WEBHOOK_SECRET", "whsec")
	x := source.New(e.svc, nil, source.SecretsFromEnv())
	email := "new.learner@" + e.data.Partners[0].Domains[0]
	body := []byte(fmt.Sprintf(`{"id":"enr-1","object":"course","fields":{"email":%q,"score":91}}`, email))
	now := e.svc.Now().Unix()
	res, err := x.Receive(context.Background(), source.Request{Kind: source.KindWebhook, Method: "POST", URI: "/api/v1/sources/webhook", Body: body,
		Headers: map[string]string{source.HeaderTimestamp: fmt.Sprint(now), source.HeaderSignature: source.Signature("whsec", now, body)}})
	if err != nil || res.Status != "rejected" || !strings.Contains(res.Reason, `names field "course_id"`) {
		t.Fatalf("delivery: %+v, %v", res, err)
	}
	return res.Delivery
}

// fixDemoProgram applies the demo program without the course_id attribute.
func fixDemoProgram(t *testing.T, e *testEnv) {
	t.Helper()
	fixed := strings.Replace(string(demo.Program), "attrs: {score: score, course: course_id}", "attrs: {score: score}", 1)
	if fixed == string(demo.Program) {
		t.Fatal("the demo program's webhook mapping changed: update this test")
	}
	if _, err := e.svc.ApplyProgram(context.Background(), []byte(fixed), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
}

func TestSourcesPageListsRejectedDeliveriesAndReplaysThem(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := rejectedDelivery(t, e)
	if res, _ := e.manager(e.data.Partners[0].ID).get("/admin/sources"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a manager sees the Sources page: %d", res.StatusCode)
	}
	admin := e.staff(adminEmail, adminPassword)
	res, body := admin.get("/admin/sources")
	if res.StatusCode != 200 || !strings.Contains(body, `id="delivery-`+id+`"`) || !strings.Contains(body, "names field &#34;course_id&#34;") {
		t.Fatalf("Sources page: %d\n%s", res.StatusCode, body)
	}
	// Replaying before the fix keeps it rejected.
	res, _ = admin.post("/admin/sources/"+id+"/replay", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/sources?replayed=rejected" {
		t.Fatalf("replay before the fix: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	fixDemoProgram(t, e)
	admin.get("/admin/sources")
	res, _ = admin.post("/admin/sources/"+id+"/replay", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/sources?replayed=applied" {
		t.Fatalf("replay after the fix: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = admin.get("/admin/sources?replayed=applied")
	if strings.Contains(body, `id="delivery-`+id+`"`) || !strings.Contains(body, "replayed and applied") || !strings.Contains(body, `id="none"`) {
		t.Errorf("after the replay the page still lists it, or says nothing:\n%s", body)
	}
	_, body = admin.get("/admin/sources?status=all")
	if !strings.Contains(body, `id="delivery-`+id+`"`) {
		t.Errorf("the applied delivery is not under All")
	}
	admin.lang = "de"
	if _, body = admin.get("/admin/sources"); !strings.Contains(body, "Keine abgewiesenen Lieferungen.") {
		t.Errorf("the page is not in German")
	}
	if res, _ := admin.post("/admin/sources/del_nope/replay", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("replay of an unknown delivery: %d", res.StatusCode)
	}
}

func TestBrowserAdminReplaysARejectedDelivery(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	id := rejectedDelivery(t, e)
	base := e.srv.URL
	var reason string
	run(t, ctx, "sign in and open Sources",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
		chromedp.Click(`a[href="/admin/sources"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#delivery-"+id, chromedp.ByID),
		chromedp.Text("#delivery-"+id+" .reason", &reason, chromedp.ByQuery),
		shot("admin-sources"),
	)
	if !strings.Contains(reason, `names field "course_id"`) {
		t.Fatalf("reason shown: %q", reason)
	}
	fixDemoProgram(t, e)
	var notice string
	run(t, ctx, "replay",
		chromedp.Click("#delivery-"+id+" button.replay", chromedp.ByQuery),
		chromedp.WaitVisible("#replayed", chromedp.ByID),
		chromedp.Text("#replayed", &notice, chromedp.ByID),
		chromedp.WaitVisible("#none", chromedp.ByID),
	)
	if !strings.Contains(notice, "applied") {
		t.Errorf("notice after replay: %q", notice)
	}
	if _, ev, err := e.svc.EventEffects(context.Background(), "webhook:course:enr-1:training.completed"); err != nil || ev.Partner != e.data.Partners[0].ID {
		t.Errorf("the replayed delivery's event: %+v, %v", ev, err)
	}
}

// TestSourcesPageKeepsTheViewAndSaysWhenItIsCut replays from the "All"
// view and comes back to it, and lists the newest 200 of 201 deliveries
// saying older ones are kept.
func TestSourcesPageKeepsTheViewAndSaysWhenItIsCut(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := rejectedDelivery(t, e)
	admin := e.staff(adminEmail, adminPassword)
	if _, body := admin.get("/admin/sources?status=all"); !strings.Contains(body, `name="status" value="all"`) {
		t.Fatalf("the replay form on All does not carry the view")
	}
	res, _ := admin.post("/admin/sources/"+id+"/replay", url.Values{"status": {"all"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/admin/sources?replayed=rejected&status=all" {
		t.Errorf("replay from All: %d to %q, want back to All", res.StatusCode, loc)
	}
	if _, body := admin.get("/admin/sources"); strings.Contains(body, `id="more"`) {
		t.Errorf("one delivery: the page says older ones are not listed")
	}
	for i := range listLimit {
		at := e.svc.Now().Add(time.Duration(i-listLimit) * time.Minute)
		d := store.SourceDelivery{ID: fmt.Sprintf("del_x%03d", i), Source: "webhook", ReceivedAt: at, Method: "POST", URI: "/api/v1/sources/webhook",
			Body: []byte(`{}`), Status: store.DeliveryRejected, Reason: "test", Attempts: 1, UpdatedAt: at}
		if err := e.st.PutSourceDelivery(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	_, body := admin.get("/admin/sources")
	if n := strings.Count(body, `<tr id="delivery-`); n != listLimit || !strings.Contains(body, `id="more"`) || !strings.Contains(body, "The newest 200 are listed") {
		t.Errorf("201 rejected deliveries: %d rows listed, want %d and a line saying older ones are kept", n, listLimit)
	}
}
