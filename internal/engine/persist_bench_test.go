package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/program"
)

// BenchmarkDumpDemo writes the state of a replay of the demo's year of
// history and loads it back, and reports the CPU of each a record, the
// replay's for comparison, and the dump's bytes a record.
func BenchmarkDumpDemo(b *testing.B) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	d := demo.Generate(demo.Options{Now: now})
	p, err := program.Parse(demo.Program)
	if err != nil {
		b.Fatal(err)
	}
	vs := []*Version{{N: 1, From: time.Unix(0, 0), Program: p}}
	recs := make([]rung.Record, len(d.Events))
	for i, ev := range d.Events {
		recs[i] = rung.Record{Seq: int64(i + 1), Version: 1, Event: ev}
		if recs[i].Raw, err = codec.EncodeRecord(nil, &recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cputime.Process()
	e := New()
	e.SetVersions(vs, now)
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
	replay := cputime.Since(cpu)
	var buf bytes.Buffer
	var write, load time.Duration
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		cpu = cputime.Process()
		if err := e.WriteDump(&buf, int64(len(recs)), 0); err != nil {
			b.Fatal(err)
		}
		write += cputime.Since(cpu)
		cpu = cputime.Process()
		got, _, err := LoadDump(bytes.NewReader(buf.Bytes()), vs)
		if err != nil {
			b.Fatal(err)
		}
		load += cputime.Since(cpu)
		if got.Digest(now) != e.Digest(now) {
			b.Fatal("the loaded state differs")
		}
	}
	n := float64(len(recs))
	b.ReportMetric(float64(replay.Nanoseconds())/n, "replay-cpu-ns/record")
	b.ReportMetric(float64(write.Nanoseconds())/n/float64(b.N), "write-cpu-ns/record")
	b.ReportMetric(float64(load.Nanoseconds())/n/float64(b.N), "load-cpu-ns/record")
	b.ReportMetric(float64(buf.Len())/n, "dump-B/record")
}
