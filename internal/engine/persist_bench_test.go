package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/cputime"
)

// BenchmarkDumpDemo writes the state of a replay of the demo's year of
// history and loads it back, and reports the CPU of each a record, the
// replay's for comparison, and the dump's bytes a record.
func BenchmarkDumpDemo(b *testing.B) {
	now, d, p, recs := replayDemoInput(b)
	vs := []*Version{{N: 1, From: time.Unix(0, 0), Program: p}}
	cpu := cputime.Process()
	e := replayDemo(now, d, p, recs)
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
