package credential

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// verifierDir holds the node script that runs Digital Bazaar's reference
// verifier (@digitalbazaar/vc with @digitalbazaar/eddsa-rdfc-2022-cryptosuite)
// and its package-lock.json.
const verifierDir = "testdata/verifier"

// needNode returns the node binary, installing the verifier's packages with
// npm ci when they are missing. Without node, npm or the registry the test
// is skipped, unless RUNG_TEST_NODE=1, when it fails.
func needNode(t *testing.T) string {
	t.Helper()
	required := os.Getenv("RUNG_TEST_NODE") == "1"
	give := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (set RUNG_TEST_NODE=1 to make this a failure)", args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		give("node is not installed: cannot run the reference verifier")
	}
	if _, err := os.Stat(filepath.Join(verifierDir, "node_modules", "@digitalbazaar", "vc")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			give("npm is not installed: cannot install the reference verifier")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = verifierDir
		if out, err := cmd.CombinedOutput(); err != nil {
			give("npm ci in %s: %v\n%s", verifierDir, err, out)
		}
	}
	return node
}

// nodeResult is one line of verify.js's output.
type nodeResult struct {
	File          string `json:"file"`
	Verified      bool   `json:"verified"`
	ProofVerified bool   `json:"proofVerified"`
	Revoked       bool   `json:"revoked"`
	Error         string `json:"error"`
}

// verifyWithNode runs the reference verifier on credentials, with the
// issuer's DID document and status list 1, as the Handler serves them, as
// the only documents it may load.
func verifyWithNode(t *testing.T, iss *Issuer, creds map[string][]byte) map[string]nodeResult {
	t.Helper()
	node := needNode(t)
	ctx := context.Background()
	dir := t.TempDir()
	// The documents the verifier may load are fetched as Rung serves them.
	srv := serve(t, iss)
	code, did, _ := get(t, srv.URL+"/.well-known/did.json")
	if code != 200 {
		t.Fatalf("GET did.json = %d", code)
	}
	code, list, _ := get(t, srv.URL+"/credentials/status/1")
	if code != 200 {
		t.Fatalf("GET status list = %d", code)
	}
	world, _ := json.Marshal(map[string]any{"documents": map[string]any{
		iss.DID():            json.RawMessage(did),
		iss.StatusListURL(1): json.RawMessage(list),
	}})
	worldFile := filepath.Join(dir, "world.json")
	if err := os.WriteFile(worldFile, world, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify.js", worldFile}
	names := make([]string, 0, len(creds))
	for name := range creds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(f, creds[name], 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, node, args...)
	cmd.Dir = verifierDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.js: %v\n%s", err, stderr.String())
	}
	results := map[string]nodeResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		var r nodeResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("verify.js printed %q: %v", sc.Text(), err)
		}
		results[names[i]] = r
		i++
	}
	if i != len(names) {
		t.Fatalf("verify.js answered for %d of %d credentials:\n%s\n%s", i, len(names), out, stderr.String())
	}
	return results
}

