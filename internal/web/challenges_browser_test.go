package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserChallengesInPortalAndConsole: a member sees the challenges
// with the team's place and the quests as checklists, in German too; the
// console lists every challenge and quest with its status.
func TestBrowserChallengesInPortalAndConsole(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	m, _ := e.member(0)
	var heading, quests string
	var checklists, items int
	run(t, ctx, "sign in by link and open the challenges",
		chromedp.Navigate(e.srv.URL+e.link(m)),
		chromedp.WaitVisible("#use-link", chromedp.ByID),
		chromedp.Click("#use-link", chromedp.ByID),
		chromedp.WaitVisible("#points", chromedp.ByID),
		chromedp.Click(`a[href="/portal/challenges"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#quests-h", chromedp.ByID),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
		chromedp.Text("#quests-h", &quests, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#quests .checklist").length`, &checklists),
		chromedp.Evaluate(`document.querySelectorAll("#quests .checklist li").length`, &items),
		shot("portal-challenges"),
	)
	if heading != "Challenges" || quests != "Quests" {
		t.Fatalf("headings %q, %q", heading, quests)
	}
	// The demo's quests run through 2026: the team's Ramp-Ready quest is a
	// five-step checklist, and each ladder adds three for its role.
	if time.Now().Year() == 2026 && (checklists == 0 || items < 5) {
		t.Fatalf("%d checklists with %d items, want the Ramp-Ready checklist at least", checklists, items)
	}
	if time.Now().Before(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		var self string
		run(t, ctx, "the sprint with the team's place",
			chromedp.WaitVisible("#challenge-q4-pipeline-sprint", chromedp.ByID),
			chromedp.Text("#challenge-q4-pipeline-sprint", &self, chromedp.ByID),
		)
		if !strings.Contains(self, "30-day sourced-pipeline sprint") || !strings.Contains(self, "provisional") {
			t.Fatalf("sprint card: %q", self)
		}
	}
	var de string
	run(t, ctx, "in German",
		chromedp.Evaluate(`(function(){var s=document.getElementById("lang"); s.value="de"; s.dispatchEvent(new Event("change")); return true})()`, nil),
		chromedp.WaitVisible(`html[lang="de"] #quests-h`, chromedp.ByQuery),
		chromedp.Text("main", &de, chromedp.ByQuery),
	)
	if !strings.Contains(de, "Quests") || (time.Now().Year() == 2026 && !strings.Contains(de, "Schritten erledigt") && !strings.Contains(de, "Abgeschlossen am")) {
		t.Fatalf("German page: %q", de)
	}

	admin := browser(t)
	var rows int
	var list string
	run(t, admin, "console list",
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
		chromedp.Click(`a[href="/admin/challenges"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#challenges", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#challenges tbody tr").length`, &rows),
		chromedp.Text("#challenges", &list, chromedp.ByID),
		shot("admin-challenges"),
	)
	if rows != 4 || !strings.Contains(list, "Ramp-Ready") || !strings.Contains(list, "Field-Ready") || !strings.Contains(list, "For sales only") {
		t.Fatalf("console list (%d rows): %q", rows, list)
	}
	for _, status := range []string{"running", "finalizing", "final", "ended", "upcoming"} {
		if strings.Contains(list, status) {
			return
		}
	}
	t.Fatalf("no status in the console list: %q", list)
}
