package store

import (
	"context"
	"time"

	"github.com/rung-dev/rung"
)

// ChangeRedemption is the change feed's kind for a redemption requested or
// decided (Key: the redemption id).
const ChangeRedemption ChangeKind = "redemption"

// RedemptionFilter selects redemptions; zero fields match everything.
type RedemptionFilter struct {
	Partner string
	// Partners, when not nil, keeps the redemptions of these partners
	// only (none when empty): a manager's book.
	Partners []string
	Member   string
	Reward   string
	Status   string
	// Oldest lists the oldest request first (a queue) instead of the
	// newest.
	Oldest bool
	Offset int // how many to skip, in the order listed
	Limit  int // 0: all
}

// Redemptions keeps the rewards redemptions (SPEC §4 Rewards), the manual
// actions that hold and spend points.
type Redemptions interface {
	// Redeem stores a new pending redemption when check, called inside the
	// transaction, accepts it. check gets every pending or fulfilled
	// redemption of r.Partner or of r.Reward as the database holds them,
	// and no other redemption can be stored or decided until Redeem
	// returns, on any instance sharing the database: so a balance, stock
	// or per-member limit checked there cannot be overspent by requests at
	// the same time. An error from check is returned as it is and nothing
	// is stored. A redemption id already taken is ECONFLICT.
	Redeem(ctx context.Context, r rung.Redemption, check func(held []rung.Redemption) error) error
	// DecideRedemption moves a pending redemption to fulfilled or rejected
	// at t, by whom and why, and returns it. ENOTFOUND for an unknown id;
	// ECONFLICT when it was decided already.
	DecideRedemption(ctx context.Context, id, status, by, reason string, t time.Time) (rung.Redemption, error)
	// ListRedemptions returns redemptions, newest request first (oldest
	// first with f.Oldest).
	ListRedemptions(ctx context.Context, f RedemptionFilter) ([]rung.Redemption, error)
	// CountRedemptions counts the redemptions f selects (its Offset and
	// Limit aside).
	CountRedemptions(ctx context.Context, f RedemptionFilter) (int, error)
	// RedemptionsByID returns the redemptions that exist, in no set order.
	RedemptionsByID(ctx context.Context, ids []string) ([]rung.Redemption, error)
	// PutRedemption stores a redemption as it is, decided or not, for
	// `rung copy`; an id already taken is ECONFLICT.
	PutRedemption(ctx context.Context, r rung.Redemption) error
}
