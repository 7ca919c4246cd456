package service

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/cputime"
)

// BenchmarkSingleEventWriters measures the write path under 64 concurrent
// one-event requests, in process (no HTTP): group commit at work. One
// iteration runs for three seconds and reports events/s, the process's
// CPU per event (the clients' share is small: they only build events) and
// the mean number of events a commit takes.
func BenchmarkSingleEventWriters(b *testing.B) {
	s, _ := setup(b)
	ctx := context.Background()
	var n atomic.Int64
	groups0 := s.groups.Load()
	b.ResetTimer()
	cpu := cputime.Process()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < 64; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; time.Since(start) < 3*time.Second; i++ {
				// Each writer its own partner, as when partners' systems
				// send at once.
				in := win(fmt.Sprintf("c%d-%d", c, i), fmt.Sprintf("p%d", c%2+1), "", 1000)
				in.Event.Member = fmt.Sprintf("w%d", c)
				if _, err := s.Ingest(ctx, []*Incoming{in}); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		}(c)
	}
	wg.Wait()
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(cputime.Since(cpu).Microseconds())/float64(n.Load()), "cpu-µs/event")
	b.ReportMetric(float64(n.Load())/float64(s.groups.Load()-groups0), "events/commit")
}
