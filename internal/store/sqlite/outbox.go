package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// checkOutbox checks a message before it is stored and returns its
// created_at as the column holds it (store.UnixNanos).
func checkOutbox(m store.OutboxMessage) (any, error) {
	if err := store.CheckOutboxMessage(m); err != nil {
		return nil, err
	}
	created, err := store.UnixNanos(m.CreatedAt)
	if err != nil {
		return nil, rung.Errorf(rung.EINVALID, "outbox message %q: created_at: %v", m.ID, err)
	}
	return created, nil
}

// insertOutbox writes msgs in tx; an ID already stored is left as it is.
func insertOutbox(ctx context.Context, tx execer, msgs []store.OutboxMessage) error {
	rows := make([][]any, 0, len(msgs))
	for _, m := range msgs {
		created, err := checkOutbox(m)
		if err != nil {
			return err
		}
		rows = append(rows, []any{m.ID, m.Subject, m.Type, string(m.Payload), created})
	}
	if err := insertRows(ctx, tx, `INSERT INTO outbox (id, subject, type, payload, created_at) VALUES `, `ON CONFLICT (id) DO NOTHING`, rows); err != nil {
		return fmt.Errorf("sqlite: outbox messages: %w", err)
	}
	return nil
}

// insertRows writes rows (each the same number of values, at most 5) with
// INSERT statements of up to rowsPerInsert rows each: head, the rows'
// VALUES lists, then tail. A producer step of thousands of subjects is a
// few statements, not a statement (and a compilation of it) a row.
func insertRows(ctx context.Context, tx execer, head, tail string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(len(rows), rowsPerInsert)
		var q strings.Builder
		q.WriteString(head)
		args := make([]any, 0, n*len(rows[0]))
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?")
			q.WriteString(strings.Repeat(", ?", len(r)-1))
			q.WriteString(")")
			args = append(args, r...)
		}
		q.WriteString(" ")
		q.WriteString(tail)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// EnqueueOutbox stores messages in one transaction.
func (s *Store) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.outboxTx(ctx, func(tx *sql.Tx) error { return insertOutbox(ctx, tx, msgs) })
}

func (s *Store) outboxTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: outbox: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: outbox: commit: %w", err)
	}
	return nil
}

// ProduceOutbox writes a producer's step in one transaction, which reads
// nothing: the cursor moves only from where the step started (a statement
// that changes no row means another producer moved it), and states and
// messages go in one row at a time through prepared statements. A
// statement that writes many rows at random places of a table makes SQLite
// keep a statement journal of every page it changes (in a temporary file,
// past 64 KiB), which cost a third of a step's time; one row a statement
// needs none.
func (s *Store) ProduceOutbox(ctx context.Context, p store.OutboxProduction) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.outboxTx(ctx, func(tx *sql.Tx) error {
		// The statements run without ctx's cancellation: for a context
		// that can end, the driver starts a goroutine a statement to
		// interrupt it (3 % of a server's CPU under batch ingest, one
		// statement a changed subject). The transaction was begun with
		// ctx, so its end still rolls the step back between statements.
		ctx := context.WithoutCancel(ctx)
		if err := moveCursor(ctx, tx, p.Cursor, p.From, p.To); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO outbox_subjects (subject, state) VALUES (?, ?)
			ON CONFLICT (subject) DO UPDATE SET state = excluded.state`)
		if err != nil {
			return fmt.Errorf("sqlite: outbox subjects: %w", err)
		}
		defer st.Close()
		for subj, state := range p.Subjects {
			if _, err := st.ExecContext(ctx, subj, string(state)); err != nil {
				return fmt.Errorf("sqlite: outbox subject %s: %w", subj, err)
			}
		}
		if p.Unsubscribed && len(p.Messages) > 0 {
			var subscribed bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_subscriptions)`).Scan(&subscribed); err != nil {
				return fmt.Errorf("sqlite: outbox subscriptions: %w", err)
			}
			if !subscribed {
				return nil // nobody can ever receive them (store.OutboxProduction.Unsubscribed)
			}
		}
		return insertOutboxEach(ctx, tx, p.Messages)
	})
}

