// Package outbox reports what happens in Rung to the outside world,
// reliably: badges awarded and revoked, level and points changes, tier
// changes, challenge results, registration decisions and nudges go out as
// signed webhooks, and partners' tier, points, level and badges are written
// back to HubSpot companies or Salesforce accounts.
//
// Every message is first written to the transactional outbox in the store,
// in the same transaction as the state it reports, with a deterministic ID.
// Derived state (points, badges, levels) is reported by the Producer, which
// compares the engine's state with what it reported last and writes the
// differences together with its cursor; manual actions write their message
// with the action (Batch.Outbox, Registration.Outbox). The Deliverer then
// delivers each message to every endpoint that wants it, in order per
// subject, with retries and exponential backoff, and dead-letters what
// still fails after the retry budget. Only the instance that leads the job
// runner produces and delivers (Worker).
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// Message types.
const (
	PointsChanged       = "points.changed"
	BadgeAwarded        = "badge.awarded"
	BadgeRevoked        = "badge.revoked"
	LevelChanged        = "level.changed"
	TierChanged         = "tier.changed"
	ChallengeFinished   = "challenge.finished"
	RegistrationUpdated = "registration.updated"
	Nudge               = "nudge"
	// CRMSync carries a partner's state to the CRM write-back endpoints;
	// webhooks never receive it.
	CRMSync = "crm.sync"
)

// Types are the message types a webhook can subscribe to.
var Types = []string{PointsChanged, BadgeAwarded, BadgeRevoked, LevelChanged, TierChanged, ChallengeFinished, RegistrationUpdated, Nudge}

// Public reports whether t is a type webhooks receive.
func Public(t string) bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// Subject names whom a message is about; messages of one subject are
// delivered in order.
func Subject(kind, id string) string { return kind + ":" + id }

// New returns a message ready for the outbox. id must be deterministic —
// the same action gives the same id — so that writing it twice (a retry,
// a crash and restart) is a no-op and receivers can deduplicate; build it
// from the action's own identity, e.g. "tier.changed:partner:p1:2026Q3".
// subject is who it is about (Subject("partner", id)); payload is
// marshalled to a JSON object.
func New(typ, subject, id string, payload any, at time.Time) (store.OutboxMessage, error) {
	if !Public(typ) && typ != CRMSync {
		return store.OutboxMessage{}, rung.Errorf(rung.EINVALID, "outbox message type %q is not one of %v", typ, Types)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("outbox message %s: %w", id, err)
	}
	m := store.OutboxMessage{ID: id, Subject: subject, Type: typ, Payload: b, CreatedAt: at.UTC()}
	return m, store.CheckOutboxMessage(m)
}

// Emit writes messages to the outbox on their own. Prefer writing them in
// the transaction of the action they report — append them to a
// store.Batch's Outbox, or a store.Registration's Outbox — so that the
// action and its message are stored together or not at all; Emit is for
// messages that report nothing stored, such as a nudge.
func Emit(ctx context.Context, st store.Outbox, msgs ...store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	return st.EnqueueOutbox(ctx, msgs)
}

// RegistrationMessage is the registration.updated message of a
// registration's version: r as it is after the change, Version included.
// The registration desk attaches it to the update (r.Outbox) so that it is
// stored in the update's transaction.
func RegistrationMessage(r store.Registration) (store.OutboxMessage, error) {
	payload := map[string]any{
		"id": r.ID, "kind": r.Kind, "partner": r.Partner, "member": r.Member, "company_name": r.CompanyName,
		"company_domain": r.CompanyDomain, "status": r.Status, "reason": r.Reason, "version": r.Version,
		"updated_at": r.UpdatedAt.UTC(), "protected_until": nullTime(r.ProtectedUntil),
	}
	if n := len(r.History); n > 0 {
		payload["by"] = r.History[n-1].By
		payload["previous_status"] = r.History[n-1].From
	}
	return New(RegistrationUpdated, Subject("registration", r.ID), fmt.Sprintf("%s:%s:v%d", RegistrationUpdated, r.ID, r.Version), payload, r.UpdatedAt)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
