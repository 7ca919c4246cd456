package main

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// readRedemptions reads the rewards redemptions for readFacts, oldest
// request first.
func readRedemptions(ctx context.Context, st store.Store, size int, fn func(*chunk) error) error {
	rs, err := st.ListRedemptions(ctx, store.RedemptionFilter{})
	if err != nil {
		return err
	}
	slices.SortFunc(rs, func(a, b rung.Redemption) int {
		return cmp.Or(a.RequestedAt.Compare(b.RequestedAt), strings.Compare(a.ID, b.ID))
	})
	for part := range slices.Chunk(rs, size) {
		if err := fn(&chunk{redeems: part}); err != nil {
			return err
		}
	}
	return nil
}
