package service

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const testProgram = `
name: Service Test
timezone: UTC
metrics:
  sourced_revenue: {sum: deal.won, value: event.attrs.amount}
points:
  rules:
    - id: win
      on: deal.won
      award: min(1000, event.attrs.amount / 100)
    - id: training
      on: training.completed
      when: event.attrs.score >= 80
      award: 50
leaderboards:
  - {id: all-points, metric: points, for: member, window: all}
`

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func open(t testing.TB, path string) *Service {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), st, Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		st.Close()
	})
	return s
}

func setup(t testing.TB) (*Service, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rung.db")
	s := open(t, path)
	ctx := context.Background()
	if _, err := s.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if _, err := s.PutPartner(ctx, rung.Partner{ID: id, Name: "Partner " + id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutMember(ctx, rung.Member{ID: "m1", Partner: "p1", Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func win(id, partner, member string, amount float64) *Incoming {
	return &Incoming{Event: rung.Event{ID: id, Type: "deal.won", Partner: partner, Member: member,
		OccurredAt: now.Add(-time.Hour), Attrs: map[string]any{"amount": amount}}}
}

func lifetime(t *testing.T, s *Service, member string) int64 {
	t.Helper()
	var n int64
	s.Read(func(e *engine.Engine) error {
		sc, err := e.MemberScorecard(member, now)
		if err != nil {
			t.Fatal(err)
		}
		n = sc.Points.Lifetime
		return nil
	})
	return n
}

func TestSameEventFromEightClientsIsAppliedOnce(t *testing.T) {
	s, _ := setup(t)
	var wg sync.WaitGroup
	statuses := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Ingest(context.Background(), []*Incoming{win("crm:1:deal.won", "p1", "m1", 50000)})
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- res[0].Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[string]int{}
	for st := range statuses {
		count[st]++
	}
	if count["accepted"] != 1 || count["duplicate"] != 7 {
		t.Fatalf("statuses %v, want 1 accepted and 7 duplicate", count)
	}
	if got := lifetime(t, s, "m1"); got != 500 {
		t.Fatalf("lifetime %d, want 500", got)
	}
	if seq, _ := s.Store().LastSeq(context.Background()); seq != 1 {
		t.Fatalf("log holds %d records, want 1", seq)
	}
}

func TestBatchAppliesGoodEventsAndRejectsBadOnes(t *testing.T) {
	s, _ := setup(t)
	batch := []*Incoming{
		win("a", "p1", "m1", 10000),
		win("", "p1", "m1", 10000),
		win("b", "nobody", "", 10000),
		win("c", "p2", "m1", 10000), // m1 belongs to p1
		{Event: rung.Event{ID: "d", Type: "Deal Won", Partner: "p1", OccurredAt: now}},
		{Event: rung.Event{ID: "e", Type: "deal.won", Partner: "p1", OccurredAt: now.Add(time.Hour)}},
		win("f", "p1", "new-member", 20000),
		win("g\x00", "p1", "m1", 1000),
		{Event: rung.Event{ID: "h", Type: "deal.won", Partner: "p1", OccurredAt: time.Date(1200, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	res, err := s.Ingest(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ status, msg string }{
		{"accepted", ""},
		{"rejected", "id is required"},
		{"rejected", "create it first with PUT /api/v1/partners/nobody"},
		{"rejected", `belonged to partner "p1"`},
		{"rejected", "is not valid"},
		{"rejected", "in the future"},
		{"accepted", ""},
		{"rejected", "NUL"},
		{"rejected", "out of range"},
	}
	for i, w := range want {
		if res[i].Status != w.status || !strings.Contains(res[i].Error, w.msg) {
			t.Errorf("event %d: %s %q, want %s containing %q", i, res[i].Status, res[i].Error, w.status, w.msg)
		}
	}
	// The unknown member was created under the event's partner.
	var m rung.Member
	s.Read(func(e *engine.Engine) error { m, _ = e.Member("new-member"); return nil })
	if m.Partner != "p1" {
		t.Fatalf("auto-created member %+v, want partner p1", m)
	}
	if got := lifetime(t, s, "m1"); got != 100 {
		t.Fatalf("lifetime %d, want 100", got)
	}
}

func TestRuleFailureIsReportedInTheResult(t *testing.T) {
	s, _ := setup(t)
	res, _ := s.Ingest(context.Background(), []*Incoming{{Event: rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "m1", OccurredAt: now}}})
	if res[0].Status != "accepted" || len(res[0].Notes) == 0 || !strings.Contains(res[0].Notes[0], "score") {
		t.Fatalf("result %+v, want accepted with a note about the missing score", res[0])
	}
}

func TestRestartRebuildsTheSameState(t *testing.T) {
	s, path := setup(t)
	ctx := context.Background()
	var batch []*Incoming
	for i := 0; i < 200; i++ {
		batch = append(batch, win(fmt.Sprintf("w%d", i), "p1", fmt.Sprintf("m%d", i%7), float64(1000*(i%13+1))))
	}
	s.Ingest(ctx, batch)
	s.Ingest(ctx, []*Incoming{win("w5", "p1", "m5", 99999)}) // a correction
	if _, err := s.Retract(ctx, "w6", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Adjust(ctx, rung.Adjustment{Partner: "p1", Member: "m1", Points: 25, Reason: "welcome bonus"}, "test"); err != nil {
		t.Fatal(err)
	}
	s2 := restart(t, s, path)
	var before, after string
	s2.Read(func(e *engine.Engine) error { before = e.Digest(now); return nil })
	n, _, err := s2.Rebuild(ctx)
	if err != nil || n != 202 {
		t.Fatalf("rebuild replayed %d records (err %v), want 202", n, err)
	}
	s2.Read(func(e *engine.Engine) error { after = e.Digest(now); return nil })
	if before != after {
		t.Fatal("state after rung rebuild differs")
	}
}

// A restart reads the log without its attributes when the engine defers
// placing events (this program has no badges), reusing the reader's memory
// from one chunk of records to the next: the state must not change.
func TestRestartOverManyChunksRebuildsTheSameState(t *testing.T) {
	s, path := setup(t)
	ctx := context.Background()
	var batch []*Incoming
	for i := range 3000 {
		in := win(fmt.Sprintf("w%d", i), fmt.Sprintf("p%d", i%2+1), fmt.Sprintf("m%d", i%97), float64(100*(i%29+1)))
		if i%5 == 0 {
			in = &Incoming{Event: rung.Event{ID: fmt.Sprintf("t%d", i), Type: "training.completed", Partner: "p2", Member: fmt.Sprintf("m%d", i%31),
				OccurredAt: now.Add(-time.Duration(i) * time.Minute), Attrs: map[string]any{"score": float64(i % 100)}}}
		}
		batch = append(batch, in)
	}
	s.Ingest(ctx, batch)
	s.Ingest(ctx, []*Incoming{win("w7", "p1", "m7", 123456)})
	var points int64
	s.Read(func(e *engine.Engine) error {
		sc, _ := e.PartnerScorecard("p2", now)
		points = sc.Points.Lifetime
		return nil
	})
	if points == 0 {
		t.Fatal("no points: the test program changed")
	}
	restart(t, s, path)
}

// restart closes s and opens its database again, and checks the state
// loaded is the state s had.
func restart(t *testing.T, s *Service, path string) *Service {
	t.Helper()
	var before, after string
	s.Read(func(e *engine.Engine) error { before = e.Digest(now); return nil })
	s.Close()
	s.Store().Close()
	s2 := open(t, path)
	s2.Read(func(e *engine.Engine) error { after = e.Digest(now); return nil })
	if before != after {
		t.Fatal("state after restart differs from before")
	}
	return s2
}

func TestRetractUnknownOrTwice(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	if _, err := s.Retract(ctx, "nope", "t"); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Fatalf("unknown: %v", err)
	}
	s.Ingest(ctx, []*Incoming{win("x", "p1", "m1", 10000)})
	if _, err := s.Retract(ctx, "x", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retract(ctx, "x", "t"); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Fatalf("twice: %v", err)
	}
	if got := lifetime(t, s, "m1"); got != 0 {
		t.Fatalf("lifetime %d after retraction", got)
	}
}

func TestProgramWithErrorsChangesNothing(t *testing.T) {
	s, _ := setup(t)
	_, err := s.ApplyProgram(context.Background(), []byte("name: x\npoints:\n  rules:\n    - id: a\n      on: Bad Type\n      award: nope(\n"), time.Time{}, "t")
	var re *rung.Error
	if err == nil || !asError(err, &re) || len(re.Details) == 0 || re.Details[0].Line == 0 {
		t.Fatalf("error %v, want line-numbered details", err)
	}
	progs, _ := s.Store().Programs(context.Background())
	if len(progs) != 1 {
		t.Fatalf("%d program versions stored, want 1", len(progs))
	}
}

func TestMemberMoveKeepsEarningsWithOldPartner(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	s.Ingest(ctx, []*Incoming{win("before", "p1", "m1", 10000)})
	if _, err := s.PutMember(ctx, rung.Member{ID: "m1", Partner: "p2", Name: "Ann", JoinedAt: now.Add(-30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	after, old := win("after", "p2", "m1", 20000), win("old", "p1", "m1", 5000)
	after.Event.OccurredAt, old.Event.OccurredAt = now.Add(-10*time.Minute), now.Add(-10*time.Minute)
	res, _ := s.Ingest(ctx, []*Incoming{after, old})
	if res[0].Status != "accepted" {
		t.Fatalf("event for the new partner: %+v", res[0])
	}
	if res[1].Status != "rejected" {
		t.Fatalf("event for the old partner after the move: %+v", res[1])
	}
	var p1, p2 int64
	s.Read(func(e *engine.Engine) error {
		a, _ := e.PartnerScorecard("p1", now)
		b, _ := e.PartnerScorecard("p2", now)
		p1, p2 = a.Points.Lifetime, b.Points.Lifetime
		return nil
	})
	if p1 != 100 || p2 != 200 {
		t.Fatalf("p1 %d p2 %d, want 100 and 200", p1, p2)
	}
}

func asError(err error, target **rung.Error) bool {
	e, ok := err.(*rung.Error)
	if ok {
		*target = e
	}
	return ok
}

// An event whose attributes the store cannot encode is rejected alone; the
// rest of the request, and of the group, is applied.
func TestUnstorableAttrsRejectOnlyTheirEvent(t *testing.T) {
	s, _ := setup(t)
	var deep any = 1.0
	for i := 0; i < 70; i++ {
		deep = map[string]any{"a": deep}
	}
	bad := win("deep", "p1", "m1", 1000)
	bad.Event.Attrs["x"] = deep
	res, err := s.Ingest(context.Background(), []*Incoming{win("ok", "p1", "m1", 10000), bad})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "accepted" || res[1].Status != "rejected" || !strings.Contains(res[1].Error, "attrs cannot be stored") {
		t.Fatalf("results %+v", res)
	}
	if _, err := s.PutPartner(context.Background(), rung.Partner{ID: "p9", Name: "N", Attrs: map[string]any{"k": "a\x00b"}}); rung.ErrorCode(err) != rung.EINVALID {
		t.Fatalf("NUL in partner attrs: %v", err)
	}
}

// Ingest answers once the request's own events are applied, possibly
// before the rest of its group: a read made right after the answer must
// still see the event, and every other request of the group (a partner
// update among them) must be answered too.
func TestIngestAnswerIsReadableAtOnceUnderGroupCommit(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for c := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if c%8 == 0 && i%5 == 0 {
					if _, err := s.PutPartner(ctx, rung.Partner{ID: fmt.Sprintf("q%d-%d", c, i), Name: "Q"}); err != nil {
						errs <- err
						return
					}
				}
				id := fmt.Sprintf("g%d-%d", c, i)
				res, err := s.Ingest(ctx, []*Incoming{win(id, "p1", fmt.Sprintf("gm%d", c), 1000)})
				if err != nil || res[0].Status != "accepted" {
					errs <- fmt.Errorf("%s: %v %+v", id, err, res)
					return
				}
				if err := s.Read(func(e *engine.Engine) error {
					_, err := e.EventEffects(id)
					return err
				}); err != nil {
					errs <- fmt.Errorf("%s answered but not readable: %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
