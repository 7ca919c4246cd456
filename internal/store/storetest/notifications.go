package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

var notificationTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"NotificationsAddedOnce", testNotificationsAddedOnce},
	{"NotificationsDueAndSent", testNotificationsDueAndSent},
	{"NotificationsReadPerMember", testNotificationsReadPerMember},
	{"NotificationPrefs", testNotificationPrefs},
}

func note(id, member string, created, due time.Time) store.Notification {
	return store.Notification{ID: id, Kind: "badge", Partner: "p1", Member: member,
		Data: []byte(`{"badge":"deal-maker"}`), CreatedAt: created, DueAt: due}
}

// testNotificationsAddedOnce checks notifications round-trip every field,
// that an ID enqueued again is kept as first stored, and that bad ones
// are refused with nothing of the batch stored.
func testNotificationsAddedOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := note("n1", "m1", base, base.Add(time.Minute))
	b := note("n2", "", base.Add(time.Second), base)
	b.Partner, b.Kind, b.Channels, b.Attempts, b.LastError = "p2", "registration_decision", "email", 2, "smtp down"
	b.SentAt, b.ReadAt = base.Add(time.Hour), base.Add(2*time.Hour)
	n, err := s.AddNotifications(ctx, []store.Notification{a, b})
	if err != nil || n != 2 {
		t.Fatalf("AddNotifications = %d, %v; want 2 new", n, err)
	}
	again := a
	again.Kind = "level"
	if n, err := s.AddNotifications(ctx, []store.Notification{again}); err != nil || n != 0 {
		t.Fatalf("AddNotifications of a known id = %d, %v; want 0, nil", n, err)
	}
	bad := note("n3", "m1", time.Time{}, base)
	_, err = s.AddNotifications(ctx, []store.Notification{note("n4", "m1", base, base), bad})
	wantCode(t, err, rung.EINVALID)
	notJSON := note("n5", "m1", base, base)
	notJSON.Data = []byte("{")
	_, err = s.AddNotifications(ctx, []store.Notification{notJSON})
	wantCode(t, err, rung.EINVALID)
	got, err := s.ListNotifications(ctx, store.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*store.Notification{&a, &b} {
		x.CreatedAt, x.DueAt, x.SentAt, x.ReadAt = x.CreatedAt.UTC(), x.DueAt.UTC(), x.SentAt.UTC(), x.ReadAt.UTC()
	}
	equal(t, "notifications, newest first", got, []store.Notification{b, a})
}

