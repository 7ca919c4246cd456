package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/store"
)

func TestPasswordHashVerifiesOnlyItsPassword(t *testing.T) {
	h, err := HashPassword("s3cret password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("encoded hash %q: want the PHC argon2id format", h)
	}
	if !CheckPassword(h, "s3cret password") {
		t.Error("the right password does not verify")
	}
	for _, bad := range []string{"", "s3cret passwor", "S3cret password"} {
		if CheckPassword(h, bad) {
			t.Errorf("%q verifies", bad)
		}
	}
	h2, _ := HashPassword("s3cret password")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, malformed := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=0,t=1,p=1$AA$AA", strings.Replace(h, "$v=19$", "$v=18$", 1)} {
		if CheckPassword(malformed, "s3cret password") {
			t.Errorf("malformed hash %q verifies", malformed)
		}
	}
}

// TestDummyHashCostsWhatAPasswordCosts checks the hash an unknown e-mail is
// checked against: HashPassword's parameters, so checking it runs argon2 as
// long as checking a real one, and matched by no password.
func TestDummyHashCostsWhatAPasswordCosts(t *testing.T) {
	h, err := HashPassword("anything")
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[:4], "$") }
	if params(dummyHash) != params(h) {
		t.Errorf("dummy hash %q: parameters %q, HashPassword's %q", dummyHash, params(dummyHash), params(h))
	}
	if len(dummyHash) != len(h) {
		t.Errorf("dummy hash %q is not as long as a real one, %q: its key or salt has another length", dummyHash, h)
	}
	for _, pw := range []string{"", "rung-no-such-account", "anything", "\x00"} {
		if CheckPassword(dummyHash, pw) {
			t.Errorf("the dummy hash matches %q", pw)
		}
	}
}

