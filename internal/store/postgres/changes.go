package postgres

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// insertChanges appends rows to the change feed, with consecutive seqs
// after the highest one. It runs under the event log's advisory lock, which
// is what keeps the seqs in commit order and without gaps.
const insertChanges = `INSERT INTO changes (seq, kind, key)
	SELECT last.seq + u.n, u.kind, u.key
	FROM (SELECT coalesce(max(seq), 0) AS seq FROM changes) AS last,
	     unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(kind, key, n)`

// batchChanges lists the change feed's rows for b's facts.
func batchChanges(b *store.Batch) (kinds, keys []string) {
	add := func(k store.ChangeKind, key string) {
		kinds, keys = append(kinds, string(k)), append(keys, key)
	}
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
	return kinds, keys
}

// lockAndNotify takes the log lock for the transaction and tells the
// instances listening on the schema's channel (see Wake), once the
// transaction commits, that the log or the feed grew.
const lockAndNotify = `SELECT pg_advisory_xact_lock($1), pg_notify($2, '')`

// inFeed runs fn in a transaction that holds the event log's advisory lock
// and then records one change, for the writes outside Commit (API keys).
func (s *Store) inFeed(ctx context.Context, kind store.ChangeKind, key string, fn func(tx pgx.Tx) (bool, error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockAndNotify, s.logLock, s.channel); err != nil {
			return failed(err, "lock the change feed")
		}
		changed, err := fn(tx)
		if err != nil || !changed {
			return err
		}
		if _, err := tx.Exec(ctx, insertChanges, []string{string(kind)}, []string{key}); err != nil {
			return failed(err, "change feed")
		}
		return nil
	})
}

// Changes returns up to limit changes after the given seq, in seq order.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, kind, key FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, failed(err, "changes")
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Change, error) {
		var c store.Change
		var kind string
		err := row.Scan(&c.Seq, &kind, &c.Key)
		c.Kind = store.ChangeKind(kind)
		return c, err
	})
	if err != nil {
		return nil, failed(err, "changes")
	}
	return cs, nil
}

// LastChange returns the highest change seq, 0 when there is none.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq); err != nil {
		return 0, failed(err, "last change")
	}
	return seq, nil
}

// PartnerVersionsOf returns the versions of the partners in since newer
// than the version given for each.
func (s *Store) PartnerVersionsOf(ctx context.Context, since map[string]int) ([]rung.PartnerVersion, error) {
	if len(since) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(since))
	vs := make([]int32, 0, len(since))
	for id, v := range since {
		ids, vs = append(ids, id), append(vs, int32(v))
	}
	rows, err := s.pool.Query(ctx, `SELECT p.version, p.valid_from, p.body::text
		FROM partner_versions p JOIN unnest($1::text[], $2::int[]) AS u(id, version)
		  ON p.id = u.id AND p.version > u.version
		ORDER BY p.id COLLATE "C", p.version`, ids, vs)
	if err != nil {
		return nil, failed(err, "partner versions")
	}
	pvs, err := pgx.CollectRows(rows, scanPartnerVersion)
	if err != nil {
		return nil, failed(err, "partner versions")
	}
	return pvs, nil
}

// MembersByID returns the current records of the members that exist.
func (s *Store) MembersByID(ctx context.Context, ids []string) ([]rung.Member, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT body::text FROM members WHERE id = ANY($1) ORDER BY id COLLATE "C"`, ids)
	if err != nil {
		return nil, failed(err, "members")
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rung.Member, error) {
		var m rung.Member
		var body []byte
		if err := row.Scan(&body); err != nil {
			return m, err
		}
		return m, store.UnmarshalMember(body, &m)
	})
	if err != nil {
		return nil, failed(err, "members")
	}
	return ms, nil
}

// AdjustmentsByID returns the adjustments that exist, in commit order.
func (s *Store) AdjustmentsByID(ctx context.Context, ids []string) ([]rung.Adjustment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, partner, member, points, reason, occurred_at, by, created_at
		FROM adjustments WHERE id = ANY($1) ORDER BY seq`, ids)
	if err != nil {
		return nil, failed(err, "adjustments")
	}
	as, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rung.Adjustment, error) {
		var a rung.Adjustment
		var occ, created nanos
		err := row.Scan(&a.ID, &a.Partner, &a.Member, &a.Points, &a.Reason, &occ, &a.By, &created)
		a.OccurredAt, a.CreatedAt = timeOf(occ), timeOf(created)
		return a, err
	})
	if err != nil {
		return nil, failed(err, "adjustments")
	}
	return as, nil
}

// leaseCheck is how often a lease makes sure its connection is alive.
const leaseCheck = 250 * time.Millisecond

