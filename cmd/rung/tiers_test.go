package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const tiersCLIProgram = `name: CLI tiers
timezone: UTC
metrics:
  wins: {count: deal.won}
tiers:
  levels: [Registered, Select]
  criteria:
    Select:
      - {id: wins, metric: wins, at_least: 1}
`

func TestTiersReviewCommand(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "rung.db")
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Logger: quietLog(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyProgram(ctx, []byte(tiersCLIProgram), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "globex"} {
		if _, err := svc.PutPartner(ctx, rung.Partner{ID: id, Name: id, JoinedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := svc.Ingest(ctx, []*service.Incoming{{Event: rung.Event{ID: "w1", Type: "deal.won", Partner: "acme", OccurredAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}}})
	if err != nil || res[0].Status != "accepted" {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	svc.Close()
	st.Close()

	out, err := runCmd(t, "tiers", "review", "--quarter", "2024-Q2", "--dry-run", "--db", db)
	if err != nil || !strings.Contains(out, "acme") || !strings.Contains(out, "upgrade") || !strings.Contains(out, "dry run: nothing published") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = runCmd(t, "tiers", "review", "--quarter", "2024-Q2", "--db", db)
	if err != nil || !strings.Contains(out, "2024-Q2, published: 2 decisions (1 upgrade, 1 stay") {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	out, err = runCmd(t, "tiers", "review", "--quarter", "2024-Q2", "--db", db)
	if err != nil || !strings.Contains(out, "published before: nothing changed") {
		t.Fatalf("again: %v\n%s", err, out)
	}
	_, err = runCmd(t, "tiers", "review", "--quarter", "2024Q2", "--db", db)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "2026-Q4") {
		t.Fatalf("bad quarter: %v", err)
	}
	_, err = runCmd(t, "tiers", "review", "--quarter", "2999-Q1", "--db", db)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "has not ended") {
		t.Fatalf("future quarter: %v", err)
	}
}
