package outbox_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// enqueue writes n messages for each subject, interleaved, and returns the
// ids per subject in order.
func enqueue(t testing.TB, st store.Store, at time.Time, subjects []string, n int) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	var msgs []store.OutboxMessage
	for i := range n {
		for _, s := range subjects {
			id := fmt.Sprintf("nudge:%s:%d", s, i)
			m, err := outbox.New(outbox.Nudge, s, id, map[string]any{"i": i}, at)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, m)
			want[s] = append(want[s], id)
		}
	}
	if err := outbox.Emit(context.Background(), st, msgs...); err != nil {
		t.Fatal(err)
	}
	return want
}

func subscribe(t testing.TB, st store.Store, id, url, secret string, at time.Time, types ...string) {
	t.Helper()
	if err := st.PutSubscription(context.Background(), store.Subscription{ID: id, URL: url, Secret: secret, Types: types, Enabled: true, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
}

// drain runs the deliverer, moving the clock past every backoff, until
// nothing is left to deliver or rounds run out.
func drain(t *testing.T, d *outbox.Deliverer, st store.Store, c *clock, rounds int) {
	t.Helper()
	for range rounds {
		if _, err := d.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		open, err := st.DueDeliveries(context.Background(), c.now().Add(24*time.Hour), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) == 0 {
			return
		}
		c.add(time.Minute)
	}
	t.Fatalf("deliveries still open after %d rounds", rounds)
}

func TestEveryMessageArrivesOnceInOrderDespiteFailuresTimeoutsAndLostAnswers(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver("whsec-1", f.clock.now)
	// Calls 1-3 fail, 4 hangs past the timeout, 5 is stored but answered
	// with an error, then every fourth call fails one way or another.
	rc.fail = func(call int, _ outbox.Envelope) (int, bool) {
		switch {
		case call <= 3:
			return 500, false
		case call == 4:
			return 200, true
		case call == 5:
			return 299, false
		case call%4 == 0:
			return 503, false
		case call%7 == 0:
			return 200, true
		}
		return 200, false
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "whsec-1", start)
	want := enqueue(t, f.st, start, []string{"member:ann", "member:bob", "partner:p1"}, 6)
	d := outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now, Backoff: time.Second, MaxBackoff: 30 * time.Second,
		MaxAttempts: 50, Timeout: 200 * time.Millisecond})
	drain(t, d, f.st, f.clock, 200)
	got, bad := rc.snapshot()
	if len(bad) > 0 {
		t.Errorf("signatures that did not verify: %v", bad)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("accepted per subject:\n got  %v\n want %v", got, want)
	}
	ds, err := f.st.Deliveries(context.Background(), store.DeliveryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, x := range ds {
		if x.DeliveredAt.IsZero() || x.Dead {
			t.Errorf("delivery %s: %+v", x.Message.ID, x)
		}
		if x.Attempts > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Error("no delivery needed a retry: the receiver's failures were not exercised")
	}
}

func TestReceiverThatNeverAnswersIsDeadLetteredAndReplayable(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver("s", f.clock.now)
	down := true
	rc.fail = func(int, outbox.Envelope) (int, bool) {
		if down {
			return 200, true // never answers
		}
		return 200, false
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "s", start)
	want := enqueue(t, f.st, start, []string{"partner:p1"}, 2)
	d := outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now, Backoff: time.Second, MaxAttempts: 3, Timeout: 50 * time.Millisecond})
	drain(t, d, f.st, f.clock, 50)
	ctx := context.Background()
	dead, err := f.st.Deliveries(ctx, store.DeliveryFilter{Dead: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 {
		t.Fatalf("dead letters = %d, want both messages", len(dead))
	}
	for _, x := range dead {
		if x.Attempts != 3 || x.LastError == "" {
			t.Errorf("dead letter %s: attempts %d, error %q; want the budget of 3 and the reason", x.Message.ID, x.Attempts, x.LastError)
		}
	}
	rc.mu.Lock()
	down = false
	rc.mu.Unlock()
	for _, id := range want["partner:p1"] {
		if _, err := f.st.ReplayDeliveries(ctx, id, "", f.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, d, f.st, f.clock, 10)
	got, _ := rc.snapshot()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after replay: got %v, want %v", got, want)
	}
	if dead, _ := f.st.Deliveries(ctx, store.DeliveryFilter{Dead: true}); len(dead) != 0 {
		t.Errorf("still dead after replay: %d", len(dead))
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	d := outbox.NewDeliverer(nil, outbox.Options{Backoff: time.Second, MaxBackoff: 10 * time.Second})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 60: 10 * time.Second} {
		if got := d.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestWebhookGetsOnlyTheTypesItSubscribedTo(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver("s", f.clock.now)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "s", start, outbox.BadgeAwarded)
	ctx := context.Background()
	var msgs []store.OutboxMessage
	for _, typ := range []string{outbox.BadgeAwarded, outbox.Nudge, outbox.CRMSync} {
		m, err := outbox.New(typ, "member:ann", typ+":1", map[string]any{}, start)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if err := outbox.Emit(ctx, f.st, msgs...); err != nil {
		t.Fatal(err)
	}
	drain(t, outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now}), f.st, f.clock, 5)
	got, _ := rc.snapshot()
	if want := map[string][]string{"member:ann": {"badge.awarded:1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := outbox.New("points.exploded", "x", "y", map[string]any{}, start); err == nil {
		t.Error("New accepted an unknown type")
	}
}

func TestWorkerDeliversThenPrunesWhatIsDone(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver("s", f.clock.now)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	subscribe(t, f.st, "hook", srv.URL, "s", start)
	want := enqueue(t, f.st, start, []string{"partner:p1"}, 3)
	w := &outbox.Worker{Deliverer: outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now}), Keep: 24 * time.Hour}
	ctx := context.Background()
	if err := w.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := rc.snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	f.clock.add(25 * time.Hour)
	if err := w.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.st.OutboxMessages(ctx, 0, 0, false); len(ms) != 0 {
		t.Errorf("left after a day: %d messages", len(ms))
	}
}
