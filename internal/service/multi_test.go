package service

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
)

// pgSchema returns the PostgreSQL URL of the tests and a fresh schema that
// is dropped after the test, or skips the test.
func pgSchema(t testing.TB) (string, string) {
	t.Helper()
	url := os.Getenv("RUNG_TEST_POSTGRES")
	if url == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the tests of several instances")
	}
	b := make([]byte, 6)
	crand.Read(b)
	schema := "rung_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return url, schema
}

// openInstance opens one more instance on the schema; it is closed when
// the test ends (before the schema is dropped).
func openInstance(t *testing.T, url, schema string) *Service {
	t.Helper()
	return openInstanceWith(t, url, schema, Options{})
}

func openInstanceWith(t *testing.T, url, schema string, o Options) *Service {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.OpenSchema(ctx, url, schema)
	if err != nil {
		t.Fatal(err)
	}
	o.Clock, o.Logger = func() time.Time { return now }, slog.New(slog.DiscardHandler)
	s, err := Open(ctx, st, o)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		st.Close()
	})
	return s
}

func digest(s *Service) string {
	var d string
	s.Read(func(e *engine.Engine) error {
		d = e.Digest(now)
		return nil
	})
	return d
}

// converge waits until every instance has the same derived state, and
// returns it.
func converge(t *testing.T, within time.Duration, insts ...*Service) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ds := make([]string, len(insts))
		for i, s := range insts {
			ds[i] = digest(s)
		}
		if slices.Equal(ds[1:], ds[:len(ds)-1]) {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances still differ after %v: %v", within, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func knows(s *Service, id string) bool {
	var ok bool
	s.Read(func(e *engine.Engine) error {
		ok, _, _ = e.Known(id)
		return nil
	})
	return ok
}

