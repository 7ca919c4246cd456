package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	"github.com/rung-dev/rung/internal/store"
)

// BenchmarkPages renders every main page server-side (the handler alone,
// no network) at the demo's size: 320 partners, 3,200 members and a year
// of history. The target is 50 ms a page.
//
//	go test ./internal/web -run '^$' -bench Pages -benchtime 20x
func BenchmarkPages(b *testing.B) {
	benchPages(b, envOptions{partners: 320, members: 3200, months: 12})
}

// BenchmarkPagesLarge does the same with 100,000 members (10,000 partners,
// one month of history) when RUNG_BENCH_LARGE=1; loading takes a while.
func BenchmarkPagesLarge(b *testing.B) {
	if os.Getenv("RUNG_BENCH_LARGE") != "1" {
		b.Skip("set RUNG_BENCH_LARGE=1 to render the pages with 100,000 members")
	}
	benchPages(b, envOptions{partners: 10000, members: 100000, months: 1})
}

func benchPages(b *testing.B, o envOptions) {
	e := newEnv(b, o)
	m, ev := e.member(0)
	p := e.data.Partners[0].ID
	admin := e.staff(adminEmail, adminPassword)
	member := e.signIn(m, store.RolePartnerAdmin)
	u, _ := url.Parse(e.srv.URL)
	cookies := func(c *client) []*http.Cookie { return c.hc.Jar.Cookies(u) }
	pages := []struct {
		name, path string
		as         *client
	}{
		{"portal", "/portal", member},
		{"portal-team", "/portal/team", member},
		{"portal-points", "/portal/points", member},
		{"portal-leaderboard", "/portal/leaderboards/quarter-points", member},
		{"portal-why", "/portal/events/" + url.PathEscape(ev), member},
		{"admin-overview", "/admin", admin},
		{"admin-partners", "/admin/partners", admin},
		{"admin-partners-search", "/admin/partners?q=gmbh&size=mid", admin},
		{"admin-partner", "/admin/partners/" + url.PathEscape(p), admin},
		{"admin-members", "/admin/members", admin},
		{"admin-members-search", "/admin/members?q=an", admin},
		{"admin-member", "/admin/members/" + url.PathEscape(m.ID), admin},
		{"admin-why", "/admin/events/" + url.PathEscape(ev), admin},
		{"admin-leaderboard", "/admin/leaderboards/meeting-rate?cohort=smb", admin},
		{"admin-program", "/admin/program", admin},
		{"admin-program-diff", "/admin/program/diff?from=0&to=1", admin},
		{"admin-apikeys", "/admin/apikeys", admin},
		{"admin-audit", "/admin/audit", admin},
		{"login", "/login", e.client()},
	}
	for _, pg := range pages {
		cs := cookies(pg.as)
		b.Run(pg.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", pg.path, nil)
				for _, c := range cs {
					req.AddCookie(c)
				}
				w := httptest.NewRecorder()
				e.web.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d", pg.path, w.Code)
				}
			}
		})
	}
}
