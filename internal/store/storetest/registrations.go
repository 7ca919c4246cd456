package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

var registrationTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"RegistrationRoundTrips", testRegistrationRoundTrips},
	{"RegistrationSamePartnerGetsItsOwn", testRegistrationSamePartnerGetsItsOwn},
	{"RegistrationConflictPairs", testRegistrationConflictPairs},
	{"RegistrationUpdateChecksVersion", testRegistrationUpdateChecksVersion},
	{"RegistrationListFilters", testRegistrationListFilters},
	{"RegistrationConcurrentSubmitsOnePair", testRegistrationConcurrentSubmitsOnePair},
	{"CRMAccounts", testCRMAccounts},
}

func newReg(id, partner, key string, at time.Time) store.Registration {
	return store.Registration{
		ID: id, Kind: "deal", Partner: partner, Member: "m-" + partner,
		CompanyName: "Initech Ltd", CompanyDomain: "www." + key, NormalizedName: "initech", RegistrableDomain: key, CompanyKey: key,
		ContactName: "Jane Doe", ContactEmail: "jane@" + key, Notes: "Wants 40 seats", Amount: 48000.5,
		Region: "emea", Product: "cloud", Channel: "api", Status: store.RegSubmitted,
		Matches:     []store.Match{{Registration: "reg-x", Name: "initek", Score: 0.93}},
		SubmittedAt: at, ReviewDue: at.Add(48 * time.Hour), UpdatedAt: at,
		History: []store.Transition{{At: at, To: store.RegSubmitted, By: "api"}},
		Version: 1,
	}
}

func submit(t *testing.T, s store.Store, r store.Registration) (store.Registration, bool) {
	t.Helper()
	out, created, err := s.SubmitRegistration(context.Background(), r)
	if err != nil {
		t.Fatalf("SubmitRegistration(%s): %v", r.ID, err)
	}
	return out, created
}

func testRegistrationRoundTrips(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.Registration(ctx, "nope")
	wantCode(t, err, rung.ENOTFOUND)
	r := newReg("reg-1", "p1", "initech.co.uk", base)
	got, created := submit(t, s, r)
	if !created || len(got.Conflicts) != 0 {
		t.Fatalf("first submission: created %v, conflicts %v", created, got.Conflicts)
	}
	read, err := s.Registration(ctx, "reg-1")
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.SubmittedAt, want.ReviewDue, want.UpdatedAt = base.UTC(), base.Add(48*time.Hour).UTC(), base.UTC()
	want.History = []store.Transition{{At: base.UTC(), To: store.RegSubmitted, By: "api"}}
	equal(t, "registration", read, want)
	_, _, err = s.SubmitRegistration(ctx, newReg("reg-1", "p2", "other.com", base))
	wantCode(t, err, rung.ECONFLICT)
}

func testRegistrationSamePartnerGetsItsOwn(t *testing.T, s store.Store) {
	ctx := context.Background()
	first, _ := submit(t, s, newReg("reg-a", "p1", "globex.com", base))
	again, created := submit(t, s, newReg("reg-b", "p1", "globex.com", base.Add(time.Hour)))
	if created || again.ID != first.ID {
		t.Fatalf("the same partner again: got %s (created %v), want %s", again.ID, created, first.ID)
	}
	if _, err := s.Registration(ctx, "reg-b"); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Fatalf("the second submission was stored: %v", err)
	}
	// Once the first is closed, the partner may register the company anew.
	first.Status, first.Version = store.RegDeclined, 2
	if err := s.UpdateRegistration(ctx, first); err != nil {
		t.Fatal(err)
	}
	if r, created := submit(t, s, newReg("reg-c", "p1", "globex.com", base.Add(2*time.Hour))); !created || r.ID != "reg-c" {
		t.Fatalf("after a decline: got %s, created %v", r.ID, created)
	}
}