// Three instances on one schema, eight clients sending overlapping batches
// with duplicates to all of them: every event is stored and counted once,
// and every instance ends with the same state as a fresh load of the
// database.
func TestThreeInstancesCountEveryEventOnce(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	insts := []*Service{openInstance(t, url, schema), openInstance(t, url, schema), openInstance(t, url, schema)}
	if _, err := insts[0].ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	const partners = 12
	for i := range partners {
		if _, err := insts[i%3].PutPartner(ctx, rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "Partner", Size: "mid"}); err != nil {
			t.Fatal(err)
		}
	}
	converge(t, 5*time.Second, insts...)

	// Event i always has the same content: sent again, it is a duplicate.
	const events, clients, batches, perBatch = 3000, 8, 12, 400
	event := func(i int) *Incoming {
		p := i % partners
		return &Incoming{Event: rung.Event{ID: fmt.Sprintf("crm:%d:deal.won", i), Type: "deal.won",
			Partner: fmt.Sprintf("p%d", p), Member: fmt.Sprintf("m%d-%d", p, i%7),
			OccurredAt: now.Add(-time.Duration(i) * time.Minute), Attrs: map[string]any{"amount": float64(1000 + i)}}}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := map[string]int{}
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(c), 7))
			for b := range batches {
				batch := make([]*Incoming, perBatch)
				for k := range batch {
					batch[k] = event(rnd.IntN(events))
				}
				res, err := insts[(c+b)%3].Ingest(ctx, batch)
				if err != nil {
					t.Errorf("client %d batch %d: %v", c, b, err)
					return
				}
				mu.Lock()
				for _, r := range res {
					if r.Status == "accepted" {
						accepted[r.ID]++
					} else if r.Status != "duplicate" {
						t.Errorf("event %s: %s %s", r.ID, r.Status, r.Error)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	sent := 0
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
		sent++
	}
	t.Logf("%d clients sent %d events (%d distinct) to 3 instances in %v", clients, clients*batches*perBatch, sent, took.Round(time.Millisecond))

	// Every distinct event is in the log once, as version 1.
	st := insts[0].Store()
	seen := map[string]bool{}
	err := st.Records(ctx, 0, func(r *rung.Record) error {
		if seen[r.Event.ID] || r.Version != 1 {
			return fmt.Errorf("event %s version %d stored twice", r.Event.ID, r.Version)
		}
		seen[r.Event.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != sent {
		t.Fatalf("the log holds %d events, %d were accepted", len(seen), sent)
	}

	// Facts other than events, written on different instances.
	if _, err := insts[1].PutPartner(ctx, rung.Partner{ID: "p3", Name: "Partner", Size: "enterprise"}); err != nil {
		t.Fatal(err)
	}
	if _, err := insts[2].PutMember(ctx, rung.Member{ID: "m1-1", Partner: "p2", JoinedAt: now.Add(-30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := insts[0].Adjust(ctx, rung.Adjustment{Partner: "p4", Member: "m4-4", Points: 250, Reason: "webinar"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := insts[0].Retract(ctx, "crm:5:deal.won", "test"); err != nil && rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Fatal(err)
	}
	want := converge(t, 10*time.Second, insts...)

	// And the state is what a fresh load of the database computes.
	fresh := openInstance(t, url, schema)
	if got := digest(fresh); got != want {
		t.Fatalf("a fresh instance computes %s, the running ones %s", got, want)
	}
	// A program applied on one instance reaches all.
	if _, err := insts[2].ApplyProgram(ctx, []byte(testProgram+"  - {id: rev, metric: sourced_revenue, for: partner, window: all}\n"), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	converge(t, 10*time.Second, append(insts, fresh)...)
}

// Two instances write versions of the same events at once: the database's
// unique (id, version) lets one win each, the other reads it and prepares
// its group again, and both end with one history per event.
func TestConcurrentCorrectionsOnTwoInstances(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	a, b := openInstance(t, url, schema), openInstance(t, url, schema)
	if _, err := a.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutPartner(ctx, rung.Partner{ID: "p1", Name: "P"}); err != nil {
		t.Fatal(err)
	}
	converge(t, 5*time.Second, a, b)
	var wg sync.WaitGroup
	for i, s := range []*Service{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				batch := make([]*Incoming, 50)
				for k := range batch {
					batch[k] = win(fmt.Sprintf("e%d", k), "p1", "m1", float64(1000*(1+i)+round))
				}
				if _, err := s.Ingest(ctx, batch); err != nil {
					t.Errorf("instance %d round %d: %v", i, round, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Versions of each event are 1, 2, 3, ... without a gap or a repeat.
	versions := map[string][]int{}
	a.Store().Records(ctx, 0, func(r *rung.Record) error {
		versions[r.Event.ID] = append(versions[r.Event.ID], r.Version)
		return nil
	})
	for id, vs := range versions {
		for i, v := range vs {
			if v != i+1 {
				t.Fatalf("event %s has versions %v", id, vs)
			}
		}
	}
	want := converge(t, 10*time.Second, a, b)
	if got := digest(openInstance(t, url, schema)); got != want {
		t.Fatalf("a fresh instance computes %s, the running ones %s", got, want)
	}
}

// How long a write on one instance takes to be read on another, when
// instances listen for each other's commits and when they only poll.
func TestFollowLag(t *testing.T) {
	for _, pollOnly := range []bool{false, true} {
		name := map[bool]string{false: "notify", true: "poll"}[pollOnly]
		t.Run(name, func(t *testing.T) {
			url, schema := pgSchema(t)
			ctx := context.Background()
			a := openInstance(t, url, schema)
			b := openInstanceWith(t, url, schema, Options{PollOnly: pollOnly})
			if _, err := a.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.PutPartner(ctx, rung.Partner{ID: "p1", Name: "P"}); err != nil {
				t.Fatal(err)
			}
			converge(t, 5*time.Second, a, b)
			var lags []time.Duration
			for i := range 30 {
				id := fmt.Sprintf("lag-%d", i)
				if _, err := a.Ingest(ctx, []*Incoming{win(id, "p1", "m1", 5000)}); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				for !knows(b, id) {
					if time.Since(start) > 5*time.Second {
						t.Fatalf("event %s not read by the other instance after 5 s", id)
					}
					time.Sleep(200 * time.Microsecond)
				}
				lags = append(lags, time.Since(start))
				time.Sleep(time.Duration(i%7) * 13 * time.Millisecond) // land anywhere in the poll interval
			}
			slices.Sort(lags)
			t.Logf("lag of a read on another instance (%s, poll every %v): median %v, max %v", name, b.FollowEvery(),
				lags[len(lags)/2].Round(100*time.Microsecond), lags[len(lags)-1].Round(100*time.Microsecond))
			if lags[len(lags)-1] > b.FollowEvery()+time.Second {
				t.Errorf("max lag %v, more than the poll interval and a second", lags[len(lags)-1])
			}
		})
	}
}

// A key revoked on one instance stops working on the others after the lag,
// even where it was cached.
func TestRevokedKeyStopsWorkingOnEveryInstance(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	a, b := openInstance(t, url, schema), openInstance(t, url, schema)
	k, secret, err := a.CreateAPIKey(ctx, "k", rung.ScopeRead, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, secret); err != nil {
		t.Fatalf("key created on a, used on b: %v", err)
	}
	if err := a.RevokeAPIKey(ctx, k.ID, "test"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := b.Authenticate(ctx, secret)
		if rung.ErrorCode(err) == rung.EUNAUTHORIZED {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked key still authenticates on b: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lossyStore commits, then reports the commit failed once: a connection
// that broke while COMMIT's answer was on its way.
type lossyStore struct {
	store.Store
	lose atomic.Bool
}

func (s *lossyStore) Commit(ctx context.Context, b *store.Batch) error {
	return s.lost(s.Store.Commit(ctx, b))
}

func (s *lossyStore) CommitExclusive(ctx context.Context, prepare func(ctx context.Context) (*store.Batch, error)) error {
	return s.lost(s.Store.CommitExclusive(ctx, prepare))
}

func (s *lossyStore) lost(err error) error {
	if err == nil && s.lose.CompareAndSwap(true, false) {
		return rung.Errorf(rung.EUNAVAILABLE, "connection lost at COMMIT")
	}
	return err
}

// A commit whose outcome is unknown is settled by reading the log: the
// events it did store count once, and the request is answered.
func TestAmbiguousCommitIsSettled(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	pg, err := postgres.OpenSchema(ctx, url, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	st := &lossyStore{Store: pg}
	s, err := Open(ctx, st, Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPartner(ctx, rung.Partner{ID: "p1", Name: "P"}); err != nil {
		t.Fatal(err)
	}
	st.lose.Store(true)
	res, err := s.Ingest(ctx, []*Incoming{win("a", "p1", "m1", 10000), win("b", "p1", "m1", 20000)})
	if err != nil {
		t.Fatalf("ingest across a lost COMMIT answer: %v", err)
	}
	for _, r := range res {
		if r.Status != "duplicate" || r.Version != 1 {
			t.Errorf("event %s: %+v, want a duplicate of version 1 (the first attempt stored it)", r.ID, r)
		}
	}
	if got := lifetime(t, s, "m1"); got != 300 {
		t.Errorf("lifetime %d, want 300: each event counted once", got)
	}
	st.lose.Store(true)
	if _, err := s.Adjust(ctx, rung.Adjustment{Partner: "p1", Points: 7, Reason: "r"}, "test"); err != nil {
		t.Errorf("an adjustment across a lost COMMIT answer: %v", err)
	}
	if _, err := s.Adjust(ctx, rung.Adjustment{ID: "adj-1", Partner: "p1", Points: 7, Reason: "r"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Adjust(ctx, rung.Adjustment{ID: "adj-1", Partner: "p1", Points: 7, Reason: "r"}, "test"); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Errorf("an adjustment id sent twice: %v, want ECONFLICT", err)
	}
	fresh := openInstance(t, url, schema)
	if digest(fresh) != digest(s) {
		t.Error("the state differs from a fresh load")
	}
	as, _ := pg.Adjustments(ctx)
	if len(as) != 2 {
		t.Errorf("%d adjustments stored, want 2", len(as))
	}
}

// Two instances move one member at once: every move that was answered
// with success is in the member's history, on both instances.
func TestConcurrentMovesOfOneMemberAreNotLost(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	a, b := openInstance(t, url, schema), openInstance(t, url, schema)
	for i := range 3 {
		if _, err := a.PutPartner(ctx, rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.PutMember(ctx, rung.Member{ID: "m", Partner: "p0", JoinedAt: now.Add(-100 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	converge(t, 5*time.Second, a, b)
	type move struct {
		partner string
		at      time.Time
	}
	var mu sync.Mutex
	var done []move
	var wg sync.WaitGroup
	for i, s := range []*Service{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 15 {
				mv := move{fmt.Sprintf("p%d", 1+(k+i)%2), now.Add(time.Duration(-90+2*k+i) * time.Hour)}
				got, err := s.PutMember(ctx, rung.Member{ID: "m", Partner: mv.partner, JoinedAt: mv.at})
				last := got.Memberships[max(0, len(got.Memberships)-1):]
				if err == nil && len(last) == 1 && last[0].Partner == mv.partner && last[0].JoinedAt.Equal(mv.at) {
					// A move (a PUT naming the current partner is not one).
					mu.Lock()
					done = append(done, mv)
					mu.Unlock()
				} else if err != nil && rung.ErrorCode(err) != rung.EINVALID {
					t.Error(err) // a move dated before the last one is refused; nothing else may fail
				}
			}
		}()
	}
	wg.Wait()
	converge(t, 5*time.Second, a, b)
	stored, err := a.Store().MembersByID(ctx, []string{"m"})
	if err != nil || len(stored) != 1 {
		t.Fatal(stored, err)
	}
	for i, s := range []*Service{nil, a, b} {
		m := stored[0]
		what := "the stored member"
		if s != nil {
			// The digest does not cover memberships: wait for the last
			// write to arrive.
			what = fmt.Sprintf("instance %d", i)
			deadline := time.Now().Add(5 * time.Second)
			for {
				s.Read(func(e *engine.Engine) error {
					m, _ = e.Member("m")
					return nil
				})
				if sameMember(&m, &stored[0]) || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		for _, mv := range done {
			found := false
			for _, ms := range m.Memberships {
				found = found || (ms.Partner == mv.partner && ms.JoinedAt.Equal(mv.at))
			}
			if !found {
				t.Errorf("%s: the move to %s at %s was answered with success but is not in the history %+v", what, mv.partner, mv.at.Format(time.RFC3339), m.Memberships)
			}
		}
	}
	t.Logf("%d of 30 PUTs were moves", len(done))
}
