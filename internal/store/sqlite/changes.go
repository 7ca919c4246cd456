package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// Shared reports false: one process uses a SQLite database (it holds the
// lock file), so there are no other instances to follow.
func (s *Store) Shared() bool { return false }

// insertChanges appends the change feed's rows for b's facts in tx. The one
// writer connection hands out the seqs in commit order.
func insertChanges(ctx context.Context, tx *sql.Tx, b *store.Batch) error {
	var rows [][2]string
	add := func(k store.ChangeKind, key string) { rows = append(rows, [2]string{string(k), key}) }
	for _, p := range b.Programs {
		add(store.ChangeProgram, strconv.Itoa(p.Version))
	}
	for i := range b.Partners {
		add(store.ChangePartner, b.Partners[i].Partner.ID)
	}
	for i := range b.Members {
		add(store.ChangeMember, b.Members[i].ID)
	}
	for _, a := range b.Adjustments {
		add(store.ChangeAdjustment, a.ID)
	}
	if len(rows) == 0 {
		return nil
	}
	return insertChangeRows(ctx, tx, rows)
}

func insertChangeRows(ctx context.Context, tx *sql.Tx, rows [][2]string) error {
	js, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("sqlite: change feed: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO changes (kind, key)
		SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) ORDER BY json_each.key`, string(js))
	if err != nil {
		return fmt.Errorf("sqlite: change feed: %w", err)
	}
	return nil
}

// inFeed runs fn in a write transaction and, when it changed something,
// records one change, for the writes outside Commit (API keys).
func (s *Store) inFeed(ctx context.Context, kind store.ChangeKind, key string, fn func(tx *sql.Tx) (bool, error)) (err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	changed, err := fn(tx)
	if err != nil {
		return err
	}
	if changed {
		if err := insertChangeRows(ctx, tx, [][2]string{{string(kind), key}}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Changes returns up to limit changes after the given seq, in seq order.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	defer rows.Close()
	var cs []store.Change
	for rows.Next() {
		var c store.Change
		var kind string
		if err := rows.Scan(&c.Seq, &kind, &c.Key); err != nil {
			return nil, fmt.Errorf("sqlite: changes: %w", err)
		}
		c.Kind = store.ChangeKind(kind)
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	return cs, nil
}

// LastChange returns the highest change seq, 0 when there is none.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: last change: %w", err)
	}
	return seq, nil
}

// idList encodes ids as a JSON array for json_each.
func idList(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// PartnerVersionsOf returns the versions of the partners in since newer
// than the version given for each.
func (s *Store) PartnerVersionsOf(ctx context.Context, since map[string]int) ([]rung.PartnerVersion, error) {
	if len(since) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(since))
	for id := range since {
		ids = append(ids, id)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, version, valid_from, body FROM partner_versions
		WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id, version`, idList(ids))
	if err != nil {
		return nil, fmt.Errorf("sqlite: partner versions: %w", err)
	}
	defer rows.Close()
	var pvs []rung.PartnerVersion
	for rows.Next() {
		var pv rung.PartnerVersion
		var id string
		var from sql.NullInt64
		var body []byte
		if err := rows.Scan(&id, &pv.Version, &from, &body); err != nil {
			return nil, fmt.Errorf("sqlite: partner versions: %w", err)
		}
		if pv.Version <= since[id] {
			continue
		}
		pv.ValidFrom = store.TimeFromNanos(from)
		if err := store.UnmarshalPartner(body, &pv.Partner); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		pvs = append(pvs, pv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: partner versions: %w", err)
	}
	return pvs, nil
}

// MembersByID returns the current records of the members that exist.
func (s *Store) MembersByID(ctx context.Context, ids []string) ([]rung.Member, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.queryMembers(ctx, `SELECT body FROM members WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, idList(ids))
}

// AdjustmentsByID returns the adjustments that exist, in commit order.
func (s *Store) AdjustmentsByID(ctx context.Context, ids []string) ([]rung.Adjustment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, partner, member, points, reason, occurred_at, by, created_at
		FROM adjustments WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq`, idList(ids))
	if err != nil {
		return nil, fmt.Errorf("sqlite: adjustments: %w", err)
	}
	defer rows.Close()
	var as []rung.Adjustment
	for rows.Next() {
		var a rung.Adjustment
		var occ, created sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Partner, &a.Member, &a.Points, &a.Reason, &occ, &a.By, &created); err != nil {
			return nil, fmt.Errorf("sqlite: adjustments: %w", err)
		}
		a.OccurredAt, a.CreatedAt = store.TimeFromNanos(occ), store.TimeFromNanos(created)
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: adjustments: %w", err)
	}
	return as, nil
}