// moveCursor moves a producer's cursor from from to to, and fails with
// ECONFLICT when it is not at from (a cursor never stored is at 0).
func moveCursor(ctx context.Context, tx *sql.Tx, name string, from, to int64) error {
	var res sql.Result
	var err error
	if from == 0 {
		res, err = tx.ExecContext(ctx, `INSERT INTO outbox_cursors (name, position) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE outbox_cursors.position = 0`, name, to)
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE outbox_cursors SET position = ? WHERE name = ? AND position = ?`, to, name, from)
	}
	if err != nil {
		return fmt.Errorf("sqlite: outbox cursor: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return rung.Errorf(rung.ECONFLICT, "outbox cursor %s is not at %d: another producer moved it", name, from)
	}
	return nil
}

// insertOutboxEach writes msgs in tx, not yet dispatched, one statement a
// message (see ProduceOutbox); an ID already stored is left as it is.
func insertOutboxEach(ctx context.Context, tx *sql.Tx, msgs []store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO outbox (id, subject, type, payload, created_at, dispatched) VALUES (?, ?, ?, ?, ?, 0)
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("sqlite: outbox messages: %w", err)
	}
	defer st.Close()
	for _, m := range msgs {
		created, err := checkOutbox(m)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, m.ID, m.Subject, m.Type, string(m.Payload), created); err != nil {
			return fmt.Errorf("sqlite: outbox message %q: %w", m.ID, err)
		}
	}
	return nil
}

// OutboxCursor returns a producer cursor's position.
func (s *Store) OutboxCursor(ctx context.Context, name string) (int64, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT position FROM outbox_cursors WHERE name = ?`, name).Scan(&at)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: outbox cursor: %w", err)
	}
	return at, nil
}

// OutboxSubjects returns the producer's state per subject.
func (s *Store) OutboxSubjects(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT subject, state FROM outbox_subjects`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox subjects: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var subj, st string
		if err := rows.Scan(&subj, &st); err != nil {
			return nil, fmt.Errorf("sqlite: outbox subjects: %w", err)
		}
		out[subj] = []byte(st)
	}
	return out, rows.Err()
}

const outboxColumns = `o.seq, o.id, o.subject, o.type, o.payload, o.created_at, o.dispatched`

func scanMessage(sc interface{ Scan(...any) error }, extra ...any) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	var payload string
	var created sql.NullInt64
	var dispatched int
	err := sc.Scan(append([]any{&m.Seq, &m.ID, &m.Subject, &m.Type, &payload, &created, &dispatched}, extra...)...)
	m.Payload, m.CreatedAt, m.Dispatched = json.RawMessage(payload), store.TimeFromNanos(created), dispatched == 1
	return m, err
}

// OutboxMessages returns messages after a Seq.
func (s *Store) OutboxMessages(ctx context.Context, after int64, limit int, pending bool) ([]store.OutboxMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + outboxColumns + ` FROM outbox o WHERE o.seq > ?`
	if pending {
		q += ` AND o.dispatched = 0`
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY o.seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox messages: %w", err)
	}
	defer rows.Close()
	out := []store.OutboxMessage{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: outbox messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DispatchOutbox stores deliveries and marks messages dispatched.
func (s *Store) DispatchOutbox(ctx context.Context, seqs []int64, ds []store.Delivery) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.outboxTx(ctx, func(tx *sql.Tx) error {
		if err := insertDeliveries(ctx, tx, ds); err != nil {
			return err
		}
		// One statement for many messages, not one a message.
		for len(seqs) > 0 {
			n := min(len(seqs), 500)
			args := make([]any, n)
			for i, seq := range seqs[:n] {
				args[i] = seq
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET dispatched = 1 WHERE seq IN (`+inList(n)+`)`, args...); err != nil {
				return fmt.Errorf("sqlite: dispatch outbox: %w", err)
			}
			seqs = seqs[n:]
		}
		return nil
	})
}

