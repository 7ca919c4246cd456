package jobs

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// clock is a settable clock shared by the runners of a test.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }

var day1 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// runs counts the runs of a test job by period.
type runs struct {
	mu sync.Mutex
	n  map[time.Time][]string
}

func (r *runs) job(name, instance string, every time.Duration) Job {
	return Job{Name: name, Every: every, Run: func(ctx context.Context, period time.Time) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.n == nil {
			r.n = map[time.Time][]string{}
		}
		r.n[period] = append(r.n[period], instance)
		return nil
	}}
}

func (r *runs) of(period time.Time) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.n[period]...)
}

func start(t *testing.T, st store.Sharing, c *clock, instance string, jobs ...Job) (*Runner, context.CancelFunc) {
	t.Helper()
	r := New(st, Options{Instance: instance, Clock: c.now, Logger: slog.New(slog.DiscardHandler), Check: 20 * time.Millisecond})
	for _, j := range jobs {
		if err := r.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return r, stop
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !cond() {
		if time.Since(begin) > within {
			t.Fatalf("%s: not after %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(begin)
}

func TestJobRunsOncePerPeriodOnSQLite(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := newClock(day1)
	var rs runs
	r, stop := start(t, st, c, "one", rs.job("daily", "one", 24*time.Hour))
	today := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	waitFor(t, "the job runs for today", 2*time.Second, func() bool { return len(rs.of(today)) == 1 })
	if !r.Leading() {
		t.Error("the one process on SQLite does not lead")
	}
	time.Sleep(100 * time.Millisecond) // several checks
	c.set(day1.Add(24 * time.Hour))
	waitFor(t, "the job runs for the next day", 2*time.Second, func() bool { return len(rs.of(today.Add(24*time.Hour))) == 1 })
	stop()
	if n := len(rs.of(today)); n != 1 {
		t.Errorf("the job ran %d times for one period", n)
	}
	got, err := st.JobRuns(context.Background(), "daily")
	if err != nil || len(got) != 2 || got[0].Finished.IsZero() || got[0].Instance != "one" {
		t.Errorf("recorded runs %+v, %v", got, err)
	}
}

func TestFailedRunIsTriedAgain(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := newClock(day1)
	var tries atomic.Int32
	job := Job{Name: "flaky", Every: time.Hour, RetryAfter: time.Minute, Run: func(ctx context.Context, period time.Time) error {
		if tries.Add(1) == 1 {
			return errors.New("smtp down")
		}
		return nil
	}}
	start(t, st, c, "one", job)
	waitFor(t, "the first try", 2*time.Second, func() bool { return tries.Load() == 1 })
	time.Sleep(100 * time.Millisecond)
	if tries.Load() != 1 {
		t.Fatalf("tried %d times before RetryAfter", tries.Load())
	}
	c.set(day1.Add(2 * time.Minute))
	waitFor(t, "the second try is recorded", 2*time.Second, func() bool {
		runs, _ := st.JobRuns(context.Background(), "flaky")
		return len(runs) == 1 && !runs[0].Finished.IsZero() && runs[0].Error == ""
	})
	if n := tries.Load(); n != 2 {
		t.Errorf("tried %d times, want 2", n)
	}
}

func TestAddRefusesIncompleteJobs(t *testing.T) {
	r := New(nil, Options{})
	for _, j := range []Job{{Name: "x", Every: time.Hour}, {Name: "", Every: time.Hour, Run: func(context.Context, time.Time) error { return nil }},
		{Name: "y", Run: func(context.Context, time.Time) error { return nil }}} {
		if err := r.Add(j); err == nil {
			t.Errorf("Add(%+v) accepted", j)
		}
	}
	ok := Job{Name: "z", Every: time.Hour, Run: func(context.Context, time.Time) error { return nil }}
	if err := r.Add(ok); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(ok); err == nil {
		t.Error("the same name twice was accepted")
	}
}

// pgStore opens a store on schema whose sessions carry an application name
// of their own, so the test can end exactly those sessions.
func pgStore(t *testing.T, url, schema, app string) *postgres.Store {
	t.Helper()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	st, err := postgres.OpenSchema(context.Background(), url+sep+"application_name="+app, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Two instances on PostgreSQL: one leads and runs the job; when its
// sessions end (as when its process is killed), the other takes over, and
// does not run again a period that has run.
func TestLeadershipMovesAndPeriodsRunOnce(t *testing.T) {
	url := os.Getenv("RUNG_TEST_POSTGRES")
	if url == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the leadership tests")
	}
	b := make([]byte, 6)
	crand.Read(b)
	tag := hex.EncodeToString(b)
	schema := "rung_test_" + tag
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		admin.Close(ctx)
	})
	c := newClock(day1)
	var rs runs
	st1 := pgStore(t, url, schema, "rung_jobs_a_"+tag)
	r1, _ := start(t, st1, c, "a", rs.job("hourly", "a", time.Hour))
	waitFor(t, "a leads", 3*time.Second, r1.Leading)
	st2 := pgStore(t, url, schema, "rung_jobs_b_"+tag)
	r2, _ := start(t, st2, c, "b", rs.job("hourly", "b", time.Hour))
	hour := day1.Truncate(time.Hour)
	waitFor(t, "a runs the job", 3*time.Second, func() bool { return len(rs.of(hour)) == 1 })
	time.Sleep(200 * time.Millisecond)
	if r2.Leading() {
		t.Fatal("both instances lead")
	}

	// a's process "dies": PostgreSQL ends its sessions.
	killed := time.Now()
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, "rung_jobs_a_"+tag); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b takes over", 5*time.Second, r2.Leading)
	t.Logf("leadership moved %v after the leader's sessions ended", time.Since(killed).Round(time.Millisecond))
	// a learns of its lost session at its lease's next check (every 250
	// ms); until then both may believe they lead, and job_runs keeps a
	// period to one run. The next hour starts after a has stepped down.
	waitFor(t, "a steps down", 5*time.Second, func() bool { return !r1.Leading() })
	time.Sleep(200 * time.Millisecond)
	if got := rs.of(hour); len(got) != 1 {
		t.Fatalf("runs for the first hour: %v, want only a's", got)
	}
	c.set(day1.Add(time.Hour))
	waitFor(t, "b runs the next hour", 3*time.Second, func() bool { return len(rs.of(hour.Add(time.Hour))) == 1 })
	if got := rs.of(hour.Add(time.Hour)); got[0] != "b" {
		t.Errorf("the next hour ran on %v, want b", got)
	}
	// a comes back (its pool reconnects) but does not lead while b does.
	time.Sleep(500 * time.Millisecond)
	if r1.Leading() {
		t.Error("a leads again while b leads")
	}
}

// The record of a job's runs keeps KeepRuns of history: a daily job run
// for 40 days keeps the last 31 periods, not 40.
func TestOldRunsArePruned(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := newClock(day1)
	var rs runs
	start(t, st, c, "i1", rs.job("daily", "i1", 24*time.Hour))
	const days = 40
	for d := range days {
		now := day1.AddDate(0, 0, d)
		c.set(now)
		period := now.Truncate(24 * time.Hour)
		waitFor(t, "the run of "+period.Format(time.DateOnly), 5*time.Second, func() bool {
			got, _ := st.JobRuns(context.Background(), "daily")
			return len(got) > 0 && got[len(got)-1].Period.Equal(period) && !got[len(got)-1].Finished.IsZero()
		})
	}
	got, err := st.JobRuns(context.Background(), "daily")
	if err != nil {
		t.Fatal(err)
	}
	last := day1.AddDate(0, 0, days-1).Truncate(24 * time.Hour)
	if len(got) != 31 || !got[0].Period.Equal(last.Add(-KeepRuns)) {
		t.Errorf("%d runs kept from %v, want 31 from %v", len(got), got[0].Period, last.Add(-KeepRuns))
	}
	if n := len(rs.of(last)); n != 1 {
		t.Errorf("the last period ran %d times, want once", n)
	}
}
