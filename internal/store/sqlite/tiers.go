package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// AddTierRecords inserts tier records, leaving those whose ID is taken.
func (s *Store) AddTierRecords(ctx context.Context, recs []store.TierRecord) (int, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, nil
	}
	added := 0
	err := s.inFeed(ctx, store.ChangeTier, recs[0].Kind, func(tx *sql.Tx) (bool, error) {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO tier_records (id, kind, partner, quarter, state, at, body)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return false, fmt.Errorf("sqlite: add tier records: %w", err)
		}
		defer stmt.Close()
		for _, r := range recs {
			at, err := store.UnixNanos(r.At)
			if err != nil || at == nil {
				return false, rung.Errorf(rung.EINVALID, "tier record %q: time %v is out of range", r.ID, r.At)
			}
			res, err := stmt.ExecContext(ctx, r.ID, r.Kind, r.Partner, r.Quarter, r.State, at, r.Body)
			if err != nil {
				return false, fmt.Errorf("sqlite: add tier record %q: %w", r.ID, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
			}
		}
		return added > 0, nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// UpdateTierRecord replaces a record whose state is still from.
func (s *Store) UpdateTierRecord(ctx context.Context, from string, r store.TierRecord) error {
	if err := s.writable(); err != nil {
		return err
	}
	at, err := store.UnixNanos(r.At)
	if err != nil || at == nil {
		return rung.Errorf(rung.EINVALID, "tier record %q: time %v is out of range", r.ID, r.At)
	}
	return s.inFeed(ctx, store.ChangeTier, r.Kind, func(tx *sql.Tx) (bool, error) {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM tier_records WHERE id = ?`, r.ID).Scan(&state)
		if err == sql.ErrNoRows {
			return false, rung.Errorf(rung.ENOTFOUND, "tier record %q not found", r.ID)
		}
		if err != nil {
			return false, fmt.Errorf("sqlite: update tier record: %w", err)
		}
		if state != from {
			return false, rung.Errorf(rung.ECONFLICT, "%s %q is %s already", r.Kind, r.ID, state)
		}
		_, err = tx.ExecContext(ctx, `UPDATE tier_records SET state = ?, at = ?, body = ? WHERE id = ?`, r.State, at, r.Body, r.ID)
		if err != nil {
			return false, fmt.Errorf("sqlite: update tier record: %w", err)
		}
		return true, nil
	})
}

// TierRecords returns the tier records of a kind ("" for all).
func (s *Store) TierRecords(ctx context.Context, kind string) ([]store.TierRecord, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, kind, partner, quarter, state, at, body FROM tier_records
		WHERE ? = '' OR kind = ? ORDER BY at, id`, kind, kind)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tier records: %w", err)
	}
	defer rows.Close()
	out := []store.TierRecord{}
	for rows.Next() {
		var r store.TierRecord
		var at sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Kind, &r.Partner, &r.Quarter, &r.State, &at, &r.Body); err != nil {
			return nil, fmt.Errorf("sqlite: tier records: %w", err)
		}
		r.At = store.TimeFromNanos(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
