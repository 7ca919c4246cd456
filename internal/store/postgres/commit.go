package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/store"
)

// Commit writes b in one transaction. Records are written with COPY under
// the event log's advisory lock, with consecutive Seqs reserved from the
// log's sequence; a batch with records therefore waits for other batches
// with records, here or in other instances. Every fact other than records
// and audit entries also gets a row in the change feed, under the same lock
// (see Changes). Commit also sets the ID of each
// entry of b.Audit. A program version, partner version, adjustment id or
// event (id, version) that already exists fails the whole batch with
// ECONFLICT. On error nothing of b is written and b is left as it was.
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if b.Empty() {
		return nil
	}
	rows, q, err := encodeBatch(b)
	if err != nil {
		return err
	}
	return s.inTx(ctx, len(rows) > 0 || q.changes > 0, func(tx pgx.Tx) (*store.Batch, func(), error) {
		done, err := s.write(ctx, tx, b, rows, q)
		return b, done, err
	})
}

// CommitExclusive takes the event log's lock, then calls prepare, then
// commits the batch it returns, all in one transaction: no other instance
// commits records or facts between prepare's reads and this commit.
func (s *Store) CommitExclusive(ctx context.Context, prepare func(ctx context.Context) (*store.Batch, error)) error {
	return s.inTx(ctx, true, func(tx pgx.Tx) (*store.Batch, func(), error) {
		b, err := prepare(ctx)
		if err != nil || b == nil || b.Empty() {
			return nil, nil, err
		}
		rows, q, err := encodeBatch(b)
		if err != nil {
			return nil, nil, err
		}
		done, err := s.write(ctx, tx, b, rows, q)
		return b, done, err
	})
}

// inTx runs fn in a transaction, first taking the event log's lock when
// lock is set, and commits. fn returns what to do once the commit is
// through; a nil batch commits nothing.
func (s *Store) inTx(ctx context.Context, lock bool, fn func(tx pgx.Tx) (*store.Batch, func(), error)) (err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return failed(err, "commit: begin")
	}
	defer func() {
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if lock {
		// Take the lock first: a batch that waited for it on a row lock
		// of another batch could deadlock.
		if _, err := tx.Exec(ctx, lockAndNotify, s.logLock, s.channel); err != nil {
			return failed(err, "commit: lock the event log")
		}
	}
	b, done, err := fn(tx)
	if err != nil {
		return err
	}
	if b == nil {
		return tx.Rollback(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		return failed(err, "commit")
	}
	done()
	return nil
}

// encodeBatch turns b into rows for COPY and statements for the rest.
func encodeBatch(b *store.Batch) ([][]any, *factQueue, error) {
	rows, err := recordRows(b.Records)
	if err != nil {
		return nil, nil, err
	}
	q, err := queueFacts(b)
	if err != nil {
		return nil, nil, err
	}
	return rows, q, nil
}

// write writes b in tx, which holds the log lock if b has records or
// facts. The function it returns sets b's Seqs and audit IDs, for after
// the commit.
func (s *Store) write(ctx context.Context, tx pgx.Tx, b *store.Batch, rows [][]any, q *factQueue) (func(), error) {
	auditIDs, err := q.run(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := insertOutbox(ctx, tx, b.Outbox); err != nil {
		return nil, err
	}
	var first int64
	if len(rows) > 0 {
		// Writers of the log hold its advisory lock, so the next seq is
		// the highest stored plus one; a sequence would leave a gap after
		// a failed commit, since sequences are not transactional.
		var last int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&last); err != nil {
			return nil, failed(err, "commit: next seq")
		}
		first = last + 1
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"seq", "id", "version", "body"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				rows[i][0] = first + int64(i)
				return rows[i], nil
			}))
		if isUnique(err) {
			return nil, rung.Errorf(rung.ECONFLICT, "an event version in the batch is already stored (%s)", pgDetail(err))
		}
		if err != nil {
			return nil, userError(err, "commit: copy records")
		}
	}
	return func() {
		for i, r := range b.Records {
			r.Seq = first + int64(i)
		}
		for i, id := range auditIDs {
			b.Audit[i].ID = id
		}
	}, nil
}

// recordRows encodes rs as rows for COPY; the seq is filled in later.
func recordRows(rs []*rung.Record) ([][]any, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	buf := make([]byte, 0, 160*len(rs))
	ends := make([]int, len(rs))
	var err error
	for i, r := range rs {
		if buf, err = codec.AppendRecord(buf, r); err != nil {
			return nil, err
		}
		ends[i] = len(buf)
	}
	rows := make([][]any, len(rs))
	cells := make([]any, 4*len(rs))
	start := 0
	for i, r := range rs {
		row := cells[4*i : 4*i+4 : 4*i+4]
		row[1], row[2], row[3] = r.Event.ID, int32(r.Version), buf[start:ends[i]:ends[i]]
		rows[i] = row
		start = ends[i]
	}
	return rows, nil
}

