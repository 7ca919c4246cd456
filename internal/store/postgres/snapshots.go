package postgres

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// PutSnapshot stores a snapshot in chunks in one transaction, then deletes
// the older ones.
func (s *Store) PutSnapshot(ctx context.Context, info store.SnapshotInfo, r io.Reader) (store.SnapshotInfo, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return info, failed(err, "put snapshot")
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) + 1 FROM snapshots`).Scan(&info.ID); err != nil {
		return info, failed(err, "put snapshot")
	}
	info.Size = 0
	buf := make([]byte, store.SnapshotChunk)
	for n := 0; ; n++ {
		k, rerr := io.ReadFull(r, buf)
		if k > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO snapshot_chunks (snapshot, n, data) VALUES ($1, $2, $3)`, info.ID, n, buf[:k]); err != nil {
				return info, failed(err, "put snapshot chunk %d", n)
			}
			info.Size += int64(k)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return info, rerr
		}
	}
	if info.CreatedAt.IsZero() {
		info.CreatedAt = time.Now()
	}
	_, err = tx.Exec(ctx, `INSERT INTO snapshots (id, format, seq, change, versions, size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		info.ID, info.Format, info.Seq, info.Change, info.Versions, info.Size, info.CreatedAt.UnixNano())
	if err != nil {
		return info, userError(err, "put snapshot")
	}
	if err := tx.Commit(ctx); err != nil {
		return info, failed(err, "put snapshot")
	}
	// The new one is committed: the older ones may go.
	if _, err := s.pool.Exec(ctx, `DELETE FROM snapshot_chunks WHERE snapshot < $1`, info.ID); err != nil {
		return info, failed(err, "delete older snapshots")
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM snapshots WHERE id < $1`, info.ID); err != nil {
		return info, failed(err, "delete older snapshots")
	}
	return info, nil
}

// LatestSnapshot returns the newest snapshot's info.
func (s *Store) LatestSnapshot(ctx context.Context) (store.SnapshotInfo, error) {
	var i store.SnapshotInfo
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT id, format, seq, change, versions, size, created_at FROM snapshots ORDER BY id DESC LIMIT 1`).
		Scan(&i.ID, &i.Format, &i.Seq, &i.Change, &i.Versions, &i.Size, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return i, rung.Errorf(rung.ENOTFOUND, "no snapshot stored")
	}
	if err != nil {
		return i, failed(err, "latest snapshot")
	}
	i.CreatedAt = time.Unix(0, created)
	return i, nil
}

// ReadSnapshot writes a snapshot's chunks to w, one row at a time.
func (s *Store) ReadSnapshot(ctx context.Context, id int64, w io.Writer) error {
	var size int64
	err := s.pool.QueryRow(ctx, `SELECT size FROM snapshots WHERE id = $1`, id).Scan(&size)
	if errors.Is(err, pgx.ErrNoRows) {
		return rung.Errorf(rung.ENOTFOUND, "snapshot %d is not stored", id)
	}
	if err != nil {
		return failed(err, "read snapshot %d", id)
	}
	rows, err := s.pool.Query(ctx, `SELECT n, data FROM snapshot_chunks WHERE snapshot = $1 ORDER BY n`, id)
	if err != nil {
		return failed(err, "read snapshot %d", id)
	}
	defer rows.Close()
	var got int64
	want := 0
	// A chunk is written from the connection's own buffer when it comes in
	// binary (it always does from pgx): a copy a chunk would be GBs of new
	// memory at start-up, where the collector is paused.
	for rows.Next() {
		binary := rows.FieldDescriptions()[1].Format == pgx.BinaryFormatCode
		var n int
		var data []byte
		dst := []any{&n, &data}
		if binary {
			dst[1] = nil // skipped by Scan; read raw below
		}
		if err := rows.Scan(dst...); err != nil {
			return failed(err, "read snapshot %d", id)
		}
		if binary {
			data = rows.RawValues()[1]
		}
		if n != want {
			return rung.Errorf(rung.ENOTFOUND, "snapshot %d lacks chunk %d", id, want)
		}
		want++
		got += int64(len(data))
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return failed(err, "read snapshot %d", id)
	}
	if got != size {
		return rung.Errorf(rung.ENOTFOUND, "snapshot %d has %d of its %d bytes: it was being deleted", id, got, size)
	}
	return nil
}
