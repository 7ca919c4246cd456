package outbox_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// TestManualActionsWriteTheirMessageWithTheAction: a tier decision stored
// with its tier.changed message in one Commit, a challenge result and a
// nudge; the same decision stored again is reported once.
func TestManualActionsWriteTheirMessageWithTheAction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tier, err := outbox.TierMessage("2026Q3", outbox.TierPayload{Partner: "p1", Tier: "Select", Previous: "Registered", Reason: "review", Effective: start}, start)
	if err != nil {
		t.Fatal(err)
	}
	audit := rung.AuditEntry{At: start, Actor: "review", Action: "tier.decide", Target: "p1", Detail: "Select"}
	for range 2 {
		if err := f.st.Commit(ctx, &store.Batch{Audit: []rung.AuditEntry{audit}, Outbox: []store.OutboxMessage{tier}}); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := outbox.ChallengeMessage(outbox.ChallengePayload{Challenge: "q4-sprint", Ended: start,
		Results: []outbox.ChallengeSpot{{Rank: 1, Subject: "p1", Kind: "partner", Value: 12}}}, start)
	if err != nil {
		t.Fatal(err)
	}
	nudge, err := outbox.NudgeMessage("Select:2026Q4", outbox.NudgePayload{Subject: "p1", Kind: "partner", Toward: "Select", Missing: 2}, start)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Emit(ctx, f.st, ch, nudge, nudge); err != nil {
		t.Fatal(err)
	}
	ms := messages(t, f.st)
	want := []string{"tier.changed:partner:p1:2026Q3", "challenge.finished:challenge:q4-sprint", "nudge:partner:p1:Select:2026Q4"}
	if got := idsOf(ms); !reflect.DeepEqual(got, want) {
		t.Fatalf("messages %v, want %v", got, want)
	}
	var tp outbox.TierPayload
	json.Unmarshal(ms[0].Payload, &tp)
	if tp.Tier != "Select" || tp.Previous != "Registered" || ms[0].Type != outbox.TierChanged || ms[0].Subject != "partner:p1" {
		t.Errorf("tier.changed = %+v %+v", ms[0], tp)
	}
}
