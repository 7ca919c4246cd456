package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// Records streams the log with one query in one read transaction, so it
// sees the log as it was when it started. A goroutine reads the rows while
// the caller's goroutine decodes them and runs fn (see store.StreamRecords).
// Each record is decoded into the same rung.Record; its strings and attrs
// are fresh for every record.
func (s *Store) Records(ctx context.Context, after int64, fn func(*rung.Record) error) error {
	return store.StreamRecords(ctx, "sqlite", s.readLog(after), fn)
}

// RecordsLent is Records for a caller that keeps every record's block
// (store.StreamLent).
func (s *Store) RecordsLent(ctx context.Context, after int64, fn func(*rung.Record, store.Lent) error) error {
	return store.StreamLent(ctx, "sqlite", s.readLog(after), fn)
}

// RecordHeads is Records without the events' attributes (see store.Store).
func (s *Store) RecordHeads(ctx context.Context, after int64, fn func(*rung.Record) error) error {
	return store.StreamHeads(ctx, "sqlite", s.readLog(after), fn)
}

// readLog reads the rows of the log after a seq, in one query, through a
// logReader. The reader is kept for the next read unless SQLite failed.
func (s *Store) readLog(after int64) func(ctx context.Context, emit store.RowFunc) error {
	return func(ctx context.Context, emit store.RowFunc) error {
		r, err := s.logs.get(ctx, s.path, s.write == nil)
		if err != nil {
			return err
		}
		err = r.read(ctx, after, emit)
		s.logs.put(r)
		return err
	}
}

// RecordsBySeq returns the records with the given Seqs, in that order.
func (s *Store) RecordsBySeq(ctx context.Context, seqs []int64) ([]rung.Record, error) {
	out := make([]rung.Record, 0, len(seqs))
	for _, seq := range seqs {
		var id string
		var version int
		var body []byte
		err := s.read.QueryRowContext(ctx, `SELECT id, version, body FROM events WHERE seq = ?`, seq).Scan(&id, &version, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, rung.Errorf(rung.ENOTFOUND, "no record with seq %d in the log", seq)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: record %d: %w", seq, err)
		}
		r, err := store.RecordFromRow(seq, id, version, body)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// LastSeq returns the highest Seq in the log, 0 if it is empty.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: last seq: %w", err)
	}
	return seq, nil
}

// PartnerVersions returns every partner version by partner id and version.
func (s *Store) PartnerVersions(ctx context.Context) ([]rung.PartnerVersion, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT version, valid_from, body FROM partner_versions ORDER BY id, version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: partner versions: %w", err)
	}
	defer rows.Close()
	var pvs []rung.PartnerVersion
	for rows.Next() {
		var pv rung.PartnerVersion
		var from sql.NullInt64
		var body []byte
		if err := rows.Scan(&pv.Version, &from, &body); err != nil {
			return nil, fmt.Errorf("sqlite: partner versions: %w", err)
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

// Members returns every member by id.
func (s *Store) Members(ctx context.Context) ([]rung.Member, error) {
	return s.queryMembers(ctx, `SELECT body FROM members ORDER BY id`)
}

// queryMembers runs a query that selects member bodies and decodes them.
func (s *Store) queryMembers(ctx context.Context, query string, args ...any) ([]rung.Member, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	defer rows.Close()
	var ms []rung.Member
	for rows.Next() {
		var m rung.Member
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("sqlite: members: %w", err)
		}
		if err := store.UnmarshalMember(body, &m); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	return ms, nil
}

// Programs returns every program version, oldest first.
func (s *Store) Programs(ctx context.Context) ([]rung.ProgramVersion, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT version, source, effective_from, applied_at, applied_by FROM programs ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: programs: %w", err)
	}
	defer rows.Close()
	var ps []rung.ProgramVersion
	for rows.Next() {
		var p rung.ProgramVersion
		var from, at sql.NullInt64
		if err := rows.Scan(&p.Version, &p.Source, &from, &at, &p.AppliedBy); err != nil {
			return nil, fmt.Errorf("sqlite: programs: %w", err)
		}
		p.EffectiveFrom, p.AppliedAt = store.TimeFromNanos(from), store.TimeFromNanos(at)
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: programs: %w", err)
	}
	return ps, nil
}

// Adjustments returns every adjustment in the order they were committed.
func (s *Store) Adjustments(ctx context.Context) ([]rung.Adjustment, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, partner, member, points, reason, occurred_at, by, created_at
		FROM adjustments ORDER BY seq`)
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

// Audit returns the entries f selects, newest first. f.Before, when set,
// returns only entries with a smaller ID, for paging.
func (s *Store) Audit(ctx context.Context, f store.AuditFilter) ([]rung.AuditEntry, error) {
	var where []string
	var args []any
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := `SELECT id, at, actor, action, target, detail FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit: %w", err)
	}
	defer rows.Close()
	es := []rung.AuditEntry{}
	for rows.Next() {
		var e rung.AuditEntry
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: audit: %w", err)
		}
		e.At = store.TimeFromNanos(at)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit: %w", err)
	}
	return es, nil
}

