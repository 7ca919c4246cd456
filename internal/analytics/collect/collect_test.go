package collect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/analytics"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const collectProgram = `name: Collect
timezone: UTC
currency: EUR
metrics:
  revenue: {sum: deal.won, value: event.attrs.amount, unit: currency, label: Revenue}
points:
  rules:
    - {id: win, on: deal.won, award: 100}
    - {id: training, on: training.completed, award: 10}
`

// TestCollectorFollowsTheLog reads a real service: the snapshot has the
// partners, events, awards (the win's marked as an outcome) and revenue;
// after a correction and a retraction, a refresh shows the new facts.
func TestCollectorFollowsTheLog(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rung.db"))
		if err != nil {
			t.Fatal(err)
		}
		collectorFollowsTheLog(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("RUNG_TEST_POSTGRES")
		if url == "" {
			t.Skip("RUNG_TEST_POSTGRES is not set")
		}
		ctx := context.Background()
		b := make([]byte, 6)
		rand.Read(b)
		schema := "rung_test_analytics_" + hex.EncodeToString(b)
		t.Cleanup(func() {
			if conn, err := pgx.Connect(ctx, url); err == nil {
				conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
				conn.Close(ctx)
			}
		})
		st, err := postgres.OpenSchema(ctx, url, schema)
		if err != nil {
			t.Fatal(err)
		}
		collectorFollowsTheLog(t, st)
	})
}

func collectorFollowsTheLog(t *testing.T, st store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	if _, err := svc.ApplyProgram(ctx, []byte(collectProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", Region: "emea"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	ingest := func(evs ...rung.Event) {
		var in []*service.Incoming
		for _, ev := range evs {
			in = append(in, &service.Incoming{Event: ev})
		}
		res, err := svc.Ingest(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Status == "rejected" {
				t.Fatalf("rejected: %+v", r)
			}
		}
	}
	ingest(rung.Event{ID: "w1", Type: "deal.won", Partner: "p1", Member: "m1", OccurredAt: at, Attrs: map[string]any{"amount": 5000.0}},
		rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "m1", OccurredAt: at.Add(time.Hour)})

	c := New(svc, nil)
	s, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Partners) != 1 || len(s.Members) != 1 || len(s.Events) != 2 || len(s.Awards) != 2 || s.RevenueMetric != "revenue" ||
		len(s.Revenue) != 1 || s.Revenue[0].Value != 5000 {
		t.Fatalf("snapshot = %+v", s)
	}
	if !s.Awards[0].Outcome || s.Awards[1].Outcome {
		t.Errorf("the win's award is an outcome, the training's is not: %+v", s.Awards)
	}
	q := analytics.Query{From: at.Add(-time.Hour), To: now}
	if o := analytics.OutcomesOf(s, q, nil); o.Partners[0].EngagementPoints != 10 || o.Partners[0].Points != 110 {
		t.Errorf("outcome row = %+v", o.Partners[0])
	}

	// a correction of the win and a retraction of the training
	ingest(rung.Event{ID: "w1", Type: "deal.won", Partner: "p1", Member: "m1", OccurredAt: at, Attrs: map[string]any{"amount": 7000.0}})
	if _, err := svc.Retract(ctx, "t1", "test"); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Snapshot(ctx); again != s {
		t.Errorf("a fresh snapshot was rebuilt before MaxAge")
	}
	s, err = c.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != 1 || len(s.Awards) != 1 || s.Revenue[0].Value != 7000 {
		t.Errorf("after correction and retraction: %d events, %d awards, revenue %+v", len(s.Events), len(s.Awards), s.Revenue)
	}
}
