package outbox_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
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