// DispatchOutboxNowhere marks messages dispatched without deliveries.
func (s *Store) DispatchOutboxNowhere(ctx context.Context, through int64) (int, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET dispatched = 1 WHERE dispatched = 0 AND seq <= ?`, through)
	if err != nil {
		return 0, fmt.Errorf("sqlite: dispatch outbox: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func insertDeliveries(ctx context.Context, tx execer, ds []store.Delivery) error {
	for _, d := range ds {
		next, err := store.UnixNanos(d.NextAttemptAt)
		if err != nil || next == nil {
			return rung.Errorf(rung.EINVALID, "delivery of %q: next_attempt_at %v is out of range", d.Message.ID, d.NextAttemptAt)
		}
		delivered, err := store.UnixNanos(d.DeliveredAt)
		if err != nil {
			return rung.Errorf(rung.EINVALID, "delivery of %q: delivered_at: %v", d.Message.ID, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox_deliveries (message, endpoint, seq, subject, attempts, next_attempt_at, delivered_at, dead, last_error)
			SELECT id, ?, seq, subject, ?, ?, ?, ?, ? FROM outbox WHERE id = ?
			ON CONFLICT (message, endpoint) DO NOTHING`, d.Endpoint, d.Attempts, next, delivered, boolInt(d.Dead), d.LastError, d.Message.ID)
		if err != nil {
			return fmt.Errorf("sqlite: delivery of %q: %w", d.Message.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id = ?`, d.Message.ID).Scan(&one); err == sql.ErrNoRows {
				return rung.Errorf(rung.ENOTFOUND, "delivery of outbox message %q: no such message", d.Message.ID)
			}
		}
	}
	return nil
}

const deliveryColumns = `d.endpoint, d.attempts, d.next_attempt_at, d.delivered_at, d.dead, d.last_error`

func scanDeliveries(rows *sql.Rows) ([]store.Delivery, error) {
	defer rows.Close()
	out := []store.Delivery{}
	for rows.Next() {
		var d store.Delivery
		var next, delivered sql.NullInt64
		var dead int
		m, err := scanMessage(rows, &d.Endpoint, &d.Attempts, &next, &delivered, &dead, &d.LastError)
		if err != nil {
			return nil, fmt.Errorf("sqlite: deliveries: %w", err)
		}
		d.Message, d.NextAttemptAt, d.DeliveredAt, d.Dead = m, store.TimeFromNanos(next), store.TimeFromNanos(delivered), dead == 1
		out = append(out, d)
	}
	return out, rows.Err()
}

// DueDeliveries returns the deliveries to attempt now, the head of each
// endpoint's and subject's queue.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+outboxColumns+`, `+deliveryColumns+`
		FROM outbox_deliveries d JOIN outbox o ON o.seq = d.seq
		WHERE d.delivered_at IS NULL AND d.dead = 0 AND d.next_attempt_at <= ?
		AND NOT EXISTS (SELECT 1 FROM outbox_deliveries e WHERE e.endpoint = d.endpoint AND e.subject = d.subject
			AND e.delivered_at IS NULL AND e.dead = 0 AND e.seq < d.seq)
		ORDER BY d.seq, d.endpoint LIMIT ?`, now.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// UpdateDelivery stores the outcome of an attempt.
func (s *Store) UpdateDelivery(ctx context.Context, d store.Delivery) error {
	if err := s.writable(); err != nil {
		return err
	}
	next, err := store.UnixNanos(d.NextAttemptAt)
	if err != nil || next == nil {
		return rung.Errorf(rung.EINVALID, "delivery of %q: next_attempt_at %v is out of range", d.Message.ID, d.NextAttemptAt)
	}
	delivered, err := store.UnixNanos(d.DeliveredAt)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "delivery of %q: delivered_at: %v", d.Message.ID, err)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE outbox_deliveries SET attempts = ?, next_attempt_at = ?, delivered_at = ?, dead = ?, last_error = ?
		WHERE message = ? AND endpoint = ?`, d.Attempts, next, delivered, boolInt(d.Dead), d.LastError, d.Message.ID, d.Endpoint)
	if err != nil {
		return fmt.Errorf("sqlite: update delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return rung.Errorf(rung.ENOTFOUND, "no delivery of outbox message %q to %q", d.Message.ID, d.Endpoint)
	}
	return nil
}

// Deliveries returns the deliveries f selects, newest first.
func (s *Store) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	var where []string
	var args []any
	if f.Dead {
		where = append(where, "d.dead = 1")
	}
	if f.Endpoint != "" {
		where, args = append(where, "d.endpoint = ?"), append(args, f.Endpoint)
	}
	if f.Message != "" {
		where, args = append(where, "d.message = ?"), append(args, f.Message)
	}
	q := `SELECT ` + outboxColumns + `, ` + deliveryColumns + ` FROM outbox_deliveries d JOIN outbox o ON o.seq = d.seq`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY d.seq DESC, d.endpoint LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// ReplayDeliveries revives dead deliveries of a message.
func (s *Store) ReplayDeliveries(ctx context.Context, message, endpoint string, now time.Time) (int, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	q, args := `UPDATE outbox_deliveries SET dead = 0, attempts = 0, next_attempt_at = ?, last_error = '' WHERE message = ? AND dead = 1`, []any{now.UnixNano(), message}
	if endpoint != "" {
		q, args = q+` AND endpoint = ?`, append(args, endpoint)
	}
	res, err := s.write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: replay deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return 0, rung.Errorf(rung.ENOTFOUND, "outbox message %q has no dead delivery to replay", message)
	}
	return int(n), nil
}

