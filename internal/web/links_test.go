package web

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestQueryLinksCarryValuesOnce follows links whose query values need
// escaping: each value arrives as it was (they were once escaped twice, so
// the analytics tabs turned the cohort "region:EMEA" into
// "region%3AEMEA" and dropped it).
func TestQueryLinksCarryValuesOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	cohort := "region:" + e.data.Partners[0].Region
	_, body := admin.get("/admin/analytics/engagement?cohort=" + url.QueryEscape(cohort))
	m := regexp.MustCompile(`<a href="(/admin/analytics/points\?[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no Points tab")
	}
	link := html.UnescapeString(m[1])
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("cohort"); got != cohort {
		t.Errorf("the Points tab %q carries cohort %q, want %q", link, got, cohort)
	}
	_, body = admin.get(link)
	if strings.Contains(body, `role="alert"`) || !strings.Contains(body, `value="`+cohort+`" selected`) {
		t.Errorf("following the Points tab %q lost the cohort %q", link, cohort)
	}
}
