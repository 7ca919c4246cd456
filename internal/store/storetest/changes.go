package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// sharingTests are the suite's tests of store.Sharing: the change feed,
// leadership and job runs.
var sharingTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ChangesFollowCommits", testChangesFollowCommits},
	{"ChangesOfFailedCommitsAreNotKept", testChangesOfFailedCommitsAreNotKept},
	{"ConcurrentChangesHaveNoGaps", testConcurrentChangesHaveNoGaps},
	{"FactsByID", testFactsByID},
	{"JobRunsOncePerPeriod", testJobRunsOncePerPeriod},
	{"LeaseEndsOnRelease", testLeaseEndsOnRelease},
	{"CommitExclusive", testCommitExclusive},
}

func changes(t *testing.T, s store.Store, after int64, limit int) []store.Change {
	t.Helper()
	cs, err := s.Changes(context.Background(), after, limit)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	return cs
}

// kindKeys strips the seqs, after checking they count up from first.
func kindKeys(t *testing.T, cs []store.Change, first int64) []string {
	t.Helper()
	var out []string
	for i, c := range cs {
		if c.Seq != first+int64(i) {
			t.Fatalf("change %d has seq %d, want %d", i, c.Seq, first+int64(i))
		}
		out = append(out, string(c.Kind)+" "+c.Key)
	}
	return out
}

func testChangesFollowCommits(t *testing.T, s store.Store) {
	ctx := context.Background()
	if n, err := s.LastChange(ctx); err != nil || n != 0 {
		t.Fatalf("LastChange of an empty store = %d, %v", n, err)
	}
	mustCommit(t, s, fullBatch("a", 1))
	// Records and audit entries are not in the feed: the log has its own
	// seqs, and nothing in memory depends on the audit.
	mustCommit(t, s, &store.Batch{Records: records("r", 5), Audit: []rung.AuditEntry{{At: base, Actor: "x", Action: "y", Target: "z"}}})
	mustCommit(t, s, &store.Batch{Members: []rung.Member{{ID: "a-member", Partner: "a-partner", JoinedAt: base, Name: "New name"}}})
	k := rung.APIKey{ID: "k1", Name: "n", Scope: rung.ScopeRead, Hash: []byte("hash-k1"), CreatedAt: base}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, "k1", base); err != nil {
		t.Fatal(err)
	}
	want := []string{"program 1", "partner a-partner", "member a-member", "adjustment a-adj", "member a-member", "apikey k1", "apikey k1"}
	equal(t, "changes", kindKeys(t, changes(t, s, 0, 100), 1), want)
	if n, err := s.LastChange(ctx); err != nil || n != int64(len(want)) {
		t.Errorf("LastChange = %d, %v; want %d", n, err, len(want))
	}
	equal(t, "changes after 2, at most 3", kindKeys(t, changes(t, s, 2, 3), 3), want[2:5])
	if cs := changes(t, s, int64(len(want)), 10); len(cs) != 0 {
		t.Errorf("changes after the last: %v", cs)
	}
}

func testChangesOfFailedCommitsAreNotKept(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCommit(t, s, fullBatch("a", 1))
	wantCode(t, s.Commit(ctx, fullBatch("b", 1)), rung.ECONFLICT) // program 1 is taken
	wantCode(t, s.RevokeAPIKey(ctx, "nope", base), rung.ENOTFOUND)
	mustCommit(t, s, &store.Batch{Partners: []rung.PartnerVersion{{Partner: rung.Partner{ID: "c", Name: "C"}, Version: 1}}})
	want := []string{"program 1", "partner a-partner", "member a-member", "adjustment a-adj", "partner c"}
	equal(t, "changes", kindKeys(t, changes(t, s, 0, 100), 1), want)
}