// PutSubscription creates or replaces a subscription.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	if err := s.writable(); err != nil {
		return err
	}
	created, err := store.UnixNanos(sub.CreatedAt)
	if err != nil || created == nil {
		return rung.Errorf(rung.EINVALID, "subscription %q: created_at %v is out of range", sub.ID, sub.CreatedAt)
	}
	types, _ := json.Marshal(store.SubscriptionTypes(sub.Types))
	_, err = s.write.ExecContext(ctx, `INSERT INTO webhook_subscriptions (id, url, secret, types, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, types = excluded.types, enabled = excluded.enabled`,
		sub.ID, sub.URL, sub.Secret, string(types), boolInt(sub.Enabled), created)
	if err != nil {
		return fmt.Errorf("sqlite: put subscription: %w", err)
	}
	return nil
}

// Subscriptions returns every subscription, oldest first.
func (s *Store) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, url, secret, types, enabled, created_at FROM webhook_subscriptions ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscriptions: %w", err)
	}
	defer rows.Close()
	out := []store.Subscription{}
	for rows.Next() {
		var sub store.Subscription
		var types string
		var enabled int
		var created sql.NullInt64
		if err := rows.Scan(&sub.ID, &sub.URL, &sub.Secret, &types, &enabled, &created); err != nil {
			return nil, fmt.Errorf("sqlite: subscriptions: %w", err)
		}
		if err := json.Unmarshal([]byte(types), &sub.Types); err != nil {
			return nil, fmt.Errorf("sqlite: subscription %s types: %w", sub.ID, err)
		}
		sub.Enabled, sub.CreatedAt = enabled == 1, store.TimeFromNanos(created)
		out = append(out, sub)
	}
	return out, rows.Err()
}

// DeleteSubscription removes a subscription and its pending deliveries.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.outboxTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("sqlite: delete subscription: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rung.Errorf(rung.ENOTFOUND, "webhook %q not found", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_deliveries WHERE endpoint = ? AND delivered_at IS NULL`, id); err != nil {
			return fmt.Errorf("sqlite: delete subscription: %w", err)
		}
		return nil
	})
}

