// Package credential issues Open Badges 3.0 credentials for badge awards:
// W3C Verifiable Credentials (data model 2.0) of type OpenBadgeCredential,
// signed with an embedded Data Integrity proof (cryptosuite
// eddsa-rdfc-2022), revocable through a Bitstring Status List, and served
// with the issuer's did:web document, a JWK set and a public verification
// page.
//
// The package is self-contained: it takes a description of an award
// (Award), signs and stores the credential, and flips its status bit when
// the award is revoked. Signing keys are generated on first start, stored,
// and rotated without breaking what they signed: every key stays published.
package credential

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// Config says who issues and where the credentials live.
type Config struct {
	// BaseURL is the public address the Handler is served at, such as
	// https://partners.example.com. The issuer is did:web of it, and
	// credential, status list and achievement IDs are URLs below it.
	BaseURL string
	// IssuerName is the vendor's name, shown as the issuer.
	IssuerName string
	// IssuerURL is the vendor's home page (optional).
	IssuerURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Issuer issues, revokes and checks credentials.
type Issuer struct {
	st   store.Credentials
	cfg  Config
	base string
	did  string
	now  func() time.Time

	mu    sync.Mutex
	lists map[int]signedList // status list credentials as last signed
}

// maxStatusLists bounds the lists served: 10,000 lists hold 1.3 billion
// credentials. A list no credential uses yet is served empty.
const maxStatusLists = 10000

// maxCachedLists bounds the signed lists kept in memory (22 KiB each).
const maxCachedLists = 64

type signedList struct {
	fingerprint string
	body        []byte
}

// New returns an Issuer. On first start, when the store has no signing
// key, it generates one.
func New(ctx context.Context, st store.Credentials, cfg Config) (*Issuer, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, rung.Errorf(rung.EINVALID, "credentials: base URL %q must be an absolute http(s) URL such as https://partners.example.com", cfg.BaseURL)
	}
	if strings.TrimSpace(cfg.IssuerName) == "" {
		return nil, rung.Errorf(rung.EINVALID, "credentials: the issuer needs a name (the vendor's)")
	}
	if cfg.IssuerURL != "" {
		if err := checkIRI(cfg.IssuerURL); err != nil {
			return nil, rung.Errorf(rung.EINVALID, "credentials: issuer URL %v", err)
		}
	}
	did, err := DIDWeb(base)
	if err != nil {
		return nil, err
	}
	iss := &Issuer{st: st, cfg: cfg, base: base, did: did, now: cfg.Now, lists: map[int]signedList{}}
	if iss.now == nil {
		iss.now = time.Now
	}
	keys, err := st.CredentialKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	if len(keys) == 0 {
		if _, err := iss.RotateKey(ctx); err != nil {
			return nil, err
		}
	}
	return iss, nil
}

// DID returns the issuer's did:web identifier.
func (iss *Issuer) DID() string { return iss.did }

// RotateKey generates a new signing key, which signs from now on. Older keys
// stay published, so what they signed keeps verifying.
func (iss *Issuer) RotateKey(ctx context.Context) (Key, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return Key{}, fmt.Errorf("credentials: new key: %w", err)
	}
	// Stored times have nanoseconds; a rotation always sorts after the keys
	// before it, even on a clock that stands still in tests.
	created := iss.now().UTC()
	keys, err := iss.Keys(ctx)
	if err != nil {
		return Key{}, err
	}
	if n := len(keys); n > 0 && !created.After(keys[n-1].CreatedAt) {
		created = keys[n-1].CreatedAt.Add(time.Nanosecond)
	}
	k, err := newKey(seed, created)
	if err != nil {
		return Key{}, err
	}
	if err := iss.st.AddCredentialKey(ctx, store.CredentialKey{ID: k.ID, Seed: seed, CreatedAt: created}); err != nil {
		return Key{}, fmt.Errorf("credentials: store new key: %w", err)
	}
	return k, nil
}

