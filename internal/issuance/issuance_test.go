package issuance

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/credential"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const testProgram = `
name: Acme Partners
timezone: UTC
metrics:
  wins: {count: deal.won}
points:
  rules:
    - {id: win, on: deal.won, award: 10}
badges:
  - id: certified-architect
    name: Certified Architect
    description: Passed the architect exam.
    on: certification.earned
    when: event.attrs.cert == "architect"
    evidence: event.attrs.cert_id
  - id: deal-maker
    name: Deal Maker
    metric: wins
    levels: {Bronze: 1, Gold: 3}
`

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type fixture struct {
	svc *service.Service
	st  store.Store
	iss *credential.Issuer
	rec *Reconciler
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		st.Close()
	})
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []rung.Member{
		{ID: "ann", Partner: "p1", Name: "Ann", Email: "Ann@Initech.example"},
		{ID: "bob", Partner: "p1", Name: "Bob"}, // no e-mail: no credential
	} {
		if _, err := svc.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	iss, err := credential.New(ctx, st, credential.Config{BaseURL: "https://partners.acme.example", IssuerName: "Acme", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, st: st, iss: iss, rec: New(svc, iss, log)}
}

func (f *fixture) ingest(t *testing.T, evs ...rung.Event) {
	t.Helper()
	in := make([]*service.Incoming, len(evs))
	for i, ev := range evs {
		in[i] = &service.Incoming{Event: ev}
	}
	res, err := f.svc.Ingest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status == "rejected" {
			t.Fatalf("event %s rejected: %s", r.ID, r.Error)
		}
	}
}

func (f *fixture) sync(t *testing.T) Result {
	t.Helper()
	res, err := f.rec.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func cert(id, member string, at time.Time) rung.Event {
	return rung.Event{ID: id, Type: "certification.earned", Partner: "p1", Member: member, OccurredAt: at,
		Attrs: map[string]any{"cert": "architect", "cert_id": "ARCH-" + id}}
}

func TestEarnedBadgeGetsACredentialAndRetractionRevokesIt(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.ingest(t, cert("c1", "ann", now.Add(-48*time.Hour)), cert("c2", "bob", now.Add(-48*time.Hour)))
	if res := f.sync(t); res.Issued != 1 || res.Revoked != 0 {
		t.Fatalf("first sync: %+v, want one credential (Bob has no e-mail)", res)
	}
	key := AwardKey("member", "ann", "certified-architect", "", 0)
	c, err := f.st.CredentialByAward(ctx, key)
	if err != nil {
		t.Fatalf("no credential for %s: %v", key, err)
	}
	f.verify(t, c.Body, credential.StatusActive)

	// Syncing again issues nothing new: the award has its credential.
	if res := f.sync(t); res.Issued != 0 || res.Revoked != 0 {
		t.Fatalf("second sync: %+v, want nothing to do", res)
	}

	// The certification is retracted: the badge is revoked, and so is the
	// credential, whose bit in the status list is now set.
	if _, err := f.svc.Retract(ctx, "c1", "test"); err != nil {
		t.Fatal(err)
	}
	if res := f.sync(t); res.Revoked != 1 {
		t.Fatalf("sync after the retraction: %+v, want Ann's award revoked", res)
	}
	f.verify(t, c.Body, credential.StatusRevoked)

	// Earned again: a new award, a new credential; the old one stays revoked.
	f.ingest(t, cert("c3", "ann", now.Add(-time.Hour)))
	if res := f.sync(t); res.Issued != 1 {
		t.Fatalf("sync after earning it again: %+v", res)
	}
	again, err := f.st.CredentialByAward(ctx, AwardKey("member", "ann", "certified-architect", "", 1))
	if err != nil || again.ID == c.ID {
		t.Fatalf("the badge earned again has no credential of its own: %v", err)
	}
	f.verify(t, again.Body, credential.StatusActive)
	f.verify(t, c.Body, credential.StatusRevoked)
}

func TestMetricBadgeLevelsGetOneCredentialEach(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for i, id := range []string{"w1", "w2", "w3"} {
		f.ingest(t, rung.Event{ID: id, Type: "deal.won", Partner: "p1", Member: "ann", OccurredAt: now.Add(time.Duration(i-10) * time.Hour)})
	}
	if res := f.sync(t); res.Issued != 2 {
		t.Fatalf("sync: %+v, want Bronze and Gold", res)
	}
	for _, level := range []string{"Bronze", "Gold"} {
		c, err := f.st.CredentialByAward(ctx, AwardKey("member", "ann", "deal-maker", level, 0))
		if err != nil {
			t.Fatalf("%s: %v", level, err)
		}
		f.verify(t, c.Body, credential.StatusActive)
	}
	// One win retracted: Gold is lost, Bronze stays.
	if _, err := f.svc.Retract(ctx, "w2", "test"); err != nil {
		t.Fatal(err)
	}
	if res := f.sync(t); res.Revoked != 1 {
		t.Fatalf("sync after the retraction: %+v, want Gold revoked", res)
	}
	gold, _ := f.st.CredentialByAward(ctx, AwardKey("member", "ann", "deal-maker", "Gold", 0))
	bronze, _ := f.st.CredentialByAward(ctx, AwardKey("member", "ann", "deal-maker", "Bronze", 0))
	f.verify(t, gold.Body, credential.StatusRevoked)
	f.verify(t, bronze.Body, credential.StatusActive)
}

// TestSyncStartsOverAfterARestart: a new Reconciler (a restart) knows
// nothing yet, and issues no second credential for an award.
func TestSyncStartsOverAfterARestart(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.ingest(t, cert("c1", "ann", now.Add(-48*time.Hour)))
	f.sync(t)
	before, _ := f.st.IssuedCredentials(ctx)
	if _, err := New(f.svc, f.iss, nil).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := f.st.IssuedCredentials(ctx)
	if len(before) != 1 || len(after) != 1 || before[0].ID != after[0].ID {
		t.Fatalf("credentials before and after the restart: %d, %d", len(before), len(after))
	}
}

// verify checks a credential as an outside verifier would, with the keys
// of the DID document, and its status with the issuer's check.
func (f *fixture) verify(t *testing.T, body []byte, want credential.Status) {
	t.Helper()
	ctx := context.Background()
	doc, err := f.iss.DIDDocument(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(vm string) (ed25519.PublicKey, error) {
		for _, m := range doc.VerificationMethod {
			if m.ID == vm {
				return credential.ParseMultikey(m.PublicKeyMultibase)
			}
		}
		return nil, fmt.Errorf("no key %s", vm)
	}
	if _, err := credential.Verify(body, resolve); err != nil {
		t.Fatalf("the credential does not verify: %v", err)
	}
	if res := f.iss.Check(ctx, body); !res.ProofVerified || res.Status != want {
		t.Fatalf("check: %+v, want status %s", res, want)
	}
}