func TestReferenceVerifierAcceptsRungCredentials(t *testing.T) {
	ctx := context.Background()
	iss, err := New(ctx, openStore(t), Config{BaseURL: "https://partners.acme.example", IssuerName: "Acme Corp", IssuerURL: "https://acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	award := func(key string) Award {
		a := testAward(key)
		a.AwardedAt = time.Now().Add(-24 * time.Hour).Truncate(time.Second)
		a.ValidUntil = a.AwardedAt.AddDate(2, 0, 0)
		return a
	}
	issueNow := func(a Award) []byte {
		c, err := iss.Issue(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return c.Body
	}
	creds := map[string][]byte{}
	creds["signed before rotation"] = issueNow(award("old"))
	if _, err := iss.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	good := issueNow(award("good"))
	creds["good"] = good
	leveled := award("leveled")
	leveled.Badge = Badge{ID: "deal-maker", Name: "Deal Maker", Level: "Gold", Image: "https://partners.acme.example/static/deal-maker.png"}
	leveled.ValidUntil, leveled.Evidence = time.Time{}, nil
	creds["level, image, no expiry, no evidence"] = issueNow(leveled)
	awkward := award("awkward")
	awkward.Badge.Name = "Zertifizierte Architektin \"Grün\" ✓ 🏅"
	awkward.Badge.Description = "Line one\nline two\r\n\ttabbed, back\\slash, bell\a, nul-free \u007f \u2028 end"
	awkward.Badge.Criteria = "<b>not html</b> & 'quotes'"
	awkward.Evidence = append(awkward.Evidence, Evidence{Name: "Ünïcödé", Narrative: "日本語のテキスト"})
	creds["awkward text"] = issueNow(awkward)
	creds["revoked"] = issueNow(award("revoked"))
	if err := iss.RevokeAward(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	for name, change := range tamperings {
		creds["tampered "+name] = tamper(t, good, change)
	}

	for name, r := range verifyWithNode(t, iss, creds) {
		t.Logf("%s: verified=%v proof=%v revoked=%v %s", name, r.Verified, r.ProofVerified, r.Revoked, r.Error)
		switch {
		case strings.HasPrefix(name, "tampered "):
			if r.Verified || r.ProofVerified {
				t.Errorf("%s: the reference verifier accepted it: %+v", name, r)
			}
		case name == "revoked":
			if r.Verified || !r.ProofVerified || !r.Revoked {
				t.Errorf("%s: want a good proof and a set revocation bit, got %+v", name, r)
			}
		default:
			if !r.Verified {
				t.Errorf("%s: the reference verifier refused it: %s", name, r.Error)
			}
		}
	}
}

// TestCanonicalizationMatchesJSONLDJS compares the canonical N-Quads of
// Rung's documents with those jsonld.js makes, the library the reference
// verifier canonicalizes with: a difference here is a signature that other
// verifiers reject.
func TestCanonicalizationMatchesJSONLDJS(t *testing.T) {
	node := needNode(t)
	ctx := context.Background()
	iss, _ := newIssuer(t, openStore(t))
	awkward := testAward("awkward")
	awkward.Badge.Name = "Zertifizierte Architektin \"Grün\" ✓ 🏅 \u2028 \u00a0"
	awkward.Badge.Description = "Line one\nline two\r\n\ttabbed, back\\slash, <b>&amp;</b> 'quotes' 日本語"
	awkward.Badge.Level = "Gold"
	// Blank nodes that look alike take RDFC-1.0's n-degree hashing path.
	twins := testAward("twins")
	same := Evidence{Name: "Training", Description: "Module 1"}
	twins.Evidence = []Evidence{same, same, {Name: "Training", Description: "Module 2"}, same}
	list, err := iss.StatusListCredential(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{
		"twins":      mustIssue(t, iss, twins).Body,
		"credential": issue(t, iss, "plain").Body,
		"awkward":    mustIssue(t, iss, awkward).Body,
		"statuslist": list,
	}
	// The proof options as they are canonicalized.
	var cred map[string]any
	json.Unmarshal(docs["credential"], &cred)
	opts := cred["proof"].(map[string]any)
	delete(opts, "proofValue")
	opts["@context"] = cred["@context"]
	docs["proof options"], _ = json.Marshal(opts)

	dir := t.TempDir()
	names := []string{"credential", "awkward", "twins", "statuslist", "proof options"}
	args := []string{"canon.js"}
	want := map[string]string{}
	for _, name := range names {
		var doc map[string]any
		if err := json.Unmarshal(docs[name], &doc); err != nil {
			t.Fatal(err)
		}
		delete(doc, "proof")
		b, _ := json.Marshal(doc)
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
		if want[name], err = canonicalize(doc); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = verifierDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node canon.js: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(names) {
		t.Fatalf("canon.js printed %d lines for %d documents:\n%s", len(lines), len(names), out)
	}
	for i, name := range names {
		var got string
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		if got != want[name] {
			t.Errorf("%s: jsonld.js canonicalizes\n%s\nRung:\n%s", name, got, want[name])
		}
	}
}
