package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// recordsPerPage is how many rows one query of Records reads. Paging by
// seq needs no long transaction, and since Seqs are handed out in commit
// order no record can appear behind a page already read.
const recordsPerPage = 20000

// Records streams the log in pages by seq. A goroutine reads the rows while
// the caller's goroutine decodes them and runs fn (see store.StreamRecords).
// Unlike SQLite's, it may include records committed while it runs.
func (s *Store) Records(ctx context.Context, after int64, fn func(*rung.Record) error) error {
	return store.StreamRecords(ctx, "postgres", s.readLog(after), fn)
}

// RecordsLent is Records for a caller that keeps every record's block
// (store.StreamLent).
func (s *Store) RecordsLent(ctx context.Context, after int64, fn func(*rung.Record, store.Lent) error) error {
	return store.StreamLent(ctx, "postgres", s.readLog(after), fn)
}

// RecordHeads is Records without the events' attributes (see store.Store).
func (s *Store) RecordHeads(ctx context.Context, after int64, fn func(*rung.Record) error) error {
	return store.StreamHeads(ctx, "postgres", s.readLog(after), fn)
}

// readLog reads the rows of the log after a seq, a page at a time.
func (s *Store) readLog(after int64) func(ctx context.Context, emit store.RowFunc) error {
	return func(ctx context.Context, emit store.RowFunc) error {
		for {
			n, last, err := s.readPage(ctx, after, emit)
			if err != nil || n < s.pageSize {
				return err
			}
			after = last
		}
	}
}

// binary asks for every result column in binary format, read raw below.
var binaryResults = pgx.QueryResultFormats{pgx.BinaryFormatCode}

func (s *Store) readPage(ctx context.Context, after int64, emit store.RowFunc) (n int, last int64, err error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, id, version, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`,
		binaryResults, after, s.pageSize)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 4 || len(v[0]) != 8 || len(v[2]) != 4 {
			return n, last, errors.New("unexpected row shape in the event log")
		}
		last = int64(binary.BigEndian.Uint64(v[0]))
		version := int(int32(binary.BigEndian.Uint32(v[2])))
		if err := emit(last, v[1], version, v[3]); err != nil {
			return n, last, err
		}
		n++
	}
	return n, last, rows.Err()
}

// RecordsBySeq returns the records with the given Seqs, in that order.
func (s *Store) RecordsBySeq(ctx context.Context, seqs []int64) ([]rung.Record, error) {
	out := make([]rung.Record, 0, len(seqs))
	for _, seq := range seqs {
		var id string
		var version int
		var body []byte
		err := s.pool.QueryRow(ctx, `SELECT id, version, body FROM events WHERE seq = $1`, seq).Scan(&id, &version, &body)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, rung.Errorf(rung.ENOTFOUND, "no record with seq %d in the log", seq)
		}
		if err != nil {
			return nil, failed(err, "record %d", seq)
		}
		r, err := store.RecordFromRow(seq, id, version, body)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// LastSeq returns the highest Seq in the log, 0 if it is empty.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, failed(err, "last seq")
	}
	return seq, nil
}

// nanos is a nullable unix-nanoseconds column.
type nanos = *int64

func timeOf(n nanos) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// scanPartnerVersion reads a row of (version, valid_from, body).
func scanPartnerVersion(row pgx.CollectableRow) (rung.PartnerVersion, error) {
	var pv rung.PartnerVersion
	var from nanos
	var body []byte
	if err := row.Scan(&pv.Version, &from, &body); err != nil {
		return pv, err
	}
	pv.ValidFrom = timeOf(from)
	return pv, store.UnmarshalPartner(body, &pv.Partner)
}

// PartnerVersions returns every partner version by partner id and version.
func (s *Store) PartnerVersions(ctx context.Context) ([]rung.PartnerVersion, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, valid_from, body::text FROM partner_versions ORDER BY id COLLATE "C", version`)
	if err != nil {
		return nil, failed(err, "partner versions")
	}
	pvs, err := pgx.CollectRows(rows, scanPartnerVersion)
	if err != nil {
		return nil, failed(err, "partner versions")
	}
	return pvs, nil
}

// Members returns every member by id.
func (s *Store) Members(ctx context.Context) ([]rung.Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT body::text FROM members ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, failed(err, "members")
	}
	bodies, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([]byte, error) {
		var body []byte
		err := row.Scan(&body)
		return body, err
	})
	if err != nil {
		return nil, failed(err, "members")
	}
	// Decoding the JSON is most of the time (some 9 µs a member, seconds
	// for the members of a large program at start-up): it is shared among
	// the processors.
	ms := make([]rung.Member, len(bodies))
	parts := min(runtime.GOMAXPROCS(0), 1+len(bodies)/1000)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			for i := p * len(bodies) / parts; i < (p+1)*len(bodies)/parts; i++ {
				if err := store.UnmarshalMember(bodies[i], &ms[i]); err != nil {
					errs[p] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, failed(err, "members")
		}
	}
	return ms, nil
}

