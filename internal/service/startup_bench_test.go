package service

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
)

// BenchmarkStartupPostgres measures what an instance does at start on
// PostgreSQL: read every fact, replay the log into the engine with the demo
// program, build the boards and the writer's index. The log is filled first
// (untimed) with RUNG_BENCH_STARTUP_EVENTS events (default 200,000) over
// 1,000 partners and 20,000 members, written straight to the store in
// batches of 5,000; the fill rate is reported too.
func BenchmarkStartupPostgres(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("RUNG_BENCH_STARTUP_EVENTS")); err == nil && v > 0 {
		n = v
	}
	url, schema := pgSchema(b)
	ctx := context.Background()
	st, err := postgres.OpenSchema(ctx, url, schema)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC()
	const partners, members = 1000, 20000
	setup := &store.Batch{Programs: []rung.ProgramVersion{{Version: 1, Source: string(demo.Program), EffectiveFrom: time.Unix(0, 0).UTC(), AppliedAt: at, AppliedBy: "bench"}}}
	for i := range partners {
		setup.Partners = append(setup.Partners, rung.PartnerVersion{Version: 1, ValidFrom: at.AddDate(-2, 0, 0),
			Partner: rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea", JoinedAt: at.AddDate(-2, 0, 0)}})
	}
	for m := range members {
		p := fmt.Sprintf("p%d", m%partners)
		setup.Members = append(setup.Members, rung.Member{ID: fmt.Sprintf("m%d", m), Partner: p, JoinedAt: at.AddDate(-2, 0, 0),
			Memberships: []rung.Membership{{Partner: p, JoinedAt: at.AddDate(-2, 0, 0)}}})
	}
	if err := st.Commit(ctx, setup); err != nil {
		b.Fatal(err)
	}
	syn := demo.Synthetic{Rand: rand.New(rand.NewPCG(1, 2)), Partners: partners, Members: members,
		From: at.Add(-365 * 24 * time.Hour), Span: 365 * 24 * time.Hour}
	fillStart := time.Now()
	for done := 0; done < n; {
		k := min(5000, n-done)
		recs := make([]*rung.Record, k)
		for i := range recs {
			done++
			recs[i] = &rung.Record{Version: 1, ReceivedAt: at, Event: syn.Next()}
		}
		if err := st.Commit(ctx, &store.Batch{Records: recs}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("filled the log with %d records at %.0f records/s", n, float64(n)/time.Since(fillStart).Seconds())
	b.ResetTimer()
	for range b.N {
		s, err := Open(ctx, st, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		loaded, took := s.Loaded()
		s.Close()
		if loaded != n {
			b.Fatalf("loaded %d records, want %d", loaded, n)
		}
		b.ReportMetric(took.Seconds(), "s/start")
		b.ReportMetric(float64(n)/took.Seconds(), "records/s")
	}
}