func testConcurrentChangesHaveNoGaps(t *testing.T, s store.Store) {
	const workers, commits = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range commits {
				b := &store.Batch{Members: []rung.Member{
					{ID: fmt.Sprintf("m-%d-%d-a", w, c), Partner: "p"},
					{ID: fmt.Sprintf("m-%d-%d-b", w, c), Partner: "p"},
				}}
				if c%2 == 0 {
					b.Records = records(fmt.Sprintf("w%d-c%d", w, c), 3)
				}
				if err := s.Commit(context.Background(), b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Commit: %v", err)
	}
	cs := changes(t, s, 0, 1000)
	kindKeys(t, cs, 1) // checks the seqs run 1, 2, 3, ...
	if len(cs) != workers*commits*2 {
		t.Fatalf("%d changes, want %d", len(cs), workers*commits*2)
	}
	// A commit's changes are consecutive.
	for i := 0; i < len(cs); i += 2 {
		if cs[i].Key[:len(cs[i].Key)-1] != cs[i+1].Key[:len(cs[i+1].Key)-1] {
			t.Fatalf("changes %d and %d are of different commits: %s, %s", i, i+1, cs[i].Key, cs[i+1].Key)
		}
	}
}

func testFactsByID(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCommit(t, s, fullBatch("a", 1))
	mustCommit(t, s, fullBatch("b", 2))
	pv2 := rung.PartnerVersion{Partner: rung.Partner{ID: "a-partner", Name: "Partner 2"}, Version: 2, ValidFrom: base}
	mustCommit(t, s, &store.Batch{Partners: []rung.PartnerVersion{pv2}})

	pvs, err := s.PartnerVersionsOf(ctx, map[string]int{"a-partner": 1, "b-partner": 0, "nobody": 0})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pv := range pvs {
		got = append(got, fmt.Sprintf("%s v%d %s", pv.Partner.ID, pv.Version, pv.Partner.Name))
	}
	equal(t, "partner versions since", got, []string{"a-partner v2 Partner 2", "b-partner v1 Partner"})
	if pvs[0].ValidFrom != base.UTC() {
		t.Errorf("valid_from = %v, want %v", pvs[0].ValidFrom, base.UTC())
	}

	ms, err := s.MembersByID(ctx, []string{"b-member", "nobody", "a-member"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID != "a-member" || ms[1].ID != "b-member" || ms[0].JoinedAt != base.UTC() {
		t.Errorf("MembersByID = %+v", ms)
	}
	as, err := s.AdjustmentsByID(ctx, []string{"b-adj", "a-adj", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].ID != "a-adj" || as[1].ID != "b-adj" || as[0].Points != 5 || as[0].OccurredAt != base.UTC() {
		t.Errorf("AdjustmentsByID = %+v, want a-adj then b-adj (commit order)", as)
	}
	if pvs, err := s.PartnerVersionsOf(ctx, nil); err != nil || len(pvs) != 0 {
		t.Errorf("PartnerVersionsOf(nil) = %v, %v", pvs, err)
	}
	if ms, err := s.MembersByID(ctx, nil); err != nil || len(ms) != 0 {
		t.Errorf("MembersByID(nil) = %v, %v", ms, err)
	}
}

func testJobRunsOncePerPeriod(t *testing.T, s store.Store) {
	ctx := context.Background()
	period := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now := period.Add(time.Minute)
	start := func(job string, p time.Time, inst string, at time.Time, want bool) {
		t.Helper()
		ok, err := s.StartJobRun(ctx, job, p, inst, at, time.Hour)
		if err != nil || ok != want {
			t.Fatalf("StartJobRun(%s, %s, %s) = %v, %v; want %v", job, p.Format(time.RFC3339), inst, ok, err, want)
		}
	}
	finish := func(job string, p time.Time, at time.Time, msg string) {
		t.Helper()
		if err := s.FinishJobRun(ctx, job, p, at, msg); err != nil {
			t.Fatalf("FinishJobRun: %v", err)
		}
	}
	start("review", period, "i1", now, true)
	start("review", period, "i2", now.Add(time.Minute), false) // running elsewhere
	start("digest", period, "i2", now, true)                   // another job
	start("review", period.Add(24*time.Hour), "i2", now, true) // another period
	finish("review", period, now.Add(2*time.Minute), "")
	start("review", period, "i2", now.Add(5*time.Hour), false) // done: never again

	finish("digest", period, now, "smtp down")
	start("digest", period, "i1", now.Add(time.Second), true) // failed: may run again
	// A run whose runner died stays unfinished; after the stale time
	// another instance takes it.
	start("digest", period, "i2", now.Add(30*time.Minute), false)
	start("digest", period, "i2", now.Add(2*time.Hour), true)
	finish("digest", period, now.Add(2*time.Hour), "")

	runs, err := s.JobRuns(ctx, "digest")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("JobRuns = %+v, want one", runs)
	}
	r := runs[0]
	want := store.JobRun{Job: "digest", Period: period, Instance: "i2", Started: now.Add(2 * time.Hour), Finished: now.Add(2 * time.Hour)}
	equal(t, "job run", r, want)
	if runs, _ := s.JobRuns(ctx, "review"); len(runs) != 2 || runs[0].Finished.IsZero() || !runs[1].Finished.IsZero() {
		t.Errorf("review runs = %+v, want the first finished, the second running", runs)
	}

	// Pruning takes finished runs of earlier periods of that job only:
	// not the running one, not another job's.
	start("review", period.Add(48*time.Hour), "i1", now, true)
	finish("review", period.Add(48*time.Hour), now, "")
	n, err := s.PruneJobRuns(ctx, "review", period.Add(72*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneJobRuns = %d, %v; want the 2 finished review runs", n, err)
	}
	if runs, _ := s.JobRuns(ctx, "review"); len(runs) != 1 || runs[0].Period != period.Add(24*time.Hour) {
		t.Errorf("review runs after pruning = %+v, want the running one of the second period", runs)
	}
	if runs, _ := s.JobRuns(ctx, "digest"); len(runs) != 1 {
		t.Errorf("digest runs after pruning review = %+v, want its one run", runs)
	}
}

func testLeaseEndsOnRelease(t *testing.T, s store.Store) {
	l, err := s.TryLead(context.Background(), "jobs")
	if err != nil || l == nil {
		t.Fatalf("TryLead on a store nobody leads: %v, %v", l, err)
	}
	select {
	case <-l.Lost():
		t.Fatal("a new lease is already lost")
	default:
	}
	l.Release()
	select {
	case <-l.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost is not closed after Release")
	}
	l.Release() // again: no effect
}

func testCommitExclusive(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCommit(t, s, &store.Batch{Records: records("a", 2)})
	var b *store.Batch
	err := s.CommitExclusive(ctx, func(ctx context.Context) (*store.Batch, error) {
		// prepare may read the store.
		last, err := s.LastSeq(ctx)
		if err != nil {
			return nil, err
		}
		b = &store.Batch{Records: records(fmt.Sprint("after-", last), 3), Members: []rung.Member{{ID: "m", Partner: "p"}}}
		return b, nil
	})
	if err != nil {
		t.Fatalf("CommitExclusive: %v", err)
	}
	if b.Records[0].Seq != 3 || b.Records[2].Seq != 5 || b.Records[0].Event.ID != "after-2-0" {
		t.Errorf("records got seqs %d..%d (%s), want 3..5 after-2-*", b.Records[0].Seq, b.Records[2].Seq, b.Records[0].Event.ID)
	}
	equal(t, "changes", kindKeys(t, changes(t, s, 0, 10), 1), []string{"member m"})
	// An empty batch commits nothing; an error from prepare is returned.
	if err := s.CommitExclusive(ctx, func(context.Context) (*store.Batch, error) { return &store.Batch{}, nil }); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
	boom := rung.Errorf(rung.EINVALID, "boom")
	if err := s.CommitExclusive(ctx, func(context.Context) (*store.Batch, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("prepare's error came back as %v", err)
	}
	if seq, err := s.LastSeq(ctx); err != nil || seq != 5 {
		t.Errorf("LastSeq = %d, %v; want 5", seq, err)
	}
}
