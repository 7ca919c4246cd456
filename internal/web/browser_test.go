package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/store"
)

// The browser tests drive a real headless Chromium against a real server.
// Without Chromium they skip, unless RUNG_TEST_BROWSER=1 (CI) makes that a
// failure. With RUNG_SCREENSHOTS=DIR they also save PNGs of the main
// pages there (docs/screenshots in the README).

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("RUNG_TEST_BROWSER") == "1" {
		t.Fatal("RUNG_TEST_BROWSER=1 but no Chromium is installed: apt-get install -y chromium")
	}
	t.Skip("Chromium is not installed (apt-get install -y chromium); skipping the browser tests")
	return ""
}

// browser starts a fresh headless Chromium and returns its context.
func browser(t *testing.T) context.Context {
	path := chromiumPath(t)
	// Not t.TempDir: Chromium's helpers may still write to the profile for
	// a moment after it is told to quit.
	profile, err := os.MkdirTemp("", "rung-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelT()
		cancelB()
		cancelA()
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// shot saves a screenshot of the viewport when RUNG_SCREENSHOTS is set.
func shot(name string) chromedp.Action {
	dir := os.Getenv("RUNG_SCREENSHOTS")
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if dir == "" {
			return nil
		}
		var png []byte
		if err := chromedp.CaptureScreenshot(&png).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// browserEnv is the server the browser tests use: small, or a fuller
// partner base when taking screenshots, so that they look like the demo.
func browserEnv(t *testing.T) *testEnv {
	if os.Getenv("RUNG_SCREENSHOTS") != "" {
		return newEnv(t, envOptions{partners: 60, members: 600, months: 12})
	}
	return newEnv(t, envOptions{})
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestBrowserAdminFixesAProgramAtItsLineAndAppliesIt(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	base := e.srv.URL
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
		shot("admin-overview"),
	)
	// A program whose rule has a list for an award: an error at line 6.
	broken := "name: Browser test\npoints:\n  rules:\n    - id: training\n      on: training.completed\n      award: [50]\n"
	file := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	var msg, cls string
	run(t, ctx, "upload a broken program",
		chromedp.Navigate(base+"/admin/program"),
		chromedp.WaitVisible("#source", chromedp.ByID),
		chromedp.SetUploadFiles("#file", []string{file}, chromedp.ByID),
		chromedp.Click("#validate", chromedp.ByID),
		chromedp.WaitVisible("#errors", chromedp.ByID),
		chromedp.AttributeValue("#line-6", "class", &cls, nil, chromedp.ByID),
		chromedp.Text("#line-6 + .msg", &msg, chromedp.ByQuery),
		shot("admin-program-error"),
	)
	if !strings.Contains(cls, "err") || !strings.Contains(msg, "award") {
		t.Fatalf("line 6: class %q, message %q: want the award error there", cls, msg)
	}
	var kept string
	run(t, ctx, "the text is kept", chromedp.Value("#source", &kept, chromedp.ByID))
	if strings.TrimSpace(kept) != strings.TrimSpace(broken) {
		t.Fatalf("the editor lost the text: %q", kept)
	}
	fixed := strings.Replace(string(demo.Program), "award: 50\n", "award: 60\n", 1)
	var applied string
	run(t, ctx, "fix and apply",
		chromedp.SetValue("#source", fixed, chromedp.ByID),
		chromedp.Click("#apply", chromedp.ByID),
		chromedp.WaitVisible("#applied", chromedp.ByID),
		chromedp.Text("#applied", &applied, chromedp.ByID),
	)
	if !strings.Contains(applied, "Version 2") {
		t.Fatalf("after apply: %q", applied)
	}
	var diff string
	run(t, ctx, "diff",
		chromedp.Navigate(base+"/admin/program/diff?from=1&to=2"),
		chromedp.WaitVisible("#diff", chromedp.ByID),
		chromedp.Text("#diff .add", &diff, chromedp.ByQuery),
	)
	if !strings.Contains(diff, "award: 60") {
		t.Errorf("diff shows %q", diff)
	}
	if os.Getenv("RUNG_SCREENSHOTS") != "" {
		p := e.data.Partners[0].ID
		run(t, ctx, "screenshots",
			chromedp.Navigate(base+"/admin/partners"), chromedp.WaitVisible("#partners", chromedp.ByID), shot("admin-partners"),
			chromedp.Navigate(base+"/admin/partners/"+p), chromedp.WaitVisible("#members", chromedp.ByID), shot("admin-partner"),
			chromedp.Navigate(base+"/admin/leaderboards/meeting-rate"), chromedp.WaitVisible("#board", chromedp.ByID), shot("admin-leaderboard"),
		)
	}
}

func TestBrowserMemberSignsInByLinkAndSeesProgressInGerman(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	m, _ := e.member(0)
	if err := SetMemberRole(context.Background(), e.st, m, store.RolePartnerAdmin, "test", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var balance, lifetime, ranks string
	var criteria int
	run(t, ctx, "sign in by link",
		chromedp.Navigate(e.srv.URL+e.link(m)),
		chromedp.WaitVisible("#use-link", chromedp.ByID),
		chromedp.Click("#use-link", chromedp.ByID),
		chromedp.WaitVisible("#points", chromedp.ByID),
		chromedp.Text("#balance", &balance, chromedp.ByID),
		chromedp.Text("#lifetime", &lifetime, chromedp.ByID),
		chromedp.Text("#ranks", &ranks, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#tier progress").length`, &criteria),
		shot("portal"),
	)
	if balance == "" || lifetime == "" || lifetime == "0" {
		t.Errorf("points: balance %q, lifetime %q", balance, lifetime)
	}
	if criteria == 0 {
		t.Error("the tier card shows no criterion progress")
	}
	if !strings.Contains(ranks, "Rank") {
		t.Errorf("ranks: %q", ranks)
	}
	var lang, heading string
	run(t, ctx, "switch to German",
		chromedp.Evaluate(`(function(){var s=document.getElementById("lang"); s.value="de"; s.dispatchEvent(new Event("change")); return true})()`, nil),
		chromedp.WaitVisible(`html[lang="de"] #points`, chromedp.ByQuery),
		chromedp.AttributeValue("html", "lang", &lang, nil, chromedp.ByQuery),
		chromedp.Text("#points-h", &heading, chromedp.ByID),
		chromedp.Text("#ranks", &ranks, chromedp.ByID),
		shot("portal-de"),
	)
	if lang != "de" || heading != "Punkte" || !strings.Contains(ranks, "Platz") {
		t.Errorf("German: lang %q, heading %q, ranks %q", lang, heading, ranks)
	}
	var team string
	run(t, ctx, "team",
		chromedp.Navigate(e.srv.URL+"/portal/team"),
		chromedp.WaitVisible("#team", chromedp.ByID),
		chromedp.Text("#team", &team, chromedp.ByID),
		shot("portal-team"),
	)
	if !strings.Contains(team, m.Name) {
		t.Errorf("team page misses %s", m.Name)
	}
	// The used link, followed again, says so and offers a new one.
	var notice string
	run(t, ctx, "reused link",
		chromedp.Navigate(e.srv.URL+"/login/link?token=used-or-not"),
		chromedp.WaitVisible("#link-notice", chromedp.ByID),
		chromedp.Text("#link-notice", &notice, chromedp.ByID),
	)
	if !strings.Contains(notice, "ungültig") {
		t.Errorf("notice %q", notice)
	}
}
