package credential

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is where a credential stands, apart from its proof.
type Status string

// The statuses Check reports, in the order they win: a revoked credential
// is revoked whatever its dates.
const (
	StatusRevoked     Status = "revoked"
	StatusExpired     Status = "expired"
	StatusNotYetValid Status = "not yet valid"
	StatusActive      Status = "active"
	StatusUnknown     Status = "unknown" // the status could not be read
)

// CheckResult is what Check finds out about a credential.
type CheckResult struct {
	ProofVerified      bool
	ProofError         string
	VerificationMethod string
	Status             Status
	StatusError        string
	ValidFrom          time.Time
	ValidUntil         time.Time
}

// Check verifies a credential of this issuer as a relying party would:
// the proof against the issuer's keys, the revocation bit in the signed
// status list, and the validity dates against the clock.
func (iss *Issuer) Check(ctx context.Context, raw []byte) CheckResult {
	var res CheckResult
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		res.ProofError, res.Status = "not a JSON object", StatusUnknown
		return res
	}
	resolve, err := iss.resolver(ctx)
	if err != nil {
		res.ProofError, res.Status = err.Error(), StatusUnknown
		return res
	}
	if p, err := verifyDoc(doc, resolve); err != nil {
		res.ProofError = err.Error()
	} else {
		res.ProofVerified, res.VerificationMethod = true, p.VerificationMethod
	}
	res.ValidFrom, _ = time.Parse(time.RFC3339, str(doc["validFrom"]))
	res.ValidUntil, _ = time.Parse(time.RFC3339, str(doc["validUntil"]))

	revoked, err := iss.revoked(ctx, doc, resolve)
	now := iss.now()
	switch {
	case err != nil:
		res.Status, res.StatusError = StatusUnknown, err.Error()
	case revoked:
		res.Status = StatusRevoked
	case !res.ValidUntil.IsZero() && now.After(res.ValidUntil):
		res.Status = StatusExpired
	case now.Before(res.ValidFrom):
		res.Status = StatusNotYetValid
	default:
		res.Status = StatusActive
	}
	return res
}

func str(v any) string { s, _ := v.(string); return s }

// revoked reads the credential's bit from this issuer's signed status
// list, after checking that list's proof.
func (iss *Issuer) revoked(ctx context.Context, doc map[string]any, resolve Resolver) (bool, error) {
	entry, ok := doc["credentialStatus"].(map[string]any)
	if !ok {
		return false, errors.New("the credential has no revocation status")
	}
	if str(entry["type"]) != "BitstringStatusListEntry" || str(entry["statusPurpose"]) != "revocation" {
		return false, fmt.Errorf("status entry %q/%q is not a revocation BitstringStatusListEntry", str(entry["type"]), str(entry["statusPurpose"]))
	}
	prefix := iss.base + "/credentials/status/"
	listURL := str(entry["statusListCredential"])
	list, err := strconv.Atoi(strings.TrimPrefix(listURL, prefix))
	if !strings.HasPrefix(listURL, prefix) || err != nil || list < 1 {
		return false, fmt.Errorf("status list %q is not one of this issuer's", listURL)
	}
	index, err := strconv.Atoi(str(entry["statusListIndex"]))
	if err != nil || index < 0 {
		return false, fmt.Errorf("statusListIndex %q is not a number", str(entry["statusListIndex"]))
	}
	body, err := iss.StatusListCredential(ctx, list)
	if err != nil {
		return false, err
	}
	var listDoc map[string]any
	if err := json.Unmarshal(body, &listDoc); err != nil {
		return false, err
	}
	if _, err := verifyDoc(listDoc, resolve); err != nil {
		return false, fmt.Errorf("status list: %w", err)
	}
	subject, _ := listDoc["credentialSubject"].(map[string]any)
	bits, err := decodeStatusList(str(subject["encodedList"]))
	if err != nil {
		return false, err
	}
	return statusBit(bits, index)
}
