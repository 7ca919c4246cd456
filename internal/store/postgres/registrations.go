package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// SubmitRegistration stores a new registration, or returns the partner's
// active one of the same company. The transaction takes an advisory lock
// on the company key first, so submissions of one company are serialized
// across every instance sharing the database; the unique index on a
// partner's active claim backs it up.
func (s *Store) SubmitRegistration(ctx context.Context, r store.Registration) (store.Registration, bool, error) {
	body, err := store.EncodeRegistration(r)
	if err != nil {
		return r, false, err
	}
	submitted, err := store.UnixNanos(r.SubmittedAt)
	if err != nil {
		return r, false, fmt.Errorf("registration %q: submitted_at: %w", r.ID, err)
	}
	var existing *store.Registration
	var conflicts []store.Conflict
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		existing, conflicts = nil, nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("rung.registration."+s.schema+"."+r.CompanyKey)); err != nil {
			return err
		}
		active, err := queryRegistrations(ctx, tx, `SELECT body FROM registrations WHERE company_key = $1 AND active = 1 ORDER BY submitted_at, id`, r.CompanyKey)
		if err != nil {
			return err
		}
		for _, o := range active {
			if o.Partner == r.Partner {
				existing = &o
				o.Conflicts, err = queryConflicts(ctx, tx, `SELECT `+conflictColumns+` FROM registration_conflicts WHERE first = $1 OR second = $1 ORDER BY created_at, first, second`, o.ID)
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO registrations (id, partner, company_key, company_name, normalized_name, kind, status, active, submitted_at, version, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, r.ID, r.Partner, r.CompanyKey, r.CompanyName, r.NormalizedName, r.Kind, r.Status, boolInt(store.RegistrationActive(r.Status)), submitted, r.Version, string(body)); err != nil {
			return err
		}
		for _, o := range active {
			c := store.Conflict{First: o.ID, Second: r.ID, CreatedAt: r.SubmittedAt.UTC()}
			if _, err := tx.Exec(ctx, `INSERT INTO registration_conflicts (first, second, company_key, created_at, winner, reason, decided_by, decided_at)
				VALUES ($1, $2, $3, $4, '', '', '', NULL)`, c.First, c.Second, r.CompanyKey, submitted); err != nil {
				return err
			}
			conflicts = append(conflicts, c)
		}
		return nil
	})
	if isCode(err, uniqueViolation) {
		return r, false, rung.Errorf(rung.ECONFLICT, "registration %s exists already", r.ID)
	}
	if err != nil {
		return r, false, userError(err, "submit registration %q", r.ID)
	}
	if existing != nil {
		return *existing, false, nil
	}
	r.Conflicts = conflicts
	return r, true, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryRegistrations(ctx context.Context, q querier, query string, args ...any) ([]store.Registration, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, failed(err, "registrations")
	}
	defer rows.Close()
	out := []store.Registration{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, failed(err, "registrations")
		}
		r, err := store.DecodeRegistration([]byte(body))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, failed(err, "registrations")
	}
	return out, nil
}

const conflictColumns = `first, second, created_at, winner, reason, decided_by, decided_at`

func queryConflicts(ctx context.Context, q querier, query string, args ...any) ([]store.Conflict, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, failed(err, "conflicts")
	}
	defer rows.Close()
	var out []store.Conflict
	for rows.Next() {
		var c store.Conflict
		var created, decided sql.NullInt64
		if err := rows.Scan(&c.First, &c.Second, &created, &c.Winner, &c.Reason, &c.DecidedBy, &decided); err != nil {
			return nil, failed(err, "conflicts")
		}
		c.CreatedAt, c.DecidedAt = store.TimeFromNanos(created), store.TimeFromNanos(decided)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, failed(err, "conflicts")
	}
	return out, nil
}

// Registration returns one registration with its conflicts.
func (s *Store) Registration(ctx context.Context, id string) (store.Registration, error) {
	rs, err := queryRegistrations(ctx, s.pool, `SELECT body FROM registrations WHERE id = $1`, id)
	if err != nil {
		return store.Registration{}, err
	}
	if len(rs) == 0 {
		return store.Registration{}, rung.Errorf(rung.ENOTFOUND, "registration %q not found", id)
	}
	r := rs[0]
	r.Conflicts, err = queryConflicts(ctx, s.pool, `SELECT `+conflictColumns+` FROM registration_conflicts WHERE first = $1 OR second = $1 ORDER BY created_at, first, second`, id)
	return r, err
}

