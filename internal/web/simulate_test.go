package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	cdpage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/rung-dev/rung/internal/demo"
)

// doubled is the demo program with the training award doubled.
var doubled = strings.Replace(string(demo.Program), "      award: 50\n", "      award: 100\n", 1)

// TestSimulatePage: the active program changes nothing; a doubled training
// award gives a table of gainers and a CSV; a draft with a problem goes back
// to the editor with the problem at its line; an empty period says so; only
// admins may simulate; the page's apply form applies the draft.
func TestSimulatePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.staff(adminEmail, adminPassword)
	res, body := c.post("/admin/program/simulate", url.Values{"source": {string(demo.Program)}})
	if res.StatusCode != 200 || !strings.Contains(body, `id="nochange"`) || !strings.Contains(body, `id="sim-partners-h"`) {
		t.Fatalf("active program: %d\n%s", res.StatusCode, body)
	}
	res, body = c.post("/admin/program/simulate", url.Values{"source": {doubled}, "sort": {"-period"}})
	if res.StatusCode != 200 || strings.Contains(body, `id="nochange"`) || !strings.Contains(body, `<table id="sim-members">`) ||
		!strings.Contains(body, `aria-sort="descending"`) || !strings.Contains(body, `id="apply-draft"`) {
		t.Fatalf("doubled award: %d\n%s", res.StatusCode, body)
	}
	if i := strings.Index(body, `id="total-issued">`); i < 0 || !strings.HasPrefix(body[i+len(`id="total-issued">`):], "&#43;") {
		t.Fatalf("points issued do not rise: %.300s", body[i:])
	}
	res, body = c.post("/admin/program/simulate", url.Values{"source": {doubled}, "format": {"csv"}})
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(body, "kind,id,name,partner,lifetime_before") {
		t.Fatalf("csv: %d %v\n%.200s", res.StatusCode, res.Header, body)
	}
	bad := strings.Replace(doubled, "award: 100\n", "award: [100]\n", 1)
	res, body = c.post("/admin/program/simulate", url.Values{"source": {bad}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="errors"`) || !strings.Contains(body, `class="ln err"`) {
		t.Fatalf("bad draft: %d\n%s", res.StatusCode, body)
	}
	res, body = c.post("/admin/program/simulate", url.Values{"source": {doubled}, "from": {"2001-01-01"}, "to": {"2001-02-01"}})
	if res.StatusCode != 200 || !strings.Contains(body, `id="empty"`) {
		t.Fatalf("empty period: %d\n%s", res.StatusCode, body)
	}
	res, _ = c.post("/admin/program/simulate", url.Values{"source": {doubled}, "from": {"last week"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad from: %d", res.StatusCode)
	}
	m := e.manager(e.data.Partners[0].ID)
	if res, _ := m.post("/admin/program/simulate", url.Values{"source": {doubled}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a manager simulates: %d", res.StatusCode)
	}
	// The page's apply form is the editor's.
	res, _ = c.post("/admin/program", url.Values{"source": {doubled}, "action": {"apply"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "applied=2") {
		t.Fatalf("apply: %d %v", res.StatusCode, res.Header)
	}
}

// TestBrowserAdminSimulatesADraftAndAppliesIt: from the editor, Simulate
// shows what a doubled training award changes; a column header sorts the
// table; "Apply this draft" (confirmed) applies it as version 2.
func TestBrowserAdminSimulatesADraftAndAppliesIt(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	base := e.srv.URL
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*cdpage.EventJavascriptDialogOpening); ok {
			go chromedp.Run(ctx, cdpage.HandleJavaScriptDialog(true))
		}
	})
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
	)
	var issued, sorted string
	run(t, ctx, "simulate from the editor",
		chromedp.Navigate(base+"/admin/program"),
		chromedp.WaitVisible("#source", chromedp.ByID),
		chromedp.SetValue("#source", doubled, chromedp.ByID),
		chromedp.Click("#simulate", chromedp.ByID),
		chromedp.WaitVisible("#totals", chromedp.ByID),
		chromedp.Text("#total-issued", &issued, chromedp.ByID),
		shot("admin-simulate"),
	)
	if !strings.HasPrefix(issued, "+") {
		t.Fatalf("points issued change by %q, want a rise", issued)
	}
	run(t, ctx, "sort by points in the period",
		chromedp.Click(`#sim-members button[data-sort="period"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#sim-members th[aria-sort="descending"] button[data-sort="period"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`#sim-members th[aria-sort] button`, "data-sort", &sorted, nil, chromedp.ByQuery),
	)
	if sorted != "period" {
		t.Fatalf("sorted by %q", sorted)
	}
	var applied string
	run(t, ctx, "apply the draft",
		chromedp.Click("#apply-draft", chromedp.ByID),
		chromedp.WaitVisible("#applied", chromedp.ByID),
		chromedp.Text("#applied", &applied, chromedp.ByID),
	)
	if !strings.Contains(applied, "Version 2") {
		t.Fatalf("after apply: %q", applied)
	}
	var src string
	run(t, ctx, "the editor holds the draft", chromedp.Value("#source", &src, chromedp.ByID))
	if !strings.Contains(src, "award: 100") {
		t.Fatalf("the applied program is not the draft")
	}
}
