package service

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// lockDB takes the SQLite database's write lock from a connection of its
// own, so the service's next commit waits at BEGIN; stmts run in that
// transaction. The returned function commits it, letting the service's
// commit go on.
func lockDB(t *testing.T, path string, stmts ...string) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append([]string{"BEGIN IMMEDIATE"}, stmts...) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return func() {
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
}

// waitCount waits until c() reaches n.
func waitCount(t *testing.T, what string, c func() int64, n int64) {
	t.Helper()
	for i := 0; c() < n; i++ {
		if i > 5000 {
			t.Fatalf("%s: %d, want %d", what, c(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// ingestAsync sends events and delivers the outcome on the channel.
func ingestAsync(s *Service, ins ...*Incoming) chan error {
	c := make(chan error, 1)
	go func() {
		_, err := s.Ingest(context.Background(), ins)
		c <- err
	}()
	return c
}

// While a group commits, the writer prepares the next group of events on
// top of it: they see the partner, the member and the events the group in
// flight adds, and everything ends up as a one-at-a-time writer would leave
// it.
func TestEventsPreparedOnTopOfAGroupInFlight(t *testing.T) {
	s, path := setup(t)

	// A partner in flight; events for it, and a new member, on top.
	release := lockDB(t, path)
	l0, st0 := s.launched.Load(), s.stacked.Load()
	partner := putInFlight(t, s, l0)
	e3 := win("e3", "p3", "m9", 5000)
	got := ingestAsync(s, e3)
	waitCount(t, "requests prepared on top", s.stacked.Load, st0+1)
	release()
	if err := <-partner; err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if e3.Result.Status != "accepted" {
		t.Fatalf("event for a partner in flight: %+v", e3.Result)
	}

	// An event in flight; the same event again, a correction of another
	// one in the same group, and a new one on top.
	release = lockDB(t, path)
	l0, st0 = s.launched.Load(), s.stacked.Load()
	first := ingestAsync(s, win("e1", "p1", "m1", 1000), win("e2", "p1", "m1", 1000))
	waitCount(t, "commits started", s.launched.Load, l0+1)
	again, corr, fresh := win("e1", "p1", "m1", 1000), win("e2", "p1", "m1", 2000), win("e4", "p1", "m1", 1000)
	second := ingestAsync(s, again, corr, fresh)
	waitCount(t, "requests prepared on top", s.stacked.Load, st0+1)
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in      *Incoming
		status  string
		version int
	}{{again, "duplicate", 1}, {corr, "corrected", 2}, {fresh, "accepted", 1}} {
		if c.in.Result.Status != c.status || c.in.Result.Version != c.version {
			t.Errorf("%s: %+v, want %s version %d", c.in.Event.ID, c.in.Result, c.status, c.version)
		}
	}

	var before string
	s.Read(func(e *engine.Engine) error {
		if _, ok := e.Member("m9"); !ok {
			t.Error("member m9, created by an event on top of a group in flight, is missing")
		}
		before = e.Digest(now)
		return nil
	})
	checkRebuildKeeps(t, s, before)
}

// checkRebuildKeeps rebuilds s from its log and checks that the state's
// digest is still before, the digest of the state built group by group.
func checkRebuildKeeps(t *testing.T, s *Service, before string) {
	t.Helper()
	if _, _, err := s.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	var after string
	s.Read(func(e *engine.Engine) error { after = e.Digest(now); return nil })
	if before != after {
		t.Fatal("state built group by group differs from a rebuild")
	}
}

// A commit that fails fails the group prepared on top of it too: nothing of
// either is acknowledged, stored or applied, and what comes next is
// prepared against what is stored. The failure is real: another connection
// stored the partner version the group in flight writes, so SQLite refuses
// it (a constraint), while the group's BEGIN waited for that connection.
func TestFailedCommitFailsTheGroupOnTopOfIt(t *testing.T) {
	s, path := setup(t)
	ctx := context.Background()
	release := lockDB(t, path, `INSERT INTO partner_versions (id, version, valid_from, body) VALUES ('p3', 1, 0, '{"id":"p3","name":"elsewhere"}')`)
	l0, st0 := s.launched.Load(), s.stacked.Load()
	partner := putInFlight(t, s, l0)
	onTop := []*Incoming{win("f1", "p3", "m9", 5000), win("f2", "p1", "m1", 5000)}
	got := ingestAsync(s, onTop...)
	waitCount(t, "requests prepared on top", s.stacked.Load, st0+1)
	release()
	if err := <-partner; rung.ErrorCode(err) != rung.EUNAVAILABLE {
		t.Fatalf("partner whose commit failed: got %v, want EUNAVAILABLE", err)
	}
	if err := <-got; rung.ErrorCode(err) != rung.EUNAVAILABLE {
		t.Fatalf("events prepared on top of a failed commit: got %v, want EUNAVAILABLE", err)
	}

	var n int
	if err := s.Store().Records(ctx, 0, func(r *rung.Record) error {
		if r.Event.ID == "f1" || r.Event.ID == "f2" {
			t.Errorf("event %s of a failed group is stored", r.Event.ID)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Read(func(e *engine.Engine) error {
		for _, id := range []string{"f1", "f2"} {
			if known, _, _ := e.Known(id); known {
				t.Errorf("event %s of a failed group is applied", id)
			}
		}
		if _, ok := e.Member("m9"); ok {
			t.Error("member m9 of a failed group is applied")
		}
		if _, ok := e.Partner("p3"); ok {
			t.Error("partner p3 of a failed commit is applied")
		}
		return nil
	})

	// Sent again, f2 is new (version 1): the index never took it.
	again := win("f2", "p1", "m1", 5000)
	if _, err := s.Ingest(ctx, []*Incoming{again}); err != nil {
		t.Fatal(err)
	}
	if again.Result.Status != "accepted" || again.Result.Version != 1 {
		t.Fatalf("f2 sent again: %+v, want accepted version 1", again.Result)
	}
}

// putInFlight puts partner p3 and waits until its commit has started (the
// database is locked, so it stays in flight); the channel gets its outcome.
func putInFlight(t *testing.T, s *Service, launched int64) <-chan error {
	t.Helper()
	partner := make(chan error, 1)
	go func() {
		_, err := s.PutPartner(context.Background(), rung.Partner{ID: "p3", Name: "Partner p3"})
		partner <- err
	}()
	waitCount(t, "commits started", s.launched.Load, launched+1)
	return partner
}

// The committer hands a committed group to the applier before the writer
// settles it, so an answer can reach its client while the writer has not
// yet merged the group into its index. A client that sends the same event
// again, or a correction, the moment it is answered must still be told
// "duplicate" or "corrected": the writer prepares on top of the group until
// it has merged it.
func TestAnsweredEventIsKnownToTheNextRequest(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	const clients, rounds = 8, 60
	errs := make(chan error, clients)
	for c := range clients {
		go func() {
			errs <- func() error {
				for i := range rounds {
					id := fmt.Sprintf("c%d-%d", c, i)
					for _, step := range []struct {
						amount  float64
						status  string
						version int
					}{{1000, "accepted", 1}, {1000, "duplicate", 1}, {2000, "corrected", 2}, {2000, "duplicate", 2}} {
						in := win(id, "p1", "m1", step.amount)
						if _, err := s.Ingest(ctx, []*Incoming{in}); err != nil {
							return err
						}
						if in.Result.Status != step.status || in.Result.Version != step.version {
							return fmt.Errorf("%s sent with amount %v: %+v, want %s version %d", id, step.amount, in.Result, step.status, step.version)
						}
					}
				}
				return nil
			}()
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var before string
	s.Read(func(e *engine.Engine) error { before = e.Digest(now); return nil })
	checkRebuildKeeps(t, s, before)
}
