package outbox_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// BenchmarkProducerStep measures one producer step that finds one change
// among 2,000 members: it compares the states of the subjects written.
func BenchmarkProducerStep(b *testing.B) { benchProducer(b, false) }

// BenchmarkProducerSweep measures a step that compares every one of 2,000
// members' states (a new producer's first step, and every Sweep).
func BenchmarkProducerSweep(b *testing.B) { benchProducer(b, true) }

func benchProducer(b *testing.B, sweep bool) {
	f := newFixture(b)
	ctx := context.Background()
	var evs []rung.Event
	for i := range 2000 {
		id := fmt.Sprintf("m%04d", i)
		if _, err := f.svc.PutMember(ctx, rung.Member{ID: id, Partner: "p1", Name: id, JoinedAt: start.AddDate(-1, 0, 0)}); err != nil {
			b.Fatal(err)
		}
		evs = append(evs, rung.Event{ID: "e" + id, Type: "training.completed", Partner: "p1", Member: id})
	}
	f.ingest(b, evs...)
	p := outbox.NewProducer(f.svc, false)
	if _, err := p.Step(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		f.ingest(b, rung.Event{ID: fmt.Sprintf("x%d", i), Type: "training.completed", Partner: "p1", Member: "m0001"})
		if sweep {
			p = outbox.NewProducer(f.svc, false)
		}
		b.StartTimer()
		if n, err := p.Step(ctx); err != nil || n == 0 {
			b.Fatalf("step: %d, %v", n, err)
		}
	}
}

// BenchmarkDeliver measures delivering signed webhooks to a local
// receiver that answers at once, 10 subjects in parallel order.
func BenchmarkDeliver(b *testing.B) {
	f := newFixture(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	subscribe(b, f.st, "hook", srv.URL, "secret-secret-secret", start)
	subjects := make([]string, 10)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("member:m%d", i)
	}
	enqueue(b, f.st, start, subjects, (b.N+9)/10)
	d := outbox.NewDeliverer(f.st, outbox.Options{Clock: time.Now})
	b.ResetTimer()
	n, err := d.Step(context.Background())
	if err != nil || n < b.N {
		b.Fatalf("delivered %d of %d: %v", n, b.N, err)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkProducerStepAfterBatchPostgres measures a producer step after
// a batch of 5,000 demo events over 20,000 members of 1,000 partners on
// PostgreSQL (RUNG_TEST_POSTGRES), as `rung serve` takes one every second
// under batch ingest: the CPU of this process per event of the batch, and
// that of PostgreSQL's processes (this machine's, so only when nothing else
// uses it).
func BenchmarkProducerStepAfterBatchPostgres(b *testing.B) {
	url := os.Getenv("RUNG_TEST_POSTGRES")
	if url == "" {
		b.Skip("RUNG_TEST_POSTGRES is not set")
	}
	s, _ := openPostgresB(b, url)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	walBytes = func() int64 {
		var n int64
		if err := conn.QueryRow(context.Background(), `SELECT wal_bytes::bigint FROM pg_stat_wal`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	defer func() { walBytes = nil }()
	benchStepAfterBatch(b, s, 20000, 20)
}

// BenchmarkProducerStepAfterBatchSQLite is the same on SQLite, the default
// store, over 100,000 members as bench/run.sh's: the producer's table of
// reported states grows to one row a subject, which a step updates at
// random places.
func BenchmarkProducerStepAfterBatchSQLite(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "rung.db"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := service.Open(ctx, st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); st.Close() })
	benchStepAfterBatch(b, s, 100000, 100)
}

// walBytes, when set, returns how many bytes of WAL PostgreSQL has
// written (the whole server's: meaningful when nothing else writes).
var walBytes func() int64

// benchStepAfterBatch fills s with fill batches of 5,000 demo events over
// members of 1,000 partners, takes a first step, then measures a step after
// each further batch.
func benchStepAfterBatch(b *testing.B, s *service.Service, members, fill int) {
	ctx := context.Background()
	now := time.Now()
	if _, err := s.ApplyProgram(ctx, demo.Program, time.Time{}, "bench"); err != nil {
		b.Fatal(err)
	}
	const partners = 1000
	for i := range partners {
		s.PutPartner(ctx, rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea"})
	}
	syn := demo.Synthetic{Rand: mrand.New(mrand.NewPCG(1, 2)), Partners: partners, Members: members,
		From: now.AddDate(0, 0, -40), Span: 40 * 24 * time.Hour}
	batch := func() {
		in := make([]*service.Incoming, 5000)
		for i := range in {
			in[i] = &service.Incoming{Event: syn.Next()}
		}
		if _, err := s.Ingest(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	for range fill {
		batch()
	}
	p := outbox.NewProducer(s, false)
	msgs := 0
	p.After = func(_ context.Context, ms []store.OutboxMessage) { msgs += len(ms) }
	// As rung serve runs it: the producer, then the deliverer, which with
	// no endpoint has nothing to deliver to.
	w := &outbox.Worker{Producer: p, Deliverer: outbox.NewDeliverer(s.Store(), outbox.Options{Clock: s.Now})}
	if err := w.Step(ctx); err != nil {
		b.Fatal(err)
	}
	msgs = 0
	var cpu, pg time.Duration
	var wal int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		batch()
		b.StartTimer()
		var w0 int64
		if walBytes != nil {
			w0 = walBytes()
		}
		g := postgresCPU()
		c := cputime.Process()
		if err := w.Step(ctx); err != nil {
			b.Fatal(err)
		}
		cpu += cputime.Since(c)
		pg += postgresCPU() - g
		if walBytes != nil {
			wal += walBytes() - w0
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*5000), "cpu-µs/event")
	b.ReportMetric(float64(pg.Microseconds())/float64(b.N*5000), "pg-cpu-µs/event")
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs/step")
	if walBytes != nil {
		b.ReportMetric(float64(wal)/float64(b.N*5000), "pg-wal-B/event")
	}
}

func openPostgresB(b *testing.B, url string) (*service.Service, store.Store) {
	ctx := context.Background()
	buf := make([]byte, 6)
	rand.Read(buf)
	schema := "rung_bench_" + hex.EncodeToString(buf)
	st, err := postgres.OpenSchema(ctx, url, schema)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		svc.Close()
		st.Close()
		if conn, err := pgx.Connect(ctx, url); err == nil {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	return svc, st
}
