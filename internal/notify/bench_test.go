package notify

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkDeliverBatchedMail measures enqueueing and delivering 300
// notifications for three members (one batched message each) into the
// in-process mailbox: storing, grouping, rendering in two languages,
// composing MIME and signing unsubscribe links.
func BenchmarkDeliverBatchedMail(b *testing.B) {
	f := newFixture(b, Options{Mail: &Mailbox{}})
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		var ts []Trigger
		for j := range 100 {
			for _, m := range []string{"m1", "m2", "m3"} {
				ts = append(ts, Trigger{ID: fmt.Sprintf("b%d:%s:%d", i, m, j), Kind: KindBadge, Member: m, Data: map[string]any{"name": "Deal Maker"}})
			}
		}
		if err := f.n.Enqueue(ctx, ts...); err != nil {
			b.Fatal(err)
		}
		f.clock.add(time.Minute)
		if n, err := f.n.Deliver(ctx); err != nil || n != 300 {
			b.Fatalf("Deliver = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*300)/b.Elapsed().Seconds(), "notifications/s")
}
