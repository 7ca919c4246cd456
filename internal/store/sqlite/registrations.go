package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// SubmitRegistration stores a new registration, or returns the partner's
// active one of the same company. SQLite has one writing connection whose
// transactions begin IMMEDIATE, and one process holds the database, so the
// check and the insert are serialized with every other write.
func (s *Store) SubmitRegistration(ctx context.Context, r store.Registration) (store.Registration, bool, error) {
	if err := s.writable(); err != nil {
		return r, false, err
	}
	body, err := store.EncodeRegistration(r)
	if err != nil {
		return r, false, err
	}
	submitted, err := store.UnixNanos(r.SubmittedAt)
	if err != nil {
		return r, false, fmt.Errorf("registration %q: submitted_at: %w", r.ID, err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return r, false, fmt.Errorf("sqlite: submit registration: %w", err)
	}
	defer tx.Rollback()
	active, err := queryRegistrations(ctx, tx, `SELECT body FROM registrations WHERE company_key = ? AND active = 1 ORDER BY submitted_at, id`, r.CompanyKey)
	if err != nil {
		return r, false, err
	}
	for _, o := range active {
		if o.Partner == r.Partner {
			tx.Rollback()
			cs, err := s.conflictsOf(ctx, s.read, o.ID)
			o.Conflicts = cs
			return o, false, err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO registrations (id, partner, company_key, company_name, normalized_name, kind, status, active, submitted_at, version, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Partner, r.CompanyKey, r.CompanyName, r.NormalizedName, r.Kind, r.Status, boolInt(store.RegistrationActive(r.Status)), submitted, r.Version, string(body))
	if isConstraint(err) {
		return r, false, rung.Errorf(rung.ECONFLICT, "registration %s exists already", r.ID)
	}
	if err != nil {
		return r, false, fmt.Errorf("sqlite: submit registration: %w", err)
	}
	r.Conflicts = nil
	for _, o := range active {
		c := store.Conflict{First: o.ID, Second: r.ID, CreatedAt: r.SubmittedAt.UTC()}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registration_conflicts (first, second, company_key, created_at, winner, reason, decided_by, decided_at)
			VALUES (?, ?, ?, ?, '', '', '', NULL)`, c.First, c.Second, r.CompanyKey, submitted); err != nil {
			return r, false, fmt.Errorf("sqlite: record conflict: %w", err)
		}
		r.Conflicts = append(r.Conflicts, c)
	}
	if err := tx.Commit(); err != nil {
		return r, false, fmt.Errorf("sqlite: submit registration: %w", err)
	}
	return r, true, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryRegistrations(ctx context.Context, q querier, query string, args ...any) ([]store.Registration, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: registrations: %w", err)
	}
	defer rows.Close()
	out := []store.Registration{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("sqlite: registrations: %w", err)
		}
		r, err := store.DecodeRegistration([]byte(body))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const conflictColumns = `first, second, created_at, winner, reason, decided_by, decided_at`

func queryConflicts(ctx context.Context, q querier, query string, args ...any) ([]store.Conflict, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: conflicts: %w", err)
	}
	defer rows.Close()
	var out []store.Conflict
	for rows.Next() {
		var c store.Conflict
		var created, decided sql.NullInt64
		if err := rows.Scan(&c.First, &c.Second, &created, &c.Winner, &c.Reason, &c.DecidedBy, &decided); err != nil {
			return nil, fmt.Errorf("sqlite: conflicts: %w", err)
		}
		c.CreatedAt, c.DecidedAt = store.TimeFromNanos(created), store.TimeFromNanos(decided)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) conflictsOf(ctx context.Context, q querier, id string) ([]store.Conflict, error) {
	return queryConflicts(ctx, q, `SELECT `+conflictColumns+` FROM registration_conflicts WHERE first = ? OR second = ? ORDER BY created_at, first, second`, id, id)
}

// Registration returns one registration with its conflicts.
func (s *Store) Registration(ctx context.Context, id string) (store.Registration, error) {
	rs, err := queryRegistrations(ctx, s.read, `SELECT body FROM registrations WHERE id = ?`, id)
	if err != nil {
		return store.Registration{}, err
	}
	if len(rs) == 0 {
		return store.Registration{}, rung.Errorf(rung.ENOTFOUND, "registration %q not found", id)
	}
	r := rs[0]
	r.Conflicts, err = s.conflictsOf(ctx, s.read, id)
	return r, err
}

// UpdateRegistration replaces a registration read at Version-1.
func (s *Store) UpdateRegistration(ctx context.Context, r store.Registration) error {
	if err := s.writable(); err != nil {
		return err
	}
	body, err := store.EncodeRegistration(r)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update registration: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE registrations SET status = ?, active = ?, version = ?, body = ? WHERE id = ? AND version = ?`,
		r.Status, boolInt(store.RegistrationActive(r.Status)), r.Version, string(body), r.ID, r.Version-1)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 1 {
			if err := insertOutbox(ctx, tx, r.Outbox); err != nil {
				return err
			}
			err = tx.Commit()
		}
	}
	if isConstraint(err) {
		return rung.Errorf(rung.ECONFLICT, "partner %s has another active registration of %s", r.Partner, r.CompanyName)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update registration: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := s.Registration(ctx, r.ID); err != nil {
		return err
	}
	return rung.Errorf(rung.ECONFLICT, "registration %s was changed by someone else meanwhile; read it again and retry", r.ID)
}

// ListRegistrations returns the registrations f selects, oldest first.
func (s *Store) ListRegistrations(ctx context.Context, f store.RegistrationFilter) ([]store.Registration, error) {
	var where []string
	var args []any
	if f.Partner != "" {
		where, args = append(where, "partner = ?"), append(args, f.Partner)
	}
	if f.CompanyKey != "" {
		where, args = append(where, "company_key = ?"), append(args, f.CompanyKey)
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Active {
		where = append(where, "active = 1")
	}
	if len(f.Status) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(f.Status)-1)+")")
		for _, st := range f.Status {
			args = append(args, st)
		}
	}
	if !f.Since.IsZero() {
		since, err := store.UnixNanos(f.Since)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "submitted_at >= ?"), append(args, since)
	}
	q := `SELECT body FROM registrations`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY submitted_at, id`
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = -1
		}
		q += fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, f.Offset)
	}
	rs, err := queryRegistrations(ctx, s.read, q, args...)
	if err != nil || len(rs) == 0 {
		return rs, err
	}
	all, err := queryConflicts(ctx, s.read, `SELECT `+conflictColumns+` FROM registration_conflicts ORDER BY created_at, first, second`)
	if err != nil {
		return nil, err
	}
	store.AttachConflicts(rs, all)
	return rs, nil
}

// SettleConflict records the winner of a conflict pair once.
func (s *Store) SettleConflict(ctx context.Context, c store.Conflict) (store.Conflict, error) {
	if err := s.writable(); err != nil {
		return c, err
	}
	decided, err := store.UnixNanos(c.DecidedAt)
	if err != nil {
		return c, err
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE registration_conflicts SET winner = ?, reason = ?, decided_by = ?, decided_at = ?
		WHERE first = ? AND second = ? AND winner = ''`, c.Winner, c.Reason, c.DecidedBy, decided, c.First, c.Second); err != nil {
		return c, fmt.Errorf("sqlite: settle conflict: %w", err)
	}
	cs, err := queryConflicts(ctx, s.write, `SELECT `+conflictColumns+` FROM registration_conflicts WHERE first = ? AND second = ?`, c.First, c.Second)
	if err != nil {
		return c, err
	}
	if len(cs) == 0 {
		return c, rung.Errorf(rung.ENOTFOUND, "no conflict between %s and %s", c.First, c.Second)
	}
	return cs[0], nil
}

