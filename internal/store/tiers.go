package store

import (
	"context"
	"time"
)

// ChangeTier is the change feed's kind for recorded tier actions; Key is
// the record's kind. Followers read the tier records again.
const ChangeTier ChangeKind = "tier"

// The kinds of tier record.
const (
	TierDecision = "decision" // a published review decision; ID "decision:<quarter>:<partner>"
	TierOverride = "override" // an admin's override of a partner's tier
	TierAppeal   = "appeal"   // a partner's appeal of a decision and its answer
	TierNudge    = "nudge"    // a partner nears its next tier; ID "nudge:<partner>:<tier>:<quarter>"
)

// TierRecord is one recorded tier action: the manual actions tiers are
// derived from (decisions, overrides, appeals) and the nudges handed to
// notifications. Body is the action as JSON, opaque to the store.
type TierRecord struct {
	ID      string
	Kind    string
	Partner string
	Quarter string
	State   string // appeals: open, upheld, overturned; "" for the others
	At      time.Time
	Body    []byte
}

// Tiers stores the recorded tier actions.
type Tiers interface {
	// AddTierRecords inserts records in one transaction. A record whose ID
	// is taken is left as it was: publishing a review twice, or recording
	// a nudge again, changes nothing. It returns how many were new.
	AddTierRecords(ctx context.Context, recs []TierRecord) (int, error)
	// UpdateTierRecord replaces a record's state, time and body when its
	// state is still from: ENOTFOUND for an unknown ID, ECONFLICT when the
	// state moved on (an appeal already decided).
	UpdateTierRecord(ctx context.Context, from string, rec TierRecord) error
	// TierRecords returns the records of a kind ("" for every kind),
	// ordered by At, then ID.
	TierRecords(ctx context.Context, kind string) ([]TierRecord, error)
}
