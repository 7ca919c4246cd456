package source

import (
	"strings"
	"testing"
	"time"
)

// hubspotDocBody and hubspotDocSecret are the request body and client
// secret of the worked example in HubSpot's request validation guide
// (developers.hubspot.com/docs/api/webhooks/validating-requests). The guide
// works that example for the v1 and v2 signatures only; it gives no v3
// vector, so the v3 signatures below were computed from the documented
// algorithm with an independent tool:
//
//	printf '%s' 'POSThttps://www.example.com/webhook_uri<body>1564113600000' |
//	  openssl dgst -sha256 -hmac "$secret" -binary | base64
const (
	hubspotDocSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
	hubspotDocBody   = `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
)

func TestHubSpotSignatureVectors(t *testing.T) {
	for _, tt := range []struct {
		name, uri, body, want string
	}{
		{"documented example request", "https://www.example.com/webhook_uri", hubspotDocBody, "DxmVAjFNa2xfF3YgQjdZP6TNcok9k1oaH7UXombPtvw="},
		// HubSpot decodes %3A and the other listed escapes before signing.
		{"encoded colon in the query", "https://rung.example.com/api/v1/sources/hubspot?portal=62515&tag=a%3Ab", `[{"objectId":1}]`, "ckj8txGAW5jK5zMpcf6hMHp58cJ9TCuVjf9NIj4BLa4="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := HubSpotSignature(hubspotDocSecret, "POST", tt.uri, []byte(tt.body), "1564113600000"); got != tt.want {
				t.Errorf("signature = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestVerifyHubSpot(t *testing.T) {
	sent := time.UnixMilli(1564113600000)
	uri := "https://www.example.com/webhook_uri"
	good := map[string]string{HeaderHubSpotSignature: "DxmVAjFNa2xfF3YgQjdZP6TNcok9k1oaH7UXombPtvw=", HeaderHubSpotTimestamp: "1564113600000"}
	for _, tt := range []struct {
		name    string
		secret  string
		body    string
		headers map[string]string
		now     time.Time
		want    string // "" for valid
	}{
		{"valid", hubspotDocSecret, hubspotDocBody, good, sent.Add(time.Minute), ""},
		{"valid at the edge of five minutes", hubspotDocSecret, hubspotDocBody, good, sent.Add(5 * time.Minute), ""},
		{"replay check skipped", hubspotDocSecret, hubspotDocBody, good, time.Time{}, ""},
		{"older than five minutes", hubspotDocSecret, hubspotDocBody, good, sent.Add(5*time.Minute + time.Millisecond), "at most 5 minutes"},
		{"from the future", hubspotDocSecret, hubspotDocBody, good, sent.Add(-6 * time.Minute), "at most 5 minutes"},
		{"other secret", "zzzz", hubspotDocBody, good, sent, "does not match"},
		{"changed body", hubspotDocSecret, strings.Replace(hubspotDocBody, "123", "124", 1), good, sent, "does not match"},
		{"no signature", hubspotDocSecret, hubspotDocBody, map[string]string{HeaderHubSpotTimestamp: "1564113600000"}, sent, "missing"},
		{"timestamp not a number", hubspotDocSecret, hubspotDocBody, map[string]string{HeaderHubSpotSignature: "x", HeaderHubSpotTimestamp: "yesterday"}, sent, "not milliseconds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyHubSpot(tt.secret, "POST", uri, []byte(tt.body), tt.headers, tt.now)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("VerifyHubSpot: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("VerifyHubSpot = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestWebhookSignatureVector(t *testing.T) {
	// printf '%s' '1700000000.<body>' | openssl dgst -sha256 -hmac whsec_test
	body := []byte(`{"id":"c-1","object":"course","fields":{"partner":"p1"}}`)
	want := "v1=3213365e572c67b847c1011801d64a9d9b66890b58a0b265c075dc57520fcd07"
	if got := Signature("whsec_test", 1700000000, body); got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
	at := time.Unix(1700000000, 0)
	h := map[string]string{HeaderTimestamp: "1700000000", HeaderSignature: want}
	if err := Verify("whsec_test", body, h, at.Add(4*time.Minute)); err != nil {
		t.Errorf("Verify: %v", err)
	}
	rotating := map[string]string{HeaderTimestamp: "1700000000", HeaderSignature: "v1=00, " + want}
	if err := Verify("whsec_test", body, rotating, at); err != nil {
		t.Errorf("Verify with two signatures (secret rotation): %v", err)
	}
	if err := Verify("whsec_test", body, h, at.Add(6*time.Minute)); err == nil || !strings.Contains(err.Error(), "5 minutes") {
		t.Errorf("Verify of an old delivery = %v", err)
	}
	if err := Verify("other", body, h, at); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("Verify with another secret = %v", err)
	}
	if err := Verify("whsec_test", body, map[string]string{HeaderSignature: want}, at); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Verify without timestamp = %v", err)
	}
}
