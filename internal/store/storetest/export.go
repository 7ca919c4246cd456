package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// exportTests check the methods `rung copy` reads and writes a whole
// database with: facts written as they are, read back the same.
var exportTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ImportRegistrationsKeepsStateAndVersion", testImportRegistrationsKeepsStateAndVersion},
	{"ImportRegistrationsIsAllOrNothing", testImportRegistrationsIsAllOrNothing},
	{"ImportConflictsKeepsOutcome", testImportConflictsKeepsOutcome},
	{"IssuedCredentialsKeepRevocation", testIssuedCredentialsKeepRevocation},
	{"CredentialSlotsCarryOver", testCredentialSlotsCarryOver},
	{"AppliedMigrations", testAppliedMigrations},
}

// importedRegs are registrations of one company by three partners, in
// three states, and one of another company that was declined.
func importedRegs() []store.Registration {
	won := newReg("reg-a", "p1", "hooli.com", base)
	won.Status, won.Version = store.RegWon, 4
	won.RespondedAt, won.ApprovedAt, won.MeetingAt = base.Add(time.Hour), base.Add(time.Hour), base.Add(48*time.Hour)
	won.ProtectedUntil, won.ClosedAt, won.UpdatedAt = base.Add(90*24*time.Hour), base.Add(72*time.Hour), base.Add(72*time.Hour)
	won.History = append(won.History,
		store.Transition{At: base.Add(time.Hour), From: store.RegSubmitted, To: store.RegApproved, By: "admin"},
		store.Transition{At: base.Add(48 * time.Hour), From: store.RegApproved, To: store.RegMeeting, By: "crm"},
		store.Transition{At: base.Add(72 * time.Hour), From: store.RegMeeting, To: store.RegWon, By: "crm"})
	approved := newReg("reg-b", "p2", "hooli.com", base.Add(time.Minute))
	approved.Status, approved.Version, approved.ApprovedAt = store.RegApproved, 2, base.Add(2*time.Hour)
	approved.History = append(approved.History, store.Transition{At: base.Add(2 * time.Hour), From: store.RegSubmitted, To: store.RegApproved, By: "admin"})
	pending := newReg("reg-c", "p3", "hooli.com", base.Add(2*time.Minute))
	declined := newReg("reg-d", "p1", "initech.com", base.Add(3*time.Minute))
	declined.Status, declined.Reason, declined.Version, declined.ClosedAt = store.RegDeclined, "duplicate", 2, base.Add(time.Hour)
	declined.Customer, declined.AccountOwner = true, "ae@vendor.example"
	return []store.Registration{won, approved, pending, declined}
}

// asStored returns r as a store gives it back: times in UTC, no
// conflicts yet.
func asStored(r store.Registration) store.Registration {
	body, err := store.EncodeRegistration(r)
	if err != nil {
		panic(err)
	}
	out, err := store.DecodeRegistration(body)
	if err != nil {
		panic(err)
	}
	return out
}

func testImportRegistrationsKeepsStateAndVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.ImportRegistrations(ctx, nil); err != nil {
		t.Fatalf("ImportRegistrations of nothing: %v", err)
	}
	rs := importedRegs()
	// Conflicts given with a registration are not stored by it.
	rs[1].Conflicts = []store.Conflict{{First: "reg-a", Second: "reg-b", CreatedAt: base}}
	if err := s.ImportRegistrations(ctx, rs); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListRegistrations(ctx, store.RegistrationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]store.Registration, len(rs))
	for i, r := range rs {
		want[i] = asStored(r)
	}
	equal(t, "imported registrations", got, want)

	// The rows are indexed as SubmitRegistration's are: the active ones
	// hold their company, the closed ones do not.
	active, err := s.ListRegistrations(ctx, store.RegistrationFilter{Active: true, CompanyKey: "hooli.com"})
	if err != nil || len(active) != 2 || active[0].ID != "reg-b" || active[1].ID != "reg-c" {
		t.Fatalf("active registrations of hooli.com = %+v, %v", active, err)
	}
	if won, err := s.ListRegistrations(ctx, store.RegistrationFilter{Status: []string{store.RegWon}}); err != nil || len(won) != 1 || won[0].Version != 4 {
		t.Fatalf("won registrations = %+v, %v", won, err)
	}
	own, created := submit(t, s, newReg("reg-e", "p2", "hooli.com", base.Add(time.Hour)))
	if created || own.ID != "reg-b" {
		t.Errorf("p2 registering hooli.com again got %s (created %v), want its imported reg-b", own.ID, created)
	}
	next, _ := submit(t, s, newReg("reg-f", "p4", "hooli.com", base.Add(time.Hour)))
	if len(next.Conflicts) != 2 || next.Conflicts[0].First != "reg-b" || next.Conflicts[1].First != "reg-c" {
		t.Errorf("a new partner's registration conflicts with %+v, want reg-b and reg-c", next.Conflicts)
	}
	updated := got[2]
	updated.Status, updated.Version = store.RegApproved, 2
	if err := s.UpdateRegistration(ctx, updated); err != nil {
		t.Errorf("updating an imported registration: %v", err)
	}
}

func testImportRegistrationsIsAllOrNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	rs := importedRegs()
	if err := s.ImportRegistrations(ctx, rs[:1]); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.ImportRegistrations(ctx, rs[:2]), rung.ECONFLICT) // reg-a again
	// p2 cannot hold two active registrations of hooli.com.
	twice := newReg("reg-x", "p2", "hooli.com", base)
	wantCode(t, s.ImportRegistrations(ctx, []store.Registration{rs[1], twice}), rung.ECONFLICT)
	got, err := s.ListRegistrations(ctx, store.RegistrationFilter{})
	if err != nil || len(got) != 1 || got[0].ID != "reg-a" {
		t.Fatalf("after refused imports: %+v, %v; want reg-a alone", got, err)
	}
	bad := newReg("reg-y", "p5", "y.com", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
	wantCode(t, s.ImportRegistrations(ctx, []store.Registration{bad}), rung.EINVALID)
}

func testImportConflictsKeepsOutcome(t *testing.T, s store.Store) {
	ctx := context.Background()
	if cs, err := s.ConflictPairs(ctx); err != nil || cs == nil || len(cs) != 0 {
		t.Fatalf("ConflictPairs on an empty store = %#v, %v; want an empty list", cs, err)
	}
	if err := s.ImportRegistrations(ctx, importedRegs()); err != nil {
		t.Fatal(err)
	}
	settled := store.Conflict{First: "reg-a", Second: "reg-b", CreatedAt: base.Add(time.Minute),
		Winner: "reg-a", Reason: "first_submitted", DecidedBy: "policy", DecidedAt: base.Add(time.Hour)}
	open := store.Conflict{First: "reg-b", Second: "reg-c", CreatedAt: base.Add(2 * time.Minute)}
	other := store.Conflict{First: "reg-a", Second: "reg-c", CreatedAt: base.Add(2 * time.Minute)}
	if err := s.ImportConflicts(ctx, []store.Conflict{open, settled, other}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*store.Conflict{&settled, &open, &other} {
		c.CreatedAt, c.DecidedAt = c.CreatedAt.UTC(), c.DecidedAt.UTC()
	}
	got, err := s.ConflictPairs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "conflict pairs", got, []store.Conflict{settled, other, open})
	r, err := s.Registration(ctx, "reg-b")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "conflicts of reg-b", r.Conflicts, []store.Conflict{settled, open})
	// A settled pair stays settled; an open one can still be settled.
	again, err := s.SettleConflict(ctx, store.Conflict{First: "reg-a", Second: "reg-b", Winner: "reg-b", DecidedAt: base.Add(2 * time.Hour)})
	if err != nil || again != settled {
		t.Errorf("settling an imported settled pair = %+v, %v; want it as imported", again, err)
	}
	if c, err := s.SettleConflict(ctx, store.Conflict{First: "reg-b", Second: "reg-c", Winner: "reg-c", Reason: "admin", DecidedBy: "ada", DecidedAt: base.Add(3 * time.Hour)}); err != nil || c.Winner != "reg-c" {
		t.Errorf("settling an imported open pair = %+v, %v", c, err)
	}

	wantCode(t, s.ImportConflicts(ctx, []store.Conflict{settled}), rung.ECONFLICT)
	wantCode(t, s.ImportConflicts(ctx, []store.Conflict{{First: "reg-a", Second: "reg-none", CreatedAt: base}}), rung.ENOTFOUND)
	// A refused call stores none of its pairs.
	fresh := store.Conflict{First: "reg-c", Second: "reg-d", CreatedAt: base}
	wantCode(t, s.ImportConflicts(ctx, []store.Conflict{fresh, settled}), rung.ECONFLICT)
	if got, err := s.ConflictPairs(ctx); err != nil || len(got) != 3 {
		t.Errorf("after a refused import, %d pairs (%v); want 3", len(got), err)
	}
}

