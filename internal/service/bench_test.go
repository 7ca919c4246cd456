package service

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// BenchmarkIngestBatch5000 measures the whole write path in process:
// validation, classification, a durable SQLite commit, rules, ledger and
// live leaderboards — everything but HTTP and JSON — on the demo program.
func BenchmarkIngestBatch5000(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "rung.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchIngest(b, st)
}

// BenchmarkIngestBatch5000Postgres is BenchmarkIngestBatch5000 on
// PostgreSQL (RUNG_TEST_POSTGRES), one instance.
func BenchmarkIngestBatch5000Postgres(b *testing.B) {
	url, schema := pgSchema(b)
	st, err := postgres.OpenSchema(context.Background(), url, schema)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchIngest(b, st)
}

func benchIngest(b *testing.B, st store.Store) {
	ctx := context.Background()
	now := time.Now()
	s, err := Open(ctx, st, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ApplyProgram(ctx, demo.Program, time.Time{}, "bench"); err != nil {
		b.Fatal(err)
	}
	const partners, members = 1000, 20000
	for i := 0; i < partners; i++ {
		s.PutPartner(ctx, rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea"})
	}
	syn := demo.Synthetic{Rand: rand.New(rand.NewPCG(1, 2)), Partners: partners, Members: members,
		From: now.AddDate(0, 0, -40), Span: 40 * 24 * time.Hour}
	batch := func() []*Incoming {
		in := make([]*Incoming, 5000)
		for i := range in {
			in[i] = &Incoming{Event: syn.Next()}
		}
		return in
	}
	// Warm up: every member exists.
	for i := 0; i < 20; i++ {
		s.Ingest(ctx, batch())
	}
	// Four clients submit at once, as over HTTP: while the engine applies
	// one commit, the writer prepares and commits the next.
	work := make(chan []*Incoming, b.N)
	for i := 0; i < b.N; i++ {
		work <- batch()
	}
	close(work)
	b.ResetTimer()
	cpu := cputime.Process()
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range work {
				res, err := s.Ingest(ctx, in)
				if err != nil || res[0].Status != "accepted" {
					b.Error(err, res[0])
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cputime.Since(cpu).Microseconds())/float64(b.N*5000), "cpu-µs/event")
}
