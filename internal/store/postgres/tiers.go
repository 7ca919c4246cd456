package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// AddTierRecords inserts tier records, leaving those whose ID is taken.
func (s *Store) AddTierRecords(ctx context.Context, recs []store.TierRecord) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	ids := make([]string, len(recs))
	kinds := make([]string, len(recs))
	partners := make([]string, len(recs))
	quarters := make([]string, len(recs))
	states := make([]string, len(recs))
	ats := make([]int64, len(recs))
	bodies := make([][]byte, len(recs))
	for i, r := range recs {
		at, err := store.UnixNanos(r.At)
		if err != nil || at == nil {
			return 0, rung.Errorf(rung.EINVALID, "tier record %q: time %v is out of range", r.ID, r.At)
		}
		ids[i], kinds[i], partners[i], quarters[i], states[i], ats[i], bodies[i] = r.ID, r.Kind, r.Partner, r.Quarter, r.State, at.(int64), r.Body
	}
	added := 0
	err := s.inFeed(ctx, store.ChangeTier, recs[0].Kind, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `INSERT INTO tier_records (id, kind, partner, quarter, state, at, body)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bytea[])
			ON CONFLICT (id) DO NOTHING`, ids, kinds, partners, quarters, states, ats, bodies)
		if err != nil {
			return false, userError(err, "add tier records")
		}
		added = int(tag.RowsAffected())
		return added > 0, nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// UpdateTierRecord replaces a record whose state is still from.
func (s *Store) UpdateTierRecord(ctx context.Context, from string, r store.TierRecord) error {
	at, err := store.UnixNanos(r.At)
	if err != nil || at == nil {
		return rung.Errorf(rung.EINVALID, "tier record %q: time %v is out of range", r.ID, r.At)
	}
	return s.inFeed(ctx, store.ChangeTier, r.Kind, func(tx pgx.Tx) (bool, error) {
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM tier_records WHERE id = $1 FOR UPDATE`, r.ID).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, rung.Errorf(rung.ENOTFOUND, "tier record %q not found", r.ID)
		}
		if err != nil {
			return false, failed(err, "update tier record")
		}
		if state != from {
			return false, rung.Errorf(rung.ECONFLICT, "%s %q is %s already", r.Kind, r.ID, state)
		}
		if _, err := tx.Exec(ctx, `UPDATE tier_records SET state = $1, at = $2, body = $3 WHERE id = $4`, r.State, at, r.Body, r.ID); err != nil {
			return false, userError(err, "update tier record %q", r.ID)
		}
		return true, nil
	})
}

// TierRecords returns the tier records of a kind ("" for all).
func (s *Store) TierRecords(ctx context.Context, kind string) ([]store.TierRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, partner, quarter, state, at, body FROM tier_records
		WHERE $1 = '' OR kind = $1 ORDER BY at, id COLLATE "C"`, kind)
	if err != nil {
		return nil, failed(err, "tier records")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.TierRecord, error) {
		var r store.TierRecord
		var at sql.NullInt64
		err := row.Scan(&r.ID, &r.Kind, &r.Partner, &r.Quarter, &r.State, &at, &r.Body)
		r.At = store.TimeFromNanos(at)
		return r, err
	})
	if err != nil {
		return nil, failed(err, "tier records")
	}
	if out == nil {
		out = []store.TierRecord{}
	}
	return out, nil
}
