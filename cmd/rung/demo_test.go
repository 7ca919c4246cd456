package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoOpensWithThePortalReady runs a small demo and signs in with
// what it prints: the admin's e-mail and password, and a member's link.
func TestDemoOpensWithThePortalReady(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--partners", "8", "--members", "40", "--months", "2"}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	text := out.String()
	base := regexp.MustCompile(`Rung demo: (http://\S+)`).FindStringSubmatch(text)
	email := regexp.MustCompile(`e-mail:\s+(\S+)`).FindStringSubmatch(text)
	password := regexp.MustCompile(`password:\s+(\S+)`).FindStringSubmatch(text)
	link := regexp.MustCompile(`(http://\S+/login/link\?token=\S+)`).FindStringSubmatch(text)
	if base == nil || email == nil || password == nil || link == nil {
		t.Fatalf("the demo does not print the URL, the admin login and a sign-in link:\n%s", text)
	}
	if res, err := http.Get(base[1] + "/.well-known/did.json"); err != nil || res.StatusCode != 200 {
		t.Fatalf("the demo does not serve the issuer's DID document: %v", err)
	} else {
		res.Body.Close()
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	browse := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Timeout: 10 * time.Second}
	}
	post := func(c *http.Client, page, action string, form url.Values) (*http.Response, string) {
		t.Helper()
		res, err := c.Get(page)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrf.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s has no form", page)
		}
		form.Set("csrf", string(m[1]))
		res, err = c.PostForm(action, form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	admin := browse()
	res, body := post(admin, base[1]+"/login", base[1]+"/login", url.Values{"email": {email[1]}, "password": {password[1]}})
	if res.Request.URL.Path != "/admin" || !strings.Contains(body, `id="overview"`) && !strings.Contains(body, "computed") {
		t.Fatalf("admin sign-in ends on %s", res.Request.URL)
	}
	u, _ := url.Parse(link[1])
	member := browse()
	res, body = post(member, link[1], base[1]+"/login/link/use", url.Values{"token": {u.Query().Get("token")}})
	if res.Request.URL.Path != "/portal" || !strings.Contains(body, `id="balance"`) {
		t.Fatalf("member sign-in ends on %s", res.Request.URL)
	}
	// The demo's mailbox (notifications with a capture sender) fills with
	// the week's digests, delivered by the loop within a few windows.
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := admin.Get(base[1] + "/admin/mailbox")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(b), "Your week in the program") || strings.Contains(string(b), "Ihre Woche im Programm") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no digest in the demo's mailbox:\n%s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// --dir names a folder to keep the demo database in; one that does not
// exist yet is made.
func TestDemoMakesTheFolderItIsGiven(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "demo")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--dir", dir, "--addr", "127.0.0.1:0", "--partners", "4", "--members", "12", "--months", "1"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	ready := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			ready = true
			break
		}
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo --dir %s: %v", dir, err)
	}
	if !ready {
		t.Fatal("the demo did not start")
	}
	if _, err := os.Stat(filepath.Join(dir, "rung-demo.db")); err != nil {
		t.Errorf("the demo database is not in the folder given: %v", err)
	}
}
