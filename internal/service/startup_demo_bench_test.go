package service

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
)

// BenchmarkStartupDemoPostgres measures start-up on PostgreSQL on a log
// shaped like a real one: the demo generator's history (mostly vanity
// portal logins, then trainings, deal registrations, meetings, wins,
// certifications, CSAT), the demo program, and events recorded about when
// they happen — the log is in received order, which is occurred order
// plus up to two minutes, except 3% that arrive 1 hour to 4 days late.
//
// The population grows with the log: shards of 500 partners and 10,000
// members each (the generator's year is about 50 events per member), so
// RUNG_BENCH_STARTUP_EVENTS=10000000 makes about 10,000 partners and
// 200,000 members — a large channel program's year. The default is
// 200,000 events, quick to fill.
//
// Filling 10M events takes minutes: RUNG_BENCH_STARTUP_SCHEMA names a
// schema that is kept after the run and reused by the next run asking for
// the same number of events (drop it by hand when done). Without it the
// schema is temporary. RUNG_BENCH_STARTUP_READ=1 also times reading and
// decoding the log alone, before the starts.
//
//	RUNG_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	RUNG_BENCH_STARTUP_EVENTS=1000000 RUNG_BENCH_STARTUP_SCHEMA=rung_bench_startup_1m \
//	go test -run XXX -bench StartupDemoPostgres -benchtime 3x ./internal/service/
func BenchmarkStartupDemoPostgres(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("RUNG_BENCH_STARTUP_EVENTS")); err == nil && v > 0 {
		n = v
	}
	url, schema := os.Getenv("RUNG_TEST_POSTGRES"), os.Getenv("RUNG_BENCH_STARTUP_SCHEMA")
	if url == "" || schema == "" {
		url, schema = pgSchema(b)
	}
	ctx := context.Background()
	st, err := postgres.OpenSchema(ctx, url, schema)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	want := fmt.Sprintf("events=%d", n)
	got, err := st.Meta(ctx, "bench.startup")
	if err != nil {
		b.Fatal(err)
	}
	switch {
	case got == want:
		b.Logf("reusing the log in schema %s (%s)", schema, got)
	case got != "":
		b.Fatalf("schema %s holds a log of %s, not %s: drop it or name another", schema, got, want)
	default:
		if last, err := st.LastSeq(ctx); err != nil || last != 0 {
			b.Fatalf("schema %s has a log not made by this benchmark (last seq %d, %v)", schema, last, err)
		}
		fillDemoLog(b, ctx, st, url, schema, n, now)
		if err := st.SetMeta(ctx, "bench.startup", want); err != nil {
			b.Fatal(err)
		}
	}
	records, err := st.LastSeq(ctx)
	if err != nil {
		b.Fatal(err)
	}

	if os.Getenv("RUNG_BENCH_STARTUP_READ") != "" {
		// Reading and decoding alone, for the breakdown.
		for _, r := range []struct {
			name string
			read func(context.Context, int64, func(*rung.Record) error) error
		}{{"records", st.Records}, {"heads", st.RecordHeads}} {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			readStart, readCPU := time.Now(), cputime.Process()
			read := 0
			if err := r.read(ctx, 0, func(*rung.Record) error { read++; return nil }); err != nil {
				b.Fatal(err)
			}
			runtime.ReadMemStats(&m1)
			b.Logf("read and decode alone (%s): %d records in %v (%v CPU), %d bytes allocated a record", r.name, read,
				time.Since(readStart).Round(time.Millisecond), cputime.Since(readCPU).Round(time.Millisecond),
				(m1.TotalAlloc-m0.TotalAlloc)/uint64(max(read, 1)))
			runtime.GC()
		}
	}

	// RUNG_BENCH_STARTUP_SNAPSHOT=1: start once with a full replay, write
	// a snapshot, and time the starts from it; the snapshot is deleted
	// after, so a later run replays again. RUNG_BENCH_STARTUP_SNAPSHOT=keep
	// keeps it and, when the schema has one already, writes none: the
	// timed starts are then the process's first, on fresh memory, as a
	// restarted instance's are.
	mode := os.Getenv("RUNG_BENCH_STARTUP_SNAPSHOT")
	snapshot := mode != ""
	have := false
	if mode == "keep" {
		_, err := st.LatestSnapshot(ctx)
		have = err == nil
	}
	if snapshot && !have {
		s, err := Open(ctx, st, Options{Logger: slog.New(slog.DiscardHandler), Clock: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		cpu := cputime.Process()
		info, times, err := s.WriteSnapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("snapshot: %d MiB; applier paused %v, stored in %v, %v CPU", info.Size>>20, times.Paused.Round(time.Millisecond),
			times.Store.Round(time.Millisecond), cputime.Since(cpu).Round(time.Millisecond))
		s.Close()
		runtime.GC()
	}
	if snapshot && mode != "keep" {
		defer func() {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(ctx)
			for _, q := range []string{"DELETE FROM " + schema + ".snapshot_chunks", "DELETE FROM " + schema + ".snapshots"} {
				if _, err := conn.Exec(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		}()
	}

	b.ResetTimer()
	for range b.N {
		cpu := cputime.Process()
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		var ru0, ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		s, err := Open(ctx, st, Options{Logger: slog.New(slog.DiscardHandler), Clock: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		cpu = cputime.Since(cpu)
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		loaded, took := s.Loaded()
		b.StopTimer()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.Logf("start: %d records in %v, %v CPU (%v system, %d page faults); %s; %d GCs, live heap %d MiB, peak RSS %d MiB", loaded,
			took.Round(time.Millisecond), cpu.Round(time.Millisecond),
			time.Duration(syscall.TimevalToNsec(ru1.Stime)-syscall.TimevalToNsec(ru0.Stime)).Round(time.Millisecond), ru1.Minflt-ru0.Minflt, s.loadParts, ms.NumGC-ms0.NumGC-1, ms.HeapAlloc>>20, peakRSS()>>20)
		s.Close()
		b.StartTimer()
		if snapshot {
			if s.fromSnapshot.ID == 0 {
				b.Fatalf("the start did not use the snapshot")
			}
			loaded = int(records)
		} else if int64(loaded) != records {
			b.Fatalf("loaded %d records, want %d", loaded, records)
		}
		b.ReportMetric(took.Seconds(), "s/start")
		b.ReportMetric(float64(loaded)/took.Seconds(), "records/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(loaded), "cpu-ns/record")
		b.ReportMetric(float64(ms.HeapAlloc)/float64(1<<20), "live-MiB")
	}
}

// fillDemoLog writes the demo's partners and members with the store and
// about n events straight into the log: COPY into a staging table keyed by
// the time each is received, then one INSERT … SELECT numbers them in that
// order. Each shard is a demo history of its own (ids prefixed sNN-).
func fillDemoLog(b *testing.B, ctx context.Context, st *postgres.Store, url, schema string, n int, now time.Time) {
	const shardPartners, shardMembers = 500, 10_000
	start := time.Now()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string) {
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec("SET search_path TO " + pgx.Identifier{schema}.Sanitize())
	exec("DROP TABLE IF EXISTS bench_fill")
	exec("CREATE UNLOGGED TABLE bench_fill (k BIGINT NOT NULL, id TEXT NOT NULL, body BYTEA NOT NULL)")
	late := rand.New(rand.NewPCG(7, 11))
	program := &store.Batch{Programs: []rung.ProgramVersion{{Version: 1, Source: string(demo.Program),
		EffectiveFrom: time.Unix(0, 0).UTC(), AppliedAt: now.AddDate(-2, 0, 0), AppliedBy: "bench"}}}
	if err := st.Commit(ctx, program); err != nil {
		b.Fatal(err)
	}
	total, partners, members, lates := 0, 0, 0, 0
	for shard := 0; total < n; shard++ {
		m := shardMembers
		if shard > 0 {
			// Size the last shard by the rate seen so far.
			perMember := float64(total) / float64(members)
			m = min(shardMembers, max(10, int(math.Ceil(float64(n-total)/perMember))))
		}
		p := max(1, m*shardPartners/shardMembers)
		d := demo.Generate(demo.Options{Seed: int64(shard + 1), Partners: p, Members: m, Months: 12, Now: now})
		prefix := fmt.Sprintf("s%02d-", shard)
		facts := &store.Batch{}
		for _, pt := range d.Partners {
			pt.ID = prefix + pt.ID
			facts.Partners = append(facts.Partners, rung.PartnerVersion{Version: 1, ValidFrom: pt.JoinedAt, Partner: pt})
		}
		for _, mb := range d.Members {
			mb.ID, mb.Partner = prefix+mb.ID, prefix+mb.Partner
			mb.Email = prefix + mb.Email
			mb.Memberships = []rung.Membership{{Partner: mb.Partner, JoinedAt: mb.JoinedAt}}
			facts.Members = append(facts.Members, mb)
		}
		if err := st.Commit(ctx, facts); err != nil {
			b.Fatal(err)
		}
		evs := d.Events
		if len(evs) > n-total {
			evs = evs[:n-total]
		}
		var buf []byte
		rows := make([][]any, len(evs))
		for i := range evs {
			ev := evs[i]
			ev.ID, ev.Partner = prefix+ev.ID, prefix+ev.Partner
			if ev.Member != "" {
				ev.Member = prefix + ev.Member
			}
			delay := time.Duration(late.Int64N(int64(2 * time.Minute)))
			if late.Float64() < 0.03 {
				// 1 hour to 4 days, even on a log scale.
				delay = time.Duration(math.Exp(math.Log(float64(time.Hour)) + late.Float64()*math.Log(96)))
				lates++
			}
			r := &rung.Record{Version: 1, ReceivedAt: ev.OccurredAt.Add(delay), Event: ev}
			buf, err = codec.AppendRecord(buf[:0], r)
			if err != nil {
				b.Fatal(err)
			}
			rows[i] = []any{r.ReceivedAt.UnixNano(), ev.ID, append([]byte(nil), buf...)}
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_fill"}, []string{"k", "id", "body"}, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
		total += len(evs)
		members += len(d.Members)
		partners += len(d.Partners)
	}
	exec("SET maintenance_work_mem TO '512MB'")
	exec("SET work_mem TO '256MB'")
	exec(`INSERT INTO events (seq, id, version, body) SELECT row_number() OVER (ORDER BY k, id), id, 1, body FROM bench_fill`)
	exec("DROP TABLE bench_fill")
	exec("VACUUM ANALYZE events")
	b.Logf("filled schema %s: %d events (%.1f%% late), %d partners, %d members in %v", schema, total, 100*float64(lates)/float64(total),
		partners, members, time.Since(start).Round(time.Second))
}

// peakRSS returns the process's peak resident set size (VmHWM), 0 when it
// cannot be read.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
