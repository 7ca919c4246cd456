package web

import (
	"io/fs"
	"net/http"
	"net/url"
)

func (h *Handler) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	h.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	h.mux.Handle("/", h.withViewer(m))

	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if v := viewerFrom(r); v != nil {
			redirect(w, r, home(v))
			return
		}
		redirect(w, r, "/login")
	})
	m.HandleFunc("GET /login", h.loginPage)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("POST /login/link", h.requestLink)
	m.HandleFunc("GET /login/link", h.followLink)
	m.HandleFunc("POST /login/link/use", h.useLink)
	m.HandleFunc("POST /logout", h.logout)
	m.HandleFunc("POST /locale", h.setLocale)

	partner := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, partnerRoles...) }
	m.Handle("GET /portal", partner(h.portal))
	m.Handle("GET /portal/team", partner(h.team))
	m.Handle("GET /portal/points", partner(h.myLedger))
	m.Handle("GET /portal/leaderboards", partner(h.leaderboard))
	m.Handle("GET /portal/leaderboards/{id}", partner(h.leaderboard))
	m.Handle("GET /portal/events/{id...}", partner(h.event))
	m.Handle("GET /portal/registrations", partner(h.portalRegistrations))
	m.Handle("POST /portal/registrations", partner(h.registerCompany))
	m.Handle("GET /portal/registrations/{id}", partner(h.portalRegistration))
	m.Handle("POST /portal/registrations/{id}/answer", partner(h.answerRegistration))
	m.Handle("POST /portal/registrations/import", partner(h.importRegistrations))

	staff := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, staffRoles...) }
	admin := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, "admin") }
	m.Handle("GET /admin", staff(h.overview))
	m.Handle("GET /admin/partners", staff(h.partners))
	m.Handle("GET /admin/partners/{id}", staff(h.partner))
	m.Handle("GET /admin/members", staff(h.members))
	m.Handle("GET /admin/members/{id}", staff(h.member))
	m.Handle("POST /admin/members/{id}/link", staff(h.memberLink))
	m.Handle("POST /admin/members/{id}/role", admin(h.memberRole))
	m.Handle("GET /admin/events/{id...}", staff(h.event))
	m.Handle("GET /admin/leaderboards", staff(h.leaderboard))
	m.Handle("GET /admin/leaderboards/{id}", staff(h.leaderboard))
	m.Handle("GET /admin/registrations", staff(h.registrationQueue))
	m.Handle("GET /admin/registrations/{id}", staff(h.registrationDetail))
	m.Handle("POST /admin/registrations/{id}/decision", staff(h.decideRegistration))
	m.Handle("POST /admin/registrations/{id}/settle", staff(h.settleRegistration))
	m.Handle("GET /admin/registrations/metrics", staff(h.registrationMetrics))
	m.Handle("GET /admin/registrations/attribution.csv", staff(h.attributionCSV))
	m.Handle("GET /admin/program", admin(h.program))
	m.Handle("POST /admin/program", admin(h.postProgram))
	m.Handle("GET /admin/program/diff", admin(h.programDiff))
	m.Handle("POST /admin/program/simulate", admin(h.postSimulate))
	m.Handle("GET /admin/apikeys", admin(h.apiKeys))
	m.Handle("POST /admin/apikeys", admin(h.createKey))
	m.Handle("POST /admin/apikeys/{id}/revoke", admin(h.revokeKey))
	m.Handle("GET /admin/audit", admin(h.auditLog))
	m.Handle("GET /admin/accounts", admin(h.accounts))
	m.Handle("POST /admin/accounts", admin(h.createAccount))
	m.Handle("POST /admin/accounts/{id}/disable", admin(h.disableAccount))
	h.notifyRoutes(m, partner, staff) // notifications.go
	m.Handle("GET /admin/webhooks", admin(h.webhooks))
	m.Handle("POST /admin/webhooks", admin(h.addWebhook))
	m.Handle("POST /admin/webhooks/replay", admin(h.replayDelivery))
	m.Handle("POST /admin/webhooks/{id}/delete", admin(h.deleteWebhook))
	m.Handle("GET /admin/sources", admin(h.sourceDeliveries))                  // sources.go
	m.Handle("POST /admin/sources/{id}/replay", admin(h.replaySourceDelivery)) // sources.go
	m.Handle("GET /admin/analytics", staff(h.analyticsPage))
	m.Handle("GET /admin/analytics/{section}", staff(h.analyticsPage))

	h.tierRoutes(m)
	h.challengeRoutes(m)

	h.rewardRoutes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.fail(w, r, errNotFound) })
}

func urlq(s string) string  { return url.QueryEscape(s) }
func pathq(s string) string { return url.PathEscape(s) }
