package api

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/service"
)

// loadgenBatch is a {"events": [...]} body of n events shaped as
// bench/loadgen sends them (bench/internal/workload.Generator): half
// training.completed with a score, three in ten deal.registered with
// qualified, two in ten deal.won with an amount and sourced.
func loadgenBatch(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	from := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	buf := []byte(`{"events":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		m := rng.IntN(20000)
		buf = append(buf, `{"id":"bench:mi7q2kx1:0:`...)
		buf = strconv.AppendInt(buf, int64(i+1), 10)
		buf = append(buf, `","type":"`...)
		var attrs []byte
		switch r := rng.IntN(10); {
		case r < 5:
			buf = append(buf, "training.completed"...)
			attrs = fmt.Appendf(nil, `{"score":%d}`, 50+rng.IntN(51))
		case r < 8:
			buf = append(buf, "deal.registered"...)
			attrs = fmt.Appendf(nil, `{"qualified":%t}`, rng.IntN(10) < 7)
		default:
			buf = append(buf, "deal.won"...)
			attrs = fmt.Appendf(nil, `{"amount":%d,"sourced":%t}`, 1000+rng.IntN(199001), rng.IntN(10) < 6)
		}
		buf = fmt.Appendf(buf, `","partner":"bp-%05d","member":"bm-%06d","occurred_at":"`, m%1000, m)
		buf = from.Add(time.Duration(rng.Int64N(50*24*3600))*time.Second).AppendFormat(buf, time.RFC3339)
		buf = append(buf, `","attrs":`...)
		buf = append(buf, attrs...)
		buf = append(buf, `,"source":"bench"}`...)
	}
	return append(buf, "]}"...)
}

// BenchmarkParseEventBatch parses a 5,000-event batch body as the ingest
// handler does, with the encoding/json parser it replaced and with the
// hand-written one, and reports the cost per event: wall time, CPU time
// of the whole process (garbage collection included) and allocations.
func BenchmarkParseEventBatch(b *testing.B) {
	const n = MaxBatch
	body := loadgenBatch(n)
	for _, p := range []struct {
		name  string
		parse func(string, []byte) ([]*service.Incoming, error)
	}{
		{"encoding-json", refParseEvents},
		{"hand-written", parseEvents},
	} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpu := cputime.Process()
			for b.Loop() {
				events, err := p.parse("application/json", body)
				if err != nil || len(events) != n || events[n-1].Err != "" {
					b.Fatalf("%d events, error %v", len(events), err)
				}
			}
			cpu = cputime.Process() - cpu
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/event")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/event")
			}
		})
	}
}
