package outbox_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// TestWorkerWithNobodyToDeliverToStoresNoMessage checks that a worker
// with no CRM and no webhook stores no message (there is nobody to
// receive one) and no member's state (its producer keeps them in memory),
// and that a webhook added later receives what is produced from then on,
// told against what the producer saw last, and nothing from before.
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
	if st, ok := states["member:ann"]; ok {
		t.Fatalf("ann's state stored with nobody listening: %s", st)
	}
	earned := memberState(t, f, "ann")
	if earned.Balance <= 0 {
		t.Fatalf("ann's balance after e1 = %d, want some", earned.Balance)
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
	states, err = f.st.OutboxSubjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stored engine.SubjectState
	if err := json.Unmarshal(states["member:ann"], &stored); err != nil || stored.Balance != memberState(t, f, "ann").Balance {
		t.Errorf("ann's stored state once a webhook listens = %s, %v; want her balance now", states["member:ann"], err)
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