// UpdateRegistration replaces a registration read at Version-1.
func (s *Store) UpdateRegistration(ctx context.Context, r store.Registration) error {
	body, err := store.EncodeRegistration(r)
	if err != nil {
		return err
	}
	var tag pgconn.CommandTag
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		tag, err = tx.Exec(ctx, `UPDATE registrations SET status = $1, active = $2, version = $3, body = $4 WHERE id = $5 AND version = $6`,
			r.Status, boolInt(store.RegistrationActive(r.Status)), r.Version, string(body), r.ID, r.Version-1)
		if err != nil || tag.RowsAffected() != 1 {
			return err
		}
		return insertOutbox(ctx, tx, r.Outbox)
	})
	if rung.ErrorCode(err) != "" && rung.ErrorCode(err) != rung.EINTERNAL {
		return err
	}
	if isCode(err, uniqueViolation) {
		return rung.Errorf(rung.ECONFLICT, "partner %s has another active registration of %s", r.Partner, r.CompanyName)
	}
	if err != nil {
		return userError(err, "update registration %q", r.ID)
	}
	if tag.RowsAffected() == 1 {
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
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Partner != "" {
		where = append(where, "partner = "+arg(f.Partner))
	}
	if f.CompanyKey != "" {
		where = append(where, "company_key = "+arg(f.CompanyKey))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.Active {
		where = append(where, "active = 1")
	}
	if len(f.Status) > 0 {
		where = append(where, "status = ANY("+arg(f.Status)+")")
	}
	if !f.Since.IsZero() {
		since, err := store.UnixNanos(f.Since)
		if err != nil {
			return nil, err
		}
		where = append(where, "submitted_at >= "+arg(since))
	}
	q := `SELECT body FROM registrations`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY submitted_at, id`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	if f.Offset > 0 {
		q += fmt.Sprintf(` OFFSET %d`, f.Offset)
	}
	rs, err := queryRegistrations(ctx, s.pool, q, args...)
	if err != nil || len(rs) == 0 {
		return rs, err
	}
	all, err := queryConflicts(ctx, s.pool, `SELECT `+conflictColumns+` FROM registration_conflicts ORDER BY created_at, first, second`)
	if err != nil {
		return nil, err
	}
	store.AttachConflicts(rs, all)
	return rs, nil
}

// SettleConflict records the winner of a conflict pair once.
func (s *Store) SettleConflict(ctx context.Context, c store.Conflict) (store.Conflict, error) {
	decided, err := store.UnixNanos(c.DecidedAt)
	if err != nil {
		return c, err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE registration_conflicts SET winner = $1, reason = $2, decided_by = $3, decided_at = $4
		WHERE first = $5 AND second = $6 AND winner = ''`, c.Winner, c.Reason, c.DecidedBy, decided, c.First, c.Second); err != nil {
		return c, userError(err, "settle conflict")
	}
	cs, err := queryConflicts(ctx, s.pool, `SELECT `+conflictColumns+` FROM registration_conflicts WHERE first = $1 AND second = $2`, c.First, c.Second)
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
	updated, err := store.UnixNanos(a.UpdatedAt)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO crm_accounts (domain, name, normalized_name, customer, open_deal, owner, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (domain) DO UPDATE SET name = excluded.name, normalized_name = excluded.normalized_name, customer = excluded.customer, open_deal = excluded.open_deal,
		owner = excluded.owner, updated_at = excluded.updated_at`, a.Domain, a.Name, a.NormalizedName, boolInt(a.Customer), boolInt(a.OpenDeal), a.Owner, updated)
	if err != nil {
		return userError(err, "put CRM account %q", a.Domain)
	}
	return nil
}

func (s *Store) crmAccounts(ctx context.Context, where string, args ...any) ([]store.CRMAccount, error) {
	rows, err := s.pool.Query(ctx, `SELECT domain, name, normalized_name, customer, open_deal, owner, updated_at FROM crm_accounts `+where+` ORDER BY domain`, args...)
	if err != nil {
		return nil, failed(err, "CRM accounts")
	}
	defer rows.Close()
	out := []store.CRMAccount{}
	for rows.Next() {
		var a store.CRMAccount
		var customer, open int
		var updated sql.NullInt64
		if err := rows.Scan(&a.Domain, &a.Name, &a.NormalizedName, &customer, &open, &a.Owner, &updated); err != nil {
			return nil, failed(err, "CRM accounts")
		}
		a.Customer, a.OpenDeal, a.UpdatedAt = customer == 1, open == 1, store.TimeFromNanos(updated)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, failed(err, "CRM accounts")
	}
	return out, nil
}

// CRMAccount returns the account of a registrable domain.
func (s *Store) CRMAccount(ctx context.Context, domain string) (store.CRMAccount, error) {
	as, err := s.crmAccounts(ctx, `WHERE domain = $1`, domain)
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
	rows, err := s.pool.Query(ctx, `SELECT id, company_key, company_name, normalized_name FROM registrations WHERE active = 1
		UNION ALL SELECT '', domain, name, normalized_name FROM crm_accounts`)
	if err != nil {
		return nil, failed(err, "company names")
	}
	defer rows.Close()
	var out []store.CompanyName
	for rows.Next() {
		var c store.CompanyName
		if err := rows.Scan(&c.Registration, &c.Key, &c.Name, &c.Normalized); err != nil {
			return nil, failed(err, "company names")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, failed(err, "company names")
	}
	return out, nil
}

// ConflictPairs returns every conflict pair, oldest first.
func (s *Store) ConflictPairs(ctx context.Context) ([]store.Conflict, error) {
	out, err := queryConflicts(ctx, s.pool, `SELECT `+conflictColumns+` FROM registration_conflicts ORDER BY created_at, first COLLATE "C", second COLLATE "C"`)
	if out == nil && err == nil {
		out = []store.Conflict{}
	}
	return out, err
}

// ImportRegistrations stores registrations as they are, in one
// transaction.
func (s *Store) ImportRegistrations(ctx context.Context, rs []store.Registration) error {
	var at string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, r := range rs {
			at = r.ID
			body, err := store.EncodeRegistration(r)
			if err != nil {
				return err
			}
			submitted, err := store.UnixNanos(r.SubmittedAt)
			if err != nil || submitted == nil {
				return rung.Errorf(rung.EINVALID, "registration %q: submitted_at %v is out of range", r.ID, r.SubmittedAt)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO registrations (id, partner, company_key, company_name, normalized_name, kind, status, active, submitted_at, version, body)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, r.ID, r.Partner, r.CompanyKey, r.CompanyName, r.NormalizedName, r.Kind, r.Status,
				boolInt(store.RegistrationActive(r.Status)), submitted, r.Version, string(body)); err != nil {
				if isCode(err, uniqueViolation) {
					return rung.Errorf(rung.ECONFLICT, "registration %s: its id is taken, or partner %s holds another active registration of %s", r.ID, r.Partner, r.CompanyKey)
				}
				return err
			}
		}
		return nil
	})
	if err != nil && rung.ErrorCode(err) == rung.EINTERNAL {
		return userError(err, "import registration %q", at)
	}
	return err
}

// ImportConflicts stores conflict pairs as they are, in one transaction.
func (s *Store) ImportConflicts(ctx context.Context, cs []store.Conflict) error {
	var at store.Conflict
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, c := range cs {
			at = c
			created, err := store.UnixNanos(c.CreatedAt)
			if err != nil || created == nil {
				return rung.Errorf(rung.EINVALID, "conflict %s/%s: created_at %v is out of range", c.First, c.Second, c.CreatedAt)
			}
			decided, err := store.UnixNanos(c.DecidedAt)
			if err != nil {
				return err
			}
			// The pair takes its company key from its first registration.
			tag, err := tx.Exec(ctx, `INSERT INTO registration_conflicts (first, second, company_key, created_at, winner, reason, decided_by, decided_at)
				SELECT f.id, o.id, f.company_key, $1, $2, $3, $4, $5 FROM registrations f, registrations o WHERE f.id = $6 AND o.id = $7`,
				created, c.Winner, c.Reason, c.DecidedBy, decided, c.First, c.Second)
			if isCode(err, uniqueViolation) {
				return rung.Errorf(rung.ECONFLICT, "conflict %s/%s exists already", c.First, c.Second)
			}
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return rung.Errorf(rung.ENOTFOUND, "conflict %s/%s: both registrations must be stored first", c.First, c.Second)
			}
		}
		return nil
	})
	if err != nil && rung.ErrorCode(err) == rung.EINTERNAL {
		return userError(err, "import conflict %s/%s", at.First, at.Second)
	}
	return err
}
