package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

var outboxTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"OutboxEnqueueIsIdempotent", testOutboxEnqueueIsIdempotent},
	{"OutboxRejectsBadMessages", testOutboxRejectsBadMessages},
	{"OutboxCommitWritesMessagesWithTheBatch", testOutboxCommitWritesMessagesWithTheBatch},
	{"OutboxRegistrationUpdateWritesMessages", testOutboxRegistrationUpdateWritesMessages},
	{"OutboxProduceMovesCursorOnce", testOutboxProduceMovesCursorOnce},
	{"OutboxProducedUnsubscribedIsDispatched", testOutboxProducedUnsubscribedIsDispatched},
	{"OutboxProduceCanceledWritesNothing", testOutboxProduceCanceledWritesNothing},
	{"OutboxDueDeliveriesKeepSubjectOrder", testOutboxDueDeliveriesKeepSubjectOrder},
	{"OutboxDispatchesManyAtOnce", testOutboxDispatchesManyAtOnce},
	{"OutboxDispatchesNowhere", testOutboxDispatchesNowhere},
	{"OutboxDeadAndReplay", testOutboxDeadAndReplay},
	{"OutboxSubscriptions", testOutboxSubscriptions},
	{"OutboxExportImport", testOutboxExportImport},
	{"OutboxLargeProduction", testOutboxLargeProduction},
	{"OutboxPruneKeepsWhatIsNotDone", testOutboxPruneKeepsWhatIsNotDone},
}

func outMsg(id, subject, typ string, at time.Time) store.OutboxMessage {
	return store.OutboxMessage{ID: id, Subject: subject, Type: typ, Payload: json.RawMessage(`{"n":1}`), CreatedAt: at}
}

func messageIDs(ms []store.OutboxMessage) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func deliveryKeys(ds []store.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Message.ID+">"+d.Endpoint)
	}
	return out
}

// testOutboxEnqueueIsIdempotent checks messages round-trip in Seq order
// and that an ID written again is left as it was.
func testOutboxEnqueueIsIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := outMsg("m-a", "p1", "points.changed", base), outMsg("m-b", "p2", "badge.awarded", base.Add(time.Second))
	if err := s.EnqueueOutbox(ctx, []store.OutboxMessage{a, b}); err != nil {
		t.Fatal(err)
	}
	again := a
	again.Payload = json.RawMessage(`{"n":2}`)
	if err := s.EnqueueOutbox(ctx, []store.OutboxMessage{again}); err != nil {
		t.Fatal(err)
	}
	got, err := s.OutboxMessages(ctx, 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "ids", messageIDs(got), []string{"m-a", "m-b"})
	if len(got) == 2 {
		if got[0].Seq >= got[1].Seq || string(got[0].Payload) != `{"n":1}` || !got[1].CreatedAt.Equal(b.CreatedAt) || got[1].CreatedAt.Location() != time.UTC {
			t.Errorf("messages = %+v", got)
		}
		if rest, _ := s.OutboxMessages(ctx, got[0].Seq, 0, false); len(rest) != 1 || rest[0].ID != "m-b" {
			t.Errorf("OutboxMessages after the first = %+v", rest)
		}
	}
}

// testOutboxRejectsBadMessages checks a message without id, subject or an
// object payload is EINVALID and nothing of its batch is written.
func testOutboxRejectsBadMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, bad := range []store.OutboxMessage{
		outMsg("", "p1", "x", base),
		outMsg("m", "", "x", base),
		{ID: "m", Subject: "p", Type: "x", Payload: json.RawMessage(`[1]`), CreatedAt: base},
		outMsg("m", "p", "x", time.Time{}),
	} {
		err := s.EnqueueOutbox(ctx, []store.OutboxMessage{outMsg("good", "p", "x", base), bad})
		wantCode(t, err, rung.EINVALID)
	}
	if got, _ := s.OutboxMessages(ctx, 0, 0, false); len(got) != 0 {
		t.Errorf("a refused batch left %v", messageIDs(got))
	}
}