func testIssuedCredentialsKeepRevocation(t *testing.T, s store.Store) {
	ctx := context.Background()
	if cs, err := s.IssuedCredentials(ctx); err != nil || cs == nil || len(cs) != 0 {
		t.Fatalf("IssuedCredentials on an empty store = %#v, %v; want an empty list", cs, err)
	}
	mk := func(id string, index int, revoked time.Time) store.IssuedCredential {
		return store.IssuedCredential{ID: id, Award: "award-" + id, StatusList: 1, StatusIndex: index,
			Body: bytes.Repeat([]byte(id), 3), IssuedAt: base.Add(time.Duration(index) * time.Second), RevokedAt: revoked}
	}
	cs := []store.IssuedCredential{
		mk("urn:uuid:b", 1, time.Time{}),
		mk("urn:uuid:a", 0, base.Add(time.Hour)),
		mk("urn:uuid:c", 2, base.Add(2*time.Hour)),
	}
	for _, c := range cs {
		if err := s.PutCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.IssuedCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.IssuedCredential{cs[1], cs[0], cs[2]}
	for i := range want {
		want[i].IssuedAt = want[i].IssuedAt.UTC()
		if !want[i].RevokedAt.IsZero() {
			want[i].RevokedAt = want[i].RevokedAt.UTC()
		}
	}
	equal(t, "issued credentials", got, want)
	idx, err := s.RevokedStatusIndexes(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "revoked indexes", idx, []int{0, 2})
	// Revoking again keeps the revocation that came with the credential.
	if err := s.RevokeCredential(ctx, "urn:uuid:a", base.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Credential(ctx, "urn:uuid:a"); err != nil || !c.RevokedAt.Equal(base.Add(time.Hour)) {
		t.Errorf("after revoking again: %+v, %v; want revoked at %v", c, err, base.Add(time.Hour))
	}
}

func testCredentialSlotsCarryOver(t *testing.T, s store.Store) {
	ctx := context.Background()
	slots := func() int64 {
		t.Helper()
		n, err := s.CredentialSlots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	next := func() int64 {
		t.Helper()
		n, err := s.NextCredentialSlot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := slots(); n != 0 {
		t.Fatalf("CredentialSlots on an empty store = %d, want 0", n)
	}
	if err := s.RaiseCredentialSlots(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if n := next(); n != 0 {
		t.Errorf("first slot after raising to 0 = %d, want 0", n)
	}
	next()
	if n := slots(); n != 2 {
		t.Errorf("CredentialSlots after two = %d, want 2", n)
	}
	if err := s.RaiseCredentialSlots(ctx, 131072); err != nil {
		t.Fatal(err)
	}
	if n := slots(); n != 131072 {
		t.Errorf("CredentialSlots after raising = %d, want 131072", n)
	}
	if n := next(); n != 131072 {
		t.Errorf("slot after raising = %d, want 131072", n)
	}
	// The counter never goes down.
	if err := s.RaiseCredentialSlots(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if n := next(); n != 131073 {
		t.Errorf("slot after raising to less = %d, want 131073", n)
	}
	wantCode(t, s.RaiseCredentialSlots(ctx, -1), rung.EINVALID)
}

func testAppliedMigrations(t *testing.T, s store.Store) {
	ms, err := s.AppliedMigrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "0001_init" {
		t.Fatalf("AppliedMigrations = %+v; want 0001_init first", ms)
	}
	for i, m := range ms {
		if i > 0 && m.Version <= ms[i-1].Version {
			t.Errorf("migration %s comes after %s", m.Name, ms[i-1].Name)
		}
		if len(m.Name) < 5 || m.Name[4] != '_' || strings.TrimLeft(m.Name[:4], "0123456789") != "" || m.SQL != "" {
			t.Errorf("migration %+v: want a name and no SQL", m)
		}
	}
}
