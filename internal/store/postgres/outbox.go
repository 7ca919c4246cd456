package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// insertOutbox writes msgs in tx; an ID already stored is left as it is.
func insertOutbox(ctx context.Context, tx execer, msgs []store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	// One statement for them all, in order (their seqs follow it), instead
	// of a round trip a message.
	ids, subjects, types, payloads := make([]string, len(msgs)), make([]string, len(msgs)), make([]string, len(msgs)), make([]string, len(msgs))
	created := make([]*int64, len(msgs)) // nil: NULL, refused as before
	for i, m := range msgs {
		if err := store.CheckOutboxMessage(m); err != nil {
			return err
		}
		c, err := store.UnixNanos(m.CreatedAt)
		if err != nil {
			return rung.Errorf(rung.EINVALID, "outbox message %q: created_at: %v", m.ID, err)
		}
		if n, ok := c.(int64); ok {
			created[i] = &n
		}
		ids[i], subjects[i], types[i], payloads[i] = m.ID, m.Subject, m.Type, string(m.Payload)
	}
	if _, err := tx.Exec(ctx, insertOutboxSQL, payloads, ids, subjects, types, created, false); err != nil {
		return userError(err, "outbox messages (%d, the first %q)", len(msgs), msgs[0].ID)
	}
	return nil
}

func (s *Store) outboxTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// EnqueueOutbox stores messages in one transaction.
func (s *Store) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	return s.outboxTx(ctx, func(tx pgx.Tx) error { return insertOutbox(ctx, tx, msgs) })
}

// ProduceOutbox writes a producer's step in one transaction, whose
// statements go in one round trip. The cursor moves only from where the
// step started: when another producer moved it first, the statement moving
// it changes no row (it waits for that producer's transaction, then finds
// the cursor elsewhere) and nothing is written. The states and messages go
// as arrays encoded by hand (binaryArray).
//
// A step's message IDs carry its new position, so they are new but for a
// step written again (an ID stored by another producer, by an import or
// twice in the step): the messages first go in with a plain INSERT, which
// does not look each ID up before writing it as ON CONFLICT does, and only
// if one is already stored does the step run again with ON CONFLICT DO
// NOTHING, which keeps the stored one.
func (s *Store) ProduceOutbox(ctx context.Context, p store.OutboxProduction) error {
	var msgParams [][]byte
	if len(p.Messages) > 0 {
		var err error
		if msgParams, err = outboxParams(p.Messages, p.Unsubscribed); err != nil {
			return err
		}
	}
	err := s.produce(ctx, p, msgParams, insertNewOutboxSQL)
	if isUnique(err) {
		err = s.produce(ctx, p, msgParams, insertOutboxSQL)
	}
	return err
}

// produce runs ProduceOutbox's transaction with insertMsgs writing the
// messages.
func (s *Store) produce(ctx context.Context, p store.OutboxProduction, msgParams [][]byte, insertMsgs string) error {
	var steps pgconn.Batch
	if p.From == 0 {
		steps.ExecParams(`INSERT INTO outbox_cursors (name, position) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE outbox_cursors.position = 0`,
			[][]byte{[]byte(p.Cursor), binaryInt8(p.To)}, []uint32{oidText, oidInt8}, binaryFormats[:2], nil)
	} else {
		steps.ExecParams(`UPDATE outbox_cursors SET position = $2 WHERE name = $1 AND position = $3`,
			[][]byte{[]byte(p.Cursor), binaryInt8(p.To), binaryInt8(p.From)}, []uint32{oidText, oidInt8, oidInt8}, binaryFormats[:3], nil)
	}
	if len(p.Subjects) > 0 {
		var subjectSize, stateSize int
		for subj, st := range p.Subjects {
			subjectSize += 4 + len(subj)
			stateSize += 4 + len(st)
		}
		subjects, states := newBinaryArray(oidText, subjectSize), newBinaryArray(oidText, stateSize)
		for subj, st := range p.Subjects {
			subjects.text(subj)
			states.bytes(st)
		}
		// The larger array first (see insertNewOutboxSQL).
		steps.ExecParams(`INSERT INTO outbox_subjects (subject, state)
			SELECT subject, state FROM unnest($1::text[], $2::text[]) AS u(state, subject)
			ON CONFLICT (subject) DO UPDATE SET state = excluded.state`,
			[][]byte{states.done(), subjects.done()}, []uint32{oidTextArray, oidTextArray}, binaryFormats[:2], nil)
	}
	if msgParams != nil {
		steps.ExecParams(insertMsgs, msgParams, outboxParamOIDs, binaryFormats[:len(msgParams)], nil)
	}
	return s.outboxTx(ctx, func(tx pgx.Tx) error {
		rs, err := tx.Conn().PgConn().ExecBatch(ctx, &steps).ReadAll()
		if err != nil {
			return userError(err, "outbox step %d: %d subjects, %d messages", p.To, len(p.Subjects), len(p.Messages))
		}
		if len(rs) == 0 || rs[0].CommandTag.RowsAffected() != 1 {
			return rung.Errorf(rung.ECONFLICT, "outbox cursor %s is not at %d: another producer moved it", p.Cursor, p.From)
		}
		return nil
	})
}

