package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// lastEnded is the quarter before the one containing the env's now.
func lastEnded(e *testEnv) string {
	var q string
	e.svc.Read(func(en *engine.Engine) error {
		q = lastQuarters(en, e.clock.Now(), 2)[1]
		return nil
	})
	return q
}

func TestConsoleReviewPreviewPublishAndAppealRoundTrip(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	q := lastEnded(e)
	res, body := admin.get("/admin/tiers")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="decisions"`) || !strings.Contains(body, "Publish the review of "+q) {
		t.Fatalf("console tiers page: %d\n%s", res.StatusCode, body)
	}
	if !strings.Contains(body, "Preview: nothing is recorded") || strings.Count(body, `id="decision-`) != len(e.data.Partners) {
		t.Errorf("the preview does not list a decision per partner")
	}
	res, _ = admin.post("/admin/tiers/review", url.Values{"quarter": {q}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=1") {
		t.Fatalf("publish: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = admin.get("/admin/tiers?quarter=" + q)
	if !strings.Contains(body, "Published: these decisions are recorded.") || !strings.Contains(body, `id="mobility"`) {
		t.Errorf("after publishing, the page does not say so or shows no mobility")
	}
	// A quarter that has not ended cannot be published.
	var cur string
	e.svc.Read(func(en *engine.Engine) error { cur = en.QuarterLabel(e.clock.Now()); return nil })
	res, _ = admin.post("/admin/tiers/review", url.Values{"quarter": {cur}})
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "error=") {
		t.Errorf("publishing the running quarter: %s", loc)
	}

	// A partner admin appeals in the portal; a plain member may not.
	m, _ := e.member(0)
	pa := e.signIn(m, store.RolePartnerAdmin)
	res, body = pa.get("/portal/tier")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="tier-card"`) || !strings.Contains(body, `id="appeal-form"`) {
		t.Fatalf("portal tier page: %d\n%s", res.StatusCode, body)
	}
	// A nudge recorded by the sweep shows on the page.
	if _, err := e.svc.RecordNudges(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ns, _ := e.svc.Nudges(context.Background(), m.Partner); len(ns) > 0 {
		if _, body := pa.get("/portal/tier"); !strings.Contains(body, `id="tier-nudge"`) {
			t.Errorf("the partner has a nudge (%s) but the page does not show it", ns[0].Message)
		}
	}
	res, _ = pa.post("/portal/tier/appeal", url.Values{"quarter": {q}, "text": {""}})
	if !strings.Contains(res.Header.Get("Location"), "error=") {
		t.Errorf("an empty appeal was not refused: %s", res.Header.Get("Location"))
	}
	res, _ = pa.post("/portal/tier/appeal", url.Values{"quarter": {q}, "text": {"Our October deals were booked late"}, "evidence": {"https://crm.example/d/1\nhttps://crm.example/d/2"}})
	if !strings.Contains(res.Header.Get("Location"), "done=1") {
		t.Fatalf("appeal: %s", res.Header.Get("Location"))
	}
	_, body = pa.get("/portal/tier")
	if !strings.Contains(body, "Our October deals were booked late") || strings.Contains(body, `id="appeal-form"`) {
		t.Errorf("after appealing the only decision, the page should show the appeal and no form")
	}
	plain := e.signIn(m, store.RoleMember)
	if res, _ := plain.post("/portal/tier/appeal", url.Values{"quarter": {q}, "text": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a member's appeal: %d, want 403", res.StatusCode)
	}

	// The admin overturns it from the queue.
	_, body = admin.get("/admin/tiers")
	if !strings.Contains(body, "Our October deals were booked late") || !strings.Contains(body, "https://crm.example/d/2") {
		t.Fatalf("the appeals queue misses the appeal")
	}
	id := "appeal:" + q + ":" + m.Partner
	res, _ = admin.post("/admin/tiers/appeals/"+url.PathEscape(id)+"/decision", url.Values{"decision": {"overturn"}, "tier": {"Elite"}, "reply": {"Confirmed with finance"}})
	if !strings.Contains(res.Header.Get("Location"), "done=1") {
		t.Fatalf("overturn: %s", res.Header.Get("Location"))
	}
	res, _ = admin.post("/admin/tiers/appeals/"+url.PathEscape(id)+"/decision", url.Values{"decision": {"uphold"}})
	if !strings.Contains(res.Header.Get("Location"), "error=") {
		t.Errorf("deciding twice was not refused: %s", res.Header.Get("Location"))
	}
	_, body = admin.get("/admin/partners/" + url.PathEscape(m.Partner) + "/tiers")
	if !strings.Contains(body, "Confirmed with finance") || !strings.Contains(body, "overturned") {
		t.Errorf("the partner's tier history misses the overturn")
	}
	// Overrides from the console.
	res, _ = admin.post("/admin/tiers/overrides", url.Values{"partner": {m.Partner}, "tier": {"Registered"}, "reason": {""}})
	if !strings.Contains(res.Header.Get("Location"), "error=") {
		t.Errorf("an override without a reason was accepted")
	}
	res, _ = admin.post("/admin/tiers/overrides", url.Values{"partner": {m.Partner}, "tier": {"Registered"}, "reason": {"contract paused"}, "until": {"2099-01-01"}})
	if !strings.Contains(res.Header.Get("Location"), "done=1") {
		t.Errorf("override: %s", res.Header.Get("Location"))
	}
	if _, body = pa.get("/portal/tier"); !strings.Contains(body, "Your tier is set by the program team.") {
		t.Errorf("the portal does not say the tier is overridden")
	}
}

func TestBrowserPortalTierCardAndConsoleReviewPreview(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	m, _ := e.member(0)
	if err := SetMemberRole(context.Background(), e.st, m, store.RolePartnerAdmin, "test", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var bars, benefits int
	var heading string
	run(t, ctx, "portal tier card",
		chromedp.Navigate(e.srv.URL+e.link(m)),
		chromedp.WaitVisible("#use-link", chromedp.ByID),
		chromedp.Click("#use-link", chromedp.ByID),
		chromedp.WaitVisible("#tier-details", chromedp.ByID),
		chromedp.Click("#tier-details", chromedp.ByID),
		chromedp.WaitVisible("#tier-card", chromedp.ByID),
		chromedp.Text("#tc-h", &heading, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#tier-card progress").length`, &bars),
		chromedp.Evaluate(`document.querySelectorAll("#benefits-now li, #benefits-next li").length`, &benefits),
		shot("portal-tier"),
	)
	if heading == "" || bars == 0 || benefits == 0 {
		t.Errorf("tier card: heading %q, %d progress bars, %d benefits", heading, bars, benefits)
	}
	// The console, signed in as admin in a fresh browser session.
	run(t, ctx, "sign out and in as admin",
		chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
	)
	var rows, checks int
	var state string
	run(t, ctx, "console review preview",
		chromedp.Navigate(e.srv.URL+"/admin/tiers"),
		chromedp.WaitVisible("#decisions", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#decisions tbody tr[id^=decision-]").length`, &rows),
		chromedp.Evaluate(`document.querySelectorAll("#decisions ul li").length`, &checks),
		chromedp.Text("#review-state", &state, chromedp.ByID),
		shot("admin-tiers"),
	)
	if rows != len(e.data.Partners) || checks == 0 || !strings.Contains(state, "Preview") {
		t.Errorf("review preview: %d rows (want %d), %d criteria lines, state %q", rows, len(e.data.Partners), checks, state)
	}
	run(t, ctx, "publish",
		chromedp.Click("#publish button", chromedp.ByQuery),
		chromedp.WaitVisible("#mobility", chromedp.ByID),
		chromedp.Text("#review-state", &state, chromedp.ByID),
	)
	if !strings.Contains(state, "Published") {
		t.Errorf("after publishing: %q", state)
	}
}