// ExportOutbox returns the whole outbox.
func (s *Store) ExportOutbox(ctx context.Context) (store.OutboxDump, error) {
	var d store.OutboxDump
	var err error
	if d.Subscriptions, err = s.Subscriptions(ctx); err != nil {
		return d, err
	}
	for after := int64(0); ; {
		ms, err := s.OutboxMessages(ctx, after, 1000, false)
		if err != nil {
			return d, err
		}
		if len(ms) == 0 {
			break
		}
		d.Messages = append(d.Messages, ms...)
		after = ms[len(ms)-1].Seq
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+outboxColumns+`, `+deliveryColumns+` FROM outbox_deliveries d JOIN outbox o ON o.seq = d.seq ORDER BY d.seq, d.endpoint`)
	if err != nil {
		return d, fmt.Errorf("sqlite: export deliveries: %w", err)
	}
	if d.Deliveries, err = scanDeliveries(rows); err != nil {
		return d, err
	}
	d.Cursors = map[string]int64{}
	crows, err := s.read.QueryContext(ctx, `SELECT name, position FROM outbox_cursors`)
	if err != nil {
		return d, fmt.Errorf("sqlite: export cursors: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var name string
		var at int64
		if err := crows.Scan(&name, &at); err != nil {
			return d, fmt.Errorf("sqlite: export cursors: %w", err)
		}
		d.Cursors[name] = at
	}
	if err := crows.Err(); err != nil {
		return d, err
	}
	d.Subjects, err = s.OutboxSubjects(ctx)
	return d, err
}

// ImportOutbox stores a whole outbox in one transaction.
func (s *Store) ImportOutbox(ctx context.Context, d store.OutboxDump) error {
	if err := s.writable(); err != nil {
		return err
	}
	return s.outboxTx(ctx, func(tx *sql.Tx) error {
		for _, sub := range d.Subscriptions {
			created, err := store.UnixNanos(sub.CreatedAt)
			if err != nil || created == nil {
				return rung.Errorf(rung.EINVALID, "subscription %q: created_at %v is out of range", sub.ID, sub.CreatedAt)
			}
			types, _ := json.Marshal(store.SubscriptionTypes(sub.Types))
			_, err = tx.ExecContext(ctx, `INSERT INTO webhook_subscriptions (id, url, secret, types, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				sub.ID, sub.URL, sub.Secret, string(types), boolInt(sub.Enabled), created)
			if isConstraint(err) {
				return rung.Errorf(rung.ECONFLICT, "webhook %q is already stored", sub.ID)
			}
			if err != nil {
				return fmt.Errorf("sqlite: import subscription: %w", err)
			}
		}
		for _, m := range d.Messages {
			if err := store.CheckOutboxMessage(m); err != nil {
				return err
			}
			created, err := store.UnixNanos(m.CreatedAt)
			if err != nil {
				return rung.Errorf(rung.EINVALID, "outbox message %q: created_at: %v", m.ID, err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO outbox (id, subject, type, payload, created_at, dispatched) VALUES (?, ?, ?, ?, ?, ?)`,
				m.ID, m.Subject, m.Type, string(m.Payload), created, boolInt(m.Dispatched))
			if isConstraint(err) {
				return rung.Errorf(rung.ECONFLICT, "outbox message %q is already stored", m.ID)
			}
			if err != nil {
				return fmt.Errorf("sqlite: import outbox: %w", err)
			}
		}
		if err := insertDeliveries(ctx, tx, d.Deliveries); err != nil {
			return err
		}
		for name, at := range d.Cursors {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_cursors (name, position) VALUES (?, ?)
				ON CONFLICT (name) DO UPDATE SET position = excluded.position`, name, at); err != nil {
				return fmt.Errorf("sqlite: import cursor: %w", err)
			}
		}
		for subj, st := range d.Subjects {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_subjects (subject, state) VALUES (?, ?)
				ON CONFLICT (subject) DO UPDATE SET state = excluded.state`, subj, string(st)); err != nil {
				return fmt.Errorf("sqlite: import subject: %w", err)
			}
		}
		return nil
	})
}

// PruneOutbox deletes delivered deliveries and finished messages.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	var n int64
	err := s.outboxTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_deliveries WHERE delivered_at IS NOT NULL AND delivered_at < ?`, before.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: prune deliveries: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE dispatched = 1 AND created_at < ?
			AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.seq = outbox.seq)`, before.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: prune outbox: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
