package source

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of the signatures.
const (
	HeaderHubSpotSignature = "X-HubSpot-Signature-v3"
	HeaderHubSpotTimestamp = "X-HubSpot-Request-Timestamp"
	// HeaderTimestamp and HeaderSignature sign the generic webhook and the
	// Salesforce CDC relay: Rung-Signature is "v1=" and the hex
	// HMAC-SHA256, keyed with the shared secret, of the Rung-Timestamp
	// value (seconds since 1970), a ".", and the body.
	HeaderTimestamp = "Rung-Timestamp"
	HeaderSignature = "Rung-Signature"
)

// MaxAge is how old a signed delivery's timestamp may be, and how far in
// the future, when it arrives.
const MaxAge = 5 * time.Minute

// hubspotURIDecode are the escapes HubSpot decodes in the URI before it
// signs it.
var hubspotURIDecode = strings.NewReplacer("%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";")

// HubSpotSignature returns the X-HubSpot-Signature-v3 of a request: the
// base64 HMAC-SHA256, keyed with the app's client secret, of the method,
// the full URI (with its URL-encoded reserved characters decoded), the
// body and the X-HubSpot-Request-Timestamp value, concatenated.
func HubSpotSignature(secret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method))
	m.Write([]byte(hubspotURIDecode.Replace(uri)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyHubSpot checks a HubSpot request's v3 signature and, when now is
// not zero, that its timestamp (milliseconds) is at most MaxAge old.
func VerifyHubSpot(secret, method, uri string, body []byte, headers map[string]string, now time.Time) error {
	sig, ts := headers[HeaderHubSpotSignature], headers[HeaderHubSpotTimestamp]
	if sig == "" || ts == "" {
		return fmt.Errorf("missing %s or %s: HubSpot signs every webhook request with both", HeaderHubSpotSignature, HeaderHubSpotTimestamp)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not milliseconds since 1970", HeaderHubSpotTimestamp, ts)
	}
	if err := fresh(time.UnixMilli(ms), now); err != nil {
		return err
	}
	want := HubSpotSignature(secret, method, uri, body, ts)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return fmt.Errorf("the %s does not match: check the app's client secret (RUNG_HUBSPOT_SECRET) and that RUNG_URL is the address HubSpot posts to", HeaderHubSpotSignature)
	}
	return nil
}

// Signature returns the Rung-Signature of a body sent at a time, keyed
// with secret: "v1=" and hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Signature(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a generic webhook's or CDC relay's signature and, when now
// is not zero, that its timestamp (seconds) is at most MaxAge away. Several
// signatures may be sent, separated by commas, while a secret is rotated.
func Verify(secret string, body []byte, headers map[string]string, now time.Time) error {
	sig, ts := headers[HeaderSignature], headers[HeaderTimestamp]
	if sig == "" || ts == "" {
		return fmt.Errorf("missing %s or %s: sign the body as docs/sources.md says", HeaderSignature, HeaderTimestamp)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not seconds since 1970", HeaderTimestamp, ts)
	}
	if err := fresh(time.Unix(sec, 0), now); err != nil {
		return err
	}
	want := Signature(secret, sec, body)
	for _, s := range strings.Split(sig, ",") {
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(s)), []byte(want)) == 1 {
			return nil
		}
	}
	return fmt.Errorf("the %s does not match: sign %s + \".\" + the body with HMAC-SHA256 and the shared secret, hex-encoded, prefixed v1=", HeaderSignature, HeaderTimestamp)
}

// fresh checks a signed timestamp is at most MaxAge from now; a zero now
// skips the check (a replay of a delivery verified when it arrived).
func fresh(t, now time.Time) error {
	if now.IsZero() {
		return nil
	}
	if d := now.Sub(t); d > MaxAge || d < -MaxAge {
		return fmt.Errorf("the request's timestamp %s is %s away from the server's time %s; at most 5 minutes is allowed (an old request may be a replay; check the sender's clock)",
			t.UTC().Format(time.RFC3339), d.Round(time.Second), now.UTC().Format(time.RFC3339))
	}
	return nil
}
