package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// memberState is a member's state in the engine now, as the producer
// compares it.
func memberState(t *testing.T, f *fixture, id string) engine.SubjectState {
	t.Helper()
	var s engine.SubjectState
	f.svc.Read(func(e *engine.Engine) error {
		e.SubjectStates([]string{id}, nil, func(x engine.SubjectState) { s = x })
		return nil
	})
	if s.ID != id {
		t.Fatalf("member %s not found", id)
	}
	return s
}

// quietWorker is a worker as rung serve runs one with no CRM: whether its
// steps are quiet depends on the webhooks stored. heard collects what its
// producer's After hook is given.
func quietWorker(f *fixture, heard *[]string) *outbox.Worker {
	p := outbox.NewProducer(f.svc, false)
	p.After = func(_ context.Context, ms []store.OutboxMessage) {
		for _, m := range ms {
			*heard = append(*heard, m.ID)
		}
	}
	return &outbox.Worker{Producer: p, Deliverer: outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now})}
}

func stepWorker(t *testing.T, w *outbox.Worker) {
	t.Helper()
	if err := w.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestQuietStepsTellTierChangesOnce checks that with nobody to deliver to,
// the producer's hook still hears of a tier change, once: a producer
// started afresh on the same store (a restart) does not tell it again.
func TestQuietStepsTellTierChangesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	prog := testProgram + `tiers:
  levels: [Registered, Select]
`
	if _, err := f.svc.ApplyProgram(ctx, []byte(prog), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	var heard []string
	w := quietWorker(f, &heard)
	stepWorker(t, w) // the baseline
	f.ingest(t, rung.Event{ID: "e1", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w)
	if len(heard) != 0 {
		t.Fatalf("the hook heard %v of points earned while nobody listens; want nothing", heard)
	}
	if _, err := f.svc.SetTierOverride(ctx, engine.TierOverride{Partner: "p1", Tier: "Select", Reason: "strategic"}, "admin"); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Second)
	f.ingest(t, rung.Event{ID: "e2", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w)
	if len(heard) != 1 || !contains(heard[0], "tier.changed:partner:p1:") {
		t.Fatalf("the hook heard %v; want p1's tier.changed alone", heard)
	}
	states, err := f.st.OutboxSubjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p1 engine.SubjectState
	if err := json.Unmarshal(states["partner:p1"], &p1); err != nil || p1.Tier != "Select" {
		t.Fatalf("p1's stored state = %s, %v; want tier Select", states["partner:p1"], err)
	}
	if _, ok := states["member:ann"]; ok {
		t.Errorf("ann's state stored by quiet steps: %s", states["member:ann"])
	}

	var again []string
	w2 := quietWorker(f, &again) // a restart
	f.ingest(t, rung.Event{ID: "e3", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w2)
	stepWorker(t, w2)
	if len(again) != 0 {
		t.Errorf("a restarted producer's hook heard %v; want nothing (p1's tier change was told)", again)
	}
	if ms := messages(t, f.st); len(ms) != 0 {
		t.Errorf("%d messages stored with nobody to deliver them to, the first %s", len(ms), ms[0].ID)
	}
}

// TestAWebhookAfterAQuietRestartHearsOnlyWhatFollows checks that a
// producer that starts on states quiet steps left behind (the process
// restarted while nobody listened) and finds a webhook stores every
// state afresh without telling the webhook what changed before, and tells
// what changes after.
func TestAWebhookAfterAQuietRestartHearsOnlyWhatFollows(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var heard []string
	w := quietWorker(f, &heard)
	stepWorker(t, w)
	f.ingest(t, rung.Event{ID: "e1", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w)

	rc := newReceiver("secret-secret-secret", f.clock.now)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "secret-secret-secret", start)
	w2 := quietWorker(f, &heard) // a restart, with the webhook stored
	f.ingest(t, rung.Event{ID: "e2", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w2)
	if ms := messages(t, f.st); len(ms) != 0 {
		t.Fatalf("the first step after the restart stored %d messages, the first %s; want none (what changed before it is not news)", len(ms), ms[0].ID)
	}
	states, err := f.st.OutboxSubjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := memberState(t, f, "ann")
	var ann engine.SubjectState
	if err := json.Unmarshal(states["member:ann"], &ann); err != nil || ann.Balance != before.Balance {
		t.Fatalf("ann's stored state = %s, %v; want her balance now, %d", states["member:ann"], err, before.Balance)
	}

	f.ingest(t, rung.Event{ID: "e3", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w2)
	var told bool
	for _, m := range messages(t, f.st) {
		if m.Type != outbox.PointsChanged || m.Subject != "member:ann" {
			continue
		}
		var d outbox.PointsPayload
		if err := json.Unmarshal(m.Payload, &d); err != nil || d.PreviousBalance != before.Balance || d.Balance != memberState(t, f, "ann").Balance {
			t.Errorf("ann's points.changed %s, %v; want from %d to her balance now", m.Payload, err, before.Balance)
		}
		told = true
	}
	if !told {
		t.Fatal("no points.changed for ann after e3")
	}
	got, bad := rc.snapshot()
	if len(bad) > 0 {
		t.Fatalf("bad deliveries: %v", bad)
	}
	if ids := got["member:ann"]; !slices.ContainsFunc(ids, func(id string) bool { return contains(id, "points.changed:member:ann:") }) {
		t.Errorf("the webhook received %v for ann; want her points.changed", ids)
	}
}

// TestAResyncStoresWhatQuietStepsKeptInMemory checks the restart before
// the webhook: a producer that read stale states back and took a quiet
// step (which keeps members' states in memory) resyncs when a webhook
// comes, storing every state, so that a producer started after that
// (another restart) tells only what changes next, not every member's
// points and badges anew.
func TestAResyncStoresWhatQuietStepsKeptInMemory(t *testing.T) {
	f := newFixture(t)
	var heard []string
	w := quietWorker(f, &heard)
	stepWorker(t, w) // the baseline: no member stored
	f.ingest(t, rung.Event{ID: "e1", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w)

	w2 := quietWorker(f, &heard) // a restart; its first step compares every subject, quietly
	stepWorker(t, w2)
	srv := httptest.NewServer(newReceiver("secret-secret-secret", f.clock.now))
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "secret-secret-secret", start)
	stepWorker(t, w2) // the resync
	if ms := messages(t, f.st); len(ms) != 0 {
		t.Fatalf("the resync stored %d messages, the first %s; want none", len(ms), ms[0].ID)
	}
	after := memberState(t, f, "ann")

	w3 := quietWorker(f, &heard) // another restart
	f.ingest(t, rung.Event{ID: "e2", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w3)
	var ids []string
	for _, m := range messages(t, f.st) {
		ids = append(ids, m.ID)
		if m.Subject != "member:ann" && m.Subject != "partner:p1" {
			t.Errorf("message %s: only ann and p1 changed", m.ID)
		}
		if m.Type == outbox.PointsChanged && m.Subject == "member:ann" {
			var d outbox.PointsPayload
			if err := json.Unmarshal(m.Payload, &d); err != nil || d.PreviousBalance != after.Balance {
				t.Errorf("ann's points.changed %s, %v; want it from %d", m.Payload, err, after.Balance)
			}
		}
	}
	if !slices.ContainsFunc(ids, func(id string) bool { return contains(id, "points.changed:member:ann:") }) {
		t.Errorf("messages %v; want ann's points.changed", ids)
	}
}

// failOnce is a store whose next ProduceOutbox fails once, as a database
// that went away for a moment.
type failOnce struct {
	store.Store
	fail bool
}

func (s *failOnce) ProduceOutbox(ctx context.Context, p store.OutboxProduction) error {
	if s.fail {
		s.fail = false
		return errors.New("the database went away")
	}
	return s.Store.ProduceOutbox(ctx, p)
}

// TestAFailedStepKeepsWhatQuietStepsKeptInMemory checks that a step that
// fails to write (the first one after a webhook is added) leaves the
// members' states quiet steps kept in memory where they were: the step
// done again tells the webhook what changed since the last quiet step.
func TestAFailedStepKeepsWhatQuietStepsKeptInMemory(t *testing.T) {
	f := newFixture(t)
	var heard []string
	w := quietWorker(f, &heard)
	st := &failOnce{Store: f.st}
	w.Producer.UseStore(st)
	stepWorker(t, w)
	f.ingest(t, rung.Event{ID: "e1", Type: "training.completed", Partner: "p1", Member: "ann"})
	stepWorker(t, w)
	before := memberState(t, f, "ann")

	srv := httptest.NewServer(newReceiver("secret-secret-secret", f.clock.now))
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "secret-secret-secret", start)
	f.ingest(t, rung.Event{ID: "e2", Type: "training.completed", Partner: "p1", Member: "ann"})
	st.fail = true
	if err := w.Step(context.Background()); err == nil {
		t.Fatal("the step with the database away succeeded")
	}
	stepWorker(t, w)
	var told bool
	for _, m := range messages(t, f.st) {
		if m.Type == outbox.PointsChanged && m.Subject == "member:ann" {
			var d outbox.PointsPayload
			if err := json.Unmarshal(m.Payload, &d); err != nil || d.PreviousBalance != before.Balance {
				t.Errorf("ann's points.changed %s, %v; want it from %d", m.Payload, err, before.Balance)
			}
			told = true
		}
	}
	if !told {
		t.Error("ann's points from e2, earned after the webhook was added, were not told")
	}
}
