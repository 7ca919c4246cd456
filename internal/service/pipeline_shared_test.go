package service

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
)

// Lock requests that wait, counted only where they concern table (so that
// other tests on the same server do not count): sessions waiting for the
// table, and sessions waiting for an advisory lock that one of those holds.
const (
	waitingForTable = `SELECT count(*) FROM pg_locks WHERE relation = $1::regclass AND NOT granted`
	waitingBehind   = `SELECT count(*) FROM pg_locks w JOIN pg_locks h ON h.locktype = 'advisory' AND h.granted
		AND h.classid = w.classid AND h.objid = w.objid AND h.objsubid = w.objsubid
		WHERE w.locktype = 'advisory' AND NOT w.granted
		AND h.pid IN (SELECT pid FROM pg_locks WHERE relation = $1::regclass AND NOT granted)`
)

// waitLocks waits until query, run with table, counts a waiting request.
func waitLocks(t *testing.T, conn *pgx.Conn, query, table string) {
	t.Helper()
	for i := 0; ; i++ {
		var waiting int
		if err := conn.QueryRow(context.Background(), query, table).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		if i > 1000 {
			t.Fatalf("no lock request waits (%s)", query)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// On a shared store the writer also prepares a group of events while the
// group before it commits. When the group in flight is refused because
// another instance committed one of its events first, it is prepared and
// committed again after reading what that instance wrote, and so is the
// group prepared on top of it: every event is answered as if the groups
// had been sent one after the other, and stored once.
func TestSharedGroupRefusedIsPreparedAgainWithTheOneOnTop(t *testing.T) {
	url, schema := pgSchema(t)
	ctx := context.Background()
	// b follows the others on their commits' notifications only: its
	// periodic follow settles the group in flight first, and one falling
	// between the two requests below (on a busy machine) would keep the
	// second from being prepared on top of the first.
	a, b := openInstance(t, url, schema), openInstanceWith(t, url, schema, Options{FollowEvery: time.Hour})
	if _, err := a.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Partner p1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutMember(ctx, rung.Member{ID: "m1", Partner: "p1", Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	converge(t, 5*time.Second, a, b)

	// Writes to the log wait while this transaction holds the table.
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	events := pgx.Identifier{schema, "events"}.Sanitize()
	if _, err := tx.Exec(ctx, `LOCK TABLE `+events+` IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	fromA := ingestAsync(a, win("e1", "p1", "m1", 1000))
	waitLocks(t, admin, waitingForTable, events) // a holds the log's lock and waits for the table
	l0, st0 := b.launched.Load(), b.stacked.Load()
	e1, e2 := win("e1", "p1", "m1", 1000), win("e2", "p1", "m1", 1000)
	inFlight := ingestAsync(b, e1, e2)
	waitCount(t, "commits started on b", b.launched.Load, l0+1)
	waitLocks(t, admin, waitingBehind, events) // b waits for the log's lock
	corr, e3 := win("e2", "p1", "m1", 2000), win("e3", "p1", "m1", 1000)
	onTop := ingestAsync(b, corr, e3)
	waitCount(t, "requests prepared on top on b", b.stacked.Load, st0+1)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []chan error{fromA, inFlight, onTop} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		in      *Incoming
		status  string
		version int
	}{{e1, "duplicate", 1}, {e2, "accepted", 1}, {corr, "corrected", 2}, {e3, "accepted", 1}} {
		if c.in.Result.Status != c.status || c.in.Result.Version != c.version {
			t.Errorf("%s on b: %+v, want %s version %d", c.in.Event.ID, c.in.Result, c.status, c.version)
		}
	}

	versions := map[string][]int{}
	if err := b.Store().Records(ctx, 0, func(r *rung.Record) error {
		versions[r.Event.ID] = append(versions[r.Event.ID], r.Version)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"e1": {1}, "e2": {1, 2}, "e3": {1}}
	for id, vs := range want {
		if len(versions[id]) != len(vs) || versions[id][len(vs)-1] != vs[len(vs)-1] {
			t.Errorf("event %s stored as versions %v, want %v", id, versions[id], vs)
		}
	}
	converge(t, 5*time.Second, a, b)
	if got := lifetime(t, b, "m1"); got != lifetime(t, a, "m1") {
		t.Errorf("m1's lifetime points: %d on b, %d on a", got, lifetime(t, a, "m1"))
	}
}
