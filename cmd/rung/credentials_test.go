package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/credential"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const badgeProgram = `name: Acme Partners
timezone: UTC
points:
  rules:
    - {id: cert, on: certification.earned, award: 100}
badges:
  - id: certified-architect
    name: Certified Architect
    on: certification.earned
    evidence: event.attrs.cert_id
`

// serveUntil runs `rung serve` with extra arguments until the returned
// stop is called or the test ends; it returns the URL and a channel of
// the server's log lines.
func serveUntil(t *testing.T, db string, args ...string) (url string, logs <-chan string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	er, ew := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, args...), pw, ew)
		pw.Close()
		ew.Close()
	}()
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(er)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "Rung is serving on "); ok {
			go io.Copy(io.Discard, pr)
			return u, lines, stop
		}
	}
	t.Fatal("the server did not start")
	return "", nil, nil
}

// waitLog waits for a log line that holds every one of parts.
func waitLog(t *testing.T, logs <-chan string, parts ...string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-logs:
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return
			}
		case <-deadline:
			t.Fatalf("no log line with %q", parts)
		}
	}
}

func get(t *testing.T, url string, into any) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return string(b)
}

// TestServeIssuesAndRevokesBadgeCredentials: a member earns a badge
// through the API, the server issues its credential, serves it with the
// DID document that verifies it, and revokes it when the event is
// retracted.
func TestServeIssuesAndRevokesBadgeCredentials(t *testing.T) {
	t.Setenv("RUNG_URL", "https://partners.acme.test")
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	if out, err := runCmd(t, "program", "apply", writeFile(t, dir, "program.yaml", badgeProgram), "--db", db); err != nil {
		t.Fatalf("program apply: %v\n%s", err, out)
	}
	out, err := runCmd(t, "apikey", "create", "--scope", "admin", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(out)

	url, logs, stop := serveUntil(t, db, "--credentials-every", "50ms")
	var did credential.DIDDocument
	get(t, url+"/.well-known/did.json", &did)
	if did.ID != "did:web:partners.acme.test" || len(did.VerificationMethod) != 1 {
		t.Fatalf("DID document: %+v", did)
	}
	var jwks credential.JWKSet
	get(t, url+"/.well-known/jwks.json", &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kid != did.VerificationMethod[0].ID {
		t.Fatalf("JWK set: %+v", jwks)
	}
	// The rest of the server is still behind the same mux.
	if code, _ := call(t, "GET", url+"/api/v1/program", key, ""); code != 200 {
		t.Fatalf("GET /api/v1/program: %d", code)
	}
	if code, _ := call(t, "PUT", url+"/api/v1/partners/p1", key, `{"name": "Initech"}`); code != 201 {
		t.Fatalf("put partner: %d", code)
	}
	if code, res := call(t, "PUT", url+"/api/v1/members/ann", key, `{"partner": "p1", "name": "Ann", "email": "ann@initech.example"}`); code/100 != 2 {
		t.Fatalf("put member: %d %v", code, res)
	}
	if code, res := call(t, "POST", url+"/api/v1/events", key, `{"events": [{"id": "lms:1", "type": "certification.earned", "partner": "p1", "member": "ann",
		"occurred_at": "2026-11-02T10:00:00Z", "attrs": {"cert_id": "ARCH-42"}}]}`); code != 200 {
		t.Fatalf("events: %d %v", code, res)
	}
	waitLog(t, logs, "credential issuance", "issued=1")
	stop()

	// The database, read between two runs, names the credential.
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := st.IssuedCredentials(context.Background())
	st.Close()
	if err != nil || len(creds) != 1 {
		t.Fatalf("issued credentials: %d, %v", len(creds), err)
	}
	id := creds[0].ID

	url, logs, _ = serveUntil(t, db, "--credentials-every", "50ms")
	get(t, url+"/.well-known/did.json", &did)
	body := get(t, url+"/credentials/"+id, nil)
	resolve := func(vm string) (ed25519.PublicKey, error) {
		for _, m := range did.VerificationMethod {
			if m.ID == vm {
				return credential.ParseMultikey(m.PublicKeyMultibase)
			}
		}
		return nil, fmt.Errorf("no key %s", vm)
	}
	if _, err := credential.Verify([]byte(body), resolve); err != nil {
		t.Fatalf("the served credential does not verify with the served DID document: %v", err)
	}
	if page := get(t, url+"/credentials/"+id+"/verify", nil); !strings.Contains(page, "Valid") {
		t.Fatal("the verification page does not say the credential is valid")
	}

	if code, res := call(t, "DELETE", url+"/api/v1/events/lms:1", key, ""); code/100 != 2 {
		t.Fatalf("retract: %d %v", code, res)
	}
	waitLog(t, logs, "credential issuance", "revoked=1")
	if page := get(t, url+"/credentials/"+id+"/verify", nil); !strings.Contains(page, "Revoked by the issuer") {
		t.Fatal("the verification page does not say the credential is revoked")
	}
}

// TestRotateKeyPrintsTheNewKey: the printed id is the current key, and the
// key before it stays published.
func TestRotateKeyPrintsTheNewKey(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "rung.db")
	first, err := runCmd(t, "credentials", "rotate-key", "--db", db)
	if err != nil {
		t.Fatalf("rotate-key: %v\n%s", err, first)
	}
	second, err := runCmd(t, "credentials", "rotate-key", "--db", db)
	if err != nil {
		t.Fatalf("rotate-key: %v\n%s", err, second)
	}
	first, second = strings.TrimSpace(first), strings.TrimSpace(second)
	if !strings.HasPrefix(second, "key-") || first == second {
		t.Fatalf("rotate-key printed %q, then %q", first, second)
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := st.CredentialKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The first run made the first key; the second rotated to another.
	if len(keys) != 2 || keys[0].ID != first || keys[1].ID != second {
		t.Fatalf("keys after two rotations: %d, want the printed ids last", len(keys))
	}
	if _, err := runCmd(t, "credentials", "rotate"); err == nil {
		t.Fatal("an unknown subcommand is accepted")
	}
}
