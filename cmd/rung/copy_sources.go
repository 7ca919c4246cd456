package main

import (
	"context"
	"fmt"

	"github.com/rung-dev/rung/internal/store"
)

// readSourceDeliveries reads the source deliveries kept for replay, oldest
// first, for readFacts.
func readSourceDeliveries(ctx context.Context, st store.Store, size int, fn func(*chunk) error) error {
	ds, err := st.ListSourceDeliveries(ctx, store.DeliveryFilter{Limit: -1})
	if err != nil {
		return err
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	for len(ds) > 0 {
		n := min(size, len(ds))
		if err := fn(&chunk{deliveries: ds[:n]}); err != nil {
			return err
		}
		ds = ds[n:]
	}
	return nil
}

// writeSourceDeliveries writes the deliveries of ch as they are.
func (c *copyRun) writeSourceDeliveries(ctx context.Context, ch *chunk) error {
	for _, d := range ch.deliveries {
		if err := c.dst.PutSourceDelivery(ctx, d); err != nil {
			return fmt.Errorf("source delivery %s: %w", d.ID, err)
		}
	}
	return nil
}

// countSourceDeliveries says how many source deliveries st holds, for
// checkEmpty.
func countSourceDeliveries(ctx context.Context, st store.Store) (int, error) {
	ds, err := st.ListSourceDeliveries(ctx, store.DeliveryFilter{Limit: -1})
	return len(ds), err
}