// Keys returns every signing key, oldest first; the last is current.
func (iss *Issuer) Keys(ctx context.Context) ([]Key, error) {
	stored, err := iss.st.CredentialKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: keys: %w", err)
	}
	keys := make([]Key, 0, len(stored))
	for _, s := range stored {
		k, err := keyFromStore(s)
		if err != nil {
			return nil, fmt.Errorf("credentials: key %s: %w", s.ID, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (iss *Issuer) currentKey(ctx context.Context) (Key, error) {
	keys, err := iss.Keys(ctx)
	if err != nil {
		return Key{}, err
	}
	if len(keys) == 0 {
		return Key{}, rung.Errorf(rung.EINTERNAL, "credentials: no signing key")
	}
	return keys[len(keys)-1], nil
}

func (iss *Issuer) vm(k Key) string { return iss.did + "#" + k.ID }

// DIDDocument returns the issuer's DID document with every key.
func (iss *Issuer) DIDDocument(ctx context.Context) (DIDDocument, error) {
	keys, err := iss.Keys(ctx)
	if err != nil {
		return DIDDocument{}, err
	}
	return didDocument(iss.did, keys), nil
}

// JWKSet returns every key as a JSON Web Key Set; each kid is the key's
// verification method.
func (iss *Issuer) JWKSet(ctx context.Context) (JWKSet, error) {
	keys, err := iss.Keys(ctx)
	if err != nil {
		return JWKSet{}, err
	}
	return jwkSet(iss.did, keys), nil
}

// resolver resolves the issuer's own verification methods.
func (iss *Issuer) resolver(ctx context.Context) (Resolver, error) {
	keys, err := iss.Keys(ctx)
	if err != nil {
		return nil, err
	}
	pubs := map[string]ed25519.PublicKey{}
	for _, k := range keys {
		pubs[iss.vm(k)] = k.Public()
	}
	return func(vm string) (ed25519.PublicKey, error) {
		if pub, ok := pubs[vm]; ok {
			return pub, nil
		}
		return nil, fmt.Errorf("not a key of %s", iss.did)
	}, nil
}

// CredentialURL is where the credential with an ID is served.
func (iss *Issuer) CredentialURL(id string) string {
	return iss.base + "/credentials/" + url.PathEscape(id)
}

// VerifyURL is the credential's public verification page, the link to
// give people.
func (iss *Issuer) VerifyURL(id string) string { return iss.CredentialURL(id) + "/verify" }

// StatusListURL is where a status list credential is served.
func (iss *Issuer) StatusListURL(list int) string {
	return iss.base + "/credentials/status/" + strconv.Itoa(list)
}

// Issue signs and stores the credential for an award. Issuing for an award
// that already has a credential returns that one unchanged.
func (iss *Issuer) Issue(ctx context.Context, a Award) (store.IssuedCredential, error) {
	if err := a.validate(); err != nil {
		return store.IssuedCredential{}, err
	}
	if c, err := iss.st.CredentialByAward(ctx, a.Key); err == nil {
		return c, nil
	} else if rung.ErrorCode(err) != rung.ENOTFOUND {
		return store.IssuedCredential{}, fmt.Errorf("credentials: %w", err)
	}
	key, err := iss.currentKey(ctx)
	if err != nil {
		return store.IssuedCredential{}, err
	}
	slot, err := iss.st.NextCredentialSlot(ctx)
	if err != nil {
		return store.IssuedCredential{}, fmt.Errorf("credentials: status slot: %w", err)
	}
	list, index := int(slot/StatusListSize)+1, int(slot%StatusListSize)
	id, err := newID()
	if err != nil {
		return store.IssuedCredential{}, err
	}
	salt, err := newSalt()
	if err != nil {
		return store.IssuedCredential{}, err
	}
	now := iss.now()
	doc := iss.openBadge(a, id, salt, list, index)
	if err := sign(doc, key, iss.vm(key), now); err != nil {
		return store.IssuedCredential{}, fmt.Errorf("credentials: award %s: %w", a.Key, err)
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return store.IssuedCredential{}, err
	}
	c := store.IssuedCredential{ID: id, Award: a.Key, StatusList: list, StatusIndex: index, Body: body, IssuedAt: now}
	if err := iss.st.PutCredential(ctx, c); err != nil {
		if rung.ErrorCode(err) == rung.ECONFLICT {
			// Another instance issued for the same award at the same time.
			if prev, err2 := iss.st.CredentialByAward(ctx, a.Key); err2 == nil {
				return prev, nil
			}
		}
		return store.IssuedCredential{}, fmt.Errorf("credentials: store: %w", err)
	}
	return c, nil
}

// Credential returns an issued credential by ID (ENOTFOUND when unknown).
func (iss *Issuer) Credential(ctx context.Context, id string) (store.IssuedCredential, error) {
	return iss.st.Credential(ctx, id)
}

// Revoke revokes a credential: its bit in its status list is set.
func (iss *Issuer) Revoke(ctx context.Context, id string) error {
	if err := iss.st.RevokeCredential(ctx, id, iss.now()); err != nil {
		return fmt.Errorf("credentials: revoke %s: %w", id, err)
	}
	return nil
}

// RevokeAward revokes the credential issued for an award, if there is one;
// call it when a badge award is revoked.
func (iss *Issuer) RevokeAward(ctx context.Context, award string) error {
	c, err := iss.st.CredentialByAward(ctx, award)
	if rung.ErrorCode(err) == rung.ENOTFOUND {
		return nil
	}
	if err != nil {
		return fmt.Errorf("credentials: revoke award %s: %w", award, err)
	}
	return iss.Revoke(ctx, c.ID)
}

// StatusListCredential returns the signed BitstringStatusListCredential of
// a list. It is signed again only when the list or the current key
// changed.
func (iss *Issuer) StatusListCredential(ctx context.Context, list int) ([]byte, error) {
	if list < 1 || list > maxStatusLists {
		return nil, rung.Errorf(rung.ENOTFOUND, "no status list %d", list)
	}
	revoked, err := iss.st.RevokedStatusIndexes(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("credentials: status list %d: %w", list, err)
	}
	encoded, err := encodeStatusList(revoked)
	if err != nil {
		return nil, fmt.Errorf("credentials: status list %d: %w", list, err)
	}
	key, err := iss.currentKey(ctx)
	if err != nil {
		return nil, err
	}
	fingerprint := key.ID + " " + encoded
	iss.mu.Lock()
	cached, ok := iss.lists[list]
	iss.mu.Unlock()
	if ok && cached.fingerprint == fingerprint {
		return cached.body, nil
	}
	now := iss.now()
	listURL := iss.StatusListURL(list)
	doc := map[string]any{
		"@context":  []any{ContextCredentialsV2},
		"id":        listURL,
		"type":      []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    iss.did,
		"validFrom": now.UTC().Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id":            listURL + "#list",
			"type":          "BitstringStatusList",
			"statusPurpose": "revocation",
			"encodedList":   encoded,
		},
	}
	if err := sign(doc, key, iss.vm(key), now); err != nil {
		return nil, fmt.Errorf("credentials: status list %d: %w", list, err)
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	iss.mu.Lock()
	if len(iss.lists) >= maxCachedLists {
		clear(iss.lists)
	}
	iss.lists[list] = signedList{fingerprint: fingerprint, body: body}
	iss.mu.Unlock()
	return body, nil
}

func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("credentials: id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func newSalt() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("credentials: salt: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// IdentityHash is how Open Badges 3.0 identifies a recipient without
// naming them: "sha256$" and the hex SHA-256 of the e-mail address (trimmed,
// lower case) followed by the salt. A holder proves a credential is theirs
// by showing the address that hashes to it.
func IdentityHash(email, salt string) string {
	sum := sha256.Sum256([]byte(normalizeEmail(email) + salt))
	return "sha256$" + hex.EncodeToString(sum[:])
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