// PutCRMAccount creates or replaces an account by domain.
func (s *Store) PutCRMAccount(ctx context.Context, a store.CRMAccount) error {
	if err := s.writable(); err != nil {
		return err
	}
	updated, err := store.UnixNanos(a.UpdatedAt)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO crm_accounts (domain, name, normalized_name, customer, open_deal, owner, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain) DO UPDATE SET name = excluded.name, normalized_name = excluded.normalized_name, customer = excluded.customer, open_deal = excluded.open_deal,
		owner = excluded.owner, updated_at = excluded.updated_at`, a.Domain, a.Name, a.NormalizedName, boolInt(a.Customer), boolInt(a.OpenDeal), a.Owner, updated)
	if err != nil {
		return fmt.Errorf("sqlite: put CRM account: %w", err)
	}
	return nil
}

func (s *Store) crmAccounts(ctx context.Context, where string, args ...any) ([]store.CRMAccount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT domain, name, normalized_name, customer, open_deal, owner, updated_at FROM crm_accounts `+where+` ORDER BY domain`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: CRM accounts: %w", err)
	}
	defer rows.Close()
	out := []store.CRMAccount{}
	for rows.Next() {
		var a store.CRMAccount
		var customer, open int
		var updated sql.NullInt64
		if err := rows.Scan(&a.Domain, &a.Name, &a.NormalizedName, &customer, &open, &a.Owner, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: CRM accounts: %w", err)
		}
		a.Customer, a.OpenDeal, a.UpdatedAt = customer == 1, open == 1, store.TimeFromNanos(updated)
		out = append(out, a)
	}
	return out, rows.Err()
}

