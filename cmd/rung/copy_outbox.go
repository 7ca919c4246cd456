package main

import (
	"context"
	"fmt"

	"github.com/rung-dev/rung/internal/store"
)

// readOutbox reads the whole outbox as one chunk, when it holds anything.
func readOutbox(ctx context.Context, st store.Store, fn func(*chunk) error) error {
	d, err := st.ExportOutbox(ctx)
	if err != nil {
		return err
	}
	if d.Rows() == 0 {
		return nil
	}
	return fn(&chunk{outbox: &d})
}

// writeOutbox stores a read outbox into the copy.
func writeOutbox(ctx context.Context, dst store.Store, d *store.OutboxDump) error {
	if d == nil {
		return nil
	}
	if err := dst.ImportOutbox(ctx, *d); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// addOutbox hashes the outbox without the Seqs, which a copy may renumber
// (in the same order).
func (t *tally) addOutbox(d *store.OutboxDump) error {
	if d == nil {
		return nil
	}
	c := *d
	c.Messages = append([]store.OutboxMessage(nil), d.Messages...)
	for i := range c.Messages {
		c.Messages[i].Seq = 0
	}
	c.Deliveries = append([]store.Delivery(nil), d.Deliveries...)
	for i := range c.Deliveries {
		c.Deliveries[i].Message = store.OutboxMessage{ID: c.Deliveries[i].Message.ID}
	}
	if err := t.putJSON(kindOutbox, c); err != nil {
		return err
	}
	t.n[kindOutbox] += d.Rows()
	return nil
}
