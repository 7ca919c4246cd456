package credential

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The Data Integrity proof Rung makes (W3C Data Integrity EdDSA
// Cryptosuites v1.0, eddsa-rdfc-2022).
const (
	proofType    = "DataIntegrityProof"
	cryptosuite  = "eddsa-rdfc-2022"
	proofPurpose = "assertionMethod"
)

// sign adds a Data Integrity proof to doc, which must not have one, using
// key, whose verification method is vm. The proof options (the proof
// without proofValue, with the document's @context) and the document are
// each canonicalized with RDFC-1.0 and hashed with SHA-256; the key signs
// the proof hash followed by the document hash.
func sign(doc map[string]any, key Key, vm string, created time.Time) error {
	if _, ok := doc["proof"]; ok {
		return errors.New("sign: document already has a proof")
	}
	if hasUnsafeControl(doc) {
		return fmt.Errorf("sign: %w", errUnsafeControl)
	}
	proof := map[string]any{
		"type":               proofType,
		"cryptosuite":        cryptosuite,
		"created":            created.UTC().Format(time.RFC3339),
		"verificationMethod": vm,
		"proofPurpose":       proofPurpose,
	}
	data, err := hashData(doc, proof)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	proof["proofValue"] = "z" + encodeBase58(ed25519.Sign(key.Private, data))
	doc["proof"] = proof
	return nil
}

// hashData returns SHA-256(canonical proof options) || SHA-256(canonical
// document), what eddsa-rdfc-2022 signs.
func hashData(doc, proof map[string]any) ([]byte, error) {
	opts := make(map[string]any, len(proof)+1)
	for k, v := range proof {
		if k != "proofValue" {
			opts[k] = v
		}
	}
	opts["@context"] = doc["@context"]
	unsigned := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			unsigned[k] = v
		}
	}
	canonOpts, err := canonicalize(opts)
	if err != nil {
		return nil, fmt.Errorf("proof options: %w", err)
	}
	canonDoc, err := canonicalize(unsigned)
	if err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	h1, h2 := sha256.Sum256([]byte(canonOpts)), sha256.Sum256([]byte(canonDoc))
	return append(h1[:], h2[:]...), nil
}

// Resolver returns the public key of a verification method, or an error
// when the method is unknown.
type Resolver func(vm string) (ed25519.PublicKey, error)

// ProofResult describes a verified proof.
type ProofResult struct {
	VerificationMethod string
	Created            time.Time
}

// Verify checks the Data Integrity proof of a JSON-LD document: one proof,
// of type DataIntegrityProof with cryptosuite eddsa-rdfc-2022 and purpose
// assertionMethod, by a verification method controlled by the document's
// issuer and known to resolve. It says nothing about validity dates or
// revocation; see Check for those.
func Verify(raw []byte, resolve Resolver) (ProofResult, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return ProofResult{}, fmt.Errorf("credential is not a JSON object: %w", err)
	}
	if doc == nil {
		return ProofResult{}, errors.New("credential is not a JSON object")
	}
	return verifyDoc(doc, resolve)
}

func verifyDoc(doc map[string]any, resolve Resolver) (ProofResult, error) {
	if hasUnsafeControl(doc) {
		return ProofResult{}, errUnsafeControl
	}
	proof, ok := doc["proof"].(map[string]any)
	if !ok {
		return ProofResult{}, errors.New("credential has no proof, or more than one")
	}
	str := func(k string) string { s, _ := proof[k].(string); return s }
	if str("type") != proofType || str("cryptosuite") != cryptosuite {
		return ProofResult{}, fmt.Errorf("proof is %q/%q, want %s/%s", str("type"), str("cryptosuite"), proofType, cryptosuite)
	}
	if str("proofPurpose") != proofPurpose {
		return ProofResult{}, fmt.Errorf("proof purpose is %q, want %s", str("proofPurpose"), proofPurpose)
	}
	created, err := time.Parse(time.RFC3339, str("created"))
	if err != nil {
		return ProofResult{}, fmt.Errorf("proof created: %w", err)
	}
	vm := str("verificationMethod")
	issuer := issuerID(doc["issuer"])
	if issuer == "" || !strings.HasPrefix(vm, issuer+"#") {
		return ProofResult{}, fmt.Errorf("verification method %q is not the issuer's (%q)", vm, issuer)
	}
	pub, err := resolve(vm)
	if err != nil {
		return ProofResult{}, fmt.Errorf("verification method %q: %w", vm, err)
	}
	value := str("proofValue")
	if !strings.HasPrefix(value, "z") {
		return ProofResult{}, errors.New("proofValue must be multibase base58btc ('z')")
	}
	sig, err := decodeBase58(value[1:])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ProofResult{}, errors.New("proofValue is not an Ed25519 signature")
	}
	data, err := hashData(doc, proof)
	if err != nil {
		return ProofResult{}, err
	}
	if !ed25519.Verify(pub, data, sig) {
		return ProofResult{}, errors.New("the signature does not match the credential: it was changed after signing, or signed by another key")
	}
	return ProofResult{VerificationMethod: vm, Created: created}, nil
}

// issuerID returns the issuer's id, whether the issuer is a string or an
// object.
func issuerID(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["id"].(string)
		return s
	}
	return ""
}
