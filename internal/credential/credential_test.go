package credential

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testEmail = "Zoe.Partner@Example.com"

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/rung.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newIssuer(t *testing.T, st store.Credentials) (*Issuer, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	iss, err := New(context.Background(), st, Config{
		BaseURL: "https://partners.acme.example", IssuerName: "Acme Corp", IssuerURL: "https://acme.example", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return iss, clk
}

func testAward(key string) Award {
	return Award{
		Key:   key,
		Email: testEmail,
		Badge: Badge{ID: "certified-architect", Name: "Certified Architect",
			Description: "Passed the Acme solution architect certification.",
			Criteria:    "Earn the Acme architect certification."},
		AwardedAt:  time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC),
		ValidUntil: time.Date(2028, 11, 18, 0, 0, 0, 0, time.UTC),
		Evidence: []Evidence{{ID: "urn:rung:event:lms:cert-4711", Name: "Certification",
			Description: "Certification id ARCH-2026-0042", Genre: "Certification"}},
	}
}

func issue(t *testing.T, iss *Issuer, key string) store.IssuedCredential {
	t.Helper()
	c, err := iss.Issue(context.Background(), testAward(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssuedCredentialIsAnOpenBadge(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	var doc struct {
		Context           []string       `json:"@context"`
		ID                string         `json:"id"`
		Type              []string       `json:"type"`
		Issuer            map[string]any `json:"issuer"`
		ValidFrom         string         `json:"validFrom"`
		ValidUntil        string         `json:"validUntil"`
		CredentialSubject struct {
			Identifier []struct {
				IdentityHash string `json:"identityHash"`
				Salt         string `json:"salt"`
				Hashed       bool   `json:"hashed"`
			} `json:"identifier"`
			Achievement map[string]any `json:"achievement"`
		} `json:"credentialSubject"`
		Evidence         []map[string]any  `json:"evidence"`
		CredentialStatus map[string]string `json:"credentialStatus"`
		Proof            map[string]string `json:"proof"`
	}
	if err := json.Unmarshal(c.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if strings.Join(doc.Context, " ") != ContextCredentialsV2+" "+ContextOpenBadges {
		t.Errorf("@context = %v", doc.Context)
	}
	if doc.ID != "https://partners.acme.example/credentials/"+c.ID || strings.Join(doc.Type, ",") != "VerifiableCredential,OpenBadgeCredential" {
		t.Errorf("id %s, type %v", doc.ID, doc.Type)
	}
	if doc.Issuer["id"] != "did:web:partners.acme.example" || doc.Issuer["name"] != "Acme Corp" {
		t.Errorf("issuer = %v", doc.Issuer)
	}
	if doc.ValidFrom != "2026-11-18T09:30:00Z" || doc.ValidUntil != "2028-11-18T00:00:00Z" {
		t.Errorf("validFrom %s, validUntil %s", doc.ValidFrom, doc.ValidUntil)
	}
	ids := doc.CredentialSubject.Identifier
	if len(ids) != 1 || !ids[0].Hashed || ids[0].Salt == "" || ids[0].IdentityHash != IdentityHash("zoe.partner@example.com", ids[0].Salt) {
		t.Errorf("identifier = %+v", ids)
	}
	if doc.CredentialSubject.Achievement["id"] != "https://partners.acme.example/badges/certified-architect" {
		t.Errorf("achievement = %v", doc.CredentialSubject.Achievement)
	}
	if len(doc.Evidence) != 1 || doc.Evidence[0]["description"] != "Certification id ARCH-2026-0042" {
		t.Errorf("evidence = %v", doc.Evidence)
	}
	cs := doc.CredentialStatus
	if cs["type"] != "BitstringStatusListEntry" || cs["statusPurpose"] != "revocation" || cs["statusListIndex"] != "0" ||
		cs["statusListCredential"] != "https://partners.acme.example/credentials/status/1" {
		t.Errorf("credentialStatus = %v", cs)
	}
	p := doc.Proof
	if p["type"] != "DataIntegrityProof" || p["cryptosuite"] != "eddsa-rdfc-2022" || p["proofPurpose"] != "assertionMethod" ||
		!strings.HasPrefix(p["verificationMethod"], "did:web:partners.acme.example#key-") || !strings.HasPrefix(p["proofValue"], "z") {
		t.Errorf("proof = %v", p)
	}
}

func TestEmailNeverAppearsInTheCredential(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	body := strings.ToLower(string(c.Body))
	for _, s := range []string{strings.ToLower(testEmail), "zoe.partner", "example.com"} {
		if strings.Contains(body, s) {
			t.Errorf("credential contains %q:\n%s", s, c.Body)
		}
	}
}

func TestSaltDiffersPerCredential(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	a, b := issue(t, iss, "award-1"), issue(t, iss, "award-2")
	hash := func(body []byte) string {
		var d struct {
			CredentialSubject struct {
				Identifier []struct{ IdentityHash string } `json:"identifier"`
			} `json:"credentialSubject"`
		}
		json.Unmarshal(body, &d)
		return d.CredentialSubject.Identifier[0].IdentityHash
	}
	if hash(a.Body) == hash(b.Body) {
		t.Error("two credentials of one recipient share an identity hash: they can be linked")
	}
}

func TestIssueIsOncePerAward(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	a, b := issue(t, iss, "award-1"), issue(t, iss, "award-1")
	if a.ID != b.ID || string(a.Body) != string(b.Body) {
		t.Errorf("issuing twice for one award gave %s and %s", a.ID, b.ID)
	}
}

func TestIssueRefusesIncompleteAwards(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	for name, change := range map[string]func(*Award){
		"no key":             func(a *Award) { a.Key = "" },
		"no e-mail":          func(a *Award) { a.Email = "zoe" },
		"no badge":           func(a *Award) { a.Badge.ID = "" },
		"no time":            func(a *Award) { a.AwardedAt = time.Time{} },
		"ends before it did": func(a *Award) { a.ValidUntil = a.AwardedAt.Add(-time.Hour) },
		"evidence not a URL": func(a *Award) { a.Evidence[0].ID = "cert 4711" },
	} {
		a := testAward("x")
		change(&a)
		_, err := iss.Issue(context.Background(), a)
		if rung.ErrorCode(err) != rung.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}

func TestGoVerifierAcceptsOwnCredentials(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	res := iss.Check(context.Background(), c.Body)
	if !res.ProofVerified || res.Status != StatusActive {
		t.Fatalf("check = %+v", res)
	}
}

// tamperings change a signed credential in ways the proof must catch.
var tamperings = map[string]func(doc map[string]any){
	"badge name": func(d map[string]any) {
		d["credentialSubject"].(map[string]any)["achievement"].(map[string]any)["name"] = "Chief Architect"
	},
	"validUntil":  func(d map[string]any) { d["validUntil"] = "2099-01-01T00:00:00Z" },
	"status list": func(d map[string]any) { d["credentialStatus"].(map[string]any)["statusListIndex"] = "5" },
	"identity": func(d map[string]any) {
		d["credentialSubject"].(map[string]any)["identifier"].([]any)[0].(map[string]any)["identityHash"] = IdentityHash("mallory@example.com", "x")
	},
	"proof created": func(d map[string]any) { d["proof"].(map[string]any)["created"] = "2020-01-01T00:00:00Z" },
	"proof value": func(d map[string]any) {
		p := d["proof"].(map[string]any)
		v := []byte(p["proofValue"].(string))
		if v[10] == 'a' {
			v[10] = 'b'
		} else {
			v[10] = 'a'
		}
		p["proofValue"] = string(v)
	},
	"extra evidence": func(d map[string]any) {
		d["evidence"] = append(d["evidence"].([]any), map[string]any{"type": []any{"Evidence"}, "name": "forged"})
	},
}

func tamper(t testing.TB, body []byte, change func(map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	change(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGoVerifierRejectsTamperedCredentials(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	for name, change := range tamperings {
		res := iss.Check(context.Background(), tamper(t, c.Body, change))
		if res.ProofVerified {
			t.Errorf("%s: a tampered credential verified", name)
		}
	}
}

func TestGoVerifierRejectsAnotherIssuersKey(t *testing.T) {
	st := openStore(t)
	iss, _ := newIssuer(t, st)
	other, err := New(context.Background(), openStore(t), Config{BaseURL: "https://partners.acme.example", IssuerName: "Acme Corp"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := other.Issue(context.Background(), testAward("a"))
	if err != nil {
		t.Fatal(err)
	}
	if res := iss.Check(context.Background(), c.Body); res.ProofVerified {
		t.Error("a credential signed by a key the issuer never had verified")
	}
}

func TestKeyRotationKeepsOldCredentialsVerifying(t *testing.T) {
	ctx := context.Background()
	iss, clk := newIssuer(t, openStore(t))
	old := issue(t, iss, "award-old")
	clk.Add(time.Hour)
	k, err := iss.RotateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh := issue(t, iss, "award-new")
	vmOf := func(body []byte) string {
		var d struct{ Proof map[string]string }
		json.Unmarshal(body, &d)
		return d.Proof["verificationMethod"]
	}
	if vmOf(fresh.Body) != iss.DID()+"#"+k.ID || vmOf(old.Body) == vmOf(fresh.Body) {
		t.Errorf("after rotation the new credential is signed by %s, the old one by %s", vmOf(fresh.Body), vmOf(old.Body))
	}
	for _, c := range []store.IssuedCredential{old, fresh} {
		if res := iss.Check(ctx, c.Body); !res.ProofVerified {
			t.Errorf("%s does not verify after rotation: %+v", c.Award, res)
		}
	}
	doc, err := iss.DIDDocument(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.VerificationMethod) != 2 || len(doc.AssertionMethod) != 2 {
		t.Errorf("DID document after rotation = %+v", doc)
	}
	// A restart finds the keys and does not make another.
	again, err := New(ctx, iss.st, iss.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if keys, _ := again.Keys(ctx); len(keys) != 2 || keys[1].ID != k.ID {
		t.Errorf("keys after restart = %v", keys)
	}
}

func TestRevocationFlipsTheStatusBit(t *testing.T) {
	ctx := context.Background()
	iss, _ := newIssuer(t, openStore(t))
	a, b := issue(t, iss, "award-a"), issue(t, iss, "award-b")
	bit := func(index int) bool {
		t.Helper()
		body, err := iss.StatusListCredential(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res := iss.Check(ctx, body); !res.ProofVerified {
			t.Fatalf("status list credential does not verify: %+v", res)
		}
		var d struct {
			CredentialSubject struct{ EncodedList string } `json:"credentialSubject"`
		}
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		bits, err := decodeStatusList(d.CredentialSubject.EncodedList)
		if err != nil {
			t.Fatal(err)
		}
		if len(bits)*8 != StatusListSize {
			t.Fatalf("status list has %d bits, want %d", len(bits)*8, StatusListSize)
		}
		set, err := statusBit(bits, index)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	if bit(a.StatusIndex) || bit(b.StatusIndex) {
		t.Fatal("a fresh credential is revoked")
	}
	if err := iss.RevokeAward(ctx, "award-b"); err != nil {
		t.Fatal(err)
	}
	if bit(a.StatusIndex) || !bit(b.StatusIndex) {
		t.Errorf("after revoking b: a %v, b %v; want false, true", bit(a.StatusIndex), bit(b.StatusIndex))
	}
	if res := iss.Check(ctx, b.Body); !res.ProofVerified || res.Status != StatusRevoked {
		t.Errorf("check of the revoked credential = %+v", res)
	}
	if err := iss.RevokeAward(ctx, "never-issued"); err != nil {
		t.Errorf("revoking an award without a credential: %v", err)
	}
}

func TestCheckReportsExpiry(t *testing.T) {
	ctx := context.Background()
	iss, clk := newIssuer(t, openStore(t))
	c := issue(t, iss, "award-1")
	clk.Add(3 * 365 * 24 * time.Hour)
	if res := iss.Check(ctx, c.Body); !res.ProofVerified || res.Status != StatusExpired {
		t.Errorf("check after validUntil = %+v", res)
	}
}

func TestStatusListRoundTrip(t *testing.T) {
	set := []int{0, 1, 7, 8, 4242, StatusListSize - 1}
	enc, err := encodeStatusList(set)
	if err != nil {
		t.Fatal(err)
	}
	bits, err := decodeStatusList(enc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{}
	for _, i := range set {
		want[i] = true
	}
	for i := range StatusListSize {
		if got, _ := statusBit(bits, i); got != want[i] {
			t.Fatalf("bit %d = %v, want %v", i, got, want[i])
		}
	}
	if bits[0] != 0xC1 {
		t.Errorf("first byte %08b: bit 0 must be the most significant", bits[0])
	}
	if _, err := encodeStatusList([]int{StatusListSize}); err == nil {
		t.Error("an index past the list was accepted")
	}
}

func TestBase58RoundTrip(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0, 0, 1}, {0xed, 0x01, 0xff}, []byte("hello world")} {
		got, err := decodeBase58(encodeBase58(b))
		if err != nil || string(got) != string(b) {
			t.Errorf("round trip of %x = %x, %v", b, got, err)
		}
	}
	if encodeBase58([]byte("hello world")) != "StV1DL6CwTryKyV" {
		t.Errorf("base58 of hello world = %s", encodeBase58([]byte("hello world")))
	}
}

func TestDIDWeb(t *testing.T) {
	for in, want := range map[string]string{
		"https://partners.acme.example":       "did:web:partners.acme.example",
		"https://partners.acme.example/":      "did:web:partners.acme.example",
		"http://127.0.0.1:8080":               "did:web:127.0.0.1%3A8080",
		"https://acme.example/partner/portal": "did:web:acme.example:partner:portal",
	} {
		if got, err := DIDWeb(in); err != nil || got != want {
			t.Errorf("DIDWeb(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestConcurrentIssueForOneAwardGivesOneCredential(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := iss.Issue(context.Background(), testAward("award-1"))
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = c.ID
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("one award got credentials %v", ids)
		}
	}
}

// offsetSlots makes a store whose status slots start near the end of the
// first list.
type offsetSlots struct {
	store.Store
	offset int64
}

func (o offsetSlots) NextCredentialSlot(ctx context.Context) (int64, error) {
	n, err := o.Store.NextCredentialSlot(ctx)
	return n + o.offset, err
}

func TestStatusListsFillThenTheNextBegins(t *testing.T) {
	ctx := context.Background()
	iss, _ := newIssuer(t, offsetSlots{openStore(t), StatusListSize - 1})
	last, first := issue(t, iss, "award-1"), issue(t, iss, "award-2")
	if last.StatusList != 1 || last.StatusIndex != StatusListSize-1 || first.StatusList != 2 || first.StatusIndex != 0 {
		t.Fatalf("slots: %d/%d then %d/%d", last.StatusList, last.StatusIndex, first.StatusList, first.StatusIndex)
	}
	if err := iss.Revoke(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if res := iss.Check(ctx, first.Body); res.Status != StatusRevoked {
		t.Errorf("credential in list 2 after revocation: %+v", res)
	}
	if res := iss.Check(ctx, last.Body); res.Status != StatusActive {
		t.Errorf("last credential of list 1: %+v", res)
	}
}

func mustIssue(t *testing.T, iss *Issuer, a Award) store.IssuedCredential {
	t.Helper()
	c, err := iss.Issue(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestControlCharactersStayOutOfSignedText(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	a := testAward("award-1")
	a.Badge.Name = "Bell\a and delete\x7f and form\ffeed"
	a.Evidence[0].Description = "nul\x00here"
	c := mustIssue(t, iss, a)
	var doc map[string]any
	json.Unmarshal(c.Body, &doc)
	if hasUnsafeControl(doc) {
		t.Errorf("issued credential keeps control characters:\n%s", c.Body)
	}
	if !strings.Contains(string(c.Body), `"Bell and delete and formfeed"`) {
		t.Errorf("badge name not cleaned:\n%s", c.Body)
	}
	if res := iss.Check(context.Background(), c.Body); !res.ProofVerified {
		t.Errorf("check = %+v", res)
	}
	// A document that has them is refused, not misjudged.
	bad := tamper(t, c.Body, func(d map[string]any) { d["name"] = "x\ay" })
	if _, err := Verify(bad, func(string) (ed25519.PublicKey, error) { return nil, nil }); err != errUnsafeControl {
		t.Errorf("verify with a control character: %v", err)
	}
}

func TestIssueRefusesIRIsThatCannotBeSigned(t *testing.T) {
	iss, _ := newIssuer(t, openStore(t))
	for _, id := range []string{"urn:cert 4711", "https://x.example/<a>", "relative/path", "urn:x\\y"} {
		a := testAward("x")
		a.Evidence[0].ID = id
		if _, err := iss.Issue(context.Background(), a); rung.ErrorCode(err) != rung.EINVALID {
			t.Errorf("evidence id %q: err = %v, want EINVALID", id, err)
		}
	}
}
