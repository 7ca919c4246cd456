package outbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

// SignatureHeader is the header that carries a webhook's signature.
const SignatureHeader = "Rung-Signature"

// Sign returns the Rung-Signature value of body sent at t: "t=<unix
// seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>" keyed by the
// secret>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a Rung-Signature header of body, as a receiver does: one
// of its v1 signatures must be the HMAC of its timestamp and body under
// secret, and the timestamp no further than tolerance from now (which
// refuses replays of old deliveries). Its error says what was wrong.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return rung.Errorf(rung.EUNAUTHORIZED, "signature header: %q is not key=value", part)
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return rung.Errorf(rung.EUNAUTHORIZED, "signature header: v1 is not a hex SHA-256 HMAC")
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return rung.Errorf(rung.EUNAUTHORIZED, "signature header: no t=<unix seconds> timestamp")
	}
	if len(sigs) == 0 {
		return rung.Errorf(rung.EUNAUTHORIZED, "signature header: no v1 signature")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return rung.Errorf(rung.EUNAUTHORIZED, "signature timestamp is %s away from now, more than %s", d.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return rung.Errorf(rung.EUNAUTHORIZED, "signature does not match the body: check the secret")
}
