package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// testAccounts checks accounts round-trip every field, are found by e-mail
// in any case, and that an e-mail belongs to one account.
func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	if as, err := s.ListAccounts(ctx); err != nil || len(as) != 0 {
		t.Fatalf("ListAccounts on an empty store = %v, %v", as, err)
	}
	_, err := s.Account(ctx, "nobody")
	wantCode(t, err, rung.ENOTFOUND)
	_, err = s.AccountByEmail(ctx, "")
	wantCode(t, err, rung.ENOTFOUND)

	admin := store.Account{ID: "usr_admin", Email: "Ada@Example.com", Name: "Ada", Role: store.RoleAdmin,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", Locale: "de", CreatedAt: base}
	mgr := store.Account{ID: "usr_mgr", Email: "max@example.com", Name: "Max", Role: store.RoleManager,
		Partners: []string{"acct-1", "acct-2"}, CreatedAt: base.Add(time.Second), DisabledAt: base.Add(time.Hour)}
	mem := store.Account{ID: "member:m1", Name: "Mia", Role: store.RolePartnerAdmin, Member: "m1", CreatedAt: base}
	mem2 := store.Account{ID: "member:m2", Name: "Moe", Role: store.RoleMember, Member: "m2", CreatedAt: base}
	for _, a := range []store.Account{admin, mgr, mem, mem2} {
		if err := s.PutAccount(ctx, a); err != nil {
			t.Fatalf("PutAccount(%s): %v", a.ID, err)
		}
	}
	want := admin
	want.Email = "ada@example.com"
	want.CreatedAt = base.UTC()
	got, err := s.AccountByEmail(ctx, "ADA@example.COM")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "account by e-mail", got, want)
	got, err = s.Account(ctx, "usr_mgr")
	if err != nil {
		t.Fatal(err)
	}
	wantMgr := mgr
	wantMgr.CreatedAt, wantMgr.DisabledAt = mgr.CreatedAt.UTC(), mgr.DisabledAt.UTC()
	equal(t, "manager", got, wantMgr)

	// Another account may not take an e-mail in use, in any case.
	clash := store.Account{ID: "usr_other", Email: "MAX@example.com", Role: store.RoleAdmin, CreatedAt: base}
	wantCode(t, s.PutAccount(ctx, clash), rung.ECONFLICT)

	// Replacing by ID updates it.
	mem2.Role = store.RolePartnerAdmin
	mem2.Locale = "en"
	if err := s.PutAccount(ctx, mem2); err != nil {
		t.Fatal(err)
	}
	got, err = s.Account(ctx, "member:m2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != store.RolePartnerAdmin || got.Locale != "en" {
		t.Errorf("after update: %+v", got)
	}
	as, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	equal(t, "account ids", ids, []string{"member:m1", "member:m2", "usr_admin", "usr_mgr"})
}

// testSessions checks sessions are found by hash, deleted one by one, by
// account and by expiry.
func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(b byte, account string, expires time.Time) store.Session {
		return store.Session{Hash: bytes.Repeat([]byte{b}, 32), Account: account, CSRF: "csrf" + string('a'+b), CreatedAt: base, ExpiresAt: expires}
	}
	s1 := mk(1, "usr_a", base.Add(time.Hour))
	s2 := mk(2, "usr_a", base.Add(2*time.Hour))
	s3 := mk(3, "usr_b", base.Add(time.Minute))
	s4 := mk(4, "usr_c", base.Add(3*time.Hour))
	for _, ss := range []store.Session{s1, s2, s3, s4} {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, s.CreateSession(ctx, s1), rung.ECONFLICT)
	got, err := s.SessionByHash(ctx, s1.Hash)
	if err != nil {
		t.Fatal(err)
	}
	w := s1
	w.CreatedAt, w.ExpiresAt = s1.CreatedAt.UTC(), s1.ExpiresAt.UTC()
	equal(t, "session", got, w)
	_, err = s.SessionByHash(ctx, bytes.Repeat([]byte{9}, 32))
	wantCode(t, err, rung.ENOTFOUND)

	if err := s.DeleteSession(ctx, s4.Hash); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, s4.Hash)
	wantCode(t, err, rung.ENOTFOUND)
	if err := s.DeleteSession(ctx, s4.Hash); err != nil {
		t.Errorf("deleting a deleted session: %v", err)
	}
	// usr_a's sessions go, and s3, which expired before base+30m.
	if err := s.DeleteSessions(ctx, "usr_a", base.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, ss := range []store.Session{s1, s2, s3} {
		_, err := s.SessionByHash(ctx, ss.Hash)
		wantCode(t, err, rung.ENOTFOUND)
	}
}

// testLoginLinks checks a sign-in link works once, and says so after.
func testLoginLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	l := store.LoginLink{Hash: bytes.Repeat([]byte{7}, 32), Account: "member:m1", CreatedAt: base, ExpiresAt: base.Add(15 * time.Minute)}
	if err := s.CreateLoginLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.CreateLoginLink(ctx, l), rung.ECONFLICT)
	_, err := s.UseLoginLink(ctx, bytes.Repeat([]byte{8}, 32), base)
	wantCode(t, err, rung.ENOTFOUND)

	w := l
	w.CreatedAt, w.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	peek, err := s.LoginLink(ctx, l.Hash)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "link before use", peek, w)
	_, err = s.LoginLink(ctx, bytes.Repeat([]byte{8}, 32))
	wantCode(t, err, rung.ENOTFOUND)

	used := base.Add(time.Minute)
	got, err := s.UseLoginLink(ctx, l.Hash, used)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "link on first use", got, w)

	got, err = s.UseLoginLink(ctx, l.Hash, used.Add(time.Minute))
	wantCode(t, err, rung.ECONFLICT)
	if !got.UsedAt.Equal(used) || got.Account != l.Account {
		t.Errorf("link on second use = %+v, want it used at %v", got, used)
	}
	if peek, err := s.LoginLink(ctx, l.Hash); err != nil || !peek.UsedAt.Equal(used) {
		t.Errorf("link after use = %+v, %v", peek, err)
	}
}
