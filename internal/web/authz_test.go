package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rung-dev/rung/internal/store"
)

// TestEveryPageAnswersEachRoleAsItShould walks every page and form of the
// portal and the console as each role: signed out (sent to sign in), a
// member and a partner admin of partner A, a manager of partner A, and an
// admin. Nobody reads another partner's scorecard, ledger, members or
// events, and a manager sees only their partners.
func TestEveryPageAnswersEachRoleAsItShould(t *testing.T) {
	e := newEnv(t, envOptions{})
	a, b := e.data.Partners[0].ID, e.data.Partners[1].ID
	memA, evA := e.member(0)
	memB, evB := e.member(1)
	// Another member of A, whose events memA may not read.
	var memA2 string
	for _, m := range e.data.Members {
		if m.Partner == a && m.ID != memA.ID {
			memA2 = m.ID
			break
		}
	}
	var evA2 string
	for _, ev := range e.data.Events {
		if ev.Member == memA2 {
			evA2 = ev.ID
		}
	}
	if memA2 == "" || evA2 == "" {
		t.Fatal("partner A needs a second member with an event")
	}

	roles := map[string]*client{
		"anon":    e.client(),
		"member":  e.signIn(memA, store.RoleMember),
		"padmin":  nil, // set below: a second member of A made partner admin
		"manager": e.manager(a),
		"admin":   e.staff(adminEmail, adminPassword),
	}
	var memA2rec = memA
	for _, m := range e.data.Members {
		if m.ID == memA2 {
			memA2rec = m
		}
	}
	roles["padmin"] = e.signIn(memA2rec, store.RolePartnerAdmin)
	// Registrations: memA's, the partner admin's, and one of partner B.
	regA := e.register(memA, "Acme Rockets", "acme-rockets.io").ID
	regA2 := e.register(memA2rec, "Wonka Industries", "wonka.io").ID
	regB := e.register(memB, "Cyberdyne Systems", "cyberdyne.io").ID

	const (
		ok     = http.StatusOK
		login  = http.StatusSeeOther // to /login
		forbid = http.StatusForbidden
		nf     = http.StatusNotFound
	)
	pe := url.PathEscape
	type row struct {
		method, path string
		want         map[string]int // by role; anon is always "login" unless given
	}
	all := func(anon, member, padmin, manager, admin int) map[string]int {
		return map[string]int{"anon": anon, "member": member, "padmin": padmin, "manager": manager, "admin": admin}
	}
	rows := []row{
		{"GET", "/portal", all(login, ok, ok, forbid, forbid)},
		{"GET", "/portal/team", all(login, forbid, ok, forbid, forbid)},
		{"GET", "/portal/points", all(login, ok, ok, forbid, forbid)},
		{"GET", "/portal/leaderboards", all(login, ok, ok, forbid, forbid)},
		{"GET", "/portal/leaderboards/quarter-points", all(login, ok, ok, forbid, forbid)},
		{"GET", "/portal/events/" + pe(evA), all(login, ok, ok, forbid, forbid)},
		{"GET", "/portal/events/" + pe(evA2), all(login, nf, ok, forbid, forbid)},
		{"GET", "/portal/events/" + pe(evB), all(login, nf, nf, forbid, forbid)},
		{"GET", "/portal/registrations", all(login, ok, ok, forbid, forbid)},
		{"POST", "/portal/registrations", all(login, http.StatusBadRequest, http.StatusBadRequest, forbid, forbid)},
		{"GET", "/portal/registrations/" + pe(regA), all(login, ok, ok, forbid, forbid)},
		{"GET", "/portal/registrations/" + pe(regA2), all(login, nf, ok, forbid, forbid)},
		{"GET", "/portal/registrations/" + pe(regB), all(login, nf, nf, forbid, forbid)},
		{"GET", "/portal/registrations/R-NOSUCH", all(login, nf, nf, forbid, forbid)},
		// Only a registration that needs information takes an answer.
		{"POST", "/portal/registrations/" + pe(regA) + "/answer", all(login, http.StatusBadRequest, http.StatusBadRequest, forbid, forbid)},
		{"POST", "/portal/registrations/" + pe(regB) + "/answer", all(login, nf, nf, forbid, forbid)},
		{"GET", "/admin/registrations", all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/registrations/" + pe(regA), all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/registrations/" + pe(regB), all(login, forbid, forbid, nf, ok)},
		{"GET", "/admin/registrations/R-NOSUCH", all(login, forbid, forbid, nf, nf)},
		// Without a decision the form answers 400; B's is not the manager's.
		{"POST", "/admin/registrations/" + pe(regA) + "/decision", all(login, forbid, forbid, http.StatusBadRequest, http.StatusBadRequest)},
		{"POST", "/admin/registrations/" + pe(regB) + "/decision", all(login, forbid, forbid, nf, http.StatusBadRequest)},
		{"POST", "/admin/registrations/" + pe(regA) + "/settle", all(login, forbid, forbid, http.StatusConflict, http.StatusConflict)},
		{"POST", "/admin/registrations/" + pe(regB) + "/settle", all(login, forbid, forbid, nf, http.StatusConflict)},
		{"GET", "/admin", all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/partners", all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/partners/" + pe(a), all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/partners/" + pe(b), all(login, forbid, forbid, nf, ok)},
		{"GET", "/admin/members", all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/members/" + pe(memA.ID), all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/members/" + pe(memB.ID), all(login, forbid, forbid, nf, ok)},
		{"GET", "/admin/events/" + pe(evA), all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/events/" + pe(evB), all(login, forbid, forbid, nf, ok)},
		{"GET", "/admin/leaderboards", all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/leaderboards/meeting-rate?cohort=smb", all(login, forbid, forbid, ok, ok)},
		{"GET", "/admin/program", all(login, forbid, forbid, forbid, ok)},
		{"GET", "/admin/program/diff?from=0&to=1", all(login, forbid, forbid, forbid, ok)},
		{"GET", "/admin/apikeys", all(login, forbid, forbid, forbid, ok)},
		{"GET", "/admin/audit", all(login, forbid, forbid, forbid, ok)},
		{"GET", "/admin/accounts", all(login, forbid, forbid, forbid, ok)},
		{"POST", "/admin/accounts", all(login, forbid, forbid, forbid, http.StatusBadRequest)},
		{"POST", "/admin/members/" + pe(memB.ID) + "/link", all(login, forbid, forbid, nf, ok)},
		{"POST", "/admin/members/" + pe(memA.ID) + "/link", all(login, forbid, forbid, ok, ok)},
		// An admin may set roles: the form answers with a redirect.
		{"POST", "/admin/members/" + pe(memB.ID) + "/role", all(login, forbid, forbid, forbid, http.StatusSeeOther)},
		{"POST", "/admin/program", all(login, forbid, forbid, forbid, http.StatusBadRequest)},
		{"POST", "/admin/apikeys", all(login, forbid, forbid, forbid, http.StatusBadRequest)},
		{"GET", "/nowhere", all(nf, nf, nf, nf, nf)},
		// A web session is no API key.
		{"GET", "/api/v1/partners/" + pe(b) + "/scorecard", all(401, 401, 401, 401, 401)},
		{"GET", "/api/v1/ledger?partner=" + pe(b), all(401, 401, 401, 401, 401)},
	}
	for _, r := range rows {
		for _, role := range []string{"anon", "member", "padmin", "manager", "admin"} {
			want := r.want[role]
			c := roles[role]
			var res *http.Response
			var body string
			if r.method == "GET" {
				res, body = c.get(r.path)
			} else {
				form := url.Values{"role": {"partner_admin"}}
				if c.csrf == "" {
					c.get("/login")
				}
				res, body = c.post(r.path, form)
			}
			if res.StatusCode != want {
				t.Errorf("%s %s as %s: %d, want %d", r.method, r.path, role, res.StatusCode, want)
				continue
			}
			if want == login && role == "anon" && !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Errorf("%s %s signed out: sent to %q, want the sign-in page", r.method, r.path, res.Header.Get("Location"))
			}
			if want == http.StatusOK && (strings.Contains(body, "goroutine") || strings.Contains(body, "sqlite")) {
				t.Errorf("%s %s as %s leaks internals", r.method, r.path, role)
			}
		}
	}

	// What the pages show stays inside what each role may see.
	_, body := roles["padmin"].get("/portal/team")
	if !strings.Contains(body, memA.Name) || strings.Contains(body, memB.Name) {
		t.Errorf("partner admin's team page: want A's members only")
	}
	_, body = roles["manager"].get("/admin/partners")
	if !strings.Contains(body, e.data.Partners[0].Name) || strings.Contains(body, e.data.Partners[1].Name) {
		t.Errorf("manager's partner list: want partner A only")
	}
	_, body = roles["manager"].get("/admin/members?q=")
	if strings.Contains(body, memB.Name) {
		t.Errorf("manager's member list shows a member of another partner")
	}
	_, body = roles["member"].get("/portal/registrations")
	if !strings.Contains(body, regA) || strings.Contains(body, regA2) || strings.Contains(body, regB) {
		t.Errorf("a member's registrations: want their own only")
	}
	_, body = roles["padmin"].get("/portal/registrations")
	if !strings.Contains(body, regA) || !strings.Contains(body, regA2) || strings.Contains(body, regB) {
		t.Errorf("a partner admin's registrations: want the partner's only")
	}
	_, body = roles["member"].get("/portal/points")
	if strings.Contains(body, evA2) {
		t.Errorf("a member's points list shows another member's event")
	}
}