// Programs returns every program version, oldest first.
func (s *Store) Programs(ctx context.Context) ([]rung.ProgramVersion, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, source, effective_from, applied_at, applied_by FROM programs ORDER BY version`)
	if err != nil {
		return nil, failed(err, "programs")
	}
	ps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rung.ProgramVersion, error) {
		var p rung.ProgramVersion
		var from, at nanos
		err := row.Scan(&p.Version, &p.Source, &from, &at, &p.AppliedBy)
		p.EffectiveFrom, p.AppliedAt = timeOf(from), timeOf(at)
		return p, err
	})
	if err != nil {
		return nil, failed(err, "programs")
	}
	return ps, nil
}

// Adjustments returns every adjustment in the order they were committed.
func (s *Store) Adjustments(ctx context.Context) ([]rung.Adjustment, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, partner, member, points, reason, occurred_at, by, created_at
		FROM adjustments ORDER BY seq`)
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

// Audit returns the entries f selects, newest first. f.Before, when set,
// returns only entries with a smaller ID, for paging.
func (s *Store) Audit(ctx context.Context, f store.AuditFilter) ([]rung.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, action, target, detail FROM audit
		WHERE ($1 = '' OR target = $1) AND ($2 <= 0 OR id < $2)
		ORDER BY id DESC LIMIT $3`, f.Target, f.Before, limit)
	if err != nil {
		return nil, failed(err, "audit")
	}
	es, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rung.AuditEntry, error) {
		var e rung.AuditEntry
		var at nanos
		err := row.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail)
		e.At = timeOf(at)
		return e, err
	})
	if err != nil {
		return nil, failed(err, "audit")
	}
	return es, nil
}

// CreateAPIKey stores k; an ID or hash already stored is ECONFLICT.
func (s *Store) CreateAPIKey(ctx context.Context, k rung.APIKey) error {
	created, err := store.UnixNanos(k.CreatedAt)
	if err != nil {
		return fmt.Errorf("api key %q: created_at: %w", k.ID, err)
	}
	revoked, err := store.UnixNanos(k.RevokedAt)
	if err != nil {
		return fmt.Errorf("api key %q: revoked_at: %w", k.ID, err)
	}
	err = s.inFeed(ctx, store.ChangeAPIKey, k.ID, func(tx pgx.Tx) (bool, error) {
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, hash, name, scope, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.ID, k.Hash, k.Name, string(k.Scope), created, revoked)
		return err == nil, err
	})
	if isUnique(err) {
		return rung.Errorf(rung.ECONFLICT, "API key %q (or one with the same secret) already exists", k.ID)
	}
	if err != nil {
		return userError(err, "create api key")
	}
	return nil
}

const apiKeyColumns = `id, hash, name, scope, created_at, revoked_at`

func scanAPIKey(row pgx.Row) (rung.APIKey, error) {
	var k rung.APIKey
	var scope string
	var created, revoked nanos
	if err := row.Scan(&k.ID, &k.Hash, &k.Name, &scope, &created, &revoked); err != nil {
		return k, err
	}
	k.Scope = rung.Scope(scope)
	k.CreatedAt, k.RevokedAt = timeOf(created), timeOf(revoked)
	return k, nil
}

// APIKeyByHash finds the unrevoked key whose secret hashes to hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (rung.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return rung.APIKey{}, rung.Errorf(rung.ENOTFOUND, "no such API key, or it was revoked")
	}
	if err != nil {
		return rung.APIKey{}, failed(err, "api key by hash")
	}
	return k, nil
}

// APIKeys lists every key, revoked ones included, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]rung.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at NULLS FIRST, id COLLATE "C"`)
	if err != nil {
		return nil, failed(err, "api keys")
	}
	ks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rung.APIKey, error) { return scanAPIKey(row) })
	if err != nil {
		return nil, failed(err, "api keys")
	}
	return ks, nil
}

// RevokeAPIKey marks the key revoked at t. Revoking a revoked key keeps the
// first time; an unknown id is ENOTFOUND.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, t time.Time) error {
	if t.IsZero() {
		return rung.Errorf(rung.EINVALID, "revoking API key %q needs a time", id)
	}
	at, err := store.UnixNanos(t)
	if err != nil {
		return err
	}
	return s.inFeed(ctx, store.ChangeAPIKey, id, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, at, id)
		if err != nil {
			return false, failed(err, "revoke api key")
		}
		if tag.RowsAffected() == 0 {
			return false, rung.Errorf(rung.ENOTFOUND, "API key %q not found", id)
		}
		return true, nil
	})
}

// Meta reads a named value, "" when unset.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", failed(err, "meta %q", key)
	}
	return v, nil
}

// AllMeta returns every named value.
func (s *Store) AllMeta(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return nil, failed(err, "meta")
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, failed(err, "meta")
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, failed(err, "meta")
	}
	return m, nil
}

// SetMeta writes a named value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return userError(err, "set meta %q", key)
	}
	return nil
}

// Backup is not done by Rung on PostgreSQL: it returns EINVALID naming
// pg_dump, which makes consistent online copies.
func (s *Store) Backup(ctx context.Context, path string) error {
	return rung.Errorf(rung.EINVALID,
		"rung does not back up PostgreSQL itself: use pg_dump (for example pg_dump --format=custom --schema=%s --file=%s DATABASE_URL)", s.schema, path)
}
