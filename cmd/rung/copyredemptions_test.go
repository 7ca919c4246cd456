package main

import (
	"context"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// addRedemptions stores a redemption in each state: pending, fulfilled and
// rejected.
func addRedemptions(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	for i, status := range []string{rung.RedemptionPending, rung.RedemptionFulfilled, rung.RedemptionRejected} {
		r := rung.Redemption{ID: "rd-" + status, Reward: "mug", Partner: "p1", Member: "peter", Points: int64(10 * (i + 1)),
			Status: rung.RedemptionPending, RequestedAt: now.Add(-time.Duration(i+1) * time.Hour), RequestedBy: "member:peter"}
		if err := st.Redeem(ctx, r, func([]rung.Redemption) error { return nil }); err != nil {
			t.Fatalf("redeem: %v", err)
		}
		if status != rung.RedemptionPending {
			if _, err := st.DecideRedemption(ctx, r.ID, status, "admin", "test", now.Add(-time.Minute)); err != nil {
				t.Fatalf("decide: %v", err)
			}
		}
	}
}
