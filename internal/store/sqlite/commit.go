package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/store"
)

// rowsPerInsert is how many records one INSERT statement writes. Multi-row
// inserts double the insert rate over one Exec per row; 200 rows keep the
// statement's 600 parameters well under SQLite's limit.
const rowsPerInsert = 200

// Commit writes b in one IMMEDIATE transaction on the writer connection and
// assigns its records consecutive Seqs after the last one in the log. It
// also sets the ID of each entry of b.Audit. A program version, partner
// version or adjustment id that already exists fails the whole batch with
// ECONFLICT, a time the store cannot hold with EINVALID. On error nothing
// of b is written and b is left as it was. Event ids are not checked for
// duplicates here: the single writer above dedupes them in memory.
func (s *Store) Commit(ctx context.Context, b *store.Batch) (err error) {
	if err := s.writable(); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	// Encode everything before taking the write lock.
	bodies, err := encodeRecords(b.Records)
	if err != nil {
		return err
	}
	// Prepare before BeginTx: the transaction holds the writer's only
	// connection.
	full, rest, err := s.insertStmts(ctx, len(b.Records))
	if err != nil {
		return fmt.Errorf("sqlite: commit: prepare insert: %w", err)
	}
	lastSeq, err := s.lastSeqStmt(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: commit: prepare: %w", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: commit: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			s.seqKnown = false
		}
	}()
	if err := insertPrograms(ctx, tx, b.Programs); err != nil {
		return err
	}
	var last int64
	if len(b.Records) > 0 {
		if last, err = s.lastSeqIn(ctx, tx, lastSeq); err != nil {
			return err
		}
	}
	first, err := insertRecords(ctx, tx, last, full, rest, b.Records, bodies)
	if err != nil {
		return err
	}
	if err := insertPartners(ctx, tx, b.Partners); err != nil {
		return err
	}
	if err := upsertMembers(ctx, tx, b.Members); err != nil {
		return err
	}
	if err := insertAdjustments(ctx, tx, b.Adjustments); err != nil {
		return err
	}
	if err := insertChanges(ctx, tx, b); err != nil {
		return err
	}
	auditIDs, err := insertAudit(ctx, tx, b.Audit)
	if err != nil {
		return err
	}
	if err := insertOutbox(ctx, tx, b.Outbox); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if n := len(b.Records); n > 0 {
		s.seq = first + int64(n) - 1
	}
	for i, r := range b.Records {
		r.Seq = first + int64(i)
	}
	for i, id := range auditIDs {
		b.Audit[i].ID = id
	}
	return nil
}

// encodeRecords returns the bodies of rs: each record's Raw when it has
// one (the writer encoded it already), else its encoding, made into one
// buffer for all.
func encodeRecords(rs []*rung.Record) ([][]byte, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	bodies := make([][]byte, len(rs))
	var buf []byte
	for i, r := range rs {
		if r.Raw != nil {
			bodies[i] = r.Raw
			continue
		}
		if buf == nil {
			buf = make([]byte, 0, 160*(len(rs)-i))
		}
		start := len(buf)
		var err error
		if buf, err = codec.EncodeRecord(buf, r); err != nil {
			return nil, err
		}
		bodies[i] = buf[start:len(buf):len(buf)]
	}
	return bodies, nil
}

// insertStmts returns the writer's prepared statements that insert n
// records: full inserts rowsPerInsert rows, rest the remainder.
func (s *Store) insertStmts(ctx context.Context, n int) (full, rest *sql.Stmt, err error) {
	if n >= rowsPerInsert {
		if full, err = s.insertStmt(ctx, rowsPerInsert); err != nil {
			return nil, nil, err
		}
	}
	if n%rowsPerInsert != 0 {
		if rest, err = s.insertStmt(ctx, n%rowsPerInsert); err != nil {
			return nil, nil, err
		}
	}
	return full, rest, nil
}

// insertStmt returns the writer's prepared statement that inserts n
// records, preparing it the first time.
func (s *Store) insertStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.insertRows[n]; ok {
		return st, nil
	}
	var q strings.Builder
	q.WriteString("INSERT INTO events (id, version, body) VALUES ")
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?)")
	}
	st, err := s.write.PrepareContext(ctx, q.String())
	if err != nil {
		return nil, err
	}
	s.insertRows[n] = st
	return st, nil
}