// TryLead takes a session advisory lock for name on a connection of its
// own, outside the pool. The lock lasts as long as that session: when the
// leading process dies, PostgreSQL ends its session and the lock is free
// for the next instance that tries. The lease checks its connection every
// leaseCheck and reports it lost when the check fails.
func (s *Store) TryLead(ctx context.Context, name string) (store.Lease, error) {
	// A try that fails keeps its connection for the next one, so an
	// instance waiting to lead does not connect once a second.
	s.candidateMu.Lock()
	conn := s.candidate
	s.candidate = nil
	s.candidateMu.Unlock()
	if conn == nil || conn.IsClosed() {
		var err error
		if conn, err = pgx.ConnectConfig(ctx, s.connConfig.Copy()); err != nil {
			return nil, rung.Errorf(rung.EUNAVAILABLE, "postgres: connect for leadership: %v", err)
		}
	}
	key := lockKey("rung.lead." + s.schema + "." + name)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, rung.Errorf(rung.EUNAVAILABLE, "postgres: take leadership: %v", err)
	}
	if !ok {
		s.candidateMu.Lock()
		if s.candidate == nil && !s.closed {
			s.candidate, conn = conn, nil
		}
		s.candidateMu.Unlock()
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
		return nil, nil
	}
	l := &lease{conn: conn, key: key, lost: make(chan struct{}), stop: make(chan struct{})}
	l.done.Add(1)
	go l.watch()
	return l, nil
}

// lease is leadership held by a session advisory lock.
type lease struct {
	conn *pgx.Conn
	key  int64
	lost chan struct{}
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

// watch pings the session until it fails or the lease is released.
func (l *lease) watch() {
	defer l.done.Done()
	t := time.NewTicker(leaseCheck)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 3*leaseCheck)
			_, err := l.conn.Exec(ctx, `SELECT 1`)
			cancel()
			if err != nil {
				l.end(false)
				return
			}
		}
	}
}

// Release unlocks and closes the lease's connection.
func (l *lease) Release() { l.end(true) }

func (l *lease) end(unlock bool) {
	l.once.Do(func() {
		close(l.stop)
		if unlock {
			l.done.Wait() // the watcher uses the connection too
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
			cancel()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		l.conn.Close(ctx)
		cancel()
		close(l.lost)
	})
}

// StartJobRun records the start of job's run for period, unless that run
// has finished, or another instance started it less than stale ago.
func (s *Store) StartJobRun(ctx context.Context, job string, period time.Time, instance string, now time.Time, stale time.Duration) (bool, error) {
	p, err := store.UnixNanos(period)
	if err != nil {
		return false, err
	}
	at, err := store.UnixNanos(now)
	if err != nil {
		return false, err
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO job_runs (job, period, instance, started) VALUES ($1, $2, $3, $4)
		ON CONFLICT (job, period) DO UPDATE SET instance = excluded.instance, started = excluded.started, error = ''
		WHERE job_runs.finished IS NULL AND (job_runs.error <> '' OR job_runs.started < $5)
		RETURNING job`, job, p, instance, at, now.Add(-stale).UnixNano()).Scan(new(string))
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, userError(err, "start job run %s", job)
	}
	return true, nil
}

// FinishJobRun records how the run ended.
func (s *Store) FinishJobRun(ctx context.Context, job string, period time.Time, now time.Time, errMsg string) error {
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
	if _, err := s.pool.Exec(ctx, `UPDATE job_runs SET finished = $3, error = $4 WHERE job = $1 AND period = $2`, job, p, fin, errMsg); err != nil {
		return userError(err, "finish job run %s", job)
	}
	return nil
}

// PruneJobRuns deletes job's finished runs of periods before before.
func (s *Store) PruneJobRuns(ctx context.Context, job string, before time.Time) (int64, error) {
	b, err := store.UnixNanos(before)
	if err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM job_runs WHERE job = $1 AND period < $2 AND finished IS NOT NULL`, job, b)
	if err != nil {
		return 0, userError(err, "prune job runs %s", job)
	}
	return tag.RowsAffected(), nil
}

// JobRuns returns the runs of job by period.
func (s *Store) JobRuns(ctx context.Context, job string) ([]store.JobRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT period, instance, started, finished, error FROM job_runs WHERE job = $1 ORDER BY period`, job)
	if err != nil {
		return nil, failed(err, "job runs")
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.JobRun, error) {
		r := store.JobRun{Job: job}
		var period int64
		var started, finished nanos
		err := row.Scan(&period, &r.Instance, &started, &finished, &r.Error)
		r.Period, r.Started, r.Finished = time.Unix(0, period).UTC(), timeOf(started), timeOf(finished)
		return r, err
	})
	if err != nil {
		return nil, failed(err, "job runs")
	}
	return rs, nil
}

// Wake listens on the schema's notification channel, on a connection of its
// own, until ctx ends; the channel it returns receives soon after any
// instance commits records or changes. When the connection breaks it
// connects again after a second; meanwhile nothing is received, so a
// reader should poll as well.
func (s *Store) Wake(ctx context.Context) <-chan struct{} {
	wake := make(chan struct{}, 1)
	go func() {
		for ctx.Err() == nil {
			s.listen(ctx, wake)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return wake
}

// listen receives notifications until the connection fails or ctx ends.
func (s *Store) listen(ctx context.Context, wake chan struct{}) {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return
	}
	// What was committed before LISTEN took effect is read by the
	// reader's next poll; a wake now makes that next poll come sooner.
	nudge(wake)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return
		}
		nudge(wake)
	}
}

func nudge(wake chan struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
