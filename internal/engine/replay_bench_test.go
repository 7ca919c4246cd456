package engine

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/program"
)

// BenchmarkReplayDemo replays the demo's year of history (decoded records,
// no store) into a fresh engine in bulk, as a rebuild does, and reports
// records per second on one core.
func BenchmarkReplayDemo(b *testing.B) {
	now, d, p, recs := replayDemoInput(b)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var e *Engine
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		e = replayDemo(now, d, p, recs)
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cputime.Since(cpu).Nanoseconds())/float64(len(recs)*b.N), "cpu-ns/record")
	// The live heap the last engine holds, beyond the decoded records.
	b.StopTimer()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(recs)), "heap-B/record")
	runtime.KeepAlive(e)
	runtime.KeepAlive(recs) // counted in before
	runtime.KeepAlive(d)
}

// BenchmarkReplayDemoPaused is BenchmarkReplayDemo with the collector
// paused during each replay, as start-up pauses it (service.pauseGC), and
// one full collection before each: cpu-ns/record is then the engine's own
// work plus one collection of the previous engine, without the collections
// a running collector makes of the benchmark's decoded records (half the
// CPU of BenchmarkReplayDemo on a two-core machine, and most of its noise).
// replay-cpu-ns/record leaves that collection out: the CPU of the replays
// alone, what a rebuild in a fresh process spends.
func BenchmarkReplayDemoPaused(b *testing.B) {
	now, d, p, recs := replayDemoInput(b)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var e *Engine
	var replayCPU time.Duration
	runtime.GC()
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		e = nil
		runtime.GC()
		start := cputime.Process()
		e = replayDemo(now, d, p, recs)
		replayCPU += cputime.Since(start)
	}
	b.ReportMetric(float64(cputime.Since(cpu).Nanoseconds())/float64(len(recs)*b.N), "cpu-ns/record")
	b.ReportMetric(float64(replayCPU.Nanoseconds())/float64(len(recs)*b.N), "replay-cpu-ns/record")
	runtime.KeepAlive(e)
}

// replayDemoInput returns the demo's history as the records a store hands
// a rebuild, with their stored encoding.
func replayDemoInput(b *testing.B) (time.Time, *demo.Data, *program.Program, []rung.Record) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	d := demo.Generate(demo.Options{Now: now})
	p, err := program.Parse(demo.Program)
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]rung.Record, len(d.Events))
	for i, ev := range d.Events {
		recs[i] = rung.Record{Seq: int64(i + 1), Version: 1, Event: ev}
		// A store reading its log hands the engine the stored encoding.
		raw, err := codec.EncodeRecord(nil, &recs[i])
		if err != nil {
			b.Fatal(err)
		}
		recs[i].Raw = raw
	}
	return now, d, p, recs
}

// replayDemo loads the demo's partners, members and history into a fresh
// engine in bulk.
func replayDemo(now time.Time, d *demo.Data, p *program.Program, recs []rung.Record) *Engine {
	e := New()
	e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
	for _, pt := range d.Partners {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: pt})
	}
	for _, m := range d.Members {
		m.Memberships = []rung.Membership{{Partner: m.Partner, JoinedAt: m.JoinedAt}}
		e.PutMember(m)
	}
	e.BeginBulk(len(recs))
	for i := range recs {
		e.Apply(&recs[i])
	}
	e.EndBulk(now)
	return e
}