// testOutboxCommitWritesMessagesWithTheBatch checks Batch.Outbox is written
// by Commit, and not at all when the commit fails.
func testOutboxCommitWritesMessagesWithTheBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	adj := rung.Adjustment{ID: "adj-1", Partner: "p1", Points: 5, Reason: "bonus", OccurredAt: base, By: "admin", CreatedAt: base}
	if err := s.Commit(ctx, &store.Batch{Adjustments: []rung.Adjustment{adj}, Outbox: []store.OutboxMessage{outMsg("adj-1:points", "m1", "points.changed", base)}}); err != nil {
		t.Fatal(err)
	}
	// The same adjustment id again fails the batch: its message is not written.
	err := s.Commit(ctx, &store.Batch{Adjustments: []rung.Adjustment{adj}, Outbox: []store.OutboxMessage{outMsg("adj-1b:points", "m1", "points.changed", base)}})
	wantCode(t, err, rung.ECONFLICT)
	// A batch of messages alone is not empty.
	if (&store.Batch{Outbox: []store.OutboxMessage{outMsg("x", "s", "nudge", base)}}).Empty() {
		t.Error("a batch with an outbox message is Empty")
	}
	got, err := s.OutboxMessages(ctx, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "ids", messageIDs(got), []string{"adj-1:points"})
}

// testOutboxRegistrationUpdateWritesMessages checks UpdateRegistration
// writes Registration.Outbox with the update, and not when the update is
// refused as stale.
func testOutboxRegistrationUpdateWritesMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	r, _ := submit(t, s, newReg("reg-1", "p1", "initech.com", base))
	r.Version, r.Status = 2, store.RegApproved
	r.Outbox = []store.OutboxMessage{outMsg("reg-1:v2", "reg-1", "registration.updated", base)}
	if err := s.UpdateRegistration(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Outbox = []store.OutboxMessage{outMsg("reg-1:v2-stale", "reg-1", "registration.updated", base)}
	wantCode(t, s.UpdateRegistration(ctx, r), rung.ECONFLICT)
	r.Version = 3
	r.Outbox = []store.OutboxMessage{outMsg("", "reg-1", "registration.updated", base)}
	wantCode(t, s.UpdateRegistration(ctx, r), rung.EINVALID)
	if got, _ := s.Registration(ctx, "reg-1"); got.Version != 2 {
		t.Errorf("a refused message left the registration at version %d, want 2", got.Version)
	}
	got, err := s.OutboxMessages(ctx, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "ids", messageIDs(got), []string{"reg-1:v2"})
}

