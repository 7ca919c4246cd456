package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestManagerPreviewsOnlyTheirPartnersDigests: the weekly digest shows a
// member's or partner's points and places, which a manager may read for
// the partners they manage only (any id was previewed once).
func TestManagerPreviewsOnlyTheirPartnersDigests(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.withNotes()
	mine, _ := e.member(0)
	other, _ := e.member(1)
	mgr := e.manager(e.data.Partners[0].ID)
	for _, q := range []string{"subject=member&id=" + url.QueryEscape(mine.ID), "subject=partner&id=" + url.QueryEscape(e.data.Partners[0].ID)} {
		if _, body := mgr.get("/admin/digest?" + q); !strings.Contains(body, `id="digest-title"`) {
			t.Errorf("%s: a manager's own partner's digest is not shown", q)
		}
		if res, _ := mgr.get("/admin/digest/html?" + q); res.StatusCode != http.StatusOK {
			t.Errorf("%s: digest HTML %d", q, res.StatusCode)
		}
	}
	for _, q := range []string{"subject=member&id=" + url.QueryEscape(other.ID), "subject=partner&id=" + url.QueryEscape(e.data.Partners[1].ID)} {
		if _, body := mgr.get("/admin/digest?" + q); strings.Contains(body, `id="digest-title"`) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: a manager previews another partner's digest", q)
		}
		if res, _ := mgr.get("/admin/digest/html?" + q); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: digest HTML of another partner: %d, want 404", q, res.StatusCode)
		}
	}
}

// TestManagerCannotReadTheMailbox: the demo's mailbox holds every
// member's sign-in links, so only admins open it (a manager could sign
// in as any member of any partner).
func TestManagerCannotReadTheMailbox(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.withNotes()
	other, _ := e.member(1)
	e.client().post("/login/link", url.Values{"email": {other.Email}})
	mgr := e.manager(e.data.Partners[0].ID)
	if _, body := mgr.get("/admin"); strings.Contains(body, `href="/admin/mailbox"`) {
		t.Error("a manager's menu links to the mailbox")
	}
	for _, p := range []string{"/admin/mailbox", "/admin/mailbox?n=1", "/admin/mailbox/1/html"} {
		if res, body := mgr.get(p); res.StatusCode == http.StatusOK || strings.Contains(body, "token=") {
			t.Errorf("%s: a manager reads the mailbox: %d", p, res.StatusCode)
		}
	}
}
