package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/store"
)

// withNotes gives the test server notifications with an in-process
// mailbox as the mail sender.
func (e *testEnv) withNotes() *notify.Mailbox {
	box := &notify.Mailbox{}
	e.web.notes = notify.New(e.svc, notify.Options{Mail: box, BaseURL: e.srv.URL, From: "Acme <partners@acme.example>"})
	return box
}

func TestRequestedSignInLinkArrivesByEmailAndWorks(t *testing.T) {
	e := newEnv(t, envOptions{})
	box := e.withNotes()
	m, _ := e.member(0)
	res, _ := e.client().post("/login/link", url.Values{"email": {m.Email}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("request: %d", res.StatusCode)
	}
	e.client().post("/login/link", url.Values{"email": {"nobody@nowhere.example"}})
	mail := box.Messages()
	if len(mail) != 1 || mail[0].To[0] != m.Email {
		t.Fatalf("mail: %+v", mail)
	}
	i := strings.Index(mail[0].Text, e.srv.URL+"/login/link?token=")
	if i < 0 {
		t.Fatalf("no link in:\n%s", mail[0].Text)
	}
	link := strings.Fields(mail[0].Text[i:])[0]
	c := e.client()
	if res, body := c.useLink(strings.TrimPrefix(link, e.srv.URL)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the mailed link did not sign in: %d\n%s", res.StatusCode, body)
	}
	ns, _ := e.st.ListNotifications(context.Background(), store.NotificationFilter{Member: m.ID})
	if len(ns) != 1 || strings.Contains(string(ns[0].Data), "token") {
		t.Errorf("stored: %+v", ns)
	}
}

func TestBellCountsUnreadAndMarkReadClearsIt(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.withNotes()
	m, _ := e.member(0)
	ctx := context.Background()
	if err := e.web.notes.Enqueue(ctx,
		notify.Trigger{ID: "badge:x", Kind: notify.KindBadge, Member: m.ID, Data: map[string]any{"name": "Deal Maker", "level": "Gold"}},
		notify.Trigger{ID: "level:x", Kind: notify.KindLevel, Member: m.ID, Data: map[string]any{"level": "Pro"}},
		notify.Trigger{ID: "level:other", Kind: notify.KindLevel, Member: "someone-else", Data: map[string]any{"level": "Pro"}}); err != nil {
		t.Fatal(err)
	}
	c := e.signIn(m, store.RoleMember)
	_, body := c.get("/portal")
	if !strings.Contains(body, `href="/portal/notifications"`) || !strings.Contains(body, `<span class="count" aria-label="2 unread">2</span>`) {
		t.Fatalf("no bell with 2 unread on the portal")
	}
	_, body = c.get("/portal/notifications")
	if !strings.Contains(body, "You earned Deal Maker (Gold)") || !strings.Contains(body, "You reached the level Pro.") || strings.Contains(body, "someone-else") {
		t.Fatalf("notifications page:\n%s", body)
	}
	if res, _ := c.post("/portal/notifications/read", url.Values{"id": {"level:x"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark one read: %d", res.StatusCode)
	}
	if n, _ := e.st.CountUnread(ctx, m.ID); n != 1 {
		t.Errorf("unread after marking one: %d", n)
	}
	c.get("/portal/notifications")
	c.post("/portal/notifications/read", nil)
	_, body = c.get("/portal/notifications")
	if strings.Contains(body, `class="count"`) {
		t.Error("the bell still counts after marking all read")
	}
	if n, _ := e.st.CountUnread(ctx, "someone-else"); n != 1 {
		t.Errorf("another member's notification was marked read")
	}
	c.lang = "de"
	if _, body := c.get("/portal/notifications"); !strings.Contains(body, "Benachrichtigungen") || !strings.Contains(body, "Sie haben die Stufe Pro erreicht.") {
		t.Errorf("German notifications page")
	}
}

func TestConsolePreviewsTheDigestAndShowsTheMailbox(t *testing.T) {
	e := newEnv(t, envOptions{})
	box := e.withNotes()
	m, _ := e.member(0)
	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/mailbox")
	if !strings.Contains(body, `href="/admin/digest"`) || !strings.Contains(body, `href="/admin/mailbox"`) {
		t.Fatal("console nav lacks the digest or mailbox")
	}
	_, body = admin.get("/admin/digest?subject=member&lang=de&id=" + url.QueryEscape(m.ID))
	if !strings.Contains(body, `id="digest-title">Ihre Woche im Programm`) || !strings.Contains(body, "Punkte:") || !strings.Contains(body, "<iframe") {
		t.Fatalf("digest preview:\n%s", body)
	}
	res, html := admin.get("/admin/digest/html?subject=member&lang=en&id=" + url.QueryEscape(m.ID))
	if res.StatusCode != 200 || !strings.Contains(html, "Your week in the program") || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("digest HTML: %d %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	_, body = admin.get("/admin/digest?subject=member&id=nobody")
	if !strings.Contains(body, `role="alert"`) {
		t.Error("an unknown member's preview shows no error")
	}
	e.client().post("/login/link", url.Values{"email": {m.Email}})
	_, body = admin.get("/admin/mailbox")
	if !strings.Contains(body, "Your sign-in link") || !strings.Contains(body, m.Email) {
		t.Fatalf("mailbox:\n%s", body)
	}
	n := box.Messages()[0].N
	_, body = admin.get("/admin/mailbox?n=1")
	if !strings.Contains(body, `src="/admin/mailbox/1/html"`) {
		t.Errorf("open message lacks its frame")
	}
	if res, html := admin.get("/admin/mailbox/1/html"); res.StatusCode != 200 || n != 1 || !strings.Contains(html, "/login/link?token=") {
		t.Errorf("message HTML: %d", res.StatusCode)
	}
	// A partner member sees neither page.
	member := e.signIn(m, store.RoleMember)
	if res, _ := member.get("/admin/mailbox"); res.StatusCode == http.StatusOK {
		t.Error("a member opened the mailbox")
	}
}

func TestMemberSwitchesEmailPerKindAndSetsQuietHours(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.withNotes()
	m, _ := e.member(0)
	c := e.signIn(m, store.RoleMember)
	_, body := c.get("/portal/notifications")
	if !strings.Contains(body, `name="email:badge" aria-label="E-mail: Badges" checked`) {
		t.Fatalf("the settings form does not show badges on by default")
	}
	form := url.Values{"email:level": {"on"}, "slack:level": {"on"}, "email:digest": {"on"}, "language": {"de"},
		"time_zone": {"Europe/Berlin"}, "quiet_from": {"22:00"}, "quiet_to": {"07:30"}}
	if res, body := c.post("/portal/notifications/settings", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", res.StatusCode, body)
	}
	p := e.web.notes.Prefs(context.Background(), m.ID)
	if p.Language != "de" || p.TimeZone != "Europe/Berlin" || p.QuietFrom != 22*60 || p.QuietTo != 7*60+30 {
		t.Errorf("prefs %+v", p)
	}
	if notify.Allowed(p, "email", "badge") || !notify.Allowed(p, "email", "level") || notify.Allowed(p, "slack", "digest") || !notify.Allowed(p, "email", "digest") {
		t.Errorf("channels %v", p.Off)
	}
	c.get("/portal/notifications")
	res, body := c.post("/portal/notifications/settings", url.Values{"quiet_from": {"late"}, "quiet_to": {"07:00"}, "time_zone": {"Mars/Base"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="prefs-error"`) || !strings.Contains(body, `value="late"`) {
		t.Errorf("bad quiet hours: %d", res.StatusCode)
	}
	c.get("/portal/notifications")
	if res, _ := c.post("/portal/notifications/settings", url.Values{"time_zone": {"Mars/Base"}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad time zone: %d", res.StatusCode)
	}
	if p2 := e.web.notes.Prefs(context.Background(), m.ID); p2.TimeZone != "Europe/Berlin" {
		t.Errorf("a refused form changed the settings: %+v", p2)
	}
}

// TestMarkAllReadCountsBeyondTheList keeps "Mark all as read" while unread
// notifications wait beyond the newest 100 the page lists.
func TestMarkAllReadCountsBeyondTheList(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	now := e.svc.Now()
	var ns []store.Notification
	for i := range 101 {
		n := store.Notification{ID: fmt.Sprintf("n%03d", i), Kind: "badge", Partner: m.Partner, Member: m.ID,
			Data: []byte(`{"badge":"Deal Maker"}`), CreatedAt: now.Add(time.Duration(i) * time.Minute), DueAt: now}
		if i > 0 {
			n.ReadAt = now // all but the oldest read
		}
		ns = append(ns, n)
	}
	if _, err := e.st.AddNotifications(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	c := e.signIn(m, store.RoleMember)
	if _, body := c.get("/portal/notifications"); !strings.Contains(body, "Mark all as read") {
		t.Errorf("one unread notification beyond the newest 100: no Mark all as read")
	}
}