// binaryFormats says every parameter is sent in binary.
var binaryFormats = []int16{1, 1, 1, 1, 1, 1}

// insertNewOutboxSQL writes messages from arrays, in order (their seqs
// follow it); an ID already stored fails it (unique_violation). With $6
// set and no webhook subscription stored, none is stored (see
// store.OutboxProduction). The largest array, the payloads, comes first:
// the protocol's encoder appends each parameter to one buffer, which a
// large first one sizes for the rest instead of every one growing it again.
const insertNewOutboxSQL = `INSERT INTO outbox (id, subject, type, payload, created_at, dispatched)
	SELECT id, subject, type, payload, created_at, 0
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS m(payload, id, subject, type, created_at, n)
	WHERE NOT $6 OR EXISTS (SELECT 1 FROM webhook_subscriptions)
	ORDER BY n`

// insertOutboxSQL is insertNewOutboxSQL leaving an ID already stored as it
// is.
const insertOutboxSQL = insertNewOutboxSQL + `
	ON CONFLICT (id) DO NOTHING`

var outboxParamOIDs = []uint32{oidTextArray, oidTextArray, oidTextArray, oidTextArray, oidInt8Array, oidBool}

// outboxParams checks msgs and encodes them as insertNewOutboxSQL's
// parameters.
func outboxParams(msgs []store.OutboxMessage, unsubscribed bool) ([][]byte, error) {
	var idSize, subjectSize, typeSize, payloadSize int
	for _, m := range msgs {
		idSize += 4 + len(m.ID)
		subjectSize += 4 + len(m.Subject)
		typeSize += 4 + len(m.Type)
		payloadSize += 4 + len(m.Payload)
	}
	ids, subjects, types := newBinaryArray(oidText, idSize), newBinaryArray(oidText, subjectSize), newBinaryArray(oidText, typeSize)
	payloads, created := newBinaryArray(oidText, payloadSize), newBinaryArray(oidInt8, 12*len(msgs))
	for _, m := range msgs {
		if err := store.CheckOutboxMessage(m); err != nil {
			return nil, err
		}
		c, err := store.UnixNanos(m.CreatedAt)
		if err != nil {
			return nil, rung.Errorf(rung.EINVALID, "outbox message %q: created_at: %v", m.ID, err)
		}
		n, ok := c.(int64)
		if !ok {
			return nil, rung.Errorf(rung.EINVALID, "outbox message %q has no created_at", m.ID)
		}
		ids.text(m.ID)
		subjects.text(m.Subject)
		types.text(m.Type)
		payloads.bytes(m.Payload)
		created.int8(n)
	}
	return [][]byte{payloads.done(), ids.done(), subjects.done(), types.done(), created.done(), binaryBool(unsubscribed)}, nil
}

// OutboxCursor returns a producer cursor's position.
func (s *Store) OutboxCursor(ctx context.Context, name string) (int64, error) {
	var at int64
	err := s.pool.QueryRow(ctx, `SELECT position FROM outbox_cursors WHERE name = $1`, name).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, failed(err, "outbox cursor")
	}
	return at, nil
}

