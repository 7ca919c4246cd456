package registration

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

// SlackMaxAge is how old a signed Slack request may be: older ones are
// refused, so a captured request cannot be replayed later.
const SlackMaxAge = 5 * time.Minute

// VerifySlack checks a Slack request's signature (X-Slack-Signature, v0:
// HMAC-SHA256 over "v0:{timestamp}:{body}" with the app's signing secret)
// and that its X-Slack-Request-Timestamp is within SlackMaxAge of now.
func VerifySlack(secret, timestamp, signature string, body []byte, now time.Time) error {
	if secret == "" {
		return rung.Errorf(rung.EUNAVAILABLE, "Slack is not set up: set RUNG_SLACK_SIGNING_SECRET to the app's signing secret")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return rung.Errorf(rung.EUNAUTHORIZED, "the request has no valid X-Slack-Request-Timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > SlackMaxAge || d < -SlackMaxAge {
		return rung.Errorf(rung.EUNAUTHORIZED, "the request's timestamp is more than 5 minutes from the server's time")
	}
	got, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return rung.Errorf(rung.EUNAUTHORIZED, "the request has no v0 X-Slack-Signature")
	}
	raw, err := hex.DecodeString(got)
	if err != nil {
		return rung.Errorf(rung.EUNAUTHORIZED, "the X-Slack-Signature is not hexadecimal")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	if !hmac.Equal(raw, mac.Sum(nil)) {
		return rung.Errorf(rung.EUNAUTHORIZED, "the X-Slack-Signature does not match: check the signing secret")
	}
	return nil
}

// SlackUsage explains the slash command.
const SlackUsage = "Register a company: `/register Company, domain, contact e-mail, notes` — for example `/register Globex, globex.com, jane@globex.com, 40 seats in Q1`. Add `deal` or `lead` first to choose the kind (lead by default). `/register status R-7K3M9Q2X` shows a case of yours."

// ParseSlackText reads the text of a slash command:
// "[deal|lead] Company, domain, contact e-mail[, notes]". The notes may
// contain commas.
func ParseSlackText(text string) (Input, error) {
	text = strings.TrimSpace(text)
	var in Input
	if text == "" || strings.EqualFold(text, "help") {
		return in, rung.Errorf(rung.EINVALID, "%s", SlackUsage)
	}
	first, rest, _ := strings.Cut(text, " ")
	if k := strings.ToLower(first); k == KindDeal || k == KindLead {
		in.Kind, text = k, strings.TrimSpace(rest)
	}
	parts := strings.SplitN(text, ",", 4)
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) < 3 {
		return in, rung.Errorf(rung.EINVALID, "Company, domain and contact e-mail are required. %s", SlackUsage)
	}
	in.CompanyName, in.CompanyDomain, in.ContactEmail = parts[0], parts[1], parts[2]
	if len(parts) == 4 {
		in.Notes = parts[3]
	}
	return in, nil
}
