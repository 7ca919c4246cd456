package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// AddCredentialKey stores a new signing key.
func (s *Store) AddCredentialKey(ctx context.Context, k store.CredentialKey) error {
	created, err := store.UnixNanos(k.CreatedAt)
	if err != nil || created == nil {
		return rung.Errorf(rung.EINVALID, "credential key %q: created_at %v is out of range", k.ID, k.CreatedAt)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO credential_keys (id, seed, created_at) VALUES ($1, $2, $3)`, k.ID, k.Seed, created)
	if isCode(err, uniqueViolation) {
		return rung.Errorf(rung.ECONFLICT, "credential key %q exists", k.ID)
	}
	if err != nil {
		return userError(err, "add credential key %q", k.ID)
	}
	return nil
}

// CredentialKeys returns every signing key, oldest first.
func (s *Store) CredentialKeys(ctx context.Context) ([]store.CredentialKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, seed, created_at FROM credential_keys ORDER BY created_at, id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: credential keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CredentialKey, error) {
		var k store.CredentialKey
		var created sql.NullInt64
		err := row.Scan(&k.ID, &k.Seed, &created)
		k.CreatedAt = store.TimeFromNanos(created)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: credential keys: %w", err)
	}
	if out == nil {
		out = []store.CredentialKey{}
	}
	return out, nil
}

// NextCredentialSlot returns the next status list slot.
func (s *Store) NextCredentialSlot(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `INSERT INTO credential_slots (id, next) VALUES (1, 1)
		ON CONFLICT (id) DO UPDATE SET next = credential_slots.next + 1 RETURNING next - 1`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: next credential slot: %w", err)
	}
	return n, nil
}

const credentialColumns = `id, award, status_list, status_index, body, issued_at, revoked_at`

// PutCredential stores a newly issued credential.
func (s *Store) PutCredential(ctx context.Context, c store.IssuedCredential) error {
	issued, err := store.UnixNanos(c.IssuedAt)
	if err != nil || issued == nil {
		return rung.Errorf(rung.EINVALID, "credential %q: issued_at %v is out of range", c.ID, c.IssuedAt)
	}
	revoked, err := store.UnixNanos(c.RevokedAt)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "credential %q: revoked_at: %v", c.ID, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO credentials (`+credentialColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.Award, c.StatusList, c.StatusIndex, c.Body, issued, revoked)
	if isCode(err, uniqueViolation) {
		return rung.Errorf(rung.ECONFLICT, "credential %q, its award %q or its status slot is taken", c.ID, c.Award)
	}
	if err != nil {
		return userError(err, "put credential %q", c.ID)
	}
	return nil
}

func (s *Store) oneCredential(ctx context.Context, where string, arg any) (store.IssuedCredential, error) {
	var c store.IssuedCredential
	var issued, revoked sql.NullInt64
	err := s.pool.QueryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE `+where, arg).
		Scan(&c.ID, &c.Award, &c.StatusList, &c.StatusIndex, &c.Body, &issued, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, rung.Errorf(rung.ENOTFOUND, "no such credential")
	}
	if err != nil {
		return c, userError(err, "credential")
	}
	c.IssuedAt, c.RevokedAt = store.TimeFromNanos(issued), store.TimeFromNanos(revoked)
	return c, nil
}

// Credential returns a credential by ID.
func (s *Store) Credential(ctx context.Context, id string) (store.IssuedCredential, error) {
	return s.oneCredential(ctx, `id = $1`, id)
}

// CredentialByAward returns the credential issued for an award.
func (s *Store) CredentialByAward(ctx context.Context, award string) (store.IssuedCredential, error) {
	return s.oneCredential(ctx, `award = $1`, award)
}

// RevokeCredential marks a credential revoked, keeping the first time.
func (s *Store) RevokeCredential(ctx context.Context, id string, t time.Time) error {
	at, err := store.UnixNanos(t)
	if err != nil || at == nil {
		return rung.Errorf(rung.EINVALID, "revoke credential %q: time %v is out of range", id, t)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE credentials SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, at, id)
	if err != nil {
		return userError(err, "revoke credential %q", id)
	}
	if tag.RowsAffected() == 0 {
		return rung.Errorf(rung.ENOTFOUND, "no such credential")
	}
	return nil
}

// RevokedStatusIndexes returns the revoked indexes of a status list.
func (s *Store) RevokedStatusIndexes(ctx context.Context, list int) ([]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status_index FROM credentials
		WHERE status_list = $1 AND revoked_at IS NOT NULL ORDER BY status_index`, list)
	if err != nil {
		return nil, fmt.Errorf("postgres: revoked status indexes: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("postgres: revoked status indexes: %w", err)
	}
	if out == nil {
		out = []int{}
	}
	return out, nil
}

// CredentialSlots returns the slot NextCredentialSlot gives next.
func (s *Store) CredentialSlots(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(next), 0) FROM credential_slots`).Scan(&n); err != nil {
		return 0, failed(err, "credential slots")
	}
	return n, nil
}

// RaiseCredentialSlots makes the next slot at least n.
func (s *Store) RaiseCredentialSlots(ctx context.Context, n int64) error {
	if n < 0 {
		return rung.Errorf(rung.EINVALID, "credential slots: %d is negative", n)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO credential_slots (id, next) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET next = GREATEST(credential_slots.next, excluded.next)`, n)
	if err != nil {
		return failed(err, "raise credential slots")
	}
	return nil
}

// IssuedCredentials returns every credential, ordered by ID.
func (s *Store) IssuedCredentials(ctx context.Context) ([]store.IssuedCredential, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+credentialColumns+` FROM credentials ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, failed(err, "credentials")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.IssuedCredential, error) {
		var c store.IssuedCredential
		var issued, revoked sql.NullInt64
		err := row.Scan(&c.ID, &c.Award, &c.StatusList, &c.StatusIndex, &c.Body, &issued, &revoked)
		c.IssuedAt, c.RevokedAt = store.TimeFromNanos(issued), store.TimeFromNanos(revoked)
		return c, err
	})
	if err != nil {
		return nil, failed(err, "credentials")
	}
	if out == nil {
		out = []store.IssuedCredential{}
	}
	return out, nil
}