// CreateAPIKey stores k; an ID or hash already stored is ECONFLICT.
func (s *Store) CreateAPIKey(ctx context.Context, k rung.APIKey) error {
	if err := s.writable(); err != nil {
		return err
	}
	created, err := store.UnixNanos(k.CreatedAt)
	if err != nil {
		return fmt.Errorf("api key %q: created_at: %w", k.ID, err)
	}
	revoked, err := store.UnixNanos(k.RevokedAt)
	if err != nil {
		return fmt.Errorf("api key %q: revoked_at: %w", k.ID, err)
	}
	err = s.inFeed(ctx, store.ChangeAPIKey, k.ID, func(tx *sql.Tx) (bool, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, hash, name, scope, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.Hash, k.Name, string(k.Scope), created, revoked)
		return err == nil, err
	})
	if isConstraint(err) {
		return rung.Errorf(rung.ECONFLICT, "API key %q (or one with the same secret) already exists", k.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create api key: %w", err)
	}
	return nil
}

const apiKeyColumns = `id, hash, name, scope, created_at, revoked_at`

func scanAPIKey(sc interface{ Scan(...any) error }) (rung.APIKey, error) {
	var k rung.APIKey
	var scope string
	var created, revoked sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Hash, &k.Name, &scope, &created, &revoked); err != nil {
		return k, err
	}
	k.Scope = rung.Scope(scope)
	k.CreatedAt, k.RevokedAt = store.TimeFromNanos(created), store.TimeFromNanos(revoked)
	return k, nil
}

// APIKeyByHash finds the unrevoked key whose secret hashes to hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (rung.APIKey, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ? AND revoked_at IS NULL`, hash)
	k, err := scanAPIKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return rung.APIKey{}, rung.Errorf(rung.ENOTFOUND, "no such API key, or it was revoked")
	}
	if err != nil {
		return rung.APIKey{}, fmt.Errorf("sqlite: api key by hash: %w", err)
	}
	return k, nil
}

// APIKeys lists every key, revoked ones included, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]rung.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: api keys: %w", err)
	}
	defer rows.Close()
	var ks []rung.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: api keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: api keys: %w", err)
	}
	return ks, nil
}

// RevokeAPIKey marks the key revoked at t. Revoking a revoked key keeps the
// first time; an unknown id is ENOTFOUND.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, t time.Time) error {
	if err := s.writable(); err != nil {
		return err
	}
	if t.IsZero() {
		return rung.Errorf(rung.EINVALID, "revoking API key %q needs a time", id)
	}
	at, err := store.UnixNanos(t)
	if err != nil {
		return err
	}
	return s.inFeed(ctx, store.ChangeAPIKey, id, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, at, id)
		if err != nil {
			return false, fmt.Errorf("sqlite: revoke api key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, fmt.Errorf("sqlite: revoke api key: %w", err)
		} else if n == 0 {
			return false, rung.Errorf(rung.ENOTFOUND, "API key %q not found", id)
		}
		return true, nil
	})
}

// Meta reads a named value, "" when unset.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: meta %q: %w", key, err)
	}
	return v, nil
}

// AllMeta returns every named value.
func (s *Store) AllMeta(ctx context.Context) (map[string]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: meta: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("sqlite: meta: %w", err)
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: meta: %w", err)
	}
	return m, nil
}

// SetMeta writes a named value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	if err := s.writable(); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("sqlite: set meta %q: %w", key, err)
	}
	return nil
}

// Backup writes a consistent copy of the database to path with VACUUM INTO,
// from a read connection: commits go on meanwhile. The copy is compacted,
// complete (no WAL beside it) and synced to disk when Backup returns. An
// existing file at path is EINVALID.
func (s *Store) Backup(ctx context.Context, path string) error {
	if path == "" {
		return rung.Errorf(rung.EINVALID, "backup needs a file name")
	}
	if _, err := os.Lstat(path); err == nil {
		return rung.Errorf(rung.EINVALID, "backup file %s already exists: choose a new name", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return rung.Errorf(rung.EINVALID, "backup file %s: %v", path, err)
	}
	// Read connections are query_only, which VACUUM INTO counts as a
	// write; lift it on one connection for the copy, which writes only
	// the new file.
	conn, err := s.read.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	_, err = conn.ExecContext(ctx, `VACUUM INTO ?`, path)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA query_only = 1`); rerr != nil {
		// Never hand a writable connection back to the read pool.
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	if err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, err)
	}
	// VACUUM INTO does not sync the file it writes.
	f, err := os.Open(path)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("sqlite: backup to %s: sync: %w", path, err)
	}
	return nil
}
