package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

const redemptionColumns = `id, reward, partner, member, points, status, requested_at, requested_by, decided_at, decided_by, reason`

// checkViolation is PostgreSQL's code for a CHECK constraint that failed.
const checkViolation = "23514"

// Redeem stores a pending redemption when check accepts it. The
// transaction takes the event log's advisory lock (as every write to the
// change feed does) before it reads the held redemptions, so redemptions
// and decisions are serialized across every instance sharing the
// database: two requests at once cannot both spend the same points or the
// last item of stock.
func (s *Store) Redeem(ctx context.Context, r rung.Redemption, check func(held []rung.Redemption) error) error {
	return s.inFeed(ctx, store.ChangeRedemption, r.ID, func(tx pgx.Tx) (bool, error) {
		held, err := queryRedemptions(ctx, tx, `SELECT `+redemptionColumns+` FROM redemptions
			WHERE status != 'rejected' AND (partner = $1 OR reward = $2) ORDER BY requested_at, id`, r.Partner, r.Reward)
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
	return s.inFeed(ctx, store.ChangeRedemption, r.ID, func(tx pgx.Tx) (bool, error) {
		return true, insertRedemption(ctx, tx, r)
	})
}

func insertRedemption(ctx context.Context, tx pgx.Tx, r rung.Redemption) error {
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
	_, err = tx.Exec(ctx, `INSERT INTO redemptions (`+redemptionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.Reward, r.Partner, r.Member, r.Points, r.Status, requested, r.RequestedBy, decided, r.DecidedBy, r.Reason)
	if isCode(err, uniqueViolation, checkViolation) {
		return rung.Errorf(rung.ECONFLICT, "redemption %s exists already, or is not valid (points must be positive, status pending, fulfilled or rejected)", r.ID)
	}
	if err != nil {
		return userError(err, "store redemption %q", r.ID)
	}
	return nil
}

// DecideRedemption moves a pending redemption to fulfilled or rejected.
func (s *Store) DecideRedemption(ctx context.Context, id, status, by, reason string, t time.Time) (rung.Redemption, error) {
	if status != rung.RedemptionFulfilled && status != rung.RedemptionRejected {
		return rung.Redemption{}, rung.Errorf(rung.EINVALID, "a redemption is decided fulfilled or rejected, not %q", status)
	}
	at, err := store.UnixNanos(t)
	if err != nil {
		return rung.Redemption{}, err
	}
	var out rung.Redemption
	err = s.inFeed(ctx, store.ChangeRedemption, id, func(tx pgx.Tx) (bool, error) {
		rs, err := queryRedemptions(ctx, tx, `SELECT `+redemptionColumns+` FROM redemptions WHERE id = $1`, id)
		if err != nil {
			return false, err
		}
		if len(rs) == 0 {
			return false, rung.Errorf(rung.ENOTFOUND, "redemption %q not found", id)
		}
		if rs[0].Status != rung.RedemptionPending {
			return false, rung.Errorf(rung.ECONFLICT, "redemption %s was %s already; only a pending redemption can be decided", id, rs[0].Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE redemptions SET status = $1, decided_at = $2, decided_by = $3, reason = $4 WHERE id = $5`,
			status, at, by, reason, id); err != nil {
			return false, userError(err, "decide redemption %q", id)
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
			args = append(args, c.v)
			where = append(where, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	if f.Partners != nil {
		args = append(args, f.Partners)
		where = append(where, fmt.Sprintf("partner = ANY($%d)", len(args)))
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
			q += ` LIMIT ALL`
		}
		q += fmt.Sprintf(` OFFSET %d`, f.Offset)
	}
	return queryRedemptions(ctx, s.pool, q, args...)
}

// CountRedemptions counts the redemptions a filter selects.
func (s *Store) CountRedemptions(ctx context.Context, f store.RedemptionFilter) (int, error) {
	where, args := redemptionWhere(f)
	q := `SELECT count(*) FROM redemptions` + where
	var n int
	if err := s.pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count redemptions: %w", err)
	}
	return n, nil
}

// RedemptionsByID returns the redemptions that exist.
func (s *Store) RedemptionsByID(ctx context.Context, ids []string) ([]rung.Redemption, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return queryRedemptions(ctx, s.pool, `SELECT `+redemptionColumns+` FROM redemptions WHERE id = ANY($1)`, ids)
}

func queryRedemptions(ctx context.Context, q querier, query string, args ...any) ([]rung.Redemption, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, failed(err, "redemptions")
	}
	defer rows.Close()
	out := []rung.Redemption{}
	for rows.Next() {
		var r rung.Redemption
		var requested, decided sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Reward, &r.Partner, &r.Member, &r.Points, &r.Status, &requested, &r.RequestedBy, &decided, &r.DecidedBy, &r.Reason); err != nil {
			return nil, failed(err, "redemptions")
		}
		r.RequestedAt, r.DecidedAt = store.TimeFromNanos(requested), store.TimeFromNanos(decided)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, failed(err, "redemptions")
	}
	return out, nil
}