// factQueue holds the statements of a batch other than its records, to be
// sent in one round trip, and how to explain each one's failure.
type factQueue struct {
	batch   pgx.Batch
	explain []func(err error) error
	audits  int
	changes int // rows queued for the change feed
}

func (q *factQueue) add(explain func(err error) error, sql string, args ...any) {
	q.batch.Queue(sql, args...)
	q.explain = append(q.explain, explain)
}

// queueFacts converts the batch's programs, partners, members, adjustments
// and audit entries into statements; a time out of range is EINVALID.
func queueFacts(b *store.Batch) (*factQueue, error) {
	q := new(factQueue)
	for _, p := range b.Programs {
		from, err := store.UnixNanos(p.EffectiveFrom)
		if err != nil {
			return nil, fmt.Errorf("program v%d: effective_from: %w", p.Version, err)
		}
		at, err := store.UnixNanos(p.AppliedAt)
		if err != nil {
			return nil, fmt.Errorf("program v%d: applied_at: %w", p.Version, err)
		}
		q.add(func(err error) error {
			if isUnique(err) {
				return rung.Errorf(rung.ECONFLICT, "program version %d already exists: apply the program again to get a new version", p.Version)
			}
			return userError(err, "commit: program v%d", p.Version)
		}, `INSERT INTO programs (version, source, effective_from, applied_at, applied_by) VALUES ($1, $2, $3, $4, $5)`,
			p.Version, p.Source, from, at, p.AppliedBy)
	}
	for i := range b.Partners {
		pv := &b.Partners[i]
		from, err := store.UnixNanos(pv.ValidFrom)
		if err != nil {
			return nil, fmt.Errorf("partner %q version %d: valid_from: %w", pv.Partner.ID, pv.Version, err)
		}
		body, err := store.MarshalPartner(&pv.Partner)
		if err != nil {
			return nil, err
		}
		id, version := pv.Partner.ID, pv.Version
		q.add(func(err error) error {
			if isUnique(err) {
				return rung.Errorf(rung.ECONFLICT, "partner %q version %d already exists", id, version)
			}
			return userError(err, "commit: partner %q", id)
		}, `INSERT INTO partner_versions (id, version, valid_from, body) VALUES ($1, $2, $3, $4)`,
			id, version, from, string(body))
	}
	for i := range b.Members {
		body, err := store.MarshalMember(&b.Members[i])
		if err != nil {
			return nil, err
		}
		id := b.Members[i].ID
		q.add(func(err error) error { return userError(err, "commit: member %q", id) },
			`INSERT INTO members (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body`,
			id, string(body))
	}
	for _, a := range b.Adjustments {
		occ, err := store.UnixNanos(a.OccurredAt)
		if err != nil {
			return nil, fmt.Errorf("adjustment %q: occurred_at: %w", a.ID, err)
		}
		created, err := store.UnixNanos(a.CreatedAt)
		if err != nil {
			return nil, fmt.Errorf("adjustment %q: created_at: %w", a.ID, err)
		}
		q.add(func(err error) error {
			if isUnique(err) {
				return rung.Errorf(rung.ECONFLICT, "adjustment %q already exists", a.ID)
			}
			return userError(err, "commit: adjustment %q", a.ID)
		}, `INSERT INTO adjustments (id, partner, member, points, reason, occurred_at, by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, a.ID, a.Partner, a.Member, a.Points, a.Reason, occ, a.By, created)
	}
	if kinds, keys := batchChanges(b); len(kinds) > 0 {
		q.add(func(err error) error { return userError(err, "commit: change feed") }, insertChanges, kinds, keys)
		q.changes = len(kinds)
	}
	for _, e := range b.Audit {
		at, err := store.UnixNanos(e.At)
		if err != nil {
			return nil, fmt.Errorf("audit entry: at: %w", err)
		}
		q.add(nil, `INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			at, e.Actor, e.Action, e.Target, e.Detail)
		q.audits++
	}
	return q, nil
}

// run sends the queued statements in tx and returns the ids of the audit
// entries, which come last.
func (q *factQueue) run(ctx context.Context, tx pgx.Tx) ([]int64, error) {
	if q.batch.Len() == 0 {
		return nil, nil
	}
	res := tx.SendBatch(ctx, &q.batch)
	defer res.Close()
	ids := make([]int64, 0, q.audits)
	for _, explain := range q.explain {
		if explain == nil {
			var id int64
			if err := res.QueryRow().Scan(&id); err != nil {
				return nil, userError(err, "commit: audit")
			}
			ids = append(ids, id)
			continue
		}
		if _, err := res.Exec(); err != nil {
			return nil, explain(err)
		}
	}
	if err := res.Close(); err != nil {
		return nil, failed(err, "commit")
	}
	return ids, nil
}
