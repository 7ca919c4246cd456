package credential

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rung-dev/rung/internal/store"
)

// ed25519PubPrefix is the multicodec code of an Ed25519 public key
// (ed25519-pub, 0xed) as an unsigned varint.
var ed25519PubPrefix = []byte{0xed, 0x01}

// Key is an Ed25519 signing key of the issuer.
type Key struct {
	ID        string // fragment of the verification method: did#ID
	Private   ed25519.PrivateKey
	CreatedAt time.Time
}

// Public returns the key's public half.
func (k Key) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// newKey makes a key from its seed; its ID is derived from the public key
// so that it names the key and nothing else.
func newKey(seed []byte, created time.Time) (Key, error) {
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("credential key: seed has %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	sum := sha256.Sum256(priv.Public().(ed25519.PublicKey))
	return Key{ID: "key-" + hex.EncodeToString(sum[:6]), Private: priv, CreatedAt: created}, nil
}

func keyFromStore(k store.CredentialKey) (Key, error) {
	key, err := newKey(k.Seed, k.CreatedAt)
	if err != nil {
		return Key{}, err
	}
	key.ID = k.ID
	return key, nil
}

// Multikey returns the public key as a Multikey publicKeyMultibase value:
// 'z', then base58btc of the ed25519-pub multicodec prefix and the key.
func Multikey(pub ed25519.PublicKey) string {
	return "z" + encodeBase58(append(append([]byte{}, ed25519PubPrefix...), pub...))
}

// ParseMultikey reverses Multikey.
func ParseMultikey(s string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, errors.New("publicKeyMultibase must start with 'z' (base58btc)")
	}
	b, err := decodeBase58(s[1:])
	if err != nil {
		return nil, fmt.Errorf("publicKeyMultibase: %w", err)
	}
	if len(b) != 2+ed25519.PublicKeySize || b[0] != ed25519PubPrefix[0] || b[1] != ed25519PubPrefix[1] {
		return nil, errors.New("publicKeyMultibase is not an Ed25519 public key")
	}
	return ed25519.PublicKey(b[2:]), nil
}

// DIDWeb returns the did:web identifier of a base URL such as
// https://partners.example.com: the host (a port's colon written %3A),
// then each path segment after a colon.
func DIDWeb(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("base URL %q: want an absolute URL such as https://partners.example.com", base)
	}
	did := "did:web:" + strings.ReplaceAll(u.Host, ":", "%3A")
	for _, seg := range strings.Split(strings.Trim(u.Path, "/"), "/") {
		if seg != "" {
			did += ":" + url.PathEscape(seg)
		}
	}
	return did, nil
}

// DIDDocument is the issuer's DID document, served for did:web resolution.
// Every key that ever signed is listed, so credentials signed before a
// rotation keep verifying.
type DIDDocument struct {
	Context            []string             `json:"@context"`
	ID                 string               `json:"id"`
	VerificationMethod []VerificationMethod `json:"verificationMethod"`
	AssertionMethod    []string             `json:"assertionMethod"`
}

// VerificationMethod is one public key of the issuer, as a Multikey.
type VerificationMethod struct {
	Context            []string `json:"@context,omitempty"`
	ID                 string   `json:"id"`
	Type               string   `json:"type"`
	Controller         string   `json:"controller"`
	PublicKeyMultibase string   `json:"publicKeyMultibase"`
}

func didDocument(did string, keys []Key) DIDDocument {
	doc := DIDDocument{Context: []string{ContextDID, ContextMultikey}, ID: did,
		VerificationMethod: []VerificationMethod{}, AssertionMethod: []string{}}
	for _, k := range keys {
		vm := did + "#" + k.ID
		doc.VerificationMethod = append(doc.VerificationMethod, VerificationMethod{
			ID: vm, Type: "Multikey", Controller: did, PublicKeyMultibase: Multikey(k.Public())})
		doc.AssertionMethod = append(doc.AssertionMethod, vm)
	}
	return doc
}

// JWK is a public key as a JSON Web Key (RFC 8037's OKP type for Ed25519).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKSet is a JSON Web Key Set.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

func jwkSet(did string, keys []Key) JWKSet {
	set := JWKSet{Keys: []JWK{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, JWK{Kty: "OKP", Crv: "Ed25519", Alg: "EdDSA", Use: "sig",
			X: base64.RawURLEncoding.EncodeToString(k.Public()), Kid: did + "#" + k.ID})
	}
	return set
}
