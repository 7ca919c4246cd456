package outbox_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// TestWorkerWithNobodyToDeliverToStoresNoMessage checks that a worker
// with no CRM and no webhook stores no message (there is nobody to
// receive one) while its producer still records what it reported, and that
// a webhook added later receives what is produced from then on, and
// nothing from before.
func TestWorkerWithNobodyToDeliverToStoresNoMessage(t *testing.T) {
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
	if before := messages(t, f.st); len(before) != 0 {
		t.Fatalf("%d messages stored with nobody to deliver them to, the first %s", len(before), before[0].ID)
	}
	if ds, err := f.st.Deliveries(ctx, store.DeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries: %d, %v; want none", len(ds), err)
	}
	states, err := f.st.OutboxSubjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var earned struct {
		Balance int64 `json:"balance"`
	}
	if err := json.Unmarshal(states["member:ann"], &earned); err != nil || earned.Balance <= 0 {
		t.Fatalf("the producer's state for ann = %s, %v; want the balance e1 gave", states["member:ann"], err)
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
	for _, m := range all {
		want = append(want, m.ID)
		if m.Type == "points.changed" && m.Subject == "member:ann" {
			var d struct {
				Previous int64 `json:"previous_balance"`
			}
			if err := json.Unmarshal(m.Payload, &d); err != nil || d.Previous != earned.Balance {
				t.Errorf("ann's points.changed %s: previous_balance %d, %v; want %d, what e1 gave (reported with nobody listening)", m.Payload, d.Previous, err, earned.Balance)
			}
		}
	}
	var received []string
	for _, ids := range got {
		received = append(received, ids...)
	}
	if len(want) == 0 || len(received) != len(want) {
		t.Fatalf("the webhook received %v; want the messages produced after it was added, %v", received, want)
	}
	slices.Sort(want)
	slices.Sort(received)
	if !slices.Equal(received, want) {
		t.Errorf("the webhook received %v; want %v", received, want)
	}
}
