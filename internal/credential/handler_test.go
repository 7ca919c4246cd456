package credential

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, iss *Issuer) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(iss, nil))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestHandlerServesCredentialsKeysAndStatus(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	srv := serve(t, iss)

	code, body, hdr := get(t, srv.URL+"/credentials/"+c.ID)
	if code != 200 || body != string(c.Body) || hdr.Get("Content-Type") != "application/ld+json" || hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET credential = %d %s %v", code, hdr.Get("Content-Type"), body[:min(len(body), 80)])
	}

	req, _ := http.NewRequest("GET", srv.URL+"/credentials/"+c.ID, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != iss.VerifyURL(c.ID) {
		t.Errorf("a browser asking for the credential got %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	code, body, _ = get(t, srv.URL+"/.well-known/did.json")
	var did DIDDocument
	if code != 200 || json.Unmarshal([]byte(body), &did) != nil || did.ID != iss.DID() || len(did.VerificationMethod) != 1 {
		t.Fatalf("GET did.json = %d %s", code, body)
	}
	keys, _ := iss.Keys(context.Background())
	vm := did.VerificationMethod[0]
	if pub, err := ParseMultikey(vm.PublicKeyMultibase); err != nil || !pub.Equal(keys[0].Public()) || vm.Type != "Multikey" ||
		vm.Controller != iss.DID() || did.AssertionMethod[0] != vm.ID || !strings.HasPrefix(vm.PublicKeyMultibase, "z6Mk") {
		t.Errorf("verification method = %+v (%v)", vm, err)
	}

	code, body, _ = get(t, srv.URL+"/.well-known/jwks.json")
	var set JWKSet
	if code != 200 || json.Unmarshal([]byte(body), &set) != nil || len(set.Keys) != 1 || set.Keys[0].Kid != vm.ID || set.Keys[0].Crv != "Ed25519" {
		t.Errorf("GET jwks.json = %d %s", code, body)
	}

	code, body, _ = get(t, srv.URL+"/credentials/status/1")
	if code != 200 || !strings.Contains(body, `"BitstringStatusListCredential"`) || !iss.Check(context.Background(), []byte(body)).ProofVerified {
		t.Errorf("GET status list = %d %s", code, body)
	}

	for _, path := range []string{"/credentials/nope", "/credentials/nope/verify", "/credentials/status/0",
		"/credentials/status/x", "/credentials/status/01", "/credentials/status/99999999", "/credentials/" + c.ID + "/other"} {
		if code, _, _ := get(t, srv.URL+path); code != 404 {
			t.Errorf("GET %s = %d, want 404", path, code)
		}
	}
}

func TestVerifyPageShowsBadgeAndStatus(t *testing.T) {
	ctx := context.Background()
	iss, _ := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	srv := serve(t, iss)
	code, page, hdr := get(t, srv.URL+"/credentials/"+c.ID+"/verify")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET verify = %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"Verified: this credential is authentic and valid", "Certified Architect", "Acme Corp",
		"did:web:partners.acme.example", "18 November 2026", "18 November 2028", "ARCH-2026-0042", "The signature is valid"} {
		if !strings.Contains(page, want) {
			t.Errorf("verify page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(page), strings.ToLower(testEmail)) {
		t.Error("verify page shows the e-mail")
	}
	if err := iss.Revoke(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, page, _ = get(t, srv.URL+"/credentials/"+c.ID+"/verify")
	if !strings.Contains(page, "Revoked by the issuer") || strings.Contains(page, "authentic and valid") {
		t.Errorf("verify page after revocation:\n%s", page)
	}
}

func TestVerifyPageShowsABrokenSignature(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	d := iss.page(context.Background(), c.ID, tamper(t, c.Body, tamperings["badge name"]))
	if d.Check.ProofVerified || d.ProofClass != "bad" || !strings.Contains(d.ProofText, "does not verify") {
		t.Errorf("page of a tampered credential = %+v", d)
	}
}
