package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/api"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEnv is a real server over a fresh SQLite database holding a small
// generated partner base with the demo program.
type testEnv struct {
	t     testing.TB
	clock *testClock
	svc   *service.Service
	st    store.Store
	web   *Handler
	srv   *httptest.Server
	data  *demo.Data
}

const adminEmail, adminPassword = "ada@vendor.example", "correct horse battery"

type envOptions struct {
	partners, members, months int
	secure                    bool
	addr                      string // listen here (a real port for the browser)
}

// envNow is the test servers' time.
var envNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	if o.partners == 0 {
		o.partners, o.members, o.months = 6, 40, 4
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/rung.db")
	if err != nil {
		t.Fatal(err)
	}
	// A fixed instant, not the wall clock: the generated history, the
	// quarter it falls in and so every figure a test checks are then the
	// same on every run (the pages once showed other sums at other times
	// of day). Cookies carry Max-Age, so a clock in the past still signs
	// browsers in.
	now := envNow
	clock := &testClock{t: now}
	log := slog.New(slog.NewTextHandler(testLogOut(), nil))
	svc, err := service.Open(ctx, st, service.Options{Clock: clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, clock: clock, svc: svc, st: st}
	e.data = demo.Generate(demo.Options{Seed: 7, Partners: o.partners, Members: o.members, Months: o.months, Now: now.Add(-time.Minute)})
	e.load()
	if _, err := AddStaff(ctx, st, NewStaff{Email: adminEmail, Name: "Ada Admin", Role: store.RoleAdmin, Password: adminPassword}, "test", now); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(nil)
	if o.addr != "" {
		e.srv.Listener.Close()
		ln, err := listen(o.addr)
		if err != nil {
			t.Fatal(err)
		}
		e.srv.Listener = ln
	}
	e.web, err = New(svc, Options{Logger: log, BaseURL: "http://" + e.srv.Listener.Addr().String(), SecureCookies: o.secure})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = e.web.Mount(api.New(svc, log))
	e.srv.Start()
	e.web.stats.wait()
	t.Cleanup(func() {
		e.srv.Close()
		e.web.Close()
		svc.Close()
		st.Close()
	})
	return e
}

func (e *testEnv) load() {
	ctx := context.Background()
	if _, err := e.svc.ApplyProgram(ctx, demo.Program, time.Time{}, "test"); err != nil {
		e.t.Fatal(err)
	}
	for _, p := range e.data.Partners {
		if _, err := e.svc.PutPartner(ctx, p); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, m := range e.data.Members {
		if _, err := e.svc.PutMember(ctx, m); err != nil {
			e.t.Fatal(err)
		}
	}
	for i := 0; i < len(e.data.Events); i += 5000 {
		var in []*service.Incoming
		for _, ev := range e.data.Events[i:min(i+5000, len(e.data.Events))] {
			in = append(in, &service.Incoming{Event: ev})
		}
		if _, err := e.svc.Ingest(ctx, in); err != nil {
			e.t.Fatal(err)
		}
	}
}

// member returns a member of the i-th partner that has points, and one of
// its events that gave the member points.
func (e *testEnv) member(partner int) (rung.Member, string) {
	pid := e.data.Partners[partner].ID
	var best rung.Member
	var event string
	var bestPts int64 = -1
	e.svc.Read(func(en *engine.Engine) error {
		for _, id := range en.MemberIDs(pid) {
			l, _ := en.Ledger(engine.LedgerFilter{Member: id})
			var pts int64
			ev := ""
			for _, le := range l {
				pts += le.Points
				if le.Kind == "award" && le.Member == id {
					ev = le.Event
				}
			}
			if pts > bestPts && ev != "" {
				best, _ = en.Member(id)
				bestPts, event = pts, ev
			}
		}
		return nil
	})
	if event == "" {
		e.t.Fatalf("partner %s has no member with points", pid)
	}
	return best, event
}

// client is a browser: cookies, no redirects followed, the CSRF token of
// the last page it saw.
type client struct {
	e    *testEnv
	hc   *http.Client
	csrf string
	lang string
}

func (e *testEnv) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.e.t.Helper()
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form with the CSRF token of the last page (fetching the
// sign-in page first when it has none).
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	if c.csrf == "" {
		c.get("/login")
	}
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// staff signs in with a password.
func (e *testEnv) staff(email, password string) *client {
	e.t.Helper()
	c := e.client()
	res, body := c.post("/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in of %s: %d\n%s", email, res.StatusCode, body)
	}
	c.get("/admin")
	return c
}

// manager makes a manager of the given partners and signs them in.
func (e *testEnv) manager(partners ...string) *client {
	e.t.Helper()
	email := "max" + strings.Join(partners, "-") + "@vendor.example"
	if _, err := AddStaff(context.Background(), e.st, NewStaff{Email: email, Role: store.RoleManager, Partners: partners, Password: adminPassword}, "test", e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	return e.staff(email, adminPassword)
}

// link returns a fresh sign-in link's path for a member.
func (e *testEnv) link(m rung.Member) string {
	e.t.Helper()
	u, err := IssueLink(context.Background(), e.st, nil, m, e.srv.URL, "test", e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimPrefix(u, e.srv.URL)
}

// signIn signs a member in by link, optionally as partner admin.
func (e *testEnv) signIn(m rung.Member, role store.Role) *client {
	e.t.Helper()
	if err := SetMemberRole(context.Background(), e.st, m, role, "test", e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	c := e.client()
	res, body := c.useLink(e.link(m))
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in link of %s: %d\n%s", m.ID, res.StatusCode, body)
	}
	c.get("/portal")
	return c
}

// useLink opens a sign-in link and presses its button.
func (c *client) useLink(path string) (*http.Response, string) {
	res, body := c.get(path)
	if res.StatusCode != http.StatusOK {
		return res, body
	}
	u, _ := url.Parse(path)
	return c.post("/login/link/use", url.Values{"token": {u.Query().Get("token")}})
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// testLogOut is where test servers log: nowhere, unless RUNG_TEST_LOG=1.
func testLogOut() io.Writer {
	if os.Getenv("RUNG_TEST_LOG") == "1" {
		return os.Stderr
	}
	return io.Discard
}

// newcomer adds a member with no history to the partner at index i of the
// demo data: a subject whose badges and figures come from the test alone.
func (e *testEnv) newcomer(i int, id string) rung.Member {
	e.t.Helper()
	p := e.data.Partners[i]
	m := rung.Member{ID: id, Partner: p.ID, Name: "Nova Newcomer", Email: id + "@" + p.Domains[0], JoinedAt: e.clock.Now().AddDate(0, 0, -7)}
	got, err := e.svc.PutMember(context.Background(), m)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}
