package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func runUser(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := cmdUser(context.Background(), args, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func TestUserCommandsOpenTheConsoleAndThePortal(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Logger: quietLog(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyProgram(ctx, []byte(e2eProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutMember(ctx, rung.Member{ID: "peter", Partner: "p1", Name: "Peter", Email: "peter@initech.example"}); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	st.Close()

	// A password from stdin, and a generated one printed once.
	if out, err := runUser(t, "a long enough password\n", "add", "--email", "ada@vendor.example", "--role", "admin", "--db", db); err != nil || strings.Contains(out, "password") {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	out, err := runUser(t, "", "add", "--email", "max@vendor.example", "--role", "manager", "--partners", "p1", "--db", db)
	if err != nil || !strings.Contains(out, "password (shown once)") {
		t.Fatalf("user add with a generated password: %v\n%s", err, out)
	}
	generated := lastLine(out)
	if _, err := runUser(t, "x\n", "add", "--email", "bad", "--role", "admin", "--db", db); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("bad e-mail: %v", err)
	}
	if _, err := runUser(t, "", "role", "--member", "peter", "--role", "partner_admin", "--db", db); err != nil {
		t.Fatal(err)
	}
	if _, err := runUser(t, "", "link", "--member", "nobody", "--db", db); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("link for an unknown member: %v", err)
	}

	base := startServer(t, db)
	// A SQLite database is held by the server: beside it, links come from
	// the console's member page (and the server log).
	if _, err := runUser(t, "", "link", "--member", "peter", "--url", base, "--db", db); rung.ErrorCode(err) != rung.EUNAVAILABLE {
		t.Errorf("link beside the server on SQLite: %v", err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(base + "/portal")
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("portal signed out: %v %v", err, res)
	}
	// The manager signs in with the generated password.
	res, err = hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"csrf": {string(csrf[1])}, "email": {"max@vendor.example"}, "password": {generated}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = hc.Do(req)
	if err != nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin" {
		t.Fatalf("manager sign-in: %v %v", err, res)
	}
}

func TestUserLinkPrintsAOneTimeLink(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	ctx := context.Background()
	st, _ := sqlite.Open(ctx, db)
	svc, _ := service.Open(ctx, st, service.Options{Logger: quietLog(io.Discard)})
	svc.ApplyProgram(ctx, []byte(e2eProgram), time.Time{}, "test")
	svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech"})
	svc.PutMember(ctx, rung.Member{ID: "peter", Partner: "p1", Name: "Peter"})
	svc.Close()
	st.Close()
	out, err := runUser(t, "", "link", "--member", "peter", "--url", "http://rung.example", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	link := lastLine(out)
	if !strings.HasPrefix(link, "http://rung.example/login/link?token=") || len(link) < 60 {
		t.Fatalf("link %q", link)
	}
	base := startServer(t, db)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	path := strings.TrimPrefix(link, "http://rung.example")
	for i, want := range []int{http.StatusSeeOther, http.StatusGone} {
		// Open the link, then press its button.
		res, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		if csrf == nil {
			t.Fatalf("use %d: no form (%d)", i+1, res.StatusCode)
		}
		u, _ := url.Parse(link)
		req, _ := http.NewRequest("POST", base+"/login/link/use", strings.NewReader(url.Values{"csrf": {string(csrf[1])}, "token": {u.Query().Get("token")}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range res.Cookies() {
			req.AddCookie(c)
		}
		res, err = hc.Do(req)
		if err != nil || res.StatusCode != want {
			t.Fatalf("use %d of the link: %v %v", i+1, err, res)
		}
	}
}
