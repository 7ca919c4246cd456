package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
	"github.com/rung-dev/rung/internal/store/storetest"
)

func openTemp(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rung.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func testRecords(n int) []*rung.Record {
	rs := make([]*rung.Record, n)
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	for i := range rs {
		rs[i] = &rung.Record{
			Version:    1,
			ReceivedAt: at,
			Event: rung.Event{
				ID: fmt.Sprintf("crm:deal-%d:deal.won", i), Type: "deal.won", Partner: "acme", Member: "zoe",
				OccurredAt: at.Add(time.Duration(i) * time.Second), Source: "crm",
				Attrs: map[string]any{"amount": 1000.0 + float64(i), "sourced": true, "stage": "closed", "currency": "EUR", "score": 4.5},
			},
		}
	}
	return rs
}

func TestSecondOpenFailsWithLockError(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	_, err := sqlite.Open(ctx, path)
	if rung.ErrorCode(err) != rung.EUNAVAILABLE {
		t.Fatalf("second Open: got %v, want EUNAVAILABLE", err)
	}
	want := fmt.Sprintf("database %s is in use by another rung process (pid %d)", path, os.Getpid())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("second Open: %q does not say %q", err, want)
	}
	// A read-only open does not need the lock.
	ro, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly while open: %v", err)
	}
	defer ro.Close()
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(3)}); err != nil {
		t.Fatal(err)
	}
	if seq, err := ro.LastSeq(ctx); err != nil || seq != 3 {
		t.Errorf("read-only LastSeq = %d, %v; want 3", seq, err)
	}
	if err := ro.Commit(ctx, &store.Batch{Records: testRecords(1)}); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("read-only Commit: got %v, want EINVALID", err)
	}
	if err := ro.SetMeta(ctx, "k", "v"); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("read-only SetMeta: got %v, want EINVALID", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestOpenReadOnlyOfMissingFile(t *testing.T) {
	_, err := sqlite.OpenReadOnly(context.Background(), filepath.Join(t.TempDir(), "nope.db"))
	if rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("got %v, want ENOTFOUND", err)
	}
}

func TestOpenInMissingDirectoryFails(t *testing.T) {
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "rung.db"))
	if rung.ErrorCode(err) != rung.EUNAVAILABLE {
		t.Errorf("got %v, want EUNAVAILABLE", err)
	}
}

func TestDataSurvivesCloseAndOpen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	rs := testRecords(250)
	b := &store.Batch{
		Records:  rs,
		Programs: []rung.ProgramVersion{{Version: 1, Source: "name: x", AppliedBy: "ana"}},
	}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "cursor", "42"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	n := 0
	err = s.Records(ctx, 0, func(r *rung.Record) error {
		if r.Event.ID != rs[n].Event.ID || r.Seq != int64(n+1) {
			return fmt.Errorf("record %d: got %s seq %d", n, r.Event.ID, r.Seq)
		}
		n++
		return nil
	})
	if err != nil || n != len(rs) {
		t.Fatalf("after reopen: %d records, %v", n, err)
	}
	if v, _ := s.Meta(ctx, "cursor"); v != "42" {
		t.Errorf("meta after reopen = %q", v)
	}
	// Seqs go on after the last one.
	more := testRecords(2)
	if err := s.Commit(ctx, &store.Batch{Records: more}); err != nil {
		t.Fatal(err)
	}
	if more[0].Seq != 251 {
		t.Errorf("first seq after reopen = %d, want 251", more[0].Seq)
	}
}

func TestBackupCopyOpensWithSameRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(500)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := s.Backup(ctx, path); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	// Commits after the backup are not in it.
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(7)}); err != nil {
		t.Fatal(err)
	}
	c, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer c.Close()
	var want, got []rung.Record
	collect := func(dst *[]rung.Record) func(*rung.Record) error {
		return func(r *rung.Record) error {
			if r.Seq <= 500 {
				*dst = append(*dst, *r)
			}
			return nil
		}
	}
	if err := s.Records(ctx, 0, collect(&want)); err != nil {
		t.Fatal(err)
	}
	if err := c.Records(ctx, 0, collect(&got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 500 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backup has %d records, differing from the original's first 500", len(got))
	}
	if seq, _ := c.LastSeq(ctx); seq != 500 {
		t.Errorf("backup LastSeq = %d, want 500", seq)
	}
}

