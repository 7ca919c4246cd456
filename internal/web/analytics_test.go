package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAnalyticsPagesRenderChartsTablesAndCSV renders every section for an
// admin on the demo data: each answers 200 with its charts (SVG with a
// title), a CSV link that downloads CSV, and the period picker.
func TestAnalyticsPagesRenderChartsTablesAndCSV(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	charts := map[string]int{"engagement": 3, "points": 3, "outcomes": 0, "indicators": 2, "rewards": 0, "tiers": 0}
	svg := regexp.MustCompile(`<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="([a-z-]+)-t [a-z-]+-d"`)
	for section, want := range charts {
		res, body := admin.get("/admin/analytics/" + section)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", section, res.StatusCode)
		}
		if got := len(svg.FindAllString(body, -1)); got != want {
			t.Errorf("%s: %d charts, want %d", section, got, want)
		}
		if !strings.Contains(body, `id="period"`) || !strings.Contains(body, "/admin/analytics/"+section+".csv?from=") {
			t.Errorf("%s: no picker or CSV link", section)
		}
		res, body = admin.get("/admin/analytics/" + section + ".csv")
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(body, ",") {
			t.Errorf("%s CSV: %d %s %.80q", section, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	// the demo's last weeks have data: the engagement charts draw lines
	_, body := admin.get("/admin/analytics/engagement")
	if !strings.Contains(body, `<polyline class="line s0"`) || strings.Contains(body, "No data for this period") {
		t.Errorf("engagement without data")
	}
	// The November sprint is running: its participants against the others.
	_, body = admin.get("/admin/analytics/outcomes?from=2026-10-01&to=2026-11-20")
	if !strings.Contains(body, `id="correlations"`) || !strings.Contains(body, "30-day sourced-pipeline sprint") {
		t.Errorf("outcomes page lacks its correlation table or the sprint")
	}
	// No review is published yet: the period has no tier data; once the
	// third quarter's is, the mobility table counts every partner.
	_, body = admin.get("/admin/analytics/tiers?from=2026-07-01&to=2026-11-20")
	if !strings.Contains(body, "No data for this period") {
		t.Errorf("tiers page before any review should say it has no data")
	}
	review, err := e.svc.ReviewTiers(context.Background(), "2026-Q3", false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.web.Analytics().Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, body = admin.get("/admin/analytics/tiers?from=2026-07-01&to=2026-11-20")
	if !strings.Contains(body, `id="mobility"`) {
		t.Errorf("tiers page after the 2026-Q3 review (%d decisions) lacks the mobility table", len(review.Decisions))
	}
}

func TestAnalyticsEmptyPeriodAndBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	// a period long before the demo's history: empty charts that say so
	res, body := admin.get("/admin/analytics/engagement?from=2001-01-01&to=2001-02-01")
	if res.StatusCode != http.StatusOK || strings.Count(body, ">No data for this period</text>") != 3 {
		t.Errorf("empty period: %d, %d empty charts", res.StatusCode, strings.Count(body, ">No data for this period</text>"))
	}
	// a bad date is explained, and the default period shown
	res, body = admin.get("/admin/analytics/points?from=someday&cohort=planet:mars")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "is not a date") {
		t.Errorf("bad input: %d", res.StatusCode)
	}
	res, _ = admin.get("/admin/analytics/points.csv?from=someday")
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad CSV input: %d", res.StatusCode)
	}
	if res, _ := admin.get("/admin/analytics/nonsense"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown section: %d", res.StatusCode)
	}
	// a partner member may not see them
	m, _ := e.member(0)
	member := e.signIn(m, "partner_admin")
	if res, _ := member.get("/admin/analytics"); res.StatusCode == http.StatusOK {
		t.Errorf("a partner admin sees the analytics")
	}
}

func TestAnalyticsManagerSeesOnlyTheirPartners(t *testing.T) {
	e := newEnv(t, envOptions{})
	p := e.data.Partners[0].ID
	mgr := e.manager(p)
	_, body := mgr.get("/admin/analytics/engagement?from=2000-01-01")
	if !strings.Contains(body, "of 1 partners") {
		t.Errorf("a manager of one partner should see one partner's figures")
	}
}

// TestBrowserAnalyticsShowsCharts opens the analytics page in Chromium
// and checks the SVG charts are drawn with data, and labelled.
func TestBrowserAnalyticsShowsCharts(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	base := e.srv.URL
	var charts, lines int
	var title string
	run(t, ctx, "sign in and open the analytics",
		chromedp.Navigate(base+"/admin/analytics"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#period", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("svg.chart").length`, &charts),
		chromedp.Evaluate(`document.querySelectorAll("svg.chart polyline.line").length`, &lines),
		chromedp.Evaluate(`document.querySelector("svg.chart title").textContent`, &title),
		shot("admin-analytics"),
	)
	if charts != 3 || lines < 3 || title == "" {
		t.Errorf("charts %d, lines %d, title %q", charts, lines, title)
	}
	var w float64
	run(t, ctx, "the chart has a size",
		chromedp.Evaluate(`document.querySelector("svg.chart").getBoundingClientRect().width`, &w))
	if w < 200 {
		t.Errorf("chart width %v", w)
	}
	var bars int
	run(t, ctx, "points page",
		chromedp.Navigate(base+"/admin/analytics/points"),
		chromedp.WaitVisible("#distribution", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("svg.chart rect.bar").length`, &bars),
		shot("admin-analytics-points"),
	)
	if bars == 0 {
		t.Errorf("no histogram bars")
	}
	_ = context.Background
}