func TestStaffSignInKeepsTheEmailAndSaysWhatWasWrong(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client()
	res, body := c.post("/login", url.Values{"email": {adminEmail}, "password": {"wrong"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The e-mail address or the password is wrong.") ||
		!strings.Contains(body, `value="`+adminEmail+`"`) || !strings.Contains(body, `id="login-error"`) {
		t.Fatalf("wrong password: %d\n%s", res.StatusCode, body)
	}
	c.lang = "de"
	res, body = c.post("/login", url.Values{"email": {adminEmail}, "password": {""}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, de["Enter your e-mail address and your password."]) {
		t.Fatalf("empty password in German: %d\n%s", res.StatusCode, body)
	}
	c.lang = ""
	res, _ = c.post("/login", url.Values{"email": {strings.ToUpper(adminEmail)}, "password": {adminPassword}, "next": {"/admin/audit"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/audit" {
		t.Fatalf("sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// The next page must stay on this site.
	c2 := e.client()
	res, _ = c2.post("/login", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {"//evil.example/x"}})
	if loc := res.Header.Get("Location"); loc != "/admin" {
		t.Errorf("next=//evil.example: sent to %q", loc)
	}
	_, body = c.get("/admin/audit")
	for _, action := range []string{"login.failed", "login", "account.create"} {
		if !strings.Contains(body, "<code>"+action+"</code>") {
			t.Errorf("the audit log has no %s", action)
		}
	}
}

func TestSignInIsRateLimitedPerAccount(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.client()
	for i := 0; i < 5; i++ {
		c.post("/login", url.Values{"email": {adminEmail}, "password": {"guess"}})
	}
	res, body := c.post("/login", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed attempts") {
		t.Fatalf("sixth try with the right password: %d", res.StatusCode)
	}
	// Another account from another place is not blocked...
	e.clock.Add(16 * time.Minute)
	// ...and the blocked one works again once the window has passed.
	res, _ = c.post("/login", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", res.StatusCode)
	}
}

func TestFormsWithoutTheCSRFTokenAreRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	for _, tok := range []string{"", "forged"} {
		res, body := admin.post("/admin/apikeys", url.Values{"name": {"x"}, "scope": {"read"}, "csrf": {tok + "x"}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
			t.Errorf("csrf %q: %d", tok, res.StatusCode)
		}
	}
	// Signed out, the sign-in form needs the cookie's token too.
	anon := e.client()
	res, _ := anon.post("/login", url.Values{"email": {adminEmail}, "password": {adminPassword}, "csrf": {"made-up"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with a made-up token: %d", res.StatusCode)
	}
	// A post from another site is refused even with the token.
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/apikeys", strings.NewReader(url.Values{"name": {"x"}, "scope": {"read"}, "csrf": {admin.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	if res, _ := admin.do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d", res.StatusCode)
	}
	res, body := admin.post("/admin/apikeys", url.Values{"name": {"ci"}, "scope": {"read"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "rung_read_") {
		t.Errorf("with the token: %d", res.StatusCode)
	}
}

func TestSessionCookieIsHttpOnlyLaxAndSecureWhenAsked(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, envOptions{secure: secure})
		c := e.client()
		res, _ := c.post("/login", url.Values{"email": {adminEmail}, "password": {adminPassword}})
		var sc *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == sessionCookie {
				sc = ck
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure != secure || sc.MaxAge <= 0 {
			t.Errorf("secure=%v: session cookie %+v", secure, sc)
		}
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.staff(adminEmail, adminPassword)
	u, _ := url.Parse(e.srv.URL)
	old := c.hc.Jar.Cookies(u)
	c.post("/logout", nil)
	// The old cookie no longer works, even replayed.
	c2 := e.client()
	c2.hc.Jar.SetCookies(u, old)
	if res, _ := c2.get("/admin"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("replayed cookie after sign-out: %d", res.StatusCode)
	}
}

func TestMagicLinkWorksOnceAndExpires(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	link := e.link(m)
	// Opening the link (as a mail scanner would) does not use it.
	if res, body := e.client().get(link); res.StatusCode != http.StatusOK || !strings.Contains(body, `id="use-link"`) {
		t.Fatalf("opening the link: %d\n%s", res.StatusCode, body)
	}
	c := e.client()
	res, _ := c.useLink(link)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/portal" {
		t.Fatalf("first use: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := c.get("/portal"); res.StatusCode != http.StatusOK {
		t.Fatalf("portal after the link: %d", res.StatusCode)
	}
	// Used again: it says so, and offers a new one with the address filled in.
	u, _ := url.Parse(link)
	res, body := e.client().post("/login/link/use", url.Values{"token": {u.Query().Get("token")}})
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "was used already") {
		t.Fatalf("second use: %d\n%s", res.StatusCode, body)
	}
	res, body = e.client().get(link)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "was used already") || !strings.Contains(body, `value="`+m.Email+`"`) {
		t.Fatalf("second use: %d\n%s", res.StatusCode, body)
	}
	// Expired after 15 minutes; in German too.
	late := e.link(m)
	e.clock.Add(LinkTTL + time.Second)
	c3 := e.client()
	c3.lang = "de-DE,de;q=0.9,en;q=0.5"
	res, body = c3.get(late)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "abgelaufen") {
		t.Fatalf("expired link: %d\n%s", res.StatusCode, body)
	}
	res, body = e.client().get("/login/link?token=nonsense")
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "not valid") {
		t.Fatalf("made-up link: %d", res.StatusCode)
	}
}

func TestRequestingALinkDoesNotTellWhoIsAMember(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	var bodies []string
	for _, email := range []string{m.Email, "nobody@nowhere.example"} {
		res, body := e.client().post("/login/link", url.Values{"email": {email}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="link-sent"`) {
			t.Fatalf("%s: %d", email, res.StatusCode)
		}
		bodies = append(bodies, strings.ReplaceAll(csrfField.ReplaceAllString(body, ""), email, ""))
	}
	if bodies[0] != bodies[1] {
		t.Error("the answer differs for a member and a stranger")
	}
	res, body := e.client().post("/login/link", url.Values{"email": {"not an address"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="link-email-error"`) || !strings.Contains(body, `value="not an address"`) {
		t.Errorf("bad address: %d", res.StatusCode)
	}
	// The link was issued (and logged) for the member only.
	es, _ := e.st.Audit(context.Background(), store.AuditFilter{Target: MemberAccountID(m.ID)})
	if len(es) == 0 || es[0].Action != "login.link.issue" {
		t.Errorf("audit for the member's account: %+v", es)
	}
}

func TestLanguageFollowsAccountThenBrowser(t *testing.T) {
	e := newEnv(t, envOptions{})
	anon := e.client()
	anon.lang = "de-CH, en;q=0.8"
	if _, body := anon.get("/login"); !strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, "Anmelden") {
		t.Error("Accept-Language de: the sign-in page is not German")
	}
	anon.lang = "fr, en-GB;q=0.7"
	if _, body := anon.get("/login"); !strings.Contains(body, `<html lang="en">`) {
		t.Error("Accept-Language fr, en: want English")
	}
	c := e.staff(adminEmail, adminPassword)
	res, _ := c.post("/locale", url.Values{"lang": {"de"}, "back": {"/admin/partners"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/partners" {
		t.Fatalf("switch: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	c.lang = "en"
	// The account's setting wins over the browser, in a new browser too.
	c2 := e.staff(adminEmail, adminPassword)
	c2.lang = "en"
	if _, body := c2.get("/admin/partners"); !strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, "Partner") {
		t.Error("the account's language is not used")
	}
	a, _ := e.st.AccountByEmail(context.Background(), adminEmail)
	if a.Locale != "de" {
		t.Errorf("account locale %q", a.Locale)
	}
}

func TestNumbersAndDatesFollowTheLocale(t *testing.T) {
	en, de := newLocale("en", time.UTC), newLocale("de", time.UTC)
	tests := []struct {
		l    *Locale
		v    any
		want string
	}{
		{en, 1234567, "1,234,567"}, {de, 1234567, "1.234.567"},
		{en, int64(-1000), "-1,000"}, {de, 4.5, "4,5"}, {en, 0.126, "0.13"}, {de, 999, "999"},
	}
	for _, tt := range tests {
		if got := tt.l.Num(tt.v); got != tt.want {
			t.Errorf("%s Num(%v) = %q, want %q", tt.l.Lang, tt.v, got, tt.want)
		}
	}
	d := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	if got := en.Date(d); got != "2 Mar 2026" {
		t.Errorf("en date %q", got)
	}
	if got := de.DateTime(d); got != "2. März 2026 14:05" {
		t.Errorf("de date %q", got)
	}
}

func TestUserAddWritesAnAuditedAccount(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	_, err := AddStaff(ctx, e.st, NewStaff{Email: "mgr@vendor.example", Role: store.RoleManager, Partners: []string{"a"}, Password: "short"}, "cli:test", e.clock.Now())
	if err == nil || !strings.Contains(err.Error(), "12 characters") {
		t.Errorf("short password: %v", err)
	}
	if _, err := AddStaff(ctx, e.st, NewStaff{Email: adminEmail, Role: store.RoleAdmin, Password: "long enough password"}, "cli:test", e.clock.Now()); err == nil {
		t.Error("a second account with the same e-mail was created")
	}
	if _, err := AddStaff(ctx, e.st, NewStaff{Email: "x@y.example", Role: store.RoleMember, Password: "long enough password"}, "cli:test", e.clock.Now()); err == nil {
		t.Error("a member was made a staff account")
	}
	a, err := AddStaff(ctx, e.st, NewStaff{Email: "Mgr@Vendor.example", Role: store.RoleManager, Partners: []string{"a", "b"}, Password: "long enough password"}, "cli:test", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.Account(ctx, a.ID)
	if got.Email != "mgr@vendor.example" || !CheckPassword(got.PasswordHash, "long enough password") || len(got.Partners) != 2 {
		t.Errorf("stored account %+v", got)
	}
	es, _ := e.st.Audit(ctx, store.AuditFilter{Limit: 5})
	var buf bytes.Buffer
	for _, en := range es {
		buf.WriteString(en.Action + " " + en.Target + "\n")
	}
	if !strings.Contains(buf.String(), "account.create "+a.ID) {
		t.Errorf("audit:\n%s", buf.String())
	}
}

func TestFormatsFillNumbersForTheLocale(t *testing.T) {
	if got := newLocale("de", nil).Tf("%d partners", 12345); got != "12.345 Partner" {
		t.Errorf("de: %q", got)
	}
	if got := newLocale("en", nil).Tf("Version %d is applied.", 2); got != "Version 2 is applied." {
		t.Errorf("en: %q", got)
	}
}

func TestConsoleAccountsShowErrorsAtTheFieldAndDisablingEndsSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	admin.lang = "de"
	res, body := admin.post("/admin/accounts", url.Values{"email": {"max@vendor.example"}, "role": {"manager"}, "partners": {"nope, " + e.data.Partners[0].ID}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="acc-partners-error"`) || !strings.Contains(body, "unbekannt: nope") ||
		!strings.Contains(body, `value="max@vendor.example"`) {
		t.Fatalf("unknown partner: %d\n%s", res.StatusCode, body)
	}
	res, body = admin.post("/admin/accounts", url.Values{"email": {"max@vendor.example"}, "role": {"manager"}, "partners": {e.data.Partners[0].ID}})
	m := regexp.MustCompile(`id="password">([^<]+)<`).FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: %d\n%s", res.StatusCode, body)
	}
	res, body = admin.post("/admin/accounts", url.Values{"email": {"MAX@vendor.example"}, "role": {"admin"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, `id="acc-email-error"`) {
		t.Fatalf("same e-mail again: %d", res.StatusCode)
	}
	mgr := e.staff("max@vendor.example", m[1])
	a, _ := e.st.AccountByEmail(context.Background(), "max@vendor.example")
	if res, _ := admin.post("/admin/accounts/"+a.ID+"/disable", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.StatusCode)
	}
	if res, _ := mgr.get("/admin"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled manager still gets in: %d", res.StatusCode)
	}
	if res, _ := e.client().post("/login", url.Values{"email": {"max@vendor.example"}, "password": {m[1]}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a disabled manager signs in: %d", res.StatusCode)
	}
	me, _ := e.st.AccountByEmail(context.Background(), adminEmail)
	if res, _ := admin.post("/admin/accounts/"+me.ID+"/disable", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("an admin disabled themselves: %d", res.StatusCode)
	}
}

func TestAPanicInAPageShowsThePlainErrorPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.web.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("database exploded: SELECT * FROM secrets") })
	res, body := e.client().get("/boom")
	if res.StatusCode != http.StatusInternalServerError || strings.Contains(body, "SELECT") || strings.Contains(body, "goroutine") ||
		!strings.Contains(body, "Something went wrong on our side") {
		t.Fatalf("%d\n%s", res.StatusCode, body)
	}
}
