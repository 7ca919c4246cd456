package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

const sourceDeliveryColumns = `id, source, received_at, method, uri, headers, body, status, reason, events, attempts, updated_at`

// PutSourceDelivery stores a delivery, replacing the one with its ID.
func (s *Store) PutSourceDelivery(ctx context.Context, d store.SourceDelivery) error {
	received, err := store.UnixNanos(d.ReceivedAt)
	if err != nil || received == nil {
		return rung.Errorf(rung.EINVALID, "source delivery %q: received_at %v is out of range", d.ID, d.ReceivedAt)
	}
	updated, err := store.UnixNanos(d.UpdatedAt)
	if err != nil || updated == nil {
		return rung.Errorf(rung.EINVALID, "source delivery %q: updated_at %v is out of range", d.ID, d.UpdatedAt)
	}
	headers, err := json.Marshal(d.Headers)
	if err != nil {
		return fmt.Errorf("postgres: source delivery %q headers: %w", d.ID, err)
	}
	if d.Body == nil {
		d.Body = []byte{}
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO source_deliveries (`+sourceDeliveryColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET source = excluded.source, received_at = excluded.received_at, method = excluded.method,
		uri = excluded.uri, headers = excluded.headers, body = excluded.body, status = excluded.status, reason = excluded.reason,
		events = excluded.events, attempts = excluded.attempts, updated_at = excluded.updated_at`,
		d.ID, d.Source, received, d.Method, d.URI, string(headers), d.Body, d.Status, d.Reason, d.Events, d.Attempts, updated)
	if err != nil {
		return userError(err, "put source delivery %q", d.ID)
	}
	return nil
}

// SourceDelivery returns a delivery by ID.
func (s *Store) SourceDelivery(ctx context.Context, id string) (store.SourceDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sourceDeliveryColumns+` FROM source_deliveries WHERE id = $1`, id)
	if err != nil {
		return store.SourceDelivery{}, fmt.Errorf("postgres: source delivery: %w", err)
	}
	ds, err := collectDeliveries(rows)
	if err != nil {
		return store.SourceDelivery{}, err
	}
	if len(ds) == 0 {
		return store.SourceDelivery{}, rung.Errorf(rung.ENOTFOUND, "source delivery %q not found", id)
	}
	return ds[0], nil
}

// ListSourceDeliveries returns deliveries newest first.
func (s *Store) ListSourceDeliveries(ctx context.Context, f store.SourceDeliveryFilter) ([]store.SourceDelivery, error) {
	var where []string
	var args []any
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	if f.Source != "" {
		args = append(args, f.Source)
		where = append(where, fmt.Sprintf("source = $%d", len(args)))
	}
	q := `SELECT ` + sourceDeliveryColumns + ` FROM source_deliveries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	q += ` ORDER BY received_at DESC, id COLLATE "C" DESC`
	if limit > 0 {
		args = append(args, limit)
		q += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: source deliveries: %w", err)
	}
	return collectDeliveries(rows)
}

func collectDeliveries(rows pgx.Rows) ([]store.SourceDelivery, error) {
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SourceDelivery, error) {
		var d store.SourceDelivery
		var received, updated sql.NullInt64
		var headers string
		if err := row.Scan(&d.ID, &d.Source, &received, &d.Method, &d.URI, &headers, &d.Body, &d.Status, &d.Reason, &d.Events, &d.Attempts, &updated); err != nil {
			return d, err
		}
		if err := json.Unmarshal([]byte(headers), &d.Headers); err != nil {
			return d, fmt.Errorf("source delivery %q headers: %w", d.ID, err)
		}
		d.ReceivedAt, d.UpdatedAt = store.TimeFromNanos(received), store.TimeFromNanos(updated)
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: source deliveries: %w", err)
	}
	if out == nil {
		out = []store.SourceDelivery{}
	}
	return out, nil
}

// SourceRecords returns the kept state of the records with the given keys.
func (s *Store) SourceRecords(ctx context.Context, keys []store.SourceRecordKey) ([]store.SourceRecord, error) {
	if len(keys) == 0 {
		return []store.SourceRecord{}, nil
	}
	srcs, objs, recs := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		srcs[i], objs[i], recs[i] = k.Source, k.Object, k.Record
	}
	rows, err := s.pool.Query(ctx, `SELECT r.source, r.object, r.record, r.fields, r.updated_at FROM source_records r
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(source, object, record)
		ON r.source = k.source AND r.object = k.object AND r.record = k.record
		ORDER BY r.source COLLATE "C", r.object COLLATE "C", r.record COLLATE "C"`, srcs, objs, recs)
	if err != nil {
		return nil, userError(err, "source records")
	}
	return collectRecords(rows)
}

// PutSourceRecords stores and removes records in one transaction.
func (s *Store) PutSourceRecords(ctx context.Context, put []store.SourceRecord, deleted []store.SourceRecordKey) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: put source records: %w", err)
	}
	defer tx.Rollback(ctx)
	for _, r := range put {
		updated, err := store.UnixNanos(r.UpdatedAt)
		if err != nil || updated == nil {
			return rung.Errorf(rung.EINVALID, "source record %s/%s/%s: updated_at %v is out of range", r.Source, r.Object, r.Record, r.UpdatedAt)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO source_records (source, object, record, fields, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (source, object, record) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at`,
			r.Source, r.Object, r.Record, string(r.Fields), updated); err != nil {
			return userError(err, "put source record %s/%s/%s", r.Source, r.Object, r.Record)
		}
	}
	for _, k := range deleted {
		if _, err := tx.Exec(ctx, `DELETE FROM source_records WHERE source = $1 AND object = $2 AND record = $3`, k.Source, k.Object, k.Record); err != nil {
			return userError(err, "delete source record")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: put source records: %w", err)
	}
	return nil
}

// AllSourceRecords returns every kept record, ordered by key.
func (s *Store) AllSourceRecords(ctx context.Context) ([]store.SourceRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, object, record, fields, updated_at FROM source_records
		ORDER BY source COLLATE "C", object COLLATE "C", record COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: source records: %w", err)
	}
	return collectRecords(rows)
}

func collectRecords(rows pgx.Rows) ([]store.SourceRecord, error) {
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SourceRecord, error) {
		var r store.SourceRecord
		var fields string
		var updated sql.NullInt64
		if err := row.Scan(&r.Source, &r.Object, &r.Record, &fields, &updated); err != nil {
			return r, err
		}
		r.Fields, r.UpdatedAt = []byte(fields), store.TimeFromNanos(updated)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: source records: %w", err)
	}
	if out == nil {
		out = []store.SourceRecord{}
	}
	return out, nil
}
