package main

import (
	"context"
	"fmt"

	"github.com/rung-dev/rung/internal/store"
)

// readSourceDeliveries reads the source deliveries kept for replay, oldest
// first, then the kept record states, for readFacts.
func readSourceDeliveries(ctx context.Context, st store.Store, size int, fn func(*chunk) error) error {
	ds, err := st.ListSourceDeliveries(ctx, store.SourceDeliveryFilter{Limit: -1})
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
	rs, err := st.AllSourceRecords(ctx)
	if err != nil {
		return err
	}
	for len(rs) > 0 {
		n := min(size, len(rs))
		if err := fn(&chunk{records: rs[:n]}); err != nil {
			return err
		}
		rs = rs[n:]
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
	if len(ch.records) > 0 {
		if err := c.dst.PutSourceRecords(ctx, ch.records, nil); err != nil {
			return fmt.Errorf("source records: %w", err)
		}
	}
	return nil
}

// countSourceFacts says how many source deliveries and record states st
// holds, for checkEmpty.
func countSourceFacts(ctx context.Context, st store.Store) (deliveries, records int, err error) {
	ds, err := st.ListSourceDeliveries(ctx, store.SourceDeliveryFilter{Limit: -1})
	if err != nil {
		return 0, 0, err
	}
	rs, err := st.AllSourceRecords(ctx)
	return len(ds), len(rs), err
}
