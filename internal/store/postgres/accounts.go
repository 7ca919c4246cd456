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

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

const accountColumns = `id, email, name, role, member, partners, password_hash, locale, created_at, disabled_at`

// uniqueViolation is PostgreSQL's code for a UNIQUE or PRIMARY KEY clash.
const uniqueViolation = "23505"

// PutAccount creates or replaces an account by ID.
func (s *Store) PutAccount(ctx context.Context, a store.Account) error {
	created, err := store.UnixNanos(a.CreatedAt)
	if err != nil {
		return fmt.Errorf("account %q: created_at: %w", a.ID, err)
	}
	disabled, err := store.UnixNanos(a.DisabledAt)
	if err != nil {
		return fmt.Errorf("account %q: disabled_at: %w", a.ID, err)
	}
	ps := a.Partners
	if ps == nil {
		ps = []string{}
	}
	partners, _ := json.Marshal(ps)
	_, err = s.pool.Exec(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, role = excluded.role,
		member = excluded.member, partners = excluded.partners, password_hash = excluded.password_hash,
		locale = excluded.locale, created_at = excluded.created_at, disabled_at = excluded.disabled_at`,
		a.ID, strings.ToLower(a.Email), a.Name, string(a.Role), a.Member, string(partners), a.PasswordHash, a.Locale, created, disabled)
	if isCode(err, uniqueViolation) {
		return rung.Errorf(rung.ECONFLICT, "another account already uses the e-mail %s", a.Email)
	}
	if err != nil {
		return userError(err, "put account %q", a.ID)
	}
	return nil
}

func scanAccount(sc interface{ Scan(...any) error }) (store.Account, error) {
	var a store.Account
	var role, partners string
	var created, disabled sql.NullInt64
	if err := sc.Scan(&a.ID, &a.Email, &a.Name, &role, &a.Member, &partners, &a.PasswordHash, &a.Locale, &created, &disabled); err != nil {
		return a, err
	}
	a.Role = store.Role(role)
	if err := json.Unmarshal([]byte(partners), &a.Partners); err != nil {
		return a, fmt.Errorf("account %q partners: %w", a.ID, err)
	}
	if len(a.Partners) == 0 {
		a.Partners = nil
	}
	a.CreatedAt, a.DisabledAt = store.TimeFromNanos(created), store.TimeFromNanos(disabled)
	return a, nil
}

func (s *Store) oneAccount(ctx context.Context, where string, arg any) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Account{}, rung.Errorf(rung.ENOTFOUND, "no such account")
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("postgres: account: %w", err)
	}
	return a, nil
}

// Account returns an account by ID.
func (s *Store) Account(ctx context.Context, id string) (store.Account, error) {
	return s.oneAccount(ctx, `id = $1`, id)
}

// AccountByEmail returns the account with an e-mail (any case).
func (s *Store) AccountByEmail(ctx context.Context, email string) (store.Account, error) {
	if email == "" {
		return store.Account{}, rung.Errorf(rung.ENOTFOUND, "no such account")
	}
	return s.oneAccount(ctx, `email = $1`, strings.ToLower(email))
}

// ListAccounts returns every account, ordered by ID.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: accounts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Account, error) { return scanAccount(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: accounts: %w", err)
	}
	if out == nil {
		out = []store.Account{}
	}
	return out, nil
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	created, err := store.UnixNanos(ss.CreatedAt)
	if err != nil {
		return err
	}
	expires, err := store.UnixNanos(ss.ExpiresAt)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO sessions (hash, account, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		ss.Hash, ss.Account, ss.CSRF, created, expires)
	if isCode(err, uniqueViolation) {
		return rung.Errorf(rung.ECONFLICT, "session exists")
	}
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	return nil
}

// SessionByHash returns a session by the hash of its cookie.
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (store.Session, error) {
	var ss store.Session
	var created, expires sql.NullInt64
	err := s.pool.QueryRow(ctx, `SELECT hash, account, csrf, created_at, expires_at FROM sessions WHERE hash = $1`, hash).
		Scan(&ss.Hash, &ss.Account, &ss.CSRF, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, rung.Errorf(rung.ENOTFOUND, "no such session")
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("postgres: session: %w", err)
	}
	ss.CreatedAt, ss.ExpiresAt = store.TimeFromNanos(created), store.TimeFromNanos(expires)
	return ss, nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// DeleteSessions ends an account's sessions and every expired one.
func (s *Store) DeleteSessions(ctx context.Context, account string, t time.Time) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE account = $1 OR expires_at < $2`, account, t.UnixNano()); err != nil {
		return fmt.Errorf("postgres: delete sessions: %w", err)
	}
	return nil
}

// CreateLoginLink stores a new sign-in link.
func (s *Store) CreateLoginLink(ctx context.Context, l store.LoginLink) error {
	created, err := store.UnixNanos(l.CreatedAt)
	if err != nil {
		return err
	}
	expires, err := store.UnixNanos(l.ExpiresAt)
	if err != nil {
		return err
	}
	used, err := store.UnixNanos(l.UsedAt)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO login_links (hash, account, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)`,
		l.Hash, l.Account, created, expires, used)
	if isCode(err, uniqueViolation) {
		return rung.Errorf(rung.ECONFLICT, "sign-in link exists")
	}
	if err != nil {
		return fmt.Errorf("postgres: create login link: %w", err)
	}
	return nil
}

// LoginLink returns a link without using it.
func (s *Store) LoginLink(ctx context.Context, hash []byte) (store.LoginLink, error) {
	var l store.LoginLink
	var created, expires, used sql.NullInt64
	err := s.pool.QueryRow(ctx, `SELECT hash, account, created_at, expires_at, used_at FROM login_links WHERE hash = $1`, hash).
		Scan(&l.Hash, &l.Account, &created, &expires, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.LoginLink{}, rung.Errorf(rung.ENOTFOUND, "no such sign-in link")
	}
	if err != nil {
		return store.LoginLink{}, fmt.Errorf("postgres: login link: %w", err)
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = store.TimeFromNanos(created), store.TimeFromNanos(expires), store.TimeFromNanos(used)
	return l, nil
}

// UseLoginLink marks a link used, once; the row lock makes two concurrent
// uses of one link see each other.
func (s *Store) UseLoginLink(ctx context.Context, hash []byte, t time.Time) (store.LoginLink, error) {
	var l store.LoginLink
	var outErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var created, expires, used sql.NullInt64
		err := tx.QueryRow(ctx, `SELECT hash, account, created_at, expires_at, used_at FROM login_links WHERE hash = $1 FOR UPDATE`, hash).
			Scan(&l.Hash, &l.Account, &created, &expires, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			outErr = rung.Errorf(rung.ENOTFOUND, "no such sign-in link")
			return nil
		}
		if err != nil {
			return err
		}
		l.CreatedAt, l.ExpiresAt, l.UsedAt = store.TimeFromNanos(created), store.TimeFromNanos(expires), store.TimeFromNanos(used)
		if !l.UsedAt.IsZero() {
			outErr = rung.Errorf(rung.ECONFLICT, "the sign-in link was used already")
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE login_links SET used_at = $1 WHERE hash = $2`, t.UnixNano(), hash)
		return err
	})
	if err != nil {
		return store.LoginLink{}, fmt.Errorf("postgres: use login link: %w", err)
	}
	if outErr != nil && rung.ErrorCode(outErr) == rung.ENOTFOUND {
		return store.LoginLink{}, outErr
	}
	return l, outErr
}
