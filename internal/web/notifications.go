package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/store"
)

// The portal's notifications (the bell), the console's digest preview and,
// in the demo, its mailbox. docs/notifications.md.

// noteRow is one notification in the portal's list.
type noteRow struct {
	ID    string
	Title string
	Line  string
	At    time.Time
	Read  bool
}

type notesPage struct {
	Rows     []noteRow
	Unread   int
	Prefs    prefsForm
	HasPrefs bool // notifications are on: the settings form is shown
}

// unread counts the viewer's unread notifications for the bell (0 when
// not a member, or on error).
func (h *Handler) unread(r *http.Request) int {
	v := viewerFrom(r)
	if v == nil || v.Account.Member == "" || v.Staff() {
		return 0
	}
	n, err := h.st.CountUnread(r.Context(), v.Account.Member)
	if err != nil {
		return 0
	}
	return n
}

// notifications lists the member's notifications, newest first.
func (h *Handler) notifications(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d := &notesPage{}
	p := h.newPage(w, r, "Notifications", "notifications", d)
	ns, err := h.st.ListNotifications(r.Context(), store.NotificationFilter{Member: v.Account.Member, Limit: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, n := range ns {
		if n.Kind == notify.KindMagicLink {
			continue
		}
		title, line := notify.Describe(p.L.Lang, n.Kind, n.Data)
		d.Rows = append(d.Rows, noteRow{ID: n.ID, Title: title, Line: line, At: n.CreatedAt, Read: !n.ReadAt.IsZero()})
	}
	// All the unread, as the bell counts them: older ones beyond the
	// newest 100 listed can still be marked read.
	d.Unread = h.unread(r)
	if h.notes != nil {
		d.Prefs, d.HasPrefs = newPrefsForm(p.L, h.notes.Prefs(r.Context(), v.Account.Member)), true
	}
	if r.URL.Query().Get("saved") != "" {
		p.Notice = p.L.T("Your settings are saved.")
	}
	h.render(w, http.StatusOK, "notifications", p)
}

// markRead marks one notification (form field id) or all of the member's
// notifications read.
func (h *Handler) markRead(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	var ids []string
	if id := r.PostForm.Get("id"); id != "" {
		ids = []string{id}
	}
	if _, err := h.st.MarkNotificationsRead(r.Context(), v.Account.Member, ids, h.svc.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/portal/notifications")
}

type digestPage struct {
	Subject  string // "member" | "partner"
	ID       string
	Lang     string
	Title    string
	Text     string
	Error    string
	Previewd bool
}

// digestPreview shows the weekly digest a member or partner would get
// now, in their language or the one chosen.
func (h *Handler) digestPreview(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := &digestPage{Subject: q.Get("subject"), ID: q.Get("id"), Lang: q.Get("lang")}
	if d.Subject == "" {
		d.Subject = "member"
	}
	p := h.newPage(w, r, "Weekly digest", "digest", d)
	if d.ID != "" && h.notes != nil {
		m, err := h.previewDigest(r, d.Subject, d.ID, d.Lang)
		if err != nil {
			d.Error = p.L.Err(err)
		} else {
			d.Title, d.Text, d.Previewd = m.Subject, m.Text, true
		}
	}
	h.render(w, http.StatusOK, "digest", p)
}

// digestHTML is the preview's HTML part on its own, for the preview's
// frame: mail HTML carries inline styles, so it gets a CSP of its own.
func (h *Handler) digestHTML(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if h.notes == nil {
		h.fail(w, r, errNotFound)
		return
	}
	m, err := h.previewDigest(r, q.Get("subject"), q.Get("id"), q.Get("lang"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeMailHTML(w, m.HTML)
}

// previewDigest composes the digest of a member or partner the viewer
// may see: a manager's are those of the partners they manage; any other
// is not found, as an unknown id is.
func (h *Handler) previewDigest(r *http.Request, subject, id, lang string) (notify.Mail, error) {
	v := viewerFrom(r)
	now := h.svc.Now()
	var hidden error
	switch subject {
	case "member":
		h.svc.Read(func(e *engine.Engine) error {
			if m, ok := e.Member(id); ok && !v.seesMember(m, now) {
				hidden = rung.Errorf(rung.ENOTFOUND, "member %q not found", id)
			}
			return nil
		})
	case "partner":
		if !v.seesPartner(id) {
			hidden = rung.Errorf(rung.ENOTFOUND, "partner %q not found", id)
		}
	}
	if hidden != nil {
		return notify.Mail{}, hidden
	}
	return h.notes.PreviewDigest(r.Context(), subject, id, now, lang)
}

// writeMailHTML serves an e-mail's HTML for a same-origin frame, with no
// scripts and no outside requests.
func writeMailHTML(w http.ResponseWriter, html string) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox")
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(html))
}

type mailboxPage struct {
	Mail []notify.Captured
	Open *notify.Captured
}

// mailbox lists the demo's sent mail (the demo sends none out).
func (h *Handler) mailbox(w http.ResponseWriter, r *http.Request) {
	box := h.box()
	if box == nil {
		h.fail(w, r, errNotFound)
		return
	}
	d := &mailboxPage{Mail: box.Messages()}
	if n, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil {
		if c, ok := box.Message(n); ok {
			d.Open = &c
		}
	}
	p := h.newPage(w, r, "Mailbox", "mailbox", d)
	h.render(w, http.StatusOK, "mailbox", p)
}

// mailboxHTML serves one kept message's HTML part for the mailbox frame.
func (h *Handler) mailboxHTML(w http.ResponseWriter, r *http.Request) {
	box := h.box()
	n, err := strconv.Atoi(r.PathValue("n"))
	if box == nil || err != nil {
		h.fail(w, r, errNotFound)
		return
	}
	c, ok := box.Message(n)
	if !ok {
		h.fail(w, r, errNotFound)
		return
	}
	writeMailHTML(w, c.HTML)
}

func (h *Handler) box() *notify.Mailbox {
	if h.notes == nil {
		return nil
	}
	return h.notes.Mailbox()
}

// notifyRoutes adds the pages of this file.
func (h *Handler) notifyRoutes(m *http.ServeMux, partner, staff func(http.HandlerFunc) http.Handler) {
	m.Handle("GET /portal/notifications", partner(h.notifications))
	m.Handle("POST /portal/notifications/read", partner(h.markRead))
	m.Handle("POST /portal/notifications/settings", partner(h.savePrefs))
	m.Handle("GET /admin/digest", staff(h.digestPreview))
	m.Handle("GET /admin/digest/html", staff(h.digestHTML))
	// The mailbox holds every member's sign-in links: admins only.
	admin := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, "admin") }
	m.Handle("GET /admin/mailbox", admin(h.mailbox))
	m.Handle("GET /admin/mailbox/{n}/html", admin(h.mailboxHTML))
}

// mailLink e-mails a sign-in link through the notifications (sent at
// once, never queued with the link in it). A failure is logged: the form
// answers the same either way.
func (h *Handler) mailLink(ctx context.Context, m rung.Member, url string) {
	if h.notes == nil {
		return
	}
	sum := sha256.Sum256([]byte(url))
	t := notify.Trigger{ID: "link:" + hex.EncodeToString(sum[:12]), Kind: notify.KindMagicLink, Partner: m.Partner, Member: m.ID,
		Data: map[string]any{"url": url, "minutes": int(LinkTTL / time.Minute)}}
	if err := h.notes.Enqueue(ctx, t); err != nil {
		h.log.Error("sign-in link: the e-mail was not sent", "member", m.ID, "err", err)
	}
}

// prefKinds are the kinds a member switches, in the form's order.
var prefKinds = []string{notify.KindBadge, notify.KindLevel, notify.KindTierChange, notify.KindNudge, notify.KindChallengeStart,
	notify.KindChallengeStandings, notify.KindChallengeResult, notify.KindRegistrationDecision, notify.KindSLAWarning, notify.KindDigest}

// kindLabel names a kind of notification on the settings form.
func kindLabel(l *Locale, kind string) string {
	switch kind {
	case notify.KindBadge:
		return l.T("Badges")
	case notify.KindLevel:
		return l.T("Levels")
	case notify.KindTierChange:
		return l.T("Tier changes")
	case notify.KindNudge:
		return l.T("Nudges toward the next tier")
	case notify.KindChallengeStart:
		return l.T("Challenge starts")
	case notify.KindChallengeStandings:
		return l.T("Challenge standings")
	case notify.KindChallengeResult:
		return l.T("Challenge results")
	case notify.KindRegistrationDecision:
		return l.T("Registration decisions")
	case notify.KindSLAWarning:
		return l.T("Registration deadlines")
	case notify.KindDigest:
		return l.T("Weekly digest")
	}
	return kind
}

// prefRow is one kind's switches on the settings form.
type prefRow struct {
	Kind, Label  string
	Email, Slack bool
}

// prefsForm is the settings form of the notifications page.
type prefsForm struct {
	Rows      []prefRow
	Language  string
	TimeZone  string
	QuietFrom string // "22:00"; "" for none
	QuietTo   string
	Error     string
}

func newPrefsForm(l *Locale, p store.NotificationPrefs) prefsForm {
	f := prefsForm{Language: p.Language, TimeZone: p.TimeZone}
	if p.QuietFrom != p.QuietTo {
		f.QuietFrom = fmt.Sprintf("%02d:%02d", p.QuietFrom/60, p.QuietFrom%60)
		f.QuietTo = fmt.Sprintf("%02d:%02d", p.QuietTo/60, p.QuietTo%60)
	}
	for _, k := range prefKinds {
		f.Rows = append(f.Rows, prefRow{Kind: k, Label: kindLabel(l, k),
			Email: notify.Allowed(p, notify.ChannelEmail, k), Slack: notify.Allowed(p, notify.ChannelSlack, k)})
	}
	return f
}

// clockMinutes reads "HH:MM" as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// savePrefs stores the settings form: channels per kind, language, time
// zone and quiet hours.
func (h *Handler) savePrefs(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	if h.notes == nil {
		h.fail(w, r, errNotFound)
		return
	}
	f := r.PostForm
	p := store.NotificationPrefs{Member: v.Account.Member, Language: f.Get("language"), TimeZone: strings.TrimSpace(f.Get("time_zone"))}
	for _, k := range prefKinds {
		for _, ch := range []string{notify.ChannelEmail, notify.ChannelSlack} {
			if f.Get(ch+":"+k) != "on" {
				p.Off = append(p.Off, ch+":"+k)
			}
		}
	}
	d := &notesPage{HasPrefs: true}
	pg := h.newPage(w, r, "Notifications", "notifications", d)
	from, to := f.Get("quiet_from"), f.Get("quiet_to")
	var bad string
	if from != "" || to != "" {
		a, ok1 := clockMinutes(from)
		b, ok2 := clockMinutes(to)
		if !ok1 || !ok2 {
			bad = pg.L.T("Enter quiet hours as two times such as 22:00 and 07:00, or leave both empty.")
		}
		p.QuietFrom, p.QuietTo = a, b
	}
	if bad == "" {
		if err := h.notes.SetPrefs(r.Context(), p); err != nil {
			if rung.ErrorCode(err) != rung.EINVALID {
				h.fail(w, r, err)
				return
			}
			bad = pg.L.T("Check the language and the time zone (such as Europe/Berlin).")
		}
	}
	if bad != "" {
		d.Prefs = newPrefsForm(pg.L, p)
		d.Prefs.TimeZone, d.Prefs.QuietFrom, d.Prefs.QuietTo, d.Prefs.Error = p.TimeZone, from, to, bad
		h.render(w, http.StatusBadRequest, "notifications", pg)
		return
	}
	redirect(w, r, "/portal/notifications?saved=1")
}
