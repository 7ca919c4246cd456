package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

const notificationColumns = `id, kind, partner, member, data, created_at, due_at, sent_at, read_at, channels, attempts, last_error`

// AddNotifications stores new notifications; known IDs are skipped.
func (s *Store) AddNotifications(ctx context.Context, ns []store.Notification) (int, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	if len(ns) == 0 {
		return 0, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.unavailable(err)
	}
	defer tx.Rollback()
	added := 0
	for _, n := range ns {
		args, err := store.NotificationArgs(n)
		if err != nil {
			return 0, err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO notifications (`+notificationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, args...)
		if err != nil {
			return 0, fmt.Errorf("sqlite: add notification %q: %w", n.ID, err)
		}
		k, _ := res.RowsAffected()
		added += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: add notifications: %w", err)
	}
	return added, nil
}

func scanNotifications(rows *sql.Rows) ([]store.Notification, error) {
	defer rows.Close()
	out := []store.Notification{}
	for rows.Next() {
		var n store.Notification
		var data string
		var created, due, sent, read sql.NullInt64
		if err := rows.Scan(&n.ID, &n.Kind, &n.Partner, &n.Member, &data, &created, &due, &sent, &read, &n.Channels, &n.Attempts, &n.LastError); err != nil {
			return nil, fmt.Errorf("sqlite: notifications: %w", err)
		}
		n.Data = []byte(data)
		n.CreatedAt, n.DueAt, n.SentAt, n.ReadAt = store.TimeFromNanos(created), store.TimeFromNanos(due), store.TimeFromNanos(sent), store.TimeFromNanos(read)
		out = append(out, n)
	}
	return out, rows.Err()
}

// DueNotifications returns unsent notifications due at or before t.
func (s *Store) DueNotifications(ctx context.Context, t time.Time, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE sent_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?`, t.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due notifications: %w", err)
	}
	return scanNotifications(rows)
}

// inList returns "?, ?, ?" for n values.
func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// MarkNotificationsSent records the notifications as sent.
func (s *Store) MarkNotificationsSent(ctx context.Context, ids []string, t time.Time, channels string) error {
	if err := s.writable(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	args := []any{t.UnixNano(), channels}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.write.ExecContext(ctx, `UPDATE notifications SET sent_at = ?, channels = ?, last_error = ''
		WHERE sent_at IS NULL AND id IN (`+inList(len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: mark notifications sent: %w", err)
	}
	return nil
}

// DeferNotification records a failed delivery.
func (s *Store) DeferNotification(ctx context.Context, id string, due time.Time, lastError string) error {
	if err := s.writable(); err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, `UPDATE notifications SET due_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?`,
		due.UnixNano(), lastError, id)
	if err != nil {
		return fmt.Errorf("sqlite: defer notification: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return rung.Errorf(rung.ENOTFOUND, "notification %q not found", id)
	}
	return nil
}

// ListNotifications returns notifications newest first.
func (s *Store) ListNotifications(ctx context.Context, f store.NotificationFilter) ([]store.Notification, error) {
	q := `SELECT ` + notificationColumns + ` FROM notifications WHERE 1 = 1`
	var args []any
	if f.Member != "" {
		q += ` AND member = ?`
		args = append(args, f.Member)
	}
	if f.Partner != "" {
		q += ` AND partner = ?`
		args = append(args, f.Partner)
	}
	if f.Unread {
		q += ` AND read_at IS NULL`
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list notifications: %w", err)
	}
	return scanNotifications(rows)
}

// CountUnread counts a member's unread notifications.
func (s *Store) CountUnread(ctx context.Context, member string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE member = ? AND read_at IS NULL`, member).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count unread: %w", err)
	}
	return n, nil
}

// MarkNotificationsRead marks a member's notifications read.
func (s *Store) MarkNotificationsRead(ctx context.Context, member string, ids []string, t time.Time) (int, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	if member == "" {
		return 0, rung.Errorf(rung.EINVALID, "mark read: name the member")
	}
	q := `UPDATE notifications SET read_at = ? WHERE member = ? AND read_at IS NULL`
	args := []any{t.UnixNano(), member}
	if ids != nil {
		if len(ids) == 0 {
			return 0, nil
		}
		q += ` AND id IN (` + inList(len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	res, err := s.write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: mark notifications read: %w", err)
	}
	k, _ := res.RowsAffected()
	return int(k), nil
}

// NotificationPrefs returns a member's preferences.
func (s *Store) NotificationPrefs(ctx context.Context, member string) (store.NotificationPrefs, error) {
	var body string
	err := s.read.QueryRowContext(ctx, `SELECT body FROM notification_prefs WHERE member = ?`, member).Scan(&body)
	if err == sql.ErrNoRows {
		return store.NotificationPrefs{}, rung.Errorf(rung.ENOTFOUND, "member %q has no notification preferences", member)
	}
	if err != nil {
		return store.NotificationPrefs{}, fmt.Errorf("sqlite: notification prefs: %w", err)
	}
	return store.DecodeNotificationPrefs([]byte(body))
}

// PutNotificationPrefs stores a member's preferences.
func (s *Store) PutNotificationPrefs(ctx context.Context, p store.NotificationPrefs) error {
	if err := s.writable(); err != nil {
		return err
	}
	body, updated, err := store.EncodeNotificationPrefs(p)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO notification_prefs (member, body, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (member) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, p.Member, string(body), updated)
	if err != nil {
		return fmt.Errorf("sqlite: put notification prefs: %w", err)
	}
	return nil
}

// AllNotificationPrefs returns every member's preferences.
func (s *Store) AllNotificationPrefs(ctx context.Context) ([]store.NotificationPrefs, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT body FROM notification_prefs ORDER BY member`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: notification prefs: %w", err)
	}
	defer rows.Close()
	out := []store.NotificationPrefs{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("sqlite: notification prefs: %w", err)
		}
		p, err := store.DecodeNotificationPrefs([]byte(body))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
