package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// AddCredentialKey stores a new signing key.
func (s *Store) AddCredentialKey(ctx context.Context, k store.CredentialKey) error {
	if err := s.writable(); err != nil {
		return err
	}
	created, err := store.UnixNanos(k.CreatedAt)
	if err != nil || created == nil {
		return rung.Errorf(rung.EINVALID, "credential key %q: created_at %v is out of range", k.ID, k.CreatedAt)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO credential_keys (id, seed, created_at) VALUES (?, ?, ?)`, k.ID, k.Seed, created)
	if isConstraint(err) {
		return rung.Errorf(rung.ECONFLICT, "credential key %q exists", k.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: add credential key: %w", err)
	}
	return nil
}

// CredentialKeys returns every signing key, oldest first.
func (s *Store) CredentialKeys(ctx context.Context) ([]store.CredentialKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, seed, created_at FROM credential_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: credential keys: %w", err)
	}
	defer rows.Close()
	out := []store.CredentialKey{}
	for rows.Next() {
		var k store.CredentialKey
		var created sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Seed, &created); err != nil {
			return nil, fmt.Errorf("sqlite: credential keys: %w", err)
		}
		k.CreatedAt = store.TimeFromNanos(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

// NextCredentialSlot returns the next status list slot.
func (s *Store) NextCredentialSlot(ctx context.Context) (int64, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	var n int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO credential_slots (id, next) VALUES (1, 1)
		ON CONFLICT (id) DO UPDATE SET next = credential_slots.next + 1 RETURNING next - 1`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: next credential slot: %w", err)
	}
	return n, nil
}

const credentialColumns = `id, award, status_list, status_index, body, issued_at, revoked_at`

// PutCredential stores a newly issued credential.
func (s *Store) PutCredential(ctx context.Context, c store.IssuedCredential) error {
	if err := s.writable(); err != nil {
		return err
	}
	issued, err := store.UnixNanos(c.IssuedAt)
	if err != nil || issued == nil {
		return rung.Errorf(rung.EINVALID, "credential %q: issued_at %v is out of range", c.ID, c.IssuedAt)
	}
	revoked, err := store.UnixNanos(c.RevokedAt)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "credential %q: revoked_at: %v", c.ID, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO credentials (`+credentialColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Award, c.StatusList, c.StatusIndex, c.Body, issued, revoked)
	if isConstraint(err) {
		return rung.Errorf(rung.ECONFLICT, "credential %q, its award %q or its status slot is taken", c.ID, c.Award)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put credential: %w", err)
	}
	return nil
}

func (s *Store) oneCredential(ctx context.Context, where string, arg any) (store.IssuedCredential, error) {
	var c store.IssuedCredential
	var issued, revoked sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE `+where, arg).
		Scan(&c.ID, &c.Award, &c.StatusList, &c.StatusIndex, &c.Body, &issued, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return c, rung.Errorf(rung.ENOTFOUND, "no such credential")
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: credential: %w", err)
	}
	c.IssuedAt, c.RevokedAt = store.TimeFromNanos(issued), store.TimeFromNanos(revoked)
	return c, nil
}

// Credential returns a credential by ID.
func (s *Store) Credential(ctx context.Context, id string) (store.IssuedCredential, error) {
	return s.oneCredential(ctx, `id = ?`, id)
}

// CredentialByAward returns the credential issued for an award.
func (s *Store) CredentialByAward(ctx context.Context, award string) (store.IssuedCredential, error) {
	return s.oneCredential(ctx, `award = ?`, award)
}

// RevokeCredential marks a credential revoked, keeping the first time.
func (s *Store) RevokeCredential(ctx context.Context, id string, t time.Time) error {
	if err := s.writable(); err != nil {
		return err
	}
	at, err := store.UnixNanos(t)
	if err != nil || at == nil {
		return rung.Errorf(rung.EINVALID, "revoke credential %q: time %v is out of range", id, t)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE credentials SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, at, id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke credential: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return rung.Errorf(rung.ENOTFOUND, "no such credential")
	}
	return nil
}

// RevokedStatusIndexes returns the revoked indexes of a status list.
func (s *Store) RevokedStatusIndexes(ctx context.Context, list int) ([]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT status_index FROM credentials
		WHERE status_list = ? AND revoked_at IS NOT NULL ORDER BY status_index`, list)
	if err != nil {
		return nil, fmt.Errorf("sqlite: revoked status indexes: %w", err)
	}
	defer rows.Close()
	out := []int{}
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, fmt.Errorf("sqlite: revoked status indexes: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// CredentialSlots returns the slot NextCredentialSlot gives next.
func (s *Store) CredentialSlots(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(next), 0) FROM credential_slots`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: credential slots: %w", err)
	}
	return n, nil
}

// RaiseCredentialSlots makes the next slot at least n.
func (s *Store) RaiseCredentialSlots(ctx context.Context, n int64) error {
	if err := s.writable(); err != nil {
		return err
	}
	if n < 0 {
		return rung.Errorf(rung.EINVALID, "credential slots: %d is negative", n)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO credential_slots (id, next) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET next = MAX(credential_slots.next, excluded.next)`, n)
	if err != nil {
		return fmt.Errorf("sqlite: raise credential slots: %w", err)
	}
	return nil
}

// IssuedCredentials returns every credential, ordered by ID.
func (s *Store) IssuedCredentials(ctx context.Context) ([]store.IssuedCredential, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+credentialColumns+` FROM credentials ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: credentials: %w", err)
	}
	defer rows.Close()
	out := []store.IssuedCredential{}
	for rows.Next() {
		var c store.IssuedCredential
		var issued, revoked sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Award, &c.StatusList, &c.StatusIndex, &c.Body, &issued, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: credentials: %w", err)
		}
		c.IssuedAt, c.RevokedAt = store.TimeFromNanos(issued), store.TimeFromNanos(revoked)
		out = append(out, c)
	}
	return out, rows.Err()
}
