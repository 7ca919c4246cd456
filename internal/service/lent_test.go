package service

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// badgeProgram has badges, so a start replays the log in its order, lent
// to the engine (store.Lender, Engine.ApplyLent), not deferred.
const badgeProgram = testProgram + `badges:
  - id: closer
    name: Closer
    on: deal.won
    when: event.attrs.amount >= 5000
    evidence: event.attrs.deal
    points: 10
  - id: learner
    name: Learner
    steps: [{type: training.completed, count: 2}, deal.won]
    within: 30d
    from: first_step
`

// TestRestartReplaysTheLogLentAsItWasApplied: a log of many chunks, with a
// body of 200 KiB, events without a member, corrections and retractions,
// applied as it arrived, gives the same state when a start replays it lent
// (restart checks), when a live rebuild does, and when a start reads it
// from a snapshot.
func TestRestartReplaysTheLogLentAsItWasApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rung.db")
	s := open(t, path)
	if _, ok := s.Store().(store.Lender); !ok {
		t.Fatal("the SQLite store does not lend its log")
	}
	ctx := context.Background()
	if _, err := s.ApplyProgram(ctx, []byte(badgeProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if _, err := s.PutPartner(ctx, rung.Partner{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	var batch []*Incoming
	for i := range 3000 {
		in := win(fmt.Sprintf("w%d", i), fmt.Sprintf("p%d", i%2+1), fmt.Sprintf("m%d", i%97), float64(100*(i%97+1)))
		in.Event.Attrs["deal"] = fmt.Sprintf("d%d", i)
		if i == 700 {
			in.Event.Attrs["blob"] = strings.Repeat("x", 200<<10)
		}
		if i%5 == 0 {
			in = &Incoming{Event: rung.Event{ID: fmt.Sprintf("t%d", i), Type: "training.completed", Partner: "p2",
				Member: fmt.Sprintf("m%d", i%31), OccurredAt: now.Add(-time.Duration(i) * time.Minute),
				Attrs: map[string]any{"score": float64(i % 100)}}}
		}
		if i%11 == 0 {
			in.Event.Member = ""
		}
		batch = append(batch, in)
	}
	if _, err := s.Ingest(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i += 37 { // corrections
		if _, err := s.Ingest(ctx, []*Incoming{win(fmt.Sprintf("w%d", i), "p1", fmt.Sprintf("m%d", i%13), 99999)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < 3000; i += 53 {
		if _, err := s.Retract(ctx, fmt.Sprintf("w%d", i), "test"); err != nil && rung.ErrorCode(err) != rung.ENOTFOUND {
			t.Fatal(err)
		}
	}
	var live string
	badges := 0
	s.Read(func(e *engine.Engine) error {
		live = e.Digest(now)
		for m := range 97 {
			if sc, err := e.MemberScorecard(fmt.Sprintf("m%d", m), now); err == nil {
				badges += len(sc.Badges)
			}
		}
		return nil
	})
	if badges == 0 {
		t.Fatal("no badge was earned: the test program changed")
	}
	// The digest leaves out the events' bodies, which the engine keeps in
	// the blocks lent to it: they are compared one by one.
	bodies := func(s *Service) string {
		var b strings.Builder
		s.Read(func(e *engine.Engine) error {
			for _, in := range batch {
				fmt.Fprintf(&b, "%+v\n", e.EventBody(in.Event.ID))
			}
			return nil
		})
		return b.String()
	}
	want := bodies(s)
	s = restart(t, s, path)
	if bodies(s) != want {
		t.Fatal("the events' bodies after a restart differ from the bodies as applied")
	}
	if _, _, err := s.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	var rebuilt string
	s.Read(func(e *engine.Engine) error { rebuilt = e.Digest(now); return nil })
	if rebuilt != live || bodies(s) != want {
		t.Fatal("the state after a live rebuild differs from the state as applied")
	}
	if _, _, err := s.WriteSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	s = restart(t, s, path)
	if bodies(s) != want {
		t.Fatal("the events' bodies after a start from a snapshot differ from the bodies as applied")
	}
}
