package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/credential"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// copySource is a SQLite database built through the service, and the
// secrets of its API keys.
type copySource struct {
	path          string
	key, revoked  string // secrets: a working admin key, a revoked read key
	records, evts int
	// creds are the issued credentials: the first signed with the key
	// rotated away since, the second revoked, the third with the current
	// key.
	creds []store.IssuedCredential
}

// credentialConfig is the issuer of the copy tests' credentials.
func credentialConfig(now time.Time) credential.Config {
	return credential.Config{BaseURL: "https://partners.initech.example", IssuerName: "Initech", Now: func() time.Time { return now }}
}

// badgeAward is an award of the copy tests' badge.
func badgeAward(key string, at time.Time) credential.Award {
	return credential.Award{Key: key, Email: key + "@initech.example", AwardedAt: at,
		Badge: credential.Badge{ID: "certified", Name: "Certified", Description: "Passed the exam.", Criteria: "Pass the exam."}}
}

// addRegistrations stores registrations in several states through the
// store's own paths: two partners registering one company (the conflict
// settled for the first, the second declined), a won lead, one that needs
// information; and two CRM accounts.
func addRegistrations(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	reg := func(id, kind, partner, domain string, at time.Time) store.Registration {
		return store.Registration{ID: id, Kind: kind, Partner: partner, Member: "peter", CompanyName: strings.ToUpper(domain[:1]) + domain[1:],
			CompanyDomain: domain, NormalizedName: domain[:strings.Index(domain, ".")], RegistrableDomain: domain, CompanyKey: domain,
			ContactEmail: "buyer@" + domain, Amount: 25000, Channel: "api", Status: store.RegSubmitted,
			Matches:     []store.Match{{Account: domain, Name: domain, Score: 0.97}},
			SubmittedAt: at, ReviewDue: at.Add(48 * time.Hour), UpdatedAt: at,
			History: []store.Transition{{At: at, To: store.RegSubmitted, By: "api"}}, Version: 1}
	}
	move := func(r store.Registration, to, reason string, at time.Time) store.Registration {
		t.Helper()
		r.History = append(r.History, store.Transition{At: at, From: r.Status, To: to, By: "ada", Reason: reason})
		r.Status, r.Reason, r.UpdatedAt, r.Version = to, reason, at, r.Version+1
		switch to {
		case store.RegApproved:
			r.RespondedAt, r.ApprovedAt, r.ProtectedUntil = at, at, at.Add(90*24*time.Hour)
		case store.RegDeclined, store.RegWon:
			r.ClosedAt = at
		}
		if err := st.UpdateRegistration(ctx, r); err != nil {
			t.Fatalf("registration %s to %s: %v", r.ID, to, err)
		}
		return r
	}
	submit := func(r store.Registration) store.Registration {
		t.Helper()
		out, created, err := st.SubmitRegistration(ctx, r)
		if err != nil || !created {
			t.Fatalf("submit %s: created %v, %v", r.ID, created, err)
		}
		return out
	}
	first := submit(reg("reg_1", "deal", "p1", "hooli.example", now.Add(-72*time.Hour)))
	second := submit(reg("reg_2", "deal", "p2", "hooli.example", now.Add(-71*time.Hour)))
	if len(second.Conflicts) != 1 {
		t.Fatalf("the second registration of hooli.example has conflicts %+v", second.Conflicts)
	}
	if _, err := st.SettleConflict(ctx, store.Conflict{First: first.ID, Second: second.ID, Winner: first.ID,
		Reason: "first_submitted", DecidedBy: "policy", DecidedAt: now.Add(-70 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	second.Conflicts = nil
	move(second, store.RegDeclined, "conflict lost to reg_1", now.Add(-70*time.Hour))
	move(first, store.RegApproved, "", now.Add(-60*time.Hour))
	lead := submit(reg("reg_3", "lead", "p1", "initech.example", now.Add(-50*time.Hour)))
	lead = move(lead, store.RegApproved, "", now.Add(-49*time.Hour))
	move(lead, store.RegWon, "", now.Add(-10*time.Hour))
	vague := submit(reg("reg_4", "lead", "p2", "globex.example", now.Add(-5*time.Hour)))
	move(vague, store.RegNeedsInfo, "which product?", now.Add(-4*time.Hour))
	for _, a := range []store.CRMAccount{
		{Domain: "initech.example", Name: "Initech", NormalizedName: "initech", Customer: true, Owner: "ae@vendor.example", UpdatedAt: now.Add(-100 * time.Hour)},
		{Domain: "hooli.example", Name: "Hooli", NormalizedName: "hooli", OpenDeal: true, UpdatedAt: now.Add(-90 * time.Hour)},
	} {
		if err := st.PutCRMAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

// addCredentials issues three credentials: one with the first key, which
// is then rotated, one revoked, one with the new key.
func addCredentials(t *testing.T, st store.Store, now time.Time) []store.IssuedCredential {
	t.Helper()
	ctx := context.Background()
	iss, err := credential.New(ctx, st, credentialConfig(now.Add(-48*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	old, err := iss.Issue(ctx, badgeAward("peter", now.Add(-49*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	iss, err = credential.New(ctx, st, credentialConfig(now.Add(-24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	revoked, err := iss.Issue(ctx, badgeAward("sam", now.Add(-25*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := iss.Issue(ctx, badgeAward("ada", now.Add(-25*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := iss.Revoke(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	return []store.IssuedCredential{old, revoked, fresh}
}

// buildCopySource makes a database with one of each kind of fact: a
// program, partners (one with two versions), members (one moved), events
// (one corrected, one retracted), an adjustment, API keys (one revoked),
// audit entries, an import cursor, registrations in several states with a
// settled conflict, CRM accounts, and credentials signed by two keys (one
// rotated away), one of them revoked.
func buildCopySource(t *testing.T) copySource {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "source.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: quietLog(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = svc.ApplyProgram(ctx, []byte(e2eProgram), time.Time{}, "test")
	must("apply program", err)
	_, err = svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", Size: "smb", JoinedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	must("put p1", err)
	_, err = svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", Size: "mid"})
	must("update p1", err)
	_, err = svc.PutPartner(ctx, rung.Partner{ID: "p2", Name: "Globex", Region: "emea", Attrs: map[string]any{"tier_hint": "gold", "seats": 12.0}})
	must("put p2", err)
	_, err = svc.PutMember(ctx, rung.Member{ID: "peter", Partner: "p1", Name: "Peter", Email: "peter@initech.example", JoinedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	must("put peter", err)
	_, err = svc.PutMember(ctx, rung.Member{ID: "sam", Partner: "p2", Role: "sales"})
	must("put sam", err)
	must("put account", st.PutAccount(ctx, store.Account{ID: "usr_1", Email: "ada@vendor.example", Name: "Ada", Role: store.RoleManager,
		Partners: []string{"p1"}, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", Locale: "de", CreatedAt: now}))

	ev := func(id, typ, partner, member, at string, attrs map[string]any) *service.Incoming {
		ts, err := time.Parse(time.RFC3339, at)
		must("time", err)
		return &service.Incoming{Event: rung.Event{ID: id, Type: typ, Partner: partner, Member: member, OccurredAt: ts, Attrs: attrs, Source: "crm"}}
	}
	ingest := func(in ...*service.Incoming) {
		t.Helper()
		res, err := svc.Ingest(ctx, in)
		must("ingest", err)
		for _, r := range res {
			if r.Status == "rejected" {
				t.Fatalf("event %s rejected: %s", r.ID, r.Error)
			}
		}
	}
	ingest(
		ev("crm:1:deal.won", "deal.won", "p1", "peter", "2026-11-02T10:00:00Z", map[string]any{"amount": 64000.0}),
		ev("lms:1:training.completed", "training.completed", "p1", "peter", "2026-11-03T10:00:00Z", map[string]any{"score": 95.0, "course": "icp"}),
		ev("crm:2:deal.won", "deal.won", "p2", "sam", "2026-11-04T10:00:00Z", map[string]any{"amount": 12000.0, "tags": []any{"a", "b"}}),
		ev("portal:1:portal.login", "portal.login", "p2", "sam", "2026-11-04T11:00:00Z", nil),
	)
	// A correction, and a retraction.
	ingest(ev("crm:1:deal.won", "deal.won", "p1", "peter", "2026-11-02T10:00:00Z", map[string]any{"amount": 70000.0}))
	_, err = svc.Retract(ctx, "crm:2:deal.won", "test")
	must("retract", err)
	// Peter moves to p2; what he earned before stays with p1.
	_, err = svc.PutMember(ctx, rung.Member{ID: "peter", Partner: "p2", Name: "Peter", JoinedAt: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)})
	must("move peter", err)
	ingest(ev("crm:3:deal.won", "deal.won", "p2", "peter", "2026-11-12T10:00:00Z", map[string]any{"amount": 30000.0}))
	_, err = svc.Adjust(ctx, rung.Adjustment{Partner: "p2", Member: "sam", Points: 250, Reason: "event booth"}, "test")
	must("adjust", err)

	_, key, err := svc.CreateAPIKey(ctx, "ops", rung.ScopeAdmin, "test")
	must("create key", err)
	old, revoked, err := svc.CreateAPIKey(ctx, "old dashboards", rung.ScopeRead, "test")
	must("create key", err)
	must("revoke key", svc.RevokeAPIKey(ctx, old.ID, "test"))
	must("set meta", st.SetMeta(ctx, "import:0123456789abcdef", "42"))
	addRegistrations(t, st, now)
	addRedemptions(t, st, now)
	creds := addCredentials(t, st, now)
	addNotifications(t, st, now) // notify_copy_test.go
	_, err = st.AddTierRecords(ctx, []store.TierRecord{
		{ID: "decision:2026-Q3:initech", Kind: store.TierDecision, Partner: "initech", Quarter: "2026-Q3", At: now, Body: []byte(`{"partner":"initech"}`)},
		{ID: "appeal-1", Kind: store.TierAppeal, Partner: "initech", Quarter: "2026-Q3", State: "open", At: now, Body: []byte(`{"text":"x"}`)},
	})
	must("add tier records", err)
	return copySource{path: path, key: key, revoked: revoked, records: 7, evts: 5, creds: creds}
}

// sameFacts fails the test unless a and b hold the same facts, Seqs and
// audit ids included.
func sameFacts(t *testing.T, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	type reader struct {
		what string
		read func(store.Store) (any, error)
	}
	for _, r := range []reader{
		{"records", func(s store.Store) (any, error) {
			var rs []rung.Record
			err := s.Records(ctx, 0, func(r *rung.Record) error { rs = append(rs, *r); return nil })
			return rs, err
		}},
		{"programs", func(s store.Store) (any, error) { return s.Programs(ctx) }},
		{"partner versions", func(s store.Store) (any, error) { return s.PartnerVersions(ctx) }},
		{"members", func(s store.Store) (any, error) { return s.Members(ctx) }},
		{"adjustments", func(s store.Store) (any, error) { return s.Adjustments(ctx) }},
		{"audit", func(s store.Store) (any, error) { return s.Audit(ctx, store.AuditFilter{Limit: 1000}) }},
		{"API keys", func(s store.Store) (any, error) { return s.APIKeys(ctx) }},
		{"meta", func(s store.Store) (any, error) { return s.AllMeta(ctx) }},
		{"accounts", func(s store.Store) (any, error) { return s.ListAccounts(ctx) }},
		{"registrations", func(s store.Store) (any, error) { return s.ListRegistrations(ctx, store.RegistrationFilter{}) }},
		{"conflict pairs", func(s store.Store) (any, error) { return s.ConflictPairs(ctx) }},
		{"CRM accounts", func(s store.Store) (any, error) { return s.CRMAccounts(ctx) }},
		{"redemptions", func(s store.Store) (any, error) { return s.ListRedemptions(ctx, store.RedemptionFilter{}) }},
		{"credential keys", func(s store.Store) (any, error) { return s.CredentialKeys(ctx) }},
		{"credentials", func(s store.Store) (any, error) { return s.IssuedCredentials(ctx) }},
		{"tier records", func(s store.Store) (any, error) { return s.TierRecords(ctx, "") }},
		{"revoked status indexes", func(s store.Store) (any, error) { return s.RevokedStatusIndexes(ctx, 1) }},
		{"notifications", func(s store.Store) (any, error) { return s.ListNotifications(ctx, store.NotificationFilter{}) }},
		{"notification preferences", func(s store.Store) (any, error) { return s.AllNotificationPrefs(ctx) }},
		{"credential slots", func(s store.Store) (any, error) {
			n, err := s.CredentialSlots(ctx)
			return make([]int, n), err
		}},
	} {
		va, err := r.read(a)
		if err != nil {
			t.Fatalf("%s of the source: %v", r.what, err)
		}
		vb, err := r.read(b)
		if err != nil {
			t.Fatalf("%s of the copy: %v", r.what, err)
		}
		if !reflect.DeepEqual(va, vb) {
			t.Errorf("%s differ:\n source %+v\n copy   %+v", r.what, va, vb)
		}
		if reflect.ValueOf(va).Len() == 0 {
			t.Errorf("the source has no %s: the test should hold some", r.what)
		}
	}
}

// checkCopy checks the copy holds the source's facts and state, and that
// its API keys work (or stay revoked).
func checkCopy(t *testing.T, src copySource, copied store.Store) {
	t.Helper()
	ctx := context.Background()
	orig, err := sqlite.OpenReadOnly(ctx, src.path)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	sameFacts(t, orig, copied)

	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	want, err := loadState(ctx, orig, at, quietLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	got, err := loadState(ctx, copied, at, quietLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want.events != src.evts || want.partners != 2 {
		t.Errorf("state of the copy %+v, source %+v (want %d events, 2 partners)", got, want, src.evts)
	}

	svc, err := service.Open(ctx, copied, service.Options{Logger: quietLog(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if k, err := svc.Authenticate(ctx, src.key); err != nil || k.Scope != rung.ScopeAdmin {
		t.Errorf("the admin key on the copy: %+v, %v", k, err)
	}
	if _, err := svc.Authenticate(ctx, src.revoked); rung.ErrorCode(err) != rung.EUNAUTHORIZED {
		t.Errorf("the revoked key on the copy: %v, want EUNAUTHORIZED", err)
	}
	checkCopiedRegistrations(t, copied)
	checkCopiedCredentials(t, src, copied)
}

// checkCopiedRegistrations checks the copy keeps the states and the settled
// conflict, and still serializes claims: the winner's company stays taken.
func checkCopiedRegistrations(t *testing.T, copied store.Store) {
	t.Helper()
	ctx := context.Background()
	states := map[string]string{}
	rs, err := copied.ListRegistrations(ctx, store.RegistrationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		states[r.ID] = fmt.Sprintf("%s v%d", r.Status, r.Version)
	}
	want := map[string]string{"reg_1": "approved v2", "reg_2": "declined v2", "reg_3": "won v3", "reg_4": "needs_info v2"}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("registrations on the copy: %v, want %v", states, want)
	}
	r, err := copied.Registration(ctx, "reg_2")
	if err != nil || len(r.Conflicts) != 1 || r.Conflicts[0].Winner != "reg_1" || r.Conflicts[0].Reason != "first_submitted" {
		t.Errorf("the conflict on the copy: %+v, %v; want it settled for reg_1", r.Conflicts, err)
	}
	again := rs[0]
	again.ID, again.Conflicts = "reg_5", nil
	if out, created, err := copied.SubmitRegistration(ctx, again); err != nil || created || out.ID != "reg_1" {
		t.Errorf("p1 registering hooli.example again on the copy: %s, created %v, %v; want its reg_1", out.ID, created, err)
	}
}

// checkCopiedCredentials checks that what the source issued verifies with
// the copy's keys (the old key kept), the revoked one stays revoked, and
// that the copy's next credential takes a status slot never given.
func checkCopiedCredentials(t *testing.T, src copySource, copied store.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	iss, err := credential.New(ctx, copied, credentialConfig(now))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := iss.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys on the copy: %d, %v; want the old one and the current one", len(keys), err)
	}
	resolve := func(vm string) (ed25519.PublicKey, error) {
		for _, k := range keys {
			if vm == iss.DID()+"#"+k.ID {
				return k.Public(), nil
			}
		}
		return nil, fmt.Errorf("%s is not a key of the copy", vm)
	}
	for i, c := range src.creds {
		p, err := credential.Verify(c.Body, resolve)
		if err != nil {
			t.Errorf("credential %d (%s) does not verify with the copy's keys: %v", i, c.Award, err)
			continue
		}
		if want := iss.DID() + "#" + keys[min(i, 1)].ID; p.VerificationMethod != want {
			t.Errorf("credential %d is signed by %s, want %s", i, p.VerificationMethod, want)
		}
		wantStatus := credential.StatusActive
		if i == 1 {
			wantStatus = credential.StatusRevoked
		}
		if res := iss.Check(ctx, c.Body); !res.ProofVerified || res.Status != wantStatus {
			t.Errorf("credential %d checked on the copy: %+v, want verified and %s", i, res, wantStatus)
		}
	}
	next, err := iss.Issue(ctx, badgeAward("eve", now))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range src.creds {
		if c.StatusList == next.StatusList && c.StatusIndex == next.StatusIndex {
			t.Errorf("the copy's next credential took status index %d/%d, which %s has", next.StatusList, next.StatusIndex, c.Award)
		}
	}
	if next.StatusList != 1 || next.StatusIndex != len(src.creds) {
		t.Errorf("the copy's next credential has status index %d/%d, want 1/%d", next.StatusList, next.StatusIndex, len(src.creds))
	}
}

// checkOutput checks what rung copy printed: every kind ok, one digest on
// both sides, and the verdict.
func checkOutput(t *testing.T, out string, records int) {
	t.Helper()
	if !strings.Contains(out, "verified: the copy holds the same facts") || strings.Contains(out, "DIFFERS") {
		t.Fatalf("rung copy did not verify:\n%s", out)
	}
	var src, dst string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "source":
			src = f[1]
		case len(f) == 2 && f[0] == "copy":
			dst = f[1]
		case len(f) == 4 && f[0] == "records":
			if f[1] != strconv.Itoa(records) || f[2] != f[1] || f[3] != "ok" {
				t.Errorf("records line %q, want %d on both sides", line, records)
			}
		}
	}
	if len(src) != 64 || src != dst {
		t.Errorf("digests: source %q, copy %q\n%s", src, dst, out)
	}
}

func TestCopySQLiteToSQLite(t *testing.T) {
	src := buildCopySource(t)
	dst := filepath.Join(t.TempDir(), "copy.db")
	out, err := runCmd(t, "copy", "--from", src.path, "--to", dst)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	checkOutput(t, out, src.records)
	if !strings.Contains(out, "seqs kept; audit ids kept") {
		t.Errorf("seqs or audit ids were renumbered:\n%s", out)
	}
	copied, err := sqlite.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	checkCopy(t, src, copied)
}

func TestCopyRefusesANonEmptyDestination(t *testing.T) {
	src := buildCopySource(t)
	dst := filepath.Join(t.TempDir(), "copy.db")
	if out, err := runCmd(t, "copy", "--from", src.path, "--to", dst); err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	out, err := runCmd(t, "copy", "--from", src.path, "--to", dst)
	if rung.ErrorCode(err) != rung.ECONFLICT || !strings.Contains(err.Error(), "is not empty: it holds an event log (up to seq 7), 1 program version, 3 partner versions, 2 members, 1 adjustment, audit entries, 2 API keys, 1 meta value, 1 account, "+
		"4 registrations, 2 CRM accounts, 2 credential keys, 3 credentials") {
		t.Fatalf("copy into a non-empty database: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "copy", "--from", src.path, "--to", src.path); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("copy onto itself: %v, want EINVALID", err)
	}
	if _, err := runCmd(t, "copy", "--from", filepath.Join(t.TempDir(), "missing.db"), "--to", filepath.Join(t.TempDir(), "x.db")); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("copy from a missing file: %v, want ENOTFOUND", err)
	}
}

// pgCopyURL returns the URL of a new schema, dropped when the test ends, or
// skips the test without RUNG_TEST_POSTGRES.
func pgCopyURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("RUNG_TEST_POSTGRES")
	if base == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to test rung copy with PostgreSQL")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "rung_copy_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func TestCopySQLiteToPostgresAndBack(t *testing.T) {
	url := pgCopyURL(t)
	src := buildCopySource(t)
	// The schema does not exist yet: rung copy creates it.
	out, err := runCmd(t, "copy", "--from", src.path, "--to", url)
	if err != nil {
		t.Fatalf("copy to PostgreSQL: %v\n%s", err, out)
	}
	checkOutput(t, out, src.records)

	if out, err := runCmd(t, "copy", "--from", src.path, "--to", url); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Errorf("copy into the filled schema: %v\n%s", err, out)
	}

	back := filepath.Join(t.TempDir(), "back.db")
	out, err = runCmd(t, "copy", "--from", url, "--to", back)
	if err != nil {
		t.Fatalf("copy back to SQLite: %v\n%s", err, out)
	}
	checkOutput(t, out, src.records)

	// checkCopy writes (it issues a credential), so it runs once both
	// copies are made.
	ctx := context.Background()
	pg, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	checkCopy(t, src, pg)
	pg.Close()
	copied, err := sqlite.Open(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	checkCopy(t, src, copied)
}

func TestCopyKnowsEveryMigration(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "new.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	applied, err := st.AppliedMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range applied {
		if copiedMigrations[m.Version] != m.Name {
			t.Errorf("migration %s is not in copiedMigrations: teach rung copy to move what it stores (readFacts, copyRun.write, tally.add, checkEmpty), then list it", m.Name)
		}
	}
	if len(copiedMigrations) != len(applied) {
		t.Errorf("copiedMigrations lists %d migrations, the stores have %d", len(copiedMigrations), len(applied))
	}
	if err := checkMigrations(applied, copiedMigrations); err != nil {
		t.Errorf("checkMigrations of a current database: %v", err)
	}
}

func TestCopyRefusesAMigrationItDoesNotKnow(t *testing.T) {
	applied := []store.Migration{{Version: 1, Name: "0001_init"}, {Version: 2, Name: "0002_instances"}, {Version: 6, Name: "0006_surveys"}}
	known := map[int]string{1: "0001_init", 2: "0002_instances"}
	err := checkMigrations(applied, known)
	if rung.ErrorCode(err) != rung.EINVALID || !strings.Contains(err.Error(), "schema migration 0006_surveys, which rung copy does not know how to copy") {
		t.Fatalf("checkMigrations with an unknown migration: %v", err)
	}
	// A migration known by number under another name is not the same one.
	applied[1] = store.Migration{Version: 2, Name: "0002_other"}
	if err := checkMigrations(applied[:2], map[int]string{1: "0001_init", 2: "0002_instances"}); err == nil {
		t.Error("a migration renamed was not refused")
	}
}

func TestCopyRefusesASourceFromANewerRung(t *testing.T) {
	src := buildCopySource(t)
	db, err := sql.Open("sqlite", src.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '0099_future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dst := filepath.Join(t.TempDir(), "copy.db")
	out, err := runCmd(t, "copy", "--from", src.path, "--to", dst)
	if err == nil || !strings.Contains(err.Error(), "schema migration 99") {
		t.Fatalf("copy from a database of a newer rung: %v\n%s", err, out)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Errorf("the refused copy created %s", dst)
	}
}
