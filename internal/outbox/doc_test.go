package outbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/outbox"
)

// verifyRung is the receiver's verifier of docs/webhooks.md, as written
// there: a receiver that copies it verifies what Rung sends.
func verifyRung(r *http.Request, secret string, now time.Time) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(r.Header.Get("Rung-Signature"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, errors.New("no timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return nil, errors.New("timestamp too far from now")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return body, nil
		}
	}
	return nil, errors.New("bad signature")
}

func TestDocumentedVerifierAcceptsRungSignatures(t *testing.T) {
	body := `{"id":"badge.awarded:member:ann:2:certified","type":"badge.awarded"}`
	at := time.Unix(1795000000, 0)
	for name, tc := range map[string]struct {
		secret, header string
		now            time.Time
		ok             bool
	}{
		"signed by Rung":  {"whsec_test", outbox.Sign("whsec_test", at, []byte(body)), at, true},
		"another secret":  {"whsec_other", outbox.Sign("whsec_test", at, []byte(body)), at, false},
		"an hour later":   {"whsec_test", outbox.Sign("whsec_test", at, []byte(body)), at.Add(time.Hour), false},
		"no header":       {"whsec_test", "", at, false},
		"two, second one": {"whsec_test", outbox.Sign("x", at, []byte(body)) + "," + strings.Split(outbox.Sign("whsec_test", at, []byte(body)), ",")[1], at, true},
	} {
		r := httptest.NewRequest("POST", "/rung", strings.NewReader(body))
		if tc.header != "" {
			r.Header.Set("Rung-Signature", tc.header)
		}
		_, err := verifyRung(r, tc.secret, tc.now)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok %v", name, err, tc.ok)
		}
	}
}
