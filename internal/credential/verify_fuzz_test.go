package credential

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzVerify feeds the verifier JSON it did not make. It must never panic,
// and whatever it accepts must mean, once canonicalized, exactly what was
// signed.
func FuzzVerify(f *testing.F) {
	// No store: the fuzz target signs in memory, so each run is the
	// verifier's work alone.
	key, err := newKey(make([]byte, ed25519.SeedSize), time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	iss := &Issuer{base: "https://partners.acme.example", did: "did:web:partners.acme.example", cfg: Config{IssuerName: "Acme Corp"}}
	vm, pub := iss.vm(key), key.Public()
	doc := iss.openBadge(testAward("fuzz"), "c1", "salt", 1, 42)
	if err := sign(doc, key, vm, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)); err != nil {
		f.Fatal(err)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		f.Fatal(err)
	}
	c := struct{ Body []byte }{body}
	resolve := func(m string) (ed25519.PublicKey, error) {
		if m == vm {
			return pub, nil
		}
		return nil, errors.New("unknown key")
	}
	signed := canonicalWithoutProof(f, c.Body)

	f.Add(c.Body)
	for _, change := range tamperings {
		f.Add(tamper(f, c.Body, change))
	}
	proof := `"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","proofPurpose":"assertionMethod",` +
		`"created":"2026-01-01T00:00:00Z","verificationMethod":"` + vm + `","proofValue":"z` + encodeBase58(make([]byte, 64)) + `"}`
	for _, s := range []string{``, `null`, `[]`, `{}`, `{"proof":{}}`, `{"proof":[]}`,
		`{"@context":"https://example.com/unknown","issuer":"did:web:partners.acme.example",` + proof + `}`,
		`{"@context":{"@vocab":"http://x/"},"issuer":{"id":"did:web:partners.acme.example"},` + proof + `}`,
		`{"@context":[{"@version":1.1,"a":{"@id":"http://x/a","@type":"@json"}}],"a":{"b":[1,2.5e300]},"issuer":"did:web:partners.acme.example",` + proof + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, err := Verify(raw, resolve); err != nil {
			return
		}
		if got := canonicalWithoutProof(t, raw); got != signed {
			t.Fatalf("accepted a document that means something else:\n%s\nsigned:\n%s", got, signed)
		}
	})
}

func canonicalWithoutProof(t testing.TB, raw []byte) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "proof")
	s, err := canonicalize(doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
