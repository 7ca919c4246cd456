package outbox_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// TestWorkerWithNobodyToDeliverToStoresMessagesDispatched checks that a
// worker with no CRM and no webhook stores what it produces dispatched,
// with no delivery, and that a webhook added later receives what is
// produced from then on, and nothing from before.
func TestWorkerWithNobodyToDeliverToStoresMessagesDispatched(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	w := &outbox.Worker{Producer: outbox.NewProducer(f.svc, false), Deliverer: outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now})}
	if err := w.Step(ctx); err != nil { // the baseline
		t.Fatal(err)
	}
	f.ingest(t, rung.Event{ID: "e1", Type: "training.completed", Partner: "p1", Member: "ann"})
	if err := w.Step(ctx); err != nil {
		t.Fatal(err)
	}
	before := messages(t, f.st)
	if len(before) == 0 {
		t.Fatal("no message for the points ann earned")
	}
	for _, m := range before {
		if !m.Dispatched {
			t.Errorf("message %s is not dispatched, with nobody to deliver it to", m.ID)
		}
	}
	if ds, err := f.st.Deliveries(ctx, store.DeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries: %d, %v; want none", len(ds), err)
	}

	rc := newReceiver("secret-secret-secret", f.clock.now)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "secret-secret-secret", start)
	f.ingest(t, rung.Event{ID: "e2", Type: "training.completed", Partner: "p1", Member: "ann"})
	if err := w.Step(ctx); err != nil {
		t.Fatal(err)
	}
	all := messages(t, f.st)
	got, bad := rc.snapshot()
	if len(bad) > 0 {
		t.Fatalf("bad deliveries: %v", bad)
	}
	var want []string
	for _, m := range all[len(before):] {
		want = append(want, m.ID)
	}
	var received []string
	for _, ids := range got {
		received = append(received, ids...)
	}
	if len(want) == 0 || len(received) != len(want) {
		t.Fatalf("the webhook received %v; want the messages produced after it was added, %v", received, want)
	}
	old := map[string]bool{}
	for _, m := range before {
		old[m.ID] = true
	}
	for _, id := range received {
		if old[id] {
			t.Errorf("the webhook received %s, produced before it was added", id)
		}
	}
}
