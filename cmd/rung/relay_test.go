package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// TestRelayHandsOnNudgesChallengesAndTierChanges loads the demo in
// December 2026, when its November sprint is final, and checks the relay
// writes the sprint's result and this quarter's nudges to the outbox and
// to notifications, a tier.changed message becomes the partner's
// notification, and handing everything on again sends nothing twice.
func TestRelayHandsOnNudgesChallengesAndTierChanges(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	log := slog.New(slog.DiscardHandler)
	svc, err := service.Open(ctx, st, service.Options{Logger: log, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	if _, _, err := loadDemo(ctx, svc, demo.Options{Seed: 3, Partners: 40, Members: 200, Months: 12, Now: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordNudges(ctx); err != nil {
		t.Fatal(err)
	}
	notes := notify.New(svc, notify.Options{Mail: &notify.Mailbox{}, From: "p@acme.example", BaseURL: "http://127.0.0.1", Logger: log})
	rl := &relay{svc: svc, notes: notes, log: log}

	count := func() (msgs map[string]int, kinds map[string]int) {
		t.Helper()
		ms, err := st.OutboxMessages(ctx, 0, 100000, false)
		if err != nil {
			t.Fatal(err)
		}
		msgs = map[string]int{}
		for _, m := range ms {
			msgs[m.Type]++
		}
		ns, err := st.ListNotifications(ctx, store.NotificationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		kinds = map[string]int{}
		for _, n := range ns {
			kinds[n.Kind]++
		}
		return msgs, kinds
	}
	if err := rl.step(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, kinds := count()
	if msgs[outbox.ChallengeFinished] == 0 || kinds[notify.KindChallengeResult] == 0 {
		t.Errorf("the final sprint: %d challenge.finished messages, %d challenge_result notifications; want both", msgs[outbox.ChallengeFinished], kinds[notify.KindChallengeResult])
	}
	if kinds[notify.KindChallengeStart] != 0 {
		t.Errorf("December: %d challenge_start notifications for a sprint that ended in November", kinds[notify.KindChallengeStart])
	}
	nudges, err := svc.Nudges(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	quarter := 0
	for _, n := range nudges {
		if n.Quarter == "2026-Q4" {
			quarter++
		}
	}
	if quarter == 0 {
		t.Fatalf("the demo has no nudge this quarter: the test checks nothing")
	}
	if msgs[outbox.Nudge] != quarter || kinds[notify.KindNudge] != quarter {
		t.Errorf("nudges: %d messages and %d notifications, want one each for the quarter's %d", msgs[outbox.Nudge], kinds[notify.KindNudge], quarter)
	}

	payload, _ := json.Marshal(outbox.LevelPayload{Subject: "acct-0001", Kind: "partner", Level: "Elite", Previous: "Select"})
	rl.afterProduce(ctx, []store.OutboxMessage{
		{ID: "tier.changed:partner:acct-0001:7", Type: outbox.TierChanged, Payload: payload},
		{ID: "points.changed:member:x:7", Type: outbox.PointsChanged, Payload: []byte(`{}`)},
	})
	_, kinds = count()
	if kinds[notify.KindTierChange] != 1 {
		t.Errorf("a tier.changed message: %d tier_change notifications, want 1", kinds[notify.KindTierChange])
	}

	// Again: the same causes, the same ids, nothing new; this process
	// does not even write them again.
	if n, err := rl.handOn(ctx); err != nil || n != 0 {
		t.Fatalf("the next minute handed on %d messages and notifications (%v), want 0", n, err)
	}
	// A new process writes them again, and the ids keep them single.
	rl = &relay{svc: svc, notes: notes, log: log}
	if n, err := rl.handOn(ctx); err != nil || n == 0 {
		t.Fatalf("a new process handed on %d (%v), want everything again", n, err)
	}
	rl.afterProduce(ctx, []store.OutboxMessage{{ID: "tier.changed:partner:acct-0001:7", Type: outbox.TierChanged, Payload: payload}})
	msgs2, kinds2 := count()
	if msgs2[outbox.Nudge] != msgs[outbox.Nudge] || msgs2[outbox.ChallengeFinished] != msgs[outbox.ChallengeFinished] ||
		kinds2[notify.KindNudge] != kinds[notify.KindNudge] || kinds2[notify.KindTierChange] != 1 || kinds2[notify.KindChallengeResult] != kinds[notify.KindChallengeResult] {
		t.Errorf("handing on again added messages or notifications: %v %v, before %v %v", msgs2, kinds2, msgs, kinds)
	}
}

// TestRelayAnnouncesAChallengeInItsFirstWeek loads the demo on 3 November
// 2026, two days into its November sprint: every partner is told once.
func TestRelayAnnouncesAChallengeInItsFirstWeek(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	log := slog.New(slog.DiscardHandler)
	svc, err := service.Open(ctx, st, service.Options{Logger: log, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	if _, _, err := loadDemo(ctx, svc, demo.Options{Seed: 3, Partners: 12, Members: 60, Months: 3, Now: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	notes := notify.New(svc, notify.Options{Mail: &notify.Mailbox{}, From: "p@acme.example", BaseURL: "http://127.0.0.1", Logger: log})
	rl := &relay{svc: svc, notes: notes, log: log}
	for range 2 {
		if err := rl.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := st.ListNotifications(ctx, store.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, n := range ns {
		if n.Kind == notify.KindChallengeStart {
			per[n.Partner]++
		}
	}
	if len(per) != 12 {
		t.Errorf("challenge_start reached %d partners, want all 12", len(per))
	}
	for p, k := range per {
		if k != 1 {
			t.Errorf("partner %s told %d times", p, k)
		}
	}
}
