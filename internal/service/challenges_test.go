package service

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const sprintProgram = testProgram + `
challenges:
  - id: sprint
    starts: 2026-11-01
    ends: 2026-11-10
    for: partner
    metric: sourced_revenue
    winners: 1
    reward: {points: 1000}
`

// TestChallengeRewardIsIssuedOnceAcrossRestarts: the service finalizes a
// challenge when its clock passes ends + finalize_after, the reward is one
// ledger award, and restarts and rebuilds (with a late event in between)
// neither repeat nor move it.
func TestChallengeRewardIsIssuedOnceAcrossRestarts(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC).UnixNano())
	path := filepath.Join(t.TempDir(), "rung.db")
	openAt := func() *Service {
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), st, Options{Clock: func() time.Time { return time.Unix(0, clock.Load()).UTC() }, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	closeIt := func(s *Service) {
		s.Close()
		s.Store().Close()
	}
	ctx := context.Background()
	s := openAt()
	if _, err := s.ApplyProgram(ctx, []byte(sprintProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if _, err := s.PutPartner(ctx, rung.Partner{ID: id, Name: "Partner " + id}); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	deal := func(id, partner string, amount float64) *Incoming {
		return &Incoming{Event: rung.Event{ID: id, Type: "deal.won", Partner: partner, OccurredAt: at, Attrs: map[string]any{"amount": amount}}}
	}
	s.Ingest(ctx, []*Incoming{deal("a", "p1", 5000), deal("b", "p2", 3000)})
	rewards := func(s *Service) (n int, partner string) {
		s.Read(func(e *engine.Engine) error {
			for _, p := range []string{"p1", "p2"} {
				l, _ := e.Ledger(engine.LedgerFilter{Partner: p})
				for _, le := range l {
					if le.Challenge == "sprint" {
						n++
						partner = p
					}
				}
			}
			return nil
		})
		return n, partner
	}
	if n, _ := rewards(s); n != 0 {
		t.Fatalf("%d rewards while running", n)
	}
	// Past F: a write moves the engine's clock and finalizes; a late
	// event that would have won for p2 is received after F.
	clock.Store(time.Date(2026, 11, 12, 0, 1, 0, 0, time.UTC).UnixNano()) // ends Nov 10 inclusive, + 24h
	s.Ingest(ctx, []*Incoming{deal("late", "p2", 90000)})
	if n, p := rewards(s); n != 1 || p != "p1" {
		t.Fatalf("after F: %d rewards for %s, want one for p1", n, p)
	}
	closeIt(s)
	clock.Store(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).UnixNano())
	s = openAt()
	if n, p := rewards(s); n != 1 || p != "p1" {
		t.Fatalf("after a restart: %d rewards for %s, want one for p1", n, p)
	}
	if _, _, err := s.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if n, p := rewards(s); n != 1 || p != "p1" {
		t.Fatalf("after a rebuild: %d rewards for %s, want one for p1", n, p)
	}
	closeIt(s)
}