// TryLead always succeeds: the one process that uses a SQLite database
// leads. The lease ends only when released.
func (s *Store) TryLead(ctx context.Context, name string) (store.Lease, error) {
	return &lease{lost: make(chan struct{})}, nil
}

type lease struct {
	lost chan struct{}
	once sync.Once
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

func (l *lease) Release() { l.once.Do(func() { close(l.lost) }) }

// StartJobRun records the start of job's run for period, unless that run
// has finished, or was started less than stale ago and has not failed.
func (s *Store) StartJobRun(ctx context.Context, job string, period time.Time, instance string, now time.Time, stale time.Duration) (bool, error) {
	if err := s.writable(); err != nil {
		return false, err
	}
	p, err := store.UnixNanos(period)
	if err != nil {
		return false, err
	}
	at, err := store.UnixNanos(now)
	if err != nil {
		return false, err
	}
	var got string
	err = s.write.QueryRowContext(ctx, `INSERT INTO job_runs (job, period, instance, started) VALUES (?, ?, ?, ?)
		ON CONFLICT (job, period) DO UPDATE SET instance = excluded.instance, started = excluded.started, error = ''
		WHERE job_runs.finished IS NULL AND (job_runs.error <> '' OR job_runs.started < ?)
		RETURNING job`, job, p, instance, at, now.Add(-stale).UnixNano()).Scan(&got)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: start job run %s: %w", job, err)
	}
	return true, nil
}

// FinishJobRun records how the run ended.
func (s *Store) FinishJobRun(ctx context.Context, job string, period time.Time, now time.Time, errMsg string) error {
	if err := s.writable(); err != nil {
		return err
	}
	p, err := store.UnixNanos(period)
	if err != nil {
		return err
	}
	var fin any
	if errMsg == "" {
		if fin, err = store.UnixNanos(now); err != nil {
			return err
		}
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE job_runs SET finished = ?, error = ? WHERE job = ? AND period = ?`, fin, errMsg, job, p); err != nil {
		return fmt.Errorf("sqlite: finish job run %s: %w", job, err)
	}
	return nil
}

// PruneJobRuns deletes job's finished runs of periods before before.
func (s *Store) PruneJobRuns(ctx context.Context, job string, before time.Time) (int64, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	b, err := store.UnixNanos(before)
	if err != nil {
		return 0, err
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM job_runs WHERE job = ? AND period < ? AND finished IS NOT NULL`, job, b)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune job runs %s: %w", job, err)
	}
	return res.RowsAffected()
}

// JobRuns returns the runs of job by period.
func (s *Store) JobRuns(ctx context.Context, job string) ([]store.JobRun, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT period, instance, started, finished, error FROM job_runs WHERE job = ? ORDER BY period`, job)
	if err != nil {
		return nil, fmt.Errorf("sqlite: job runs: %w", err)
	}
	defer rows.Close()
	var rs []store.JobRun
	for rows.Next() {
		r := store.JobRun{Job: job}
		var period int64
		var started, finished sql.NullInt64
		if err := rows.Scan(&period, &r.Instance, &started, &finished, &r.Error); err != nil {
			return nil, fmt.Errorf("sqlite: job runs: %w", err)
		}
		r.Period, r.Started, r.Finished = time.Unix(0, period).UTC(), store.TimeFromNanos(started), store.TimeFromNanos(finished)
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: job runs: %w", err)
	}
	return rs, nil
}

// Wake returns nil: no other process writes a SQLite database.
func (s *Store) Wake(ctx context.Context) <-chan struct{} { return nil }

// CommitExclusive calls prepare and commits its batch: one process writes a
// SQLite database, so nobody can commit in between.
func (s *Store) CommitExclusive(ctx context.Context, prepare func(ctx context.Context) (*store.Batch, error)) error {
	b, err := prepare(ctx)
	if err != nil || b == nil {
		return err
	}
	return s.Commit(ctx, b)
}
