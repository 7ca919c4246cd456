package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

const sourceDeliveryColumns = `id, source, received_at, method, uri, headers, body, status, reason, events, attempts, updated_at`

// PutSourceDelivery stores a delivery, replacing the one with its ID.
func (s *Store) PutSourceDelivery(ctx context.Context, d store.SourceDelivery) error {
	if err := s.writable(); err != nil {
		return err
	}
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
		return fmt.Errorf("sqlite: source delivery %q headers: %w", d.ID, err)
	}
	if d.Body == nil {
		d.Body = []byte{}
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO source_deliveries (`+sourceDeliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET source = excluded.source, received_at = excluded.received_at, method = excluded.method,
		uri = excluded.uri, headers = excluded.headers, body = excluded.body, status = excluded.status, reason = excluded.reason,
		events = excluded.events, attempts = excluded.attempts, updated_at = excluded.updated_at`,
		d.ID, d.Source, received, d.Method, d.URI, string(headers), d.Body, d.Status, d.Reason, d.Events, d.Attempts, updated)
	if err != nil {
		return fmt.Errorf("sqlite: put source delivery %q: %w", d.ID, err)
	}
	return nil
}

// SourceDelivery returns a delivery by ID.
func (s *Store) SourceDelivery(ctx context.Context, id string) (store.SourceDelivery, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sourceDeliveryColumns+` FROM source_deliveries WHERE id = ?`, id)
	if err != nil {
		return store.SourceDelivery{}, fmt.Errorf("sqlite: source delivery: %w", err)
	}
	ds, err := scanSourceDeliveries(rows)
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
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, f.Source)
	}
	q := `SELECT ` + sourceDeliveryColumns + ` FROM source_deliveries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	q += " ORDER BY received_at DESC, id DESC LIMIT ?" // -1: no limit
	rows, err := s.read.QueryContext(ctx, q, append(args, max(limit, -1))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: source deliveries: %w", err)
	}
	return scanSourceDeliveries(rows)
}

func scanSourceDeliveries(rows *sql.Rows) ([]store.SourceDelivery, error) {
	defer rows.Close()
	out := []store.SourceDelivery{}
	for rows.Next() {
		var d store.SourceDelivery
		var received, updated sql.NullInt64
		var headers string
		if err := rows.Scan(&d.ID, &d.Source, &received, &d.Method, &d.URI, &headers, &d.Body, &d.Status, &d.Reason, &d.Events, &d.Attempts, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: source deliveries: %w", err)
		}
		if err := json.Unmarshal([]byte(headers), &d.Headers); err != nil {
			return nil, errors.Join(fmt.Errorf("sqlite: source delivery %q headers", d.ID), err)
		}
		d.ReceivedAt, d.UpdatedAt = store.TimeFromNanos(received), store.TimeFromNanos(updated)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SourceRecords returns the kept state of the records with the given keys.
func (s *Store) SourceRecords(ctx context.Context, keys []store.SourceRecordKey) ([]store.SourceRecord, error) {
	out := []store.SourceRecord{}
	for _, k := range keys {
		var r store.SourceRecord
		var fields string
		var updated sql.NullInt64
		err := s.read.QueryRowContext(ctx, `SELECT fields, updated_at FROM source_records WHERE source = ? AND object = ? AND record = ?`,
			k.Source, k.Object, k.Record).Scan(&fields, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: source records: %w", err)
		}
		r.SourceRecordKey, r.Fields, r.UpdatedAt = k, []byte(fields), store.TimeFromNanos(updated)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b store.SourceRecord) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Object, b.Object), strings.Compare(a.Record, b.Record))
	})
	return out, nil
}

// PutSourceRecords stores and removes records in one transaction.
func (s *Store) PutSourceRecords(ctx context.Context, put []store.SourceRecord, deleted []store.SourceRecordKey) (err error) {
	if err := s.writable(); err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: put source records: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for _, r := range put {
		updated, err := store.UnixNanos(r.UpdatedAt)
		if err != nil || updated == nil {
			return rung.Errorf(rung.EINVALID, "source record %s/%s/%s: updated_at %v is out of range", r.Source, r.Object, r.Record, r.UpdatedAt)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_records (source, object, record, fields, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (source, object, record) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at`,
			r.Source, r.Object, r.Record, string(r.Fields), updated); err != nil {
			return fmt.Errorf("sqlite: put source record: %w", err)
		}
	}
	for _, k := range deleted {
		if _, err := tx.ExecContext(ctx, `DELETE FROM source_records WHERE source = ? AND object = ? AND record = ?`, k.Source, k.Object, k.Record); err != nil {
			return fmt.Errorf("sqlite: delete source record: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: put source records: %w", err)
	}
	return nil
}

// AllSourceRecords returns every kept record, ordered by key.
func (s *Store) AllSourceRecords(ctx context.Context) ([]store.SourceRecord, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT source, object, record, fields, updated_at FROM source_records ORDER BY source, object, record`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: source records: %w", err)
	}
	defer rows.Close()
	out := []store.SourceRecord{}
	for rows.Next() {
		var r store.SourceRecord
		var fields string
		var updated sql.NullInt64
		if err := rows.Scan(&r.Source, &r.Object, &r.Record, &fields, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: source records: %w", err)
		}
		r.Fields, r.UpdatedAt = []byte(fields), store.TimeFromNanos(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}
