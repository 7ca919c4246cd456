package rung

import "time"

// Redemption states (SPEC §4 Rewards): a redemption holds its points while
// pending, spends them when fulfilled, and gives them back when rejected.
const (
	RedemptionPending   = "pending"
	RedemptionFulfilled = "fulfilled"
	RedemptionRejected  = "rejected"
)

// Redemption is a request to exchange points for a catalog reward: a
// recorded manual action, like an Adjustment. Member is the member whose
// points are spent; it is empty for a partner reward, which spends the
// partner's points. RequestedBy is who asked (a member or an account).
type Redemption struct {
	ID          string    `json:"id"`
	Reward      string    `json:"reward"`
	Partner     string    `json:"partner"`
	Member      string    `json:"member,omitempty"`
	Points      int64     `json:"points"`
	Status      string    `json:"status"`
	RequestedAt time.Time `json:"requested_at"`
	RequestedBy string    `json:"requested_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	DecidedBy   string    `json:"decided_by,omitempty"`
	Reason      string    `json:"reason,omitempty"`
}

// Holds reports whether the redemption holds or spends its points at t:
// it was requested by then and not rejected by then.
func (r *Redemption) Holds(t time.Time) bool {
	if r.RequestedAt.After(t) {
		return false
	}
	return r.Status != RedemptionRejected || r.DecidedAt.After(t)
}

// StatusAt returns the redemption's status as it stood at t ("" before it
// was requested).
func (r *Redemption) StatusAt(t time.Time) string {
	switch {
	case r.RequestedAt.After(t):
		return ""
	case r.Status != RedemptionPending && r.DecidedAt.After(t):
		return RedemptionPending
	}
	return r.Status
}
