package store

import (
	"context"
	"time"
)

// CredentialKey is an Ed25519 key that signs Open Badges credentials. Keys
// are never deleted: after a rotation the old ones stay published so the
// credentials they signed keep verifying.
type CredentialKey struct {
	ID        string // the fragment of its verification method, e.g. "key-3f2a..."
	Seed      []byte // the 32-byte Ed25519 private key seed
	CreatedAt time.Time
}

// IssuedCredential is a signed credential as it was issued.
type IssuedCredential struct {
	ID string
	// Award names the badge award the credential was issued for; one award
	// has at most one credential.
	Award       string
	StatusList  int // the status list that holds its revocation bit
	StatusIndex int // its bit in that list
	Body        []byte
	IssuedAt    time.Time
	RevokedAt   time.Time // zero while valid
}

// Credentials stores the credential layer's keys, issued credentials and
// their revocation state.
type Credentials interface {
	// AddCredentialKey stores a new signing key (ECONFLICT when its ID is
	// taken).
	AddCredentialKey(ctx context.Context, k CredentialKey) error
	// CredentialKeys returns every signing key, oldest first (by CreatedAt,
	// then ID); the last one is the current key.
	CredentialKeys(ctx context.Context) ([]CredentialKey, error)

	// NextCredentialSlot returns 0, then 1, 2, ... on each call, never the
	// same number twice, also across instances. Credentials take their
	// status list position from it before they are signed.
	NextCredentialSlot(ctx context.Context) (int64, error)
	// CredentialSlots returns how many slots NextCredentialSlot has given:
	// the number it gives next.
	CredentialSlots(ctx context.Context) (int64, error)
	// RaiseCredentialSlots makes NextCredentialSlot give n or more next; it
	// never lowers the counter. `rung copy` carries the counter over with
	// it, so a copy never gives a slot its source gave already.
	RaiseCredentialSlots(ctx context.Context, n int64) error

	// PutCredential stores a credential with all its fields, RevokedAt
	// included (`rung copy` stores revoked credentials this way). An ID, an
	// award or a status slot already used is ECONFLICT.
	PutCredential(ctx context.Context, c IssuedCredential) error
	// IssuedCredentials returns every credential, revoked ones included,
	// ordered by ID, for tools that copy a whole database.
	IssuedCredentials(ctx context.Context) ([]IssuedCredential, error)
	// Credential returns a credential by ID (ENOTFOUND when unknown).
	Credential(ctx context.Context, id string) (IssuedCredential, error)
	// CredentialByAward returns the credential issued for an award
	// (ENOTFOUND when none).
	CredentialByAward(ctx context.Context, award string) (IssuedCredential, error)
	// RevokeCredential marks a credential revoked at t (ENOTFOUND when
	// unknown). Revoking a revoked credential keeps the first time.
	RevokeCredential(ctx context.Context, id string, t time.Time) error
	// RevokedStatusIndexes returns the status indexes of the revoked
	// credentials in a status list, in increasing order.
	RevokedStatusIndexes(ctx context.Context, list int) ([]int, error)
}
