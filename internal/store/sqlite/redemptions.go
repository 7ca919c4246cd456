package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

const redemptionColumns = `id, reward, partner, member, points, status, requested_at, requested_by, decided_at, decided_by, reason`

// Redeem stores a pending redemption when check accepts it. SQLite has one
// writing connection whose transactions begin IMMEDIATE, and one process
// holds the database, so the check and the insert are serialized with
// every other write.
func (s *Store) Redeem(ctx context.Context, r rung.Redemption, check func(held []rung.Redemption) error) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.inFeed(ctx, store.ChangeRedemption, r.ID, func(tx *sql.Tx) (bool, error) {
		held, err := queryRedemptions(ctx, tx, `SELECT `+redemptionColumns+` FROM redemptions
			WHERE status != 'rejected' AND (partner = ? OR reward = ?) ORDER BY requested_at, id`, r.Partner, r.Reward)
		if err != nil {
			return false, err
		}
		if err := check(held); err != nil {
			return false, err
		}
		return true, insertRedemption(ctx, tx, r)
	})
}

// PutRedemption stores a redemption as it is.
func (s *Store) PutRedemption(ctx context.Context, r rung.Redemption) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.inFeed(ctx, store.ChangeRedemption, r.ID, func(tx *sql.Tx) (bool, error) {
		return true, insertRedemption(ctx, tx, r)
	})
}

func insertRedemption(ctx context.Context, tx *sql.Tx, r rung.Redemption) error {
	requested, err := store.UnixNanos(r.RequestedAt)
	if err != nil {
		return err
	}
	if requested == nil {
		return rung.Errorf(rung.EINVALID, "redemption %q has no requested_at", r.ID)
	}
	decided, err := store.UnixNanos(r.DecidedAt)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO redemptions (`+redemptionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Reward, r.Partner, r.Member, r.Points, r.Status, requested, r.RequestedBy, decided, r.DecidedBy, r.Reason)
	if isConstraint(err) {
		return rung.Errorf(rung.ECONFLICT, "redemption %s exists already, or is not valid (points must be positive, status pending, fulfilled or rejected)", r.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: store redemption: %w", err)
	}
	return nil
}

// DecideRedemption moves a pending redemption to fulfilled or rejected.
func (s *Store) DecideRedemption(ctx context.Context, id, status, by, reason string, t time.Time) (rung.Redemption, error) {
	if err := s.writable(); err != nil {
		return rung.Redemption{}, err
	}
	if status != rung.RedemptionFulfilled && status != rung.RedemptionRejected {
		return rung.Redemption{}, rung.Errorf(rung.EINVALID, "a redemption is decided fulfilled or rejected, not %q", status)
	}
	at, err := store.UnixNanos(t)
	if err != nil {
		return rung.Redemption{}, err
	}
	var out rung.Redemption
	err = s.inFeed(ctx, store.ChangeRedemption, id, func(tx *sql.Tx) (bool, error) {
		rs, err := queryRedemptions(ctx, tx, `SELECT `+redemptionColumns+` FROM redemptions WHERE id = ?`, id)
		if err != nil {
			return false, err
		}
		if len(rs) == 0 {
			return false, rung.Errorf(rung.ENOTFOUND, "redemption %q not found", id)
		}
		if rs[0].Status != rung.RedemptionPending {
			return false, rung.Errorf(rung.ECONFLICT, "redemption %s was %s already; only a pending redemption can be decided", id, rs[0].Status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE redemptions SET status = ?, decided_at = ?, decided_by = ?, reason = ? WHERE id = ?`,
			status, at, by, reason, id); err != nil {
			return false, fmt.Errorf("sqlite: decide redemption: %w", err)
		}
		out = rs[0]
		out.Status, out.DecidedAt, out.DecidedBy, out.Reason = status, t.UTC(), by, reason
		return true, nil
	})
	return out, err
}

// redemptionWhere is the WHERE clause (with its leading space, "" for
// none) and arguments of a filter.
func redemptionWhere(f store.RedemptionFilter) (string, []any) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"partner", f.Partner}, {"member", f.Member}, {"reward", f.Reward}, {"status", f.Status}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.Partners != nil {
		if len(f.Partners) == 0 {
			where = append(where, "0")
		} else {
			where = append(where, "partner IN (?"+strings.Repeat(", ?", len(f.Partners)-1)+")")
			for _, p := range f.Partners {
				args = append(args, p)
			}
		}
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListRedemptions returns redemptions, newest request first (oldest first
// with f.Oldest).
func (s *Store) ListRedemptions(ctx context.Context, f store.RedemptionFilter) ([]rung.Redemption, error) {
	where, args := redemptionWhere(f)
	q := `SELECT ` + redemptionColumns + ` FROM redemptions` + where
	if f.Oldest {
		q += ` ORDER BY requested_at, id`
	} else {
		q += ` ORDER BY requested_at DESC, id DESC`
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	if f.Offset > 0 {
		if f.Limit <= 0 {
			q += ` LIMIT -1`
		}
		q += fmt.Sprintf(` OFFSET %d`, f.Offset)
	}
	return queryRedemptions(ctx, s.read, q, args...)
}

// CountRedemptions counts the redemptions a filter selects.
func (s *Store) CountRedemptions(ctx context.Context, f store.RedemptionFilter) (int, error) {
	where, args := redemptionWhere(f)
	q := `SELECT count(*) FROM redemptions` + where
	var n int
	if err := s.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count redemptions: %w", err)
	}
	return n, nil
}

// RedemptionsByID returns the redemptions that exist.
func (s *Store) RedemptionsByID(ctx context.Context, ids []string) ([]rung.Redemption, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q := `SELECT ` + redemptionColumns + ` FROM redemptions WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return queryRedemptions(ctx, s.read, q, args...)
}

func queryRedemptions(ctx context.Context, q querier, query string, args ...any) ([]rung.Redemption, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: redemptions: %w", err)
	}
	defer rows.Close()
	out := []rung.Redemption{}
	for rows.Next() {
		var r rung.Redemption
		var requested, decided sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Reward, &r.Partner, &r.Member, &r.Points, &r.Status, &requested, &r.RequestedBy, &decided, &r.DecidedBy, &r.Reason); err != nil {
			return nil, fmt.Errorf("sqlite: redemptions: %w", err)
		}
		r.RequestedAt, r.DecidedAt = store.TimeFromNanos(requested), store.TimeFromNanos(decided)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: redemptions: %w", err)
	}
	return out, nil
}