// testNotificationsDueAndSent checks the delivery queue: due ones by time,
// sent ones gone, deferred ones due later with the error recorded.
func testNotificationsDueAndSent(t *testing.T, s store.Store) {
	ctx := context.Background()
	ns := []store.Notification{note("c", "m1", base, base.Add(2*time.Minute)), note("b", "m1", base, base.Add(time.Minute)),
		note("a", "m2", base, base.Add(time.Minute)), note("later", "m2", base, base.Add(time.Hour))}
	if _, err := s.AddNotifications(ctx, ns); err != nil {
		t.Fatal(err)
	}
	ids := func(ns []store.Notification) []string {
		out := []string{}
		for _, n := range ns {
			out = append(out, n.ID)
		}
		return out
	}
	due, err := s.DueNotifications(ctx, base.Add(2*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "due by time then id", ids(due), []string{"a", "b", "c"})
	if due, _ := s.DueNotifications(ctx, base.Add(2*time.Minute), 2); len(due) != 2 {
		t.Errorf("limit 2 gave %d", len(due))
	}
	sent := base.Add(3 * time.Minute)
	if err := s.MarkNotificationsSent(ctx, []string{"a", "b"}, sent, "email slack"); err != nil {
		t.Fatal(err)
	}
	// Sent again (a second leader): the first record stays.
	if err := s.MarkNotificationsSent(ctx, []string{"a"}, sent.Add(time.Hour), "app"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeferNotification(ctx, "nope", base, "x"), rung.ENOTFOUND)
	if err := s.DeferNotification(ctx, "c", base.Add(10*time.Minute), "421 try later"); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueNotifications(ctx, base.Add(5*time.Minute), 10)
	equal(t, "due after sending and deferring", ids(due), []string{})
	due, _ = s.DueNotifications(ctx, base.Add(time.Hour), 10)
	equal(t, "due an hour on", ids(due), []string{"c", "later"})
	if due[0].Attempts != 1 || due[0].LastError != "421 try later" {
		t.Errorf("deferred: attempts %d, error %q", due[0].Attempts, due[0].LastError)
	}
	all, _ := s.ListNotifications(ctx, store.NotificationFilter{Member: "m2"})
	for _, n := range all {
		if n.ID == "a" && (!n.SentAt.Equal(sent) || n.Channels != "email slack") {
			t.Errorf("a: sent %v on %q; want the first record", n.SentAt, n.Channels)
		}
	}
}

// testNotificationsReadPerMember checks the bell: unread counts, marking
// some or all read, never another member's.
func testNotificationsReadPerMember(t *testing.T, s store.Store) {
	ctx := context.Background()
	var ns []store.Notification
	for i, id := range []string{"x1", "x2", "x3"} {
		ns = append(ns, note(id, "m1", base.Add(time.Duration(i)*time.Second), base))
	}
	ns = append(ns, note("y1", "m2", base, base))
	if _, err := s.AddNotifications(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountUnread(ctx, "m1"); err != nil || n != 3 {
		t.Fatalf("CountUnread = %d, %v; want 3", n, err)
	}
	if n, err := s.MarkNotificationsRead(ctx, "m1", []string{"x2", "y1"}, base); err != nil || n != 1 {
		t.Fatalf("MarkNotificationsRead(x2, y1) = %d, %v; want 1 (y1 is m2's)", n, err)
	}
	unread, _ := s.ListNotifications(ctx, store.NotificationFilter{Member: "m1", Unread: true})
	if len(unread) != 2 || unread[0].ID != "x3" || unread[1].ID != "x1" {
		t.Errorf("unread = %+v; want x3, x1", unread)
	}
	if n, _ := s.MarkNotificationsRead(ctx, "m1", nil, base.Add(time.Minute)); n != 2 {
		t.Errorf("mark all read changed %d; want 2", n)
	}
	if n, _ := s.CountUnread(ctx, "m1"); n != 0 {
		t.Errorf("unread after marking all = %d", n)
	}
	if n, _ := s.CountUnread(ctx, "m2"); n != 1 {
		t.Errorf("m2's unread = %d; want 1", n)
	}
	_, err := s.MarkNotificationsRead(ctx, "", nil, base)
	wantCode(t, err, rung.EINVALID)
	if got, _ := s.ListNotifications(ctx, store.NotificationFilter{Partner: "p1", Limit: 2}); len(got) != 2 {
		t.Errorf("limit 2 gave %d", len(got))
	}
}

// testNotificationPrefs checks preferences round-trip and replace.
func testNotificationPrefs(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.NotificationPrefs(ctx, "m1")
	wantCode(t, err, rung.ENOTFOUND)
	wantCode(t, s.PutNotificationPrefs(ctx, store.NotificationPrefs{UpdatedAt: base}), rung.EINVALID)
	p := store.NotificationPrefs{Member: "m1", Off: []string{"email:badge", "slack:*"}, Language: "de",
		TimeZone: "Europe/Berlin", QuietFrom: 1320, QuietTo: 420, UpdatedAt: base}
	if err := s.PutNotificationPrefs(ctx, p); err != nil {
		t.Fatal(err)
	}
	q := store.NotificationPrefs{Member: "a0", UpdatedAt: base}
	if err := s.PutNotificationPrefs(ctx, q); err != nil {
		t.Fatal(err)
	}
	p.UpdatedAt, q.UpdatedAt = base.UTC(), base.UTC()
	got, err := s.NotificationPrefs(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "prefs", got, p)
	p.Off, p.UpdatedAt = nil, base.Add(time.Hour).UTC()
	if err := s.PutNotificationPrefs(ctx, p); err != nil {
		t.Fatal(err)
	}
	all, err := s.AllNotificationPrefs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "all prefs by member", all, []store.NotificationPrefs{q, p})
}
