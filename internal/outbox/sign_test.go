package outbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/outbox"
)

func TestSignMatchesTheDocumentedAlgorithm(t *testing.T) {
	// The vector of docs/webhooks.md, computed from the documented
	// algorithm with the standard library alone.
	body := []byte(`{"id":"badge.awarded:member:ann:2:certified","type":"badge.awarded"}`)
	at := time.Unix(1795000000, 0)
	h := hmac.New(sha256.New, []byte("whsec_test"))
	h.Write([]byte("1795000000." + string(body)))
	want := "t=1795000000,v1=" + hex.EncodeToString(h.Sum(nil))
	if got := outbox.Sign("whsec_test", at, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := outbox.Verify("whsec_test", want, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("Verify of a good signature: %v", err)
	}
}

func TestVerifyRefusesWhatIsWrong(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	at := time.Unix(1795000000, 0)
	good := outbox.Sign("s", at, body)
	other := outbox.Sign("other", at, body)
	_, v1, _ := strings.Cut(good, ",")
	for name, tc := range map[string]struct {
		header string
		body   string
		now    time.Time
		want   string
	}{
		"another secret":         {other, string(body), at, "does not match"},
		"body changed":           {good, `{"id":"y"}`, at, "does not match"},
		"too old":                {good, string(body), at.Add(6 * time.Minute), "away from now"},
		"from the future":        {good, string(body), at.Add(-6 * time.Minute), "away from now"},
		"no timestamp":           {v1, string(body), at, "no t="},
		"no signature":           {"t=1795000000", string(body), at, "no v1"},
		"signature not hex":      {"t=1795000000,v1=zz", string(body), at, "not a hex"},
		"not key=value":          {"garbage", string(body), at, "not key=value"},
		"rotated: one of two ok": {other + "," + v1, string(body), at, ""},
	} {
		err := outbox.Verify("s", tc.header, []byte(tc.body), tc.now, 5*time.Minute)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
}

// FuzzVerify checks Verify never panics on any header, and accepts only
// what Sign made for that body.
func FuzzVerify(f *testing.F) {
	at := time.Unix(1795000000, 0)
	f.Add(outbox.Sign("s", at, []byte("{}")), []byte("{}"))
	f.Add("t=1795000000,v1=00", []byte("{}"))
	f.Add("t=,v1=,=,,", []byte(""))
	f.Add("v1="+strings.Repeat("ab", 32)+",t=1795000000", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := outbox.Verify("s", header, body, at, 5*time.Minute)
		if err == nil && !strings.Contains(header, strings.TrimPrefix(outbox.Sign("s", at, body), "t=1795000000,")) {
			// A header that verifies must carry the signature Sign gives
			// for its own timestamp; check it with that timestamp.
			for part := range strings.SplitSeq(header, ",") {
				if ts, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok && ts != "1795000000" {
					return
				}
			}
			t.Fatalf("Verify accepted %q for %q", header, body)
		}
	})
}
