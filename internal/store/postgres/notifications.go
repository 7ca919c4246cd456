package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

const notificationColumns = `id, kind, partner, member, data, created_at, due_at, sent_at, read_at, channels, attempts, last_error`

// AddNotifications stores new notifications; known IDs are skipped.
func (s *Store) AddNotifications(ctx context.Context, ns []store.Notification) (int, error) {
	if len(ns) == 0 {
		return 0, nil
	}
	rows := make([][]any, len(ns))
	for i, n := range ns {
		args, err := store.NotificationArgs(n)
		if err != nil {
			return 0, err
		}
		rows[i] = args
	}
	added := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, args := range rows {
			tag, err := tx.Exec(ctx, `INSERT INTO notifications (`+notificationColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`, args...)
			if err != nil {
				return userError(err, "add notification %q", ns[i].ID)
			}
			added += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

func collectNotifications(rows pgx.Rows, err error) ([]store.Notification, error) {
	if err != nil {
		return nil, fmt.Errorf("postgres: notifications: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Notification, error) {
		var n store.Notification
		var data string
		var created, due, sent, read sql.NullInt64
		err := row.Scan(&n.ID, &n.Kind, &n.Partner, &n.Member, &data, &created, &due, &sent, &read, &n.Channels, &n.Attempts, &n.LastError)
		n.Data = []byte(data)
		n.CreatedAt, n.DueAt, n.SentAt, n.ReadAt = store.TimeFromNanos(created), store.TimeFromNanos(due), store.TimeFromNanos(sent), store.TimeFromNanos(read)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notifications: %w", err)
	}
	if out == nil {
		out = []store.Notification{}
	}
	return out, nil
}

// DueNotifications returns unsent notifications due at or before t.
func (s *Store) DueNotifications(ctx context.Context, t time.Time, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	return collectNotifications(s.pool.Query(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE sent_at IS NULL AND due_at <= $1 ORDER BY due_at, id COLLATE "C" LIMIT $2`, t.UnixNano(), limit))
}

// MarkNotificationsSent records the notifications as sent.
func (s *Store) MarkNotificationsSent(ctx context.Context, ids []string, t time.Time, channels string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET sent_at = $1, channels = $2, last_error = ''
		WHERE sent_at IS NULL AND id = ANY($3)`, t.UnixNano(), channels, ids)
	if err != nil {
		return userError(err, "mark notifications sent")
	}
	return nil
}

// DeferNotification records a failed delivery.
func (s *Store) DeferNotification(ctx context.Context, id string, due time.Time, lastError string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE notifications SET due_at = $1, attempts = attempts + 1, last_error = $2 WHERE id = $3`,
		due.UnixNano(), lastError, id)
	if err != nil {
		return userError(err, "defer notification %q", id)
	}
	if tag.RowsAffected() == 0 {
		return rung.Errorf(rung.ENOTFOUND, "notification %q not found", id)
	}
	return nil
}

// ListNotifications returns notifications newest first.
func (s *Store) ListNotifications(ctx context.Context, f store.NotificationFilter) ([]store.Notification, error) {
	q := `SELECT ` + notificationColumns + ` FROM notifications WHERE true`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Member != "" {
		q += ` AND member = ` + arg(f.Member)
	}
	if f.Partner != "" {
		q += ` AND partner = ` + arg(f.Partner)
	}
	if f.Unread {
		q += ` AND read_at IS NULL`
	}
	q += ` ORDER BY created_at DESC, id COLLATE "C" DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit)
	}
	return collectNotifications(s.pool.Query(ctx, q, args...))
}

// CountUnread counts a member's unread notifications.
func (s *Store) CountUnread(ctx context.Context, member string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE member = $1 AND read_at IS NULL`, member).Scan(&n)
	if err != nil {
		return 0, userError(err, "count unread notifications")
	}
	return n, nil
}

// MarkNotificationsRead marks a member's notifications read.
func (s *Store) MarkNotificationsRead(ctx context.Context, member string, ids []string, t time.Time) (int, error) {
	if member == "" {
		return 0, rung.Errorf(rung.EINVALID, "mark read: name the member")
	}
	q := `UPDATE notifications SET read_at = $1 WHERE member = $2 AND read_at IS NULL`
	args := []any{t.UnixNano(), member}
	if ids != nil {
		if len(ids) == 0 {
			return 0, nil
		}
		q += ` AND id = ANY($3)`
		args = append(args, ids)
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, userError(err, "mark notifications read")
	}
	return int(tag.RowsAffected()), nil
}

// NotificationPrefs returns a member's preferences.
func (s *Store) NotificationPrefs(ctx context.Context, member string) (store.NotificationPrefs, error) {
	var body string
	err := s.pool.QueryRow(ctx, `SELECT body FROM notification_prefs WHERE member = $1`, member).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.NotificationPrefs{}, rung.Errorf(rung.ENOTFOUND, "member %q has no notification preferences", member)
	}
	if err != nil {
		return store.NotificationPrefs{}, userError(err, "notification preferences of %q", member)
	}
	return store.DecodeNotificationPrefs([]byte(body))
}

// PutNotificationPrefs stores a member's preferences.
func (s *Store) PutNotificationPrefs(ctx context.Context, p store.NotificationPrefs) error {
	body, updated, err := store.EncodeNotificationPrefs(p)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO notification_prefs (member, body, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (member) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, p.Member, string(body), updated)
	if err != nil {
		return userError(err, "put notification preferences of %q", p.Member)
	}
	return nil
}

// AllNotificationPrefs returns every member's preferences.
func (s *Store) AllNotificationPrefs(ctx context.Context) ([]store.NotificationPrefs, error) {
	rows, err := s.pool.Query(ctx, `SELECT body FROM notification_prefs ORDER BY member COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: notification prefs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.NotificationPrefs, error) {
		var body string
		if err := row.Scan(&body); err != nil {
			return store.NotificationPrefs{}, err
		}
		return store.DecodeNotificationPrefs([]byte(body))
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification prefs: %w", err)
	}
	if out == nil {
		out = []store.NotificationPrefs{}
	}
	return out, nil
}