// lastSeqStmt returns the writer's prepared statement that reads the last
// seq of the log, preparing it the first time: prepared once, it saves a
// parse on every commit.
func (s *Store) lastSeqStmt(ctx context.Context) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastSeq == nil {
		st, err := s.write.PrepareContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`)
		if err != nil {
			return nil, err
		}
		s.lastSeq = st
	}
	return s.lastSeq, nil
}

// lastSeqIn returns the last seq of the log, for Commit's transaction tx:
// the one the last commit left, else read with lastSeq. The caller holds
// commitMu.
func (s *Store) lastSeqIn(ctx context.Context, tx *sql.Tx, lastSeq *sql.Stmt) (int64, error) {
	if s.seqKnown {
		return s.seq, nil
	}
	var last int64
	if err := tx.StmtContext(ctx, lastSeq).QueryRowContext(ctx).Scan(&last); err != nil {
		return 0, fmt.Errorf("sqlite: commit: last seq: %w", err)
	}
	s.seq, s.seqKnown = last, true
	return last, nil
}

// insertRecords appends rs to the log, whose last seq is last, and returns
// the Seq of the first. SQLite gives a row inserted without a rowid (seq)
// the largest one in the table plus one; with one writer, rs get
// consecutive Seqs after the last. Each statement's last rowid is checked
// against that all the same.
func insertRecords(ctx context.Context, tx *sql.Tx, last int64, full, rest *sql.Stmt, rs []*rung.Record, bodies [][]byte) (int64, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	first := last + 1
	args := make([]any, 0, 3*min(len(rs), rowsPerInsert))
	for i := 0; i < len(rs); i += rowsPerInsert {
		chunk := rs[i:min(i+rowsPerInsert, len(rs))]
		args = args[:0]
		for j, r := range chunk {
			args = append(args, r.Event.ID, int64(r.Version), bodies[i+j])
		}
		st := full
		if len(chunk) < rowsPerInsert {
			st = rest
		}
		res, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("sqlite: commit: insert records: %w", err)
		}
		want := first + int64(i+len(chunk)) - 1
		if got, err := res.LastInsertId(); err != nil || got != want {
			return 0, fmt.Errorf("sqlite: commit: records got seqs up to %d, expected %d (%v)", got, want, err)
		}
	}
	return first, nil
}

func insertPrograms(ctx context.Context, tx *sql.Tx, ps []rung.ProgramVersion) error {
	for _, p := range ps {
		from, err := store.UnixNanos(p.EffectiveFrom)
		if err != nil {
			return fmt.Errorf("program v%d: effective_from: %w", p.Version, err)
		}
		at, err := store.UnixNanos(p.AppliedAt)
		if err != nil {
			return fmt.Errorf("program v%d: applied_at: %w", p.Version, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO programs (version, source, effective_from, applied_at, applied_by) VALUES (?, ?, ?, ?, ?)`,
			p.Version, p.Source, from, at, p.AppliedBy)
		if isConstraint(err) {
			return rung.Errorf(rung.ECONFLICT, "program version %d already exists: apply the program again to get a new version", p.Version)
		}
		if err != nil {
			return fmt.Errorf("sqlite: commit: program v%d: %w", p.Version, err)
		}
	}
	return nil
}

func insertPartners(ctx context.Context, tx *sql.Tx, pvs []rung.PartnerVersion) error {
	if len(pvs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO partner_versions (id, version, valid_from, body) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: commit: partners: %w", err)
	}
	defer st.Close()
	for i := range pvs {
		pv := &pvs[i]
		from, err := store.UnixNanos(pv.ValidFrom)
		if err != nil {
			return fmt.Errorf("partner %q version %d: valid_from: %w", pv.Partner.ID, pv.Version, err)
		}
		body, err := store.MarshalPartner(&pv.Partner)
		if err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, pv.Partner.ID, pv.Version, from, body)
		if isConstraint(err) {
			return rung.Errorf(rung.ECONFLICT, "partner %q version %d already exists", pv.Partner.ID, pv.Version)
		}
		if err != nil {
			return fmt.Errorf("sqlite: commit: partner %q: %w", pv.Partner.ID, err)
		}
	}
	return nil
}

func upsertMembers(ctx context.Context, tx *sql.Tx, ms []rung.Member) error {
	if len(ms) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO members (id, body) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET body = excluded.body`)
	if err != nil {
		return fmt.Errorf("sqlite: commit: members: %w", err)
	}
	defer st.Close()
	for i := range ms {
		body, err := store.MarshalMember(&ms[i])
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, ms[i].ID, body); err != nil {
			return fmt.Errorf("sqlite: commit: member %q: %w", ms[i].ID, err)
		}
	}
	return nil
}

func insertAdjustments(ctx context.Context, tx *sql.Tx, as []rung.Adjustment) error {
	for _, a := range as {
		occ, err := store.UnixNanos(a.OccurredAt)
		if err != nil {
			return fmt.Errorf("adjustment %q: occurred_at: %w", a.ID, err)
		}
		created, err := store.UnixNanos(a.CreatedAt)
		if err != nil {
			return fmt.Errorf("adjustment %q: created_at: %w", a.ID, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO adjustments (id, partner, member, points, reason, occurred_at, by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Partner, a.Member, a.Points, a.Reason, occ, a.By, created)
		if isConstraint(err) {
			return rung.Errorf(rung.ECONFLICT, "adjustment %q already exists", a.ID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: commit: adjustment %q: %w", a.ID, err)
		}
	}
	return nil
}

func insertAudit(ctx context.Context, tx *sql.Tx, es []rung.AuditEntry) ([]int64, error) {
	ids := make([]int64, 0, len(es))
	for _, e := range es {
		at, err := store.UnixNanos(e.At)
		if err != nil {
			return nil, fmt.Errorf("audit entry: at: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`,
			at, e.Actor, e.Action, e.Target, e.Detail)
		if err != nil {
			return nil, fmt.Errorf("sqlite: commit: audit: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("sqlite: commit: audit: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
