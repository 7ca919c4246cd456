package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// seqsOf reads the whole log and returns its seqs in the order read.
func seqsOf(t *testing.T, s *sqlite.Store, after int64) []int64 {
	t.Helper()
	var seqs []int64
	if err := s.Records(context.Background(), after, func(r *rung.Record) error {
		seqs = append(seqs, r.Seq)
		return nil
	}); err != nil {
		t.Fatalf("Records(%d): %v", after, err)
	}
	return seqs
}

// wantRun checks that seqs are first, first+1, ..., first+n-1.
func wantRun(t *testing.T, what string, seqs []int64, first int64, n int) {
	t.Helper()
	if len(seqs) != n {
		t.Fatalf("%s: %d records, want %d", what, len(seqs), n)
	}
	for i, seq := range seqs {
		if seq != first+int64(i) {
			t.Fatalf("%s: record %d has seq %d, want %d", what, i, seq, first+int64(i))
		}
	}
}

func TestRecordsReadsOneSnapshotWhileCommitsLand(t *testing.T) {
	// One read of the log sees the log as it was when the read began, even
	// when commits land while it runs; the next read, on the same reused
	// connection, sees them.
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(3000)}); err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	err := s.Records(ctx, 0, func(r *rung.Record) error {
		if r.Seq == 1 {
			if err := s.Commit(ctx, &store.Batch{Records: testRecords(500)}); err != nil {
				return err
			}
		}
		seqs = append(seqs, r.Seq)
		return nil
	})
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	wantRun(t, "the read during the commit", seqs, 1, 3000)
	wantRun(t, "the read after it", seqsOf(t, s, 0), 1, 3500)
	wantRun(t, "the tail", seqsOf(t, s, 3400), 3401, 100)
}

func TestRecordsFromManyGoroutinesAtOnce(t *testing.T) {
	// Readers at once each get a connection of their own and the whole log
	// in order (run with -race: the store keeps one idle connection).
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(2000)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			after := int64(g * 100)
			next := after + 1
			err := s.Records(ctx, after, func(r *rung.Record) error {
				if r.Seq != next {
					return fmt.Errorf("reader %d: seq %d, want %d", g, r.Seq, next)
				}
				next++
				return nil
			})
			if err == nil && next != 2001 {
				err = fmt.Errorf("reader %d stopped before seq %d", g, next)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestRecordsLeaveNoReadTransactionOpen(t *testing.T) {
	// The connection a read of the log keeps for the next one holds no
	// snapshot between reads: a checkpoint can then move the whole WAL into
	// the database and empty it.
	ctx := context.Background()
	s, path := openTemp(t)
	defer s.Close()
	for range 4 {
		if err := s.Commit(ctx, &store.Batch{Records: testRecords(2000)}); err != nil {
			t.Fatal(err)
		}
	}
	wantRun(t, "the log", seqsOf(t, s, 0), 1, 8000)
	raw, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var busy, frames, moved int
	if err := raw.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &moved); err != nil {
		t.Fatal(err)
	}
	if busy != 0 {
		t.Errorf("checkpoint: busy = %d, log frames %d, moved %d: a reader holds a snapshot", busy, frames, moved)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("the WAL has %d bytes after a truncating checkpoint, want 0", fi.Size())
	}
	wantRun(t, "the log after the checkpoint", seqsOf(t, s, 0), 1, 8000)
}

func TestRecordsOfReadOnlyStoreBesideWriter(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	defer s.Close()
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(700)}); err != nil {
		t.Fatal(err)
	}
	ro, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	wantRun(t, "the read-only store", seqsOf(t, ro, 0), 1, 700)
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(5)}); err != nil {
		t.Fatal(err)
	}
	wantRun(t, "the read-only store after a commit", seqsOf(t, ro, 690), 691, 15)
	if err := ro.Commit(ctx, &store.Batch{Records: testRecords(1)}); err == nil {
		t.Error("a read-only store committed")
	}
}

func TestRecordsAfterCloseFails(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(10)}); err != nil {
		t.Fatal(err)
	}
	wantRun(t, "the log", seqsOf(t, s, 0), 1, 10)
	s.Close()
	if err := s.Records(ctx, 0, func(*rung.Record) error { return nil }); err == nil {
		t.Error("Records after Close returned nil")
	}
}

func TestRecordsOfPathWithURICharacters(t *testing.T) {
	// The log's own connection opens the file a URI names: a path with
	// characters a URI gives a meaning is still the file it says.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a?b#c%20d.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(3)}); err != nil {
		t.Fatal(err)
	}
	wantRun(t, "the log", seqsOf(t, s, 0), 1, 3)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %s: %v", path, err)
	}
}

func TestRecordsWaitForALockUntilTheirContextEnds(t *testing.T) {
	// A read of the log that finds the database locked by another
	// connection waits for it, as the store's other reads do, but ends
	// when its context does, with the context's error, not after the
	// store's ten-second busy timeout: on a new connection (reading the
	// schema) and on one kept from an earlier read (its query).
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(5)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	if _, err := raw.Exec(`PRAGMA journal_mode = DELETE`); err != nil {
		t.Fatal(err)
	}
	ro, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// An exclusive transaction keeps every reader out until it ends.
	lock := func() {
		t.Helper()
		if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
			t.Fatal(err)
		}
	}
	unlock := func() {
		t.Helper()
		if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
			t.Fatal(err)
		}
	}
	readLocked := func(what string) {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := ro.Records(short, 0, func(*rung.Record) error { return nil })
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: Records under a lock took %v, want about its context's 300ms", what, took)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: Records under a lock returned %v, want its context's deadline", what, err)
		}
	}
	lock()
	readLocked("a new connection")
	unlock()
	wantRun(t, "the log after the lock", seqsOf(t, ro, 0), 1, 5)
	lock()
	readLocked("a kept connection")
	unlock()
	// A lock that ends in time is waited for.
	lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(200 * time.Millisecond)
		conn.ExecContext(ctx, `ROLLBACK`)
	}()
	wantRun(t, "the log behind a lock of 200ms", seqsOf(t, ro, 0), 1, 5)
	<-done
}
