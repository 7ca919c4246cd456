package main

import (
	"context"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/store"
)

// addNotifications stores a sent, an unsent and a read notification and a
// member's preferences, for rung copy to carry over.
func addNotifications(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	ns := []store.Notification{
		{ID: "badge:peter:star:", Kind: "badge", Partner: "p1", Member: "peter", Data: []byte(`{"name":"Star"}`), CreatedAt: now, DueAt: now,
			SentAt: now.Add(time.Minute), Channels: "email slack"},
		{ID: "level:peter:Pro", Kind: "level", Partner: "p1", Member: "peter", Data: []byte(`{"level":"Pro"}`), CreatedAt: now, DueAt: now.Add(time.Hour),
			Attempts: 2, LastError: "451 try later"},
		{ID: "sla:review:R-1", Kind: "sla_warning", Data: []byte(`{"case":"R-1"}`), CreatedAt: now, DueAt: now, SentAt: now, ReadAt: now},
	}
	if _, err := st.AddNotifications(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := st.PutNotificationPrefs(ctx, store.NotificationPrefs{Member: "peter", Off: []string{"email:badge"}, Language: "de",
		TimeZone: "Europe/Berlin", QuietFrom: 1320, QuietTo: 420, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}