// CRMAccount returns the account of a registrable domain.
func (s *Store) CRMAccount(ctx context.Context, domain string) (store.CRMAccount, error) {
	as, err := s.crmAccounts(ctx, `WHERE domain = ?`, domain)
	if err != nil {
		return store.CRMAccount{}, err
	}
	if len(as) == 0 {
		return store.CRMAccount{}, rung.Errorf(rung.ENOTFOUND, "no CRM account for %s", domain)
	}
	return as[0], nil
}

// CRMAccounts returns every account, ordered by domain.
func (s *Store) CRMAccounts(ctx context.Context) ([]store.CRMAccount, error) {
	return s.crmAccounts(ctx, ``)
}

// CompanyNames returns the companies of active registrations and CRM
// accounts.
func (s *Store) CompanyNames(ctx context.Context) ([]store.CompanyName, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, company_key, company_name, normalized_name FROM registrations WHERE active = 1
		UNION ALL SELECT '', domain, name, normalized_name FROM crm_accounts`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: company names: %w", err)
	}
	defer rows.Close()
	var out []store.CompanyName
	for rows.Next() {
		var c store.CompanyName
		if err := rows.Scan(&c.Registration, &c.Key, &c.Name, &c.Normalized); err != nil {
			return nil, fmt.Errorf("sqlite: company names: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConflictPairs returns every conflict pair, oldest first.
func (s *Store) ConflictPairs(ctx context.Context) ([]store.Conflict, error) {
	out, err := queryConflicts(ctx, s.read, `SELECT `+conflictColumns+` FROM registration_conflicts ORDER BY created_at, first, second`)
	if out == nil && err == nil {
		out = []store.Conflict{}
	}
	return out, err
}

// ImportRegistrations stores registrations as they are, in one
// transaction.
func (s *Store) ImportRegistrations(ctx context.Context, rs []store.Registration) error {
	if err := s.writable(); err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: import registrations: %w", err)
	}
	defer tx.Rollback()
	for _, r := range rs {
		body, err := store.EncodeRegistration(r)
		if err != nil {
			return err
		}
		submitted, err := store.UnixNanos(r.SubmittedAt)
		if err != nil || submitted == nil {
			return rung.Errorf(rung.EINVALID, "registration %q: submitted_at %v is out of range", r.ID, r.SubmittedAt)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO registrations (id, partner, company_key, company_name, normalized_name, kind, status, active, submitted_at, version, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Partner, r.CompanyKey, r.CompanyName, r.NormalizedName, r.Kind, r.Status, boolInt(store.RegistrationActive(r.Status)), submitted, r.Version, string(body))
		if isConstraint(err) {
			return rung.Errorf(rung.ECONFLICT, "registration %s: its id is taken, or partner %s holds another active registration of %s", r.ID, r.Partner, r.CompanyKey)
		}
		if err != nil {
			return fmt.Errorf("sqlite: import registration %q: %w", r.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: import registrations: %w", err)
	}
	return nil
}

// ImportConflicts stores conflict pairs as they are, in one transaction.
func (s *Store) ImportConflicts(ctx context.Context, cs []store.Conflict) error {
	if err := s.writable(); err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: import conflicts: %w", err)
	}
	defer tx.Rollback()
	for _, c := range cs {
		created, err := store.UnixNanos(c.CreatedAt)
		if err != nil || created == nil {
			return rung.Errorf(rung.EINVALID, "conflict %s/%s: created_at %v is out of range", c.First, c.Second, c.CreatedAt)
		}
		decided, err := store.UnixNanos(c.DecidedAt)
		if err != nil {
			return err
		}
		// The pair takes its company key from its first registration.
		res, err := tx.ExecContext(ctx, `INSERT INTO registration_conflicts (first, second, company_key, created_at, winner, reason, decided_by, decided_at)
			SELECT f.id, o.id, f.company_key, ?, ?, ?, ?, ? FROM registrations f, registrations o WHERE f.id = ? AND o.id = ?`,
			created, c.Winner, c.Reason, c.DecidedBy, decided, c.First, c.Second)
		if isConstraint(err) {
			return rung.Errorf(rung.ECONFLICT, "conflict %s/%s exists already", c.First, c.Second)
		}
		if err != nil {
			return fmt.Errorf("sqlite: import conflict %s/%s: %w", c.First, c.Second, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rung.Errorf(rung.ENOTFOUND, "conflict %s/%s: both registrations must be stored first", c.First, c.Second)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: import conflicts: %w", err)
	}
	return nil
}
