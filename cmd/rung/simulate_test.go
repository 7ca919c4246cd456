package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// simulateDB makes a SQLite database with the e2e program, two partners
// and a few trainings and wins, written through the service.
func simulateDB(t *testing.T) (dir, db string) {
	t.Helper()
	dir = t.TempDir()
	db = filepath.Join(dir, "rung.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := service.Open(ctx, st, service.Options{Logger: quietLog(os.Stderr)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.ApplyProgram(ctx, []byte(e2eProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"p1", "p2"} {
		if _, err := svc.PutPartner(ctx, rung.Partner{ID: p, Name: "Partner " + p}); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	var in []*service.Incoming
	add := func(id, typ, partner, member string, attrs map[string]any) {
		in = append(in, &service.Incoming{Event: rung.Event{ID: id, Type: typ, Partner: partner, Member: member, OccurredAt: at, Attrs: attrs}})
		at = at.Add(time.Hour)
	}
	add("t1", "training.completed", "p1", "ann", map[string]any{"score": 90.0})
	add("t2", "training.completed", "p2", "bob", map[string]any{"score": 85.0})
	add("w1", "deal.won", "p1", "ann", map[string]any{"amount": 20000.0})
	add("w2", "deal.won", "p2", "bob", map[string]any{"amount": 150000.0})
	_, err = svc.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range in {
		if r.Result.Status != "accepted" {
			t.Fatalf("%s: %+v", r.Event.ID, r.Result)
		}
	}
	return dir, db
}

// TestSimulateCommand runs `rung simulate` on a real database: training
// worth 200 instead of 50 (ann and bob +150 each) and wins capped at 500
// instead of 1000 (bob −500): the summary names who gains and who loses,
// and the CSV holds the changed rows.
func TestSimulateCommand(t *testing.T) {
	dir, db := simulateDB(t)
	draft := strings.NewReplacer("min(1000,", "min(500,", "award: 50}", "award: 200}").Replace(e2eProgram)
	path := writeFile(t, dir, "draft.yaml", draft)
	out := filepath.Join(dir, "out.csv")
	got, err := runCmd(t, "simulate", "--program", path, "--db", db, "--csv", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	for _, want := range []string{"against program v1", "lifetime points", "1300", "1100", "-200", "Members who gain", "ann", "Members who lose", "bob", "+150", "-350"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1+2+2 || lines[1][0] != "partner" || lines[3][1] != "ann" {
		t.Fatalf("csv: %v", lines)
	}

	// The active program itself changes nothing.
	same := writeFile(t, dir, "same.yaml", e2eProgram)
	if got, err = runCmd(t, "simulate", "--program", same, "--db", db); err != nil || !strings.Contains(got, "The draft changes nothing.") {
		t.Fatalf("%v\n%s", err, got)
	}
	// A period without events says so.
	if got, err = runCmd(t, "simulate", "--program", path, "--db", db, "--from", "2025-01-01", "--to", "2025-02-01"); err != nil || !strings.Contains(got, "no events occurred in the period") {
		t.Fatalf("%v\n%s", err, got)
	}
}

func TestSimulateCommandRefusesBadInput(t *testing.T) {
	dir, db := simulateDB(t)
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(e2eProgram, "award: 50}", "award: fifty}", 1))
	got, err := runCmd(t, "simulate", "--program", bad, "--db", db)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "line ") {
		t.Fatalf("bad draft: %v\n%s", err, got)
	}
	good := writeFile(t, dir, "good.yaml", e2eProgram)
	if _, err := runCmd(t, "simulate", "--program", good, "--db", db, "--from", "yesterday"); err == nil || exitCode(err) != 2 {
		t.Fatalf("bad --from: %v", err)
	}
	if _, err := runCmd(t, "simulate", "--db", db); err == nil || exitCode(err) != 2 {
		t.Fatalf("no program: %v", err)
	}
}