// testOutboxProducedUnsubscribedIsDispatched checks that a production
// marked Unsubscribed stores no message while no webhook subscription is
// stored (its states and cursor still move), and pending ones once one is,
// and that one not so marked always stores them pending.
func testOutboxProducedUnsubscribedIsDispatched(t *testing.T, s store.Store) {
	ctx := context.Background()
	step := func(to int64, unsubscribed bool, ids ...string) {
		t.Helper()
		p := store.OutboxProduction{Cursor: "producer", From: to - 1, To: to, Unsubscribed: unsubscribed,
			Subjects: map[string][]byte{"member:a": []byte(fmt.Sprintf(`{"step":%d}`, to))}}
		for _, id := range ids {
			p.Messages = append(p.Messages, outMsg(id, "member:a", "points.changed", base))
		}
		if err := s.ProduceOutbox(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	pending := func() []string {
		t.Helper()
		ms, err := s.OutboxMessages(ctx, 0, 100, true)
		if err != nil {
			t.Fatal(err)
		}
		return messageIDs(ms)
	}
	step(1, true, "u1", "u2")
	equal(t, "pending with nobody subscribed", pending(), []string{})
	if at, err := s.OutboxCursor(ctx, "producer"); err != nil || at != 1 {
		t.Fatalf("cursor after a step with nobody subscribed = %d, %v; want 1", at, err)
	}
	if states, err := s.OutboxSubjects(ctx); err != nil || string(states["member:a"]) != `{"step":1}` {
		t.Fatalf("states after a step with nobody subscribed = %q, %v", states, err)
	}
	step(2, false, "k1")
	equal(t, "pending, produced for a deliverer with other endpoints", pending(), []string{"k1"})
	if err := s.PutSubscription(ctx, store.Subscription{ID: "hook", URL: "http://127.0.0.1:1/", Secret: "secret-secret-secret", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	step(3, true, "s1")
	equal(t, "pending once subscribed", pending(), []string{"k1", "s1"})
	all, err := s.OutboxMessages(ctx, 0, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "stored", messageIDs(all), []string{"k1", "s1"})
	if ds, err := s.Deliveries(ctx, store.DeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries: %d, %v; want none", len(ds), err)
	}
}

// testOutboxProduceMovesCursorOnce checks a production moves the cursor
// and writes its messages and subjects together, and that two producers
// starting from the same position cannot both.
func testOutboxProduceMovesCursorOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	if at, err := s.OutboxCursor(ctx, "producer"); err != nil || at != 0 {
		t.Fatalf("cursor on an empty store = %d, %v", at, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.ProduceOutbox(ctx, store.OutboxProduction{Cursor: "producer", From: 0, To: 1,
				Messages: []store.OutboxMessage{outMsg(fmt.Sprintf("gen1:%d", i), "p1", "points.changed", base)},
				Subjects: map[string][]byte{"p1": []byte(fmt.Sprintf(`{"i":%d}`, i))}})
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			if won >= 0 {
				t.Fatalf("producers %d and %d both moved the cursor from 0", won, i)
			}
			won = i
		} else {
			wantCode(t, err, rung.ECONFLICT)
		}
	}
	if won < 0 {
		t.Fatal("no producer moved the cursor")
	}
	if at, _ := s.OutboxCursor(ctx, "producer"); at != 1 {
		t.Errorf("cursor = %d, want 1", at)
	}
	subj, err := s.OutboxSubjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "subjects", map[string]string{"p1": string(subj["p1"])}, map[string]string{"p1": fmt.Sprintf(`{"i":%d}`, won)})
	got, _ := s.OutboxMessages(ctx, 0, 0, false)
	equal(t, "ids", messageIDs(got), []string{fmt.Sprintf("gen1:%d", won)})
}

// testOutboxDueDeliveriesKeepSubjectOrder checks that per endpoint and
// subject only the oldest open delivery is due, that a retry not yet due
// holds back its subject, and that dispatch is idempotent.
func testOutboxDueDeliveriesKeepSubjectOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	msgs := []store.OutboxMessage{outMsg("a1", "a", "t", base), outMsg("b1", "b", "t", base), outMsg("a2", "a", "t", base), outMsg("b2", "b", "t", base)}
	if err := s.EnqueueOutbox(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.OutboxMessages(ctx, 0, 0, true)
	var seqs []int64
	var ds []store.Delivery
	for _, m := range stored {
		seqs = append(seqs, m.Seq)
		for _, ep := range []string{"hook-1", "hook-2"} {
			ds = append(ds, store.Delivery{Message: m, Endpoint: ep, NextAttemptAt: base})
		}
	}
	if err := s.DispatchOutbox(ctx, seqs, ds); err != nil {
		t.Fatal(err)
	}
	if err := s.DispatchOutbox(ctx, nil, ds); err != nil {
		t.Fatalf("dispatching again: %v", err)
	}
	wantCode(t, s.DispatchOutbox(ctx, nil, []store.Delivery{{Message: store.OutboxMessage{ID: "nope"}, Endpoint: "hook-1", NextAttemptAt: base}}), rung.ENOTFOUND)
	if p, _ := s.OutboxMessages(ctx, 0, 0, true); len(p) != 0 {
		t.Errorf("undispatched after dispatch: %v", messageIDs(p))
	}
	now := base.Add(time.Minute)
	due, err := s.DueDeliveries(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "due", deliveryKeys(due), []string{"a1>hook-1", "a1>hook-2", "b1>hook-1", "b1>hook-2"})
	if len(due) > 0 && (due[0].Message.Subject != "a" || string(due[0].Message.Payload) != `{"n":1}`) {
		t.Errorf("due delivery's message = %+v", due[0].Message)
	}
	// a1 delivered to hook-1; a1 fails at hook-2 and waits an hour.
	d := due[0]
	d.Attempts, d.DeliveredAt = 1, now
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	d = due[1]
	d.Attempts, d.NextAttemptAt, d.LastError = 1, now.Add(time.Hour), "HTTP 500"
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueDeliveries(ctx, now, 0)
	equal(t, "due after a1", deliveryKeys(due), []string{"b1>hook-1", "b1>hook-2", "a2>hook-1"})
	due, _ = s.DueDeliveries(ctx, now.Add(2*time.Hour), 2)
	equal(t, "due later, two at most", deliveryKeys(due), []string{"a1>hook-2", "b1>hook-1"})
	all, err := s.Deliveries(ctx, store.DeliveryFilter{Endpoint: "hook-2", Message: "a1"})
	if err != nil || len(all) != 1 || all[0].Attempts != 1 || all[0].LastError != "HTTP 500" || !all[0].NextAttemptAt.Equal(now.Add(time.Hour)) {
		t.Errorf("Deliveries(a1, hook-2) = %+v, %v", all, err)
	}
	wantCode(t, s.UpdateDelivery(ctx, store.Delivery{Message: store.OutboxMessage{ID: "a1"}, Endpoint: "hook-9", NextAttemptAt: now}), rung.ENOTFOUND)
}

// testOutboxDeadAndReplay checks a dead delivery stops holding back its
// subject, is listed, and is revived by a replay.
func testOutboxDeadAndReplay(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.EnqueueOutbox(ctx, []store.OutboxMessage{outMsg("a1", "a", "t", base), outMsg("a2", "a", "t", base)}); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.OutboxMessages(ctx, 0, 0, true)
	var ds []store.Delivery
	for _, m := range stored {
		ds = append(ds, store.Delivery{Message: m, Endpoint: "hook", NextAttemptAt: base})
	}
	if err := s.DispatchOutbox(ctx, []int64{stored[0].Seq, stored[1].Seq}, ds); err != nil {
		t.Fatal(err)
	}
	d := ds[0]
	d.Attempts, d.Dead, d.LastError, d.NextAttemptAt = 8, true, "timeout", base.Add(time.Hour)
	if err := s.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueDeliveries(ctx, base, 0)
	equal(t, "due after a1 died", deliveryKeys(due), []string{"a2>hook"})
	dead, err := s.Deliveries(ctx, store.DeliveryFilter{Dead: true})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "dead", deliveryKeys(dead), []string{"a1>hook"})
	if len(dead) == 1 && (!dead[0].Dead || dead[0].Attempts != 8 || dead[0].LastError != "timeout") {
		t.Errorf("dead delivery = %+v", dead[0])
	}
	_, err = s.ReplayDeliveries(ctx, "a2", "", base)
	wantCode(t, err, rung.ENOTFOUND)
	n, err := s.ReplayDeliveries(ctx, "a1", "hook", base.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("ReplayDeliveries = %d, %v", n, err)
	}
	if dead, _ := s.Deliveries(ctx, store.DeliveryFilter{Dead: true}); len(dead) != 0 {
		t.Errorf("dead after replay: %v", deliveryKeys(dead))
	}
	due, _ = s.DueDeliveries(ctx, base.Add(time.Minute), 0)
	equal(t, "due after replay", deliveryKeys(due), []string{"a1>hook"})
	if len(due) == 1 && (due[0].Attempts != 0 || due[0].LastError != "") {
		t.Errorf("replayed delivery = %+v", due[0])
	}
}

// testOutboxSubscriptions checks subscriptions round-trip, are replaced by
// ID, and that deleting one drops its open deliveries.
func testOutboxSubscriptions(t *testing.T, s store.Store) {
	ctx := context.Background()
	if subs, err := s.Subscriptions(ctx); err != nil || len(subs) != 0 {
		t.Fatalf("Subscriptions on an empty store = %v, %v", subs, err)
	}
	a := store.Subscription{ID: "hook-a", URL: "https://a.example/hook", Secret: "s3cret", Types: []string{"badge.awarded"}, Enabled: true, CreatedAt: base}
	b := store.Subscription{ID: "hook-b", URL: "https://b.example/hook", Secret: "x", Types: []string{}, Enabled: false, CreatedAt: base.Add(time.Second)}
	for _, sub := range []store.Subscription{b, a} {
		if err := s.PutSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	a.URL, a.Types = "https://a.example/v2", []string{"badge.awarded", "nudge"}
	if err := s.PutSubscription(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.CreatedAt, b.CreatedAt = a.CreatedAt.UTC(), b.CreatedAt.UTC()
	equal(t, "subscriptions", got, []store.Subscription{a, b})
	if !a.Wants("nudge") || a.Wants("points.changed") || b.Wants("nudge") {
		t.Error("Wants does not follow types and enabled")
	}
	if err := s.EnqueueOutbox(ctx, []store.OutboxMessage{outMsg("m1", "p", "nudge", base)}); err != nil {
		t.Fatal(err)
	}
	m, _ := s.OutboxMessages(ctx, 0, 0, true)
	if err := s.DispatchOutbox(ctx, []int64{m[0].Seq}, []store.Delivery{{Message: m[0], Endpoint: "hook-a", NextAttemptAt: base}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubscription(ctx, "hook-a"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteSubscription(ctx, "hook-a"), rung.ENOTFOUND)
	if due, _ := s.DueDeliveries(ctx, base, 0); len(due) != 0 {
		t.Errorf("deliveries to a deleted webhook are still due: %v", deliveryKeys(due))
	}
}

// testOutboxExportImport checks the whole outbox survives a copy.
func testOutboxExportImport(t *testing.T, s store.Store) {
	ctx := context.Background()
	sub := store.Subscription{ID: "hook", URL: "https://a.example/hook", Secret: "s", Types: []string{"nudge"}, Enabled: true, CreatedAt: base.UTC()}
	if err := s.PutSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := s.ProduceOutbox(ctx, store.OutboxProduction{Cursor: "producer", To: 7, Subjects: map[string][]byte{"p1": []byte(`{"b":3}`)},
		Messages: []store.OutboxMessage{outMsg("m1", "p1", "nudge", base), outMsg("m2", "p1", "nudge", base)}}); err != nil {
		t.Fatal(err)
	}
	m, _ := s.OutboxMessages(ctx, 0, 0, true)
	if err := s.DispatchOutbox(ctx, []int64{m[0].Seq}, []store.Delivery{{Message: m[0], Endpoint: "hook", NextAttemptAt: base, Attempts: 3, Dead: true, LastError: "gone"}}); err != nil {
		t.Fatal(err)
	}
	d, err := s.ExportOutbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 2 || len(d.Deliveries) != 1 || d.Cursors["producer"] != 7 || string(d.Subjects["p1"]) != `{"b":3}` || len(d.Subscriptions) != 1 {
		t.Fatalf("export = %+v", d)
	}
	wantCode(t, s.ImportOutbox(ctx, d), rung.ECONFLICT)
	if got, _ := s.OutboxMessages(ctx, 0, 0, false); len(got) != 2 {
		t.Errorf("a refused import changed the outbox: %v", messageIDs(got))
	}
}

// testOutboxPruneKeepsWhatIsNotDone checks pruning deletes delivered
// messages older than the cut, and keeps open, dead, undispatched and
// newer ones.
func testOutboxPruneKeepsWhatIsNotDone(t *testing.T, s store.Store) {
	ctx := context.Background()
	old, cut := base, base.Add(24*time.Hour)
	msgs := []store.OutboxMessage{outMsg("done", "a", "t", old), outMsg("open", "b", "t", old), outMsg("dead", "c", "t", old),
		outMsg("new", "d", "t", cut.Add(time.Hour)), outMsg("nobody", "e", "t", old), outMsg("waiting", "f", "t", old)}
	if err := s.EnqueueOutbox(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.OutboxMessages(ctx, 0, 0, true)
	var seqs []int64
	var ds []store.Delivery
	for _, m := range stored[:5] {
		seqs = append(seqs, m.Seq)
		if m.ID == "nobody" {
			continue // no endpoint wanted it
		}
		d := store.Delivery{Message: m, Endpoint: "hook", NextAttemptAt: old}
		switch m.ID {
		case "done", "new":
			d.Attempts, d.DeliveredAt = 1, old.Add(time.Minute)
		case "dead":
			d.Attempts, d.Dead = 5, true
		}
		ds = append(ds, d)
	}
	if err := s.DispatchOutbox(ctx, seqs, ds); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneOutbox(ctx, cut)
	if err != nil || n != 2 {
		t.Fatalf("PruneOutbox = %d, %v; want done and nobody", n, err)
	}
	left, _ := s.OutboxMessages(ctx, 0, 0, false)
	equal(t, "left", messageIDs(left), []string{"open", "dead", "new", "waiting"})
	if dead, _ := s.Deliveries(ctx, store.DeliveryFilter{Dead: true}); len(dead) != 1 {
		t.Errorf("dead letters after pruning: %v", deliveryKeys(dead))
	}
}

// testOutboxLargeProduction writes a producer step of more subjects and
// messages than one statement holds, twice: every subject's state is the
// newest, and a message id already stored is kept, not doubled.
func testOutboxLargeProduction(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 457
	step := func(from, to int64, state string, ids int) {
		t.Helper()
		p := store.OutboxProduction{Cursor: "producer", From: from, To: to, Subjects: map[string][]byte{}}
		for i := range n {
			p.Subjects[fmt.Sprintf("s%03d", i)] = []byte(fmt.Sprintf(`{"v":%q,"i":%d}`, state, i))
		}
		for i := range ids {
			p.Messages = append(p.Messages, outMsg(fmt.Sprintf("m%04d", i), fmt.Sprintf("s%03d", i%n), "points.changed", base))
		}
		if err := s.ProduceOutbox(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	step(0, 10, "old", n)
	step(10, 20, "new", n+250) // the first n ids again, 250 more
	subj, err := s.OutboxSubjects(ctx)
	if err != nil || len(subj) != n {
		t.Fatalf("OutboxSubjects: %d subjects, %v; want %d", len(subj), err, n)
	}
	for i := range n {
		if want := fmt.Sprintf(`{"v":"new","i":%d}`, i); string(subj[fmt.Sprintf("s%03d", i)]) != want {
			t.Fatalf("subject s%03d = %s, want %s", i, subj[fmt.Sprintf("s%03d", i)], want)
		}
	}
	msgs, err := s.OutboxMessages(ctx, 0, 10000, false)
	if err != nil || len(msgs) != n+250 {
		t.Fatalf("OutboxMessages: %d, %v; want %d (each id once)", len(msgs), err, n+250)
	}
	if at, _ := s.OutboxCursor(ctx, "producer"); at != 20 {
		t.Errorf("cursor at %d, want 20", at)
	}
}

// testOutboxDispatchesManyAtOnce dispatches more messages in one call than
// a store may put in one statement: every one is dispatched, and only they.
func testOutboxDispatchesManyAtOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	var msgs []store.OutboxMessage
	for i := range 1203 {
		msgs = append(msgs, outMsg(fmt.Sprintf("m%04d", i), fmt.Sprintf("s%d", i%7), "t", base))
	}
	if err := s.EnqueueOutbox(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	pending := func() []store.OutboxMessage {
		var all []store.OutboxMessage
		for after := int64(0); ; {
			page, err := s.OutboxMessages(ctx, after, 500, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				return all
			}
			all = append(all, page...)
			after = page[len(page)-1].Seq
		}
	}
	stored := pending()
	if len(stored) != len(msgs) {
		t.Fatalf("stored %d pending messages, want %d", len(stored), len(msgs))
	}
	var seqs []int64
	for _, m := range stored[:1201] {
		seqs = append(seqs, m.Seq)
	}
	if err := s.DispatchOutbox(ctx, seqs, nil); err != nil {
		t.Fatal(err)
	}
	equal(t, "still pending", messageIDs(pending()), messageIDs(stored[1201:]))
}

// testOutboxDispatchesNowhere marks messages up to a Seq dispatched with
// no deliveries, and leaves later ones and their deliveries alone.
func testOutboxDispatchesNowhere(t *testing.T, s store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	var msgs []store.OutboxMessage
	for i := range 5 {
		msgs = append(msgs, outMsg(fmt.Sprintf("nowhere-%d", i), "member:n", "points.changed", base))
	}
	if err := s.EnqueueOutbox(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	stored, err := s.OutboxMessages(ctx, 0, 100, true)
	if err != nil || len(stored) != 5 {
		t.Fatalf("pending: %d, %v", len(stored), err)
	}
	if err := s.DispatchOutbox(ctx, []int64{stored[0].Seq}, nil); err != nil {
		t.Fatal(err)
	}
	n, err := s.DispatchOutboxNowhere(ctx, stored[2].Seq)
	if err != nil || n != 2 {
		t.Fatalf("DispatchOutboxNowhere marked %d (%v), want the 2 pending up to the third", n, err)
	}
	pending, err := s.OutboxMessages(ctx, 0, 100, true)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "still pending", messageIDs(pending), messageIDs(stored[3:]))
	ds, err := s.Deliveries(ctx, store.DeliveryFilter{})
	if err != nil || len(ds) != 0 {
		t.Fatalf("deliveries: %d, %v; want none", len(ds), err)
	}
	if n, err := s.DispatchOutboxNowhere(ctx, math.MaxInt64); err != nil || n != 2 {
		t.Fatalf("DispatchOutboxNowhere marked %d (%v), want the last 2", n, err)
	}
}

// testOutboxProduceCanceledWritesNothing checks that a step whose context
// has ended fails and leaves the cursor, the states and the messages as
// they were.
func testOutboxProduceCanceledWritesNothing(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := store.OutboxProduction{Cursor: "producer", From: 0, To: 1,
		Subjects: map[string][]byte{"member:a": []byte(`{"step":1}`)},
		Messages: []store.OutboxMessage{outMsg("c1", "member:a", "points.changed", base)}}
	if err := s.ProduceOutbox(ctx, p); err == nil {
		t.Fatal("ProduceOutbox with an ended context: no error")
	}
	bg := context.Background()
	if at, err := s.OutboxCursor(bg, "producer"); err != nil || at != 0 {
		t.Errorf("cursor = %d, %v; want 0", at, err)
	}
	if states, err := s.OutboxSubjects(bg); err != nil || len(states) != 0 {
		t.Errorf("states = %q, %v; want none", states, err)
	}
	if ms, err := s.OutboxMessages(bg, 0, 100, false); err != nil || len(ms) != 0 {
		t.Errorf("%d messages, %v; want none", len(ms), err)
	}
	// The same step with a live context goes through.
	if err := s.ProduceOutbox(bg, p); err != nil {
		t.Fatal(err)
	}
	if at, err := s.OutboxCursor(bg, "producer"); err != nil || at != 1 {
		t.Errorf("cursor after the step = %d, %v; want 1", at, err)
	}
}
