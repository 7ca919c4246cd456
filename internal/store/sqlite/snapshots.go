package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// PutSnapshot stores a snapshot in chunks in one transaction, then deletes
// the older ones. The transaction holds the only write connection while r
// is read: give it bytes at hand (a file), not ones still being made.
func (s *Store) PutSnapshot(ctx context.Context, info store.SnapshotInfo, r io.Reader) (store.SnapshotInfo, error) {
	if err := s.writable(); err != nil {
		return info, err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return info, fmt.Errorf("sqlite: put snapshot: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM snapshots`).Scan(&info.ID); err != nil {
		return info, fmt.Errorf("sqlite: put snapshot: %w", err)
	}
	info.Size = 0
	buf := make([]byte, store.SnapshotChunk)
	for n := 0; ; n++ {
		k, rerr := io.ReadFull(r, buf)
		if k > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO snapshot_chunks (snapshot, n, data) VALUES (?, ?, ?)`, info.ID, n, buf[:k]); err != nil {
				return info, fmt.Errorf("sqlite: put snapshot chunk %d: %w", n, err)
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
	_, err = tx.ExecContext(ctx, `INSERT INTO snapshots (id, format, seq, change, versions, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		info.ID, info.Format, info.Seq, info.Change, info.Versions, info.Size, info.CreatedAt.UnixNano())
	if err != nil {
		return info, fmt.Errorf("sqlite: put snapshot: %w", err)
	}
	// Older snapshots go in the same transaction: SQLite has one writer,
	// and no reader sees the new one before the old ones are gone.
	if _, err := tx.ExecContext(ctx, `DELETE FROM snapshot_chunks WHERE snapshot < ?`, info.ID); err != nil {
		return info, fmt.Errorf("sqlite: delete older snapshots: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM snapshots WHERE id < ?`, info.ID); err != nil {
		return info, fmt.Errorf("sqlite: delete older snapshots: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return info, fmt.Errorf("sqlite: put snapshot: %w", err)
	}
	return info, nil
}

// LatestSnapshot returns the newest snapshot's info.
func (s *Store) LatestSnapshot(ctx context.Context) (store.SnapshotInfo, error) {
	var i store.SnapshotInfo
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, format, seq, change, versions, size, created_at FROM snapshots ORDER BY id DESC LIMIT 1`).
		Scan(&i.ID, &i.Format, &i.Seq, &i.Change, &i.Versions, &i.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return i, rung.Errorf(rung.ENOTFOUND, "no snapshot stored")
	}
	if err != nil {
		return i, fmt.Errorf("sqlite: latest snapshot: %w", err)
	}
	i.CreatedAt = time.Unix(0, created)
	return i, nil
}

// ReadSnapshot writes a snapshot's chunks to w, in one read transaction.
func (s *Store) ReadSnapshot(ctx context.Context, id int64, w io.Writer) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: read snapshot %d: %w", id, err)
	}
	defer tx.Rollback()
	var size int64
	err = tx.QueryRowContext(ctx, `SELECT size FROM snapshots WHERE id = ?`, id).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return rung.Errorf(rung.ENOTFOUND, "snapshot %d is not stored", id)
	}
	if err != nil {
		return fmt.Errorf("sqlite: read snapshot %d: %w", id, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT n, data FROM snapshot_chunks WHERE snapshot = ? ORDER BY n`, id)
	if err != nil {
		return fmt.Errorf("sqlite: read snapshot %d: %w", id, err)
	}
	defer rows.Close()
	var got int64
	want := 0
	for rows.Next() {
		var n int
		var data []byte
		if err := rows.Scan(&n, &data); err != nil {
			return fmt.Errorf("sqlite: read snapshot %d: %w", id, err)
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
		return fmt.Errorf("sqlite: read snapshot %d: %w", id, err)
	}
	if got != size {
		return rung.Errorf(rung.ENOTFOUND, "snapshot %d has %d of its %d bytes", id, got, size)
	}
	return nil
}
