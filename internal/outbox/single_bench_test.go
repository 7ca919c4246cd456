package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// BenchmarkSingleEventsWithBackground measures single-event ingest on
// SQLite with what `rung serve` runs beside it: the outbox worker (producer
// and deliverer, every second) and notifications (watch and delivery,
// every second, with a 5 s batching window so that deliveries happen within
// the run). 64 clients send one demo event per request over 20,000
// members of 1,000 partners, paced to 2,000 events/s in all, for 10 s an
// iteration: a fixed rate, so that the work done once a step is spread over
// the same number of events on a busy machine as on a quiet one. It
// reports the process's CPU per event (the clients' share included; it is
// small) and the wall-clock rate.
func BenchmarkSingleEventsWithBackground(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "rung.db"))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	s, err := service.Open(ctx, st, service.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); st.Close() })
	if _, err := s.ApplyProgram(ctx, demo.Program, time.Time{}, "bench"); err != nil {
		b.Fatal(err)
	}
	const partners, members = 1000, 20000
	for i := range partners {
		s.PutPartner(ctx, rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea"})
	}
	now := time.Now()
	var mu sync.Mutex
	syn := demo.Synthetic{Rand: mrand.New(mrand.NewPCG(1, 2)), Partners: partners, Members: members,
		From: now.AddDate(0, 0, -40), Span: 40 * 24 * time.Hour}
	next := func() rung.Event {
		mu.Lock()
		defer mu.Unlock()
		return syn.Next()
	}
	for range 10 {
		in := make([]*service.Incoming, 5000)
		for i := range in {
			in[i] = &service.Incoming{Event: next()}
		}
		if _, err := s.Ingest(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	w := &outbox.Worker{Producer: outbox.NewProducer(s, false), Deliverer: outbox.NewDeliverer(st, outbox.Options{Clock: s.Now, Logger: log}),
		Every: time.Second, Logger: log}
	notes := notify.New(s, notify.Options{Window: 5 * time.Second, Logger: log})
	if err := w.Step(ctx); err != nil { // the producer's baseline
		b.Fatal(err)
	}
	if _, err := notes.Watch(ctx); err != nil { // the watch's start
		b.Fatal(err)
	}
	bg, stop := context.WithCancel(ctx)
	var bgDone sync.WaitGroup
	bgDone.Add(2)
	go func() { defer bgDone.Done(); w.Run(bg) }()
	go func() { defer bgDone.Done(); notes.Run(bg, nil, time.Second) }()
	defer func() { stop(); bgDone.Wait() }()

	const clients, rate, run = 64, 2000, 10 * time.Second
	var sent atomic.Int64
	var cpu time.Duration
	var wall time.Duration
	b.ResetTimer()
	for range b.N {
		c := cputime.Process()
		start := time.Now()
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				every := time.Duration(clients) * time.Second / rate
				for t := start; time.Since(start) < run; t = t.Add(every) {
					time.Sleep(time.Until(t))
					if _, err := s.Ingest(ctx, []*service.Incoming{{Event: next()}}); err != nil {
						b.Error(err)
						return
					}
					sent.Add(1)
				}
			}()
		}
		wg.Wait()
		cpu += cputime.Since(c)
		wall += time.Since(start)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(sent.Load()), "cpu-µs/event")
	b.ReportMetric(float64(sent.Load())/wall.Seconds(), "events/s")
}