func TestCorruptBodyIsReported(t *testing.T) {
	// A record that does not decode stops Records with an error naming it,
	// rather than a panic or a silently skipped event.
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.Commit(ctx, &store.Batch{Records: testRecords(2)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE events SET body = x'01ff' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Records(ctx, 0, func(*rung.Record) error { return nil })
	if !errors.Is(err, codec.ErrCorrupt) || !strings.Contains(err.Error(), "seq 2") {
		t.Errorf("got %v, want a corrupt-record error for seq 2", err)
	}
}

func BenchmarkCommit5000(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	defer s.Close()
	batches := make([][]*rung.Record, b.N)
	for i := range batches {
		batches[i] = testRecords(5000)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := s.Commit(ctx, &store.Batch{Records: batches[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkRecordsScan(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	defer s.Close()
	const n = 200_000
	for range n / 5000 {
		if err := s.Commit(ctx, &store.Batch{Records: testRecords(5000)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		count := 0
		if err := s.Records(ctx, 0, func(*rung.Record) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("scanned %d records, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// openRaw opens the database file directly, bypassing the store, to damage
// it on purpose.
func openRaw(path string) (*sql.DB, error) { return sql.Open("sqlite", path) }

// TestNewDatabaseUses16KiBPages checks the page size a new database gets:
// it must be set before WAL mode, or SQLite keeps 4 KiB.
func TestNewDatabaseUses16KiBPages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rung.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if size != 16384 || mode != "wal" {
		t.Errorf("page_size %d, journal_mode %s; want 16384 and wal", size, mode)
	}
}

// BenchmarkCommitGroup commits groups of 32 new events, the size of the
// writer's groups under 64 concurrent single-event requests: what a commit
// costs on top of its records (the transaction, the statements, the WAL
// frames and the fsync). It reports the process's CPU per commit; the
// fsync's kernel time counts.
func BenchmarkCommitGroup(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	defer s.Close()
	batches := make([][]*rung.Record, b.N)
	for i := range batches {
		batches[i] = testRecords(32)
		for j, r := range batches[i] {
			r.Event.ID = fmt.Sprintf("g%d-%d", i, j)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := range b.N {
		if err := s.Commit(ctx, &store.Batch{Records: batches[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Since(cpu).Microseconds())/float64(b.N), "cpu-µs/commit")
}

// BenchmarkProduceOutbox measures one outbox producer step as `rung serve`
// writes it under single-event ingest: 8,000 of 100,000 subjects' states
// change (at random places of the table) and each gets a message.
func BenchmarkProduceOutbox(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	defer s.Close()
	const subjects, changed = 100_000, 8_000
	state := func(i, gen int) []byte {
		return fmt.Appendf(nil, `{"id":"m%06d","kind":"member","name":"Member %d","partner":"p%d","balance":%d,"lifetime":%d,"level":"silver"}`, i, i, i%1000, gen, gen)
	}
	all := map[string][]byte{}
	for i := range subjects {
		all[fmt.Sprintf("member:m%06d", i)] = state(i, 0)
	}
	if err := s.ProduceOutbox(ctx, store.OutboxProduction{Cursor: "producer", From: 0, To: 1, Subjects: all}); err != nil {
		b.Fatal(err)
	}
	rnd := mrand.New(mrand.NewPCG(1, 2))
	steps := make([]store.OutboxProduction, b.N)
	for k := range steps {
		p := store.OutboxProduction{Cursor: "producer", From: int64(k + 1), To: int64(k + 2), Subjects: map[string][]byte{}}
		for range changed {
			i := rnd.IntN(subjects)
			subj := fmt.Sprintf("member:m%06d", i)
			p.Subjects[subj] = state(i, k+1)
			p.Messages = append(p.Messages, store.OutboxMessage{ID: fmt.Sprintf("points.changed:%s:%d", subj, k+2), Subject: subj, Type: "points.changed",
				Payload: fmt.Appendf(nil, `{"subject":"m%06d","kind":"member","balance":%d,"lifetime":%d,"previous_balance":0}`, i, k+1, k+1), CreatedAt: time.Unix(1e9, 0)})
		}
		steps[k] = p
	}
	b.ResetTimer()
	cpu := cputime.Process()
	for k := range b.N {
		if err := s.ProduceOutbox(ctx, steps[k]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Since(cpu).Microseconds())/float64(b.N*changed), "cpu-µs/subject")
}