// OutboxSubjects returns the producer's state per subject.
func (s *Store) OutboxSubjects(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT subject, state FROM outbox_subjects`)
	if err != nil {
		return nil, failed(err, "outbox subjects")
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var subj, st string
		if err := rows.Scan(&subj, &st); err != nil {
			return nil, failed(err, "outbox subjects")
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
	q := `SELECT ` + outboxColumns + ` FROM outbox o WHERE o.seq > $1`
	if pending {
		q += ` AND o.dispatched = 0`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY o.seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, failed(err, "outbox messages")
	}
	defer rows.Close()
	out := []store.OutboxMessage{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, failed(err, "outbox messages")
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DispatchOutbox stores deliveries and marks messages dispatched.
func (s *Store) DispatchOutbox(ctx context.Context, seqs []int64, ds []store.Delivery) error {
	return s.outboxTx(ctx, func(tx pgx.Tx) error {
		if err := insertDeliveries(ctx, tx, ds); err != nil {
			return err
		}
		if len(seqs) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET dispatched = 1 WHERE seq = ANY($1)`, seqs); err != nil {
				return failed(err, "dispatch outbox")
			}
		}
		return nil
	})
}

// DispatchOutboxNowhere marks messages dispatched without deliveries.
func (s *Store) DispatchOutboxNowhere(ctx context.Context, through int64) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET dispatched = 1 WHERE dispatched = 0 AND seq <= $1`, through)
	if err != nil {
		return 0, failed(err, "dispatch outbox")
	}
	return int(tag.RowsAffected()), nil
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
		tag, err := tx.Exec(ctx, `INSERT INTO outbox_deliveries (message, endpoint, seq, subject, attempts, next_attempt_at, delivered_at, dead, last_error)
			SELECT id, $1, seq, subject, $2, $3, $4, $5, $6 FROM outbox WHERE id = $7
			ON CONFLICT (message, endpoint) DO NOTHING`, d.Endpoint, d.Attempts, next, delivered, boolInt(d.Dead), d.LastError, d.Message.ID)
		if err != nil {
			return userError(err, "delivery of %q", d.Message.ID)
		}
		if tag.RowsAffected() == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM outbox WHERE id = $1`, d.Message.ID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
				return rung.Errorf(rung.ENOTFOUND, "delivery of outbox message %q: no such message", d.Message.ID)
			}
		}
	}
	return nil
}

const deliveryColumns = `d.endpoint, d.attempts, d.next_attempt_at, d.delivered_at, d.dead, d.last_error`