func testRegistrationConflictPairs(t *testing.T, s store.Store) {
	ctx := context.Background()
	submit(t, s, newReg("reg-1", "p1", "hooli.com", base))
	second, _ := submit(t, s, newReg("reg-2", "p2", "hooli.com", base.Add(time.Minute)))
	third, _ := submit(t, s, newReg("reg-3", "p3", "hooli.com", base.Add(2*time.Minute)))
	if len(second.Conflicts) != 1 || second.Conflicts[0].First != "reg-1" || second.Conflicts[0].Second != "reg-2" {
		t.Fatalf("second's conflicts = %+v", second.Conflicts)
	}
	if len(third.Conflicts) != 2 {
		t.Fatalf("third's conflicts = %+v", third.Conflicts)
	}
	first, err := s.Registration(ctx, "reg-1")
	if err != nil || len(first.Conflicts) != 2 || first.Conflicts[0].Other("reg-1") != "reg-2" {
		t.Fatalf("first's conflicts = %+v, %v", first.Conflicts, err)
	}
	settled, err := s.SettleConflict(ctx, store.Conflict{First: "reg-1", Second: "reg-2", Winner: "reg-1", Reason: "first_submitted", DecidedBy: "policy", DecidedAt: base.Add(time.Hour)})
	if err != nil || settled.Winner != "reg-1" || !settled.DecidedAt.Equal(base.Add(time.Hour)) || settled.DecidedAt.Location() != time.UTC {
		t.Fatalf("SettleConflict = %+v, %v", settled, err)
	}
	// A settled pair stays as it was decided.
	again, err := s.SettleConflict(ctx, store.Conflict{First: "reg-1", Second: "reg-2", Winner: "reg-2", Reason: "admin", DecidedBy: "x", DecidedAt: base.Add(2 * time.Hour)})
	if err != nil || again.Winner != "reg-1" || again.Reason != "first_submitted" {
		t.Fatalf("settling again = %+v, %v", again, err)
	}
	_, err = s.SettleConflict(ctx, store.Conflict{First: "reg-2", Second: "reg-1", Winner: "reg-1", DecidedAt: base})
	wantCode(t, err, rung.ENOTFOUND)
	list, err := s.ListRegistrations(ctx, store.RegistrationFilter{CompanyKey: "hooli.com"})
	if err != nil || len(list) != 3 || len(list[1].Conflicts) != 2 || list[1].Conflicts[0].Winner != "reg-1" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	// A closed registration is not in conflict with what comes later.
	first.Status, first.Version = store.RegWon, 2
	if err := s.UpdateRegistration(ctx, first); err != nil {
		t.Fatal(err)
	}
	fourth, _ := submit(t, s, newReg("reg-4", "p4", "hooli.com", base.Add(3*time.Minute)))
	if len(fourth.Conflicts) != 2 || fourth.Conflicts[0].First != "reg-2" || fourth.Conflicts[1].First != "reg-3" {
		t.Fatalf("fourth's conflicts = %+v", fourth.Conflicts)
	}
}

func testRegistrationUpdateChecksVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	r, _ := submit(t, s, newReg("reg-1", "p1", "umbrella.com", base))
	r.Status, r.Reason, r.Version = store.RegApproved, "", 2
	r.ApprovedAt, r.ProtectedUntil = base.Add(time.Hour), base.Add(90*24*time.Hour)
	r.History = append(r.History, store.Transition{At: base.Add(time.Hour), From: store.RegSubmitted, To: store.RegApproved, By: "admin"})
	if err := s.UpdateRegistration(ctx, r); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.UpdateRegistration(ctx, r), rung.ECONFLICT) // version 2 again
	got, err := s.Registration(ctx, "reg-1")
	if err != nil || got.Status != store.RegApproved || got.Version != 2 || len(got.History) != 2 || !got.ProtectedUntil.Equal(r.ProtectedUntil) {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	missing := newReg("reg-none", "p1", "x.com", base)
	missing.Version = 2
	wantCode(t, s.UpdateRegistration(ctx, missing), rung.ENOTFOUND)
}

func testRegistrationListFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 6 {
		r := newReg(fmt.Sprintf("reg-%d", i), fmt.Sprintf("p%d", i%2), fmt.Sprintf("c%d.com", i), base.Add(time.Duration(i)*time.Hour))
		if i == 5 {
			r.Kind = "lead"
		}
		submit(t, s, r)
	}
	r, _ := s.Registration(ctx, "reg-2")
	r.Status, r.Version = store.RegLost, 2
	if err := s.UpdateRegistration(ctx, r); err != nil {
		t.Fatal(err)
	}
	ids := func(f store.RegistrationFilter) string {
		rs, err := s.ListRegistrations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range rs {
			out += r.ID[4:]
		}
		return out
	}
	for _, tt := range []struct {
		f    store.RegistrationFilter
		want string
	}{
		{store.RegistrationFilter{}, "012345"},
		{store.RegistrationFilter{Partner: "p0"}, "024"},
		{store.RegistrationFilter{Active: true}, "01345"},
		{store.RegistrationFilter{Status: []string{store.RegLost, store.RegSubmitted}, Partner: "p0"}, "024"},
		{store.RegistrationFilter{Status: []string{store.RegLost}}, "2"},
		{store.RegistrationFilter{Kind: "lead"}, "5"},
		{store.RegistrationFilter{Since: base.Add(4 * time.Hour)}, "45"},
		{store.RegistrationFilter{Limit: 2, Offset: 1}, "12"},
		{store.RegistrationFilter{Offset: 4}, "45"},
		{store.RegistrationFilter{CompanyKey: "c3.com"}, "3"},
	} {
		if got := ids(tt.f); got != tt.want {
			t.Errorf("ListRegistrations(%+v) = %s, want %s", tt.f, got, tt.want)
		}
	}
}

// testRegistrationConcurrentSubmitsOnePair: two partners registering the
// same company at the same instant give exactly one conflict pair, and one
// partner submitting twice at once gives one registration.
func testRegistrationConcurrentSubmitsOnePair(t *testing.T, s store.Store) {
	ctx := context.Background()
	const companies = 20
	var wg sync.WaitGroup
	errs := make(chan error, companies*3)
	for c := range companies {
		key := fmt.Sprintf("race%d.com", c)
		start := make(chan struct{})
		for i, p := range []string{"p1", "p2", "p1"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, err := s.SubmitRegistration(ctx, newReg(fmt.Sprintf("reg-%d-%d", c, i), p, key, base))
				errs <- err
			}()
		}
		close(start)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent SubmitRegistration: %v", err)
		}
	}
	for c := range companies {
		rs, err := s.ListRegistrations(ctx, store.RegistrationFilter{CompanyKey: fmt.Sprintf("race%d.com", c)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 || rs[0].Partner == rs[1].Partner {
			t.Fatalf("company %d: %d registrations, want one per partner: %+v", c, len(rs), rs)
		}
		if len(rs[0].Conflicts) != 1 || len(rs[1].Conflicts) != 1 || rs[0].Conflicts[0] != rs[1].Conflicts[0] {
			t.Fatalf("company %d: want exactly one conflict pair, got %+v and %+v", c, rs[0].Conflicts, rs[1].Conflicts)
		}
	}
}

func testCRMAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.CRMAccount(ctx, "initech.com")
	wantCode(t, err, rung.ENOTFOUND)
	a := store.CRMAccount{Domain: "initech.com", Name: "Initech", NormalizedName: "initech", Customer: true, Owner: "ae@vendor.com", UpdatedAt: base}
	b := store.CRMAccount{Domain: "globex.com", Name: "Globex", OpenDeal: true, Owner: "bob@vendor.com", UpdatedAt: base}
	for _, x := range []store.CRMAccount{a, b} {
		if err := s.PutCRMAccount(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	a.Customer, a.OpenDeal, a.Owner = false, true, "eve@vendor.com"
	if err := s.PutCRMAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.CRMAccount(ctx, "initech.com")
	a.UpdatedAt = base.UTC()
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "CRM account", got, a)
	all, err := s.CRMAccounts(ctx)
	if err != nil || len(all) != 2 || all[0].Domain != "globex.com" {
		t.Fatalf("CRMAccounts = %+v, %v", all, err)
	}
	// Company names: active registrations and accounts, not closed ones.
	submit(t, s, newReg("reg-1", "p1", "hooli.com", base))
	closed, _ := submit(t, s, newReg("reg-2", "p1", "umbrella.com", base))
	closed.Status, closed.Version = store.RegLost, 2
	if err := s.UpdateRegistration(ctx, closed); err != nil {
		t.Fatal(err)
	}
	names, err := s.CompanyNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]store.CompanyName{}
	for _, n := range names {
		byKey[n.Key] = n
	}
	if len(names) != 3 || byKey["hooli.com"] != (store.CompanyName{Registration: "reg-1", Key: "hooli.com", Name: "Initech Ltd", Normalized: "initech"}) ||
		byKey["initech.com"] != (store.CompanyName{Key: "initech.com", Name: "Initech", Normalized: "initech"}) {
		t.Fatalf("CompanyNames = %+v", names)
	}
}