func scanDeliveries(rows pgx.Rows) ([]store.Delivery, error) {
	defer rows.Close()
	out := []store.Delivery{}
	for rows.Next() {
		var d store.Delivery
		var next, delivered sql.NullInt64
		var dead int
		m, err := scanMessage(rows, &d.Endpoint, &d.Attempts, &next, &delivered, &dead, &d.LastError)
		if err != nil {
			return nil, failed(err, "deliveries")
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
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+`, `+deliveryColumns+`
		FROM outbox_deliveries d JOIN outbox o ON o.seq = d.seq
		WHERE d.delivered_at IS NULL AND d.dead = 0 AND d.next_attempt_at <= $1
		AND NOT EXISTS (SELECT 1 FROM outbox_deliveries e WHERE e.endpoint = d.endpoint AND e.subject = d.subject
			AND e.delivered_at IS NULL AND e.dead = 0 AND e.seq < d.seq)
		ORDER BY d.seq, d.endpoint COLLATE "C" LIMIT $2`, now.UnixNano(), limit)
	if err != nil {
		return nil, failed(err, "due deliveries")
	}
	return scanDeliveries(rows)
}

// UpdateDelivery stores the outcome of an attempt.
func (s *Store) UpdateDelivery(ctx context.Context, d store.Delivery) error {
	next, err := store.UnixNanos(d.NextAttemptAt)
	if err != nil || next == nil {
		return rung.Errorf(rung.EINVALID, "delivery of %q: next_attempt_at %v is out of range", d.Message.ID, d.NextAttemptAt)
	}
	delivered, err := store.UnixNanos(d.DeliveredAt)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "delivery of %q: delivered_at: %v", d.Message.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE outbox_deliveries SET attempts = $1, next_attempt_at = $2, delivered_at = $3, dead = $4, last_error = $5
		WHERE message = $6 AND endpoint = $7`, d.Attempts, next, delivered, boolInt(d.Dead), d.LastError, d.Message.ID, d.Endpoint)
	if err != nil {
		return userError(err, "update delivery of %q", d.Message.ID)
	}
	if tag.RowsAffected() == 0 {
		return rung.Errorf(rung.ENOTFOUND, "no delivery of outbox message %q to %q", d.Message.ID, d.Endpoint)
	}
	return nil
}

// Deliveries returns the deliveries f selects, newest first.
func (s *Store) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Dead {
		where = append(where, "d.dead = 1")
	}
	if f.Endpoint != "" {
		where = append(where, "d.endpoint = "+arg(f.Endpoint))
	}
	if f.Message != "" {
		where = append(where, "d.message = "+arg(f.Message))
	}
	q := `SELECT ` + outboxColumns + `, ` + deliveryColumns + ` FROM outbox_deliveries d JOIN outbox o ON o.seq = d.seq`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY d.seq DESC, d.endpoint COLLATE "C" LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, failed(err, "deliveries")
	}
	return scanDeliveries(rows)
}

// ReplayDeliveries revives dead deliveries of a message.
func (s *Store) ReplayDeliveries(ctx context.Context, message, endpoint string, now time.Time) (int, error) {
	q, args := `UPDATE outbox_deliveries SET dead = 0, attempts = 0, next_attempt_at = $1, last_error = '' WHERE message = $2 AND dead = 1`, []any{now.UnixNano(), message}
	if endpoint != "" {
		q, args = q+` AND endpoint = $3`, append(args, endpoint)
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, userError(err, "replay deliveries of %q", message)
	}
	if tag.RowsAffected() == 0 {
		return 0, rung.Errorf(rung.ENOTFOUND, "outbox message %q has no dead delivery to replay", message)
	}
	return int(tag.RowsAffected()), nil
}

// PutSubscription creates or replaces a subscription.
func (s *Store) PutSubscription(ctx context.Context, sub store.Subscription) error {
	created, err := store.UnixNanos(sub.CreatedAt)
	if err != nil || created == nil {
		return rung.Errorf(rung.EINVALID, "subscription %q: created_at %v is out of range", sub.ID, sub.CreatedAt)
	}
	types, _ := json.Marshal(store.SubscriptionTypes(sub.Types))
	_, err = s.pool.Exec(ctx, `INSERT INTO webhook_subscriptions (id, url, secret, types, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, types = excluded.types, enabled = excluded.enabled`,
		sub.ID, sub.URL, sub.Secret, string(types), boolInt(sub.Enabled), created)
	if err != nil {
		return userError(err, "put subscription %q", sub.ID)
	}
	return nil
}

// Subscriptions returns every subscription, oldest first.
func (s *Store) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	return subscriptions(ctx, s.pool)
}

func subscriptions(ctx context.Context, q execer) ([]store.Subscription, error) {
	rows, err := q.Query(ctx, `SELECT id, url, secret, types, enabled, created_at FROM webhook_subscriptions ORDER BY created_at, id COLLATE "C"`)
	if err != nil {
		return nil, failed(err, "subscriptions")
	}
	defer rows.Close()
	out := []store.Subscription{}
	for rows.Next() {
		var sub store.Subscription
		var types string
		var enabled int
		var created sql.NullInt64
		if err := rows.Scan(&sub.ID, &sub.URL, &sub.Secret, &types, &enabled, &created); err != nil {
			return nil, failed(err, "subscriptions")
		}
		if err := json.Unmarshal([]byte(types), &sub.Types); err != nil {
			return nil, fmt.Errorf("postgres: subscription %s types: %w", sub.ID, err)
		}
		sub.Enabled, sub.CreatedAt = enabled == 1, store.TimeFromNanos(created)
		out = append(out, sub)
	}
	return out, rows.Err()
}

// DeleteSubscription removes a subscription and its pending deliveries.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	return s.outboxTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1`, id)
		if err != nil {
			return userError(err, "delete subscription %q", id)
		}
		if tag.RowsAffected() == 0 {
			return rung.Errorf(rung.ENOTFOUND, "webhook %q not found", id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM outbox_deliveries WHERE endpoint = $1 AND delivered_at IS NULL`, id); err != nil {
			return failed(err, "delete subscription")
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
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+`, `+deliveryColumns+` FROM outbox_deliveries d JOIN outbox o ON o.seq = d.seq ORDER BY d.seq, d.endpoint COLLATE "C"`)
	if err != nil {
		return d, failed(err, "export deliveries")
	}
	if d.Deliveries, err = scanDeliveries(rows); err != nil {
		return d, err
	}
	d.Cursors = map[string]int64{}
	crows, err := s.pool.Query(ctx, `SELECT name, position FROM outbox_cursors`)
	if err != nil {
		return d, failed(err, "export cursors")
	}
	defer crows.Close()
	for crows.Next() {
		var name string
		var at int64
		if err := crows.Scan(&name, &at); err != nil {
			return d, failed(err, "export cursors")
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
	return s.outboxTx(ctx, func(tx pgx.Tx) error {
		for _, sub := range d.Subscriptions {
			created, err := store.UnixNanos(sub.CreatedAt)
			if err != nil || created == nil {
				return rung.Errorf(rung.EINVALID, "subscription %q: created_at %v is out of range", sub.ID, sub.CreatedAt)
			}
			types, _ := json.Marshal(store.SubscriptionTypes(sub.Types))
			_, err = tx.Exec(ctx, `INSERT INTO webhook_subscriptions (id, url, secret, types, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				sub.ID, sub.URL, sub.Secret, string(types), boolInt(sub.Enabled), created)
			if isUnique(err) {
				return rung.Errorf(rung.ECONFLICT, "webhook %q is already stored", sub.ID)
			}
			if err != nil {
				return userError(err, "import subscription %q", sub.ID)
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
			_, err = tx.Exec(ctx, `INSERT INTO outbox (id, subject, type, payload, created_at, dispatched) VALUES ($1, $2, $3, $4, $5, $6)`,
				m.ID, m.Subject, m.Type, string(m.Payload), created, boolInt(m.Dispatched))
			if isUnique(err) {
				return rung.Errorf(rung.ECONFLICT, "outbox message %q is already stored", m.ID)
			}
			if err != nil {
				return userError(err, "import outbox message %q", m.ID)
			}
		}
		if err := insertDeliveries(ctx, tx, d.Deliveries); err != nil {
			return err
		}
		for name, at := range d.Cursors {
			if _, err := tx.Exec(ctx, `INSERT INTO outbox_cursors (name, position) VALUES ($1, $2)
				ON CONFLICT (name) DO UPDATE SET position = excluded.position`, name, at); err != nil {
				return failed(err, "import cursor")
			}
		}
		for subj, st := range d.Subjects {
			if _, err := tx.Exec(ctx, `INSERT INTO outbox_subjects (subject, state) VALUES ($1, $2)
				ON CONFLICT (subject) DO UPDATE SET state = excluded.state`, subj, string(st)); err != nil {
				return userError(err, "import subject %q", subj)
			}
		}
		return nil
	})
}

// PruneOutbox deletes delivered deliveries and finished messages, then,
// when it deleted any, vacuums both tables: where autovacuum is off or
// behind, the room of deleted rows is not reused until a VACUUM, and the
// outbox would keep growing by what it takes in. VACUUM runs outside a
// transaction, does not block writes (it skips a table another VACUUM
// holds), and reads only the pages changed since the last one.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	var n, gone int64
	err := s.outboxTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM outbox_deliveries WHERE delivered_at IS NOT NULL AND delivered_at < $1`, before.UnixNano())
		if err != nil {
			return failed(err, "prune deliveries")
		}
		gone = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM outbox WHERE dispatched = 1 AND created_at < $1
			AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.seq = outbox.seq)`, before.UnixNano())
		if err != nil {
			return failed(err, "prune outbox")
		}
		n = tag.RowsAffected()
		return nil
	})
	if err != nil || n+gone == 0 {
		return n, err
	}
	if _, err := s.pool.Exec(ctx, `VACUUM (SKIP_LOCKED) outbox, outbox_deliveries`); err != nil {
		return n, failed(err, "vacuum the pruned outbox")
	}
	return n, nil
}
