// Package web is Rung's browser product: the partner portal (/portal) for
// partner members and the admin console (/admin) for the vendor's channel
// team, with accounts, sessions, roles and German and English. Pages are
// rendered on the server from html/template files embedded in the binary;
// a few lines of plain JavaScript only improve what works without it.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

const (
	sessionCookie = "rung_session"
	csrfCookie    = "rung_csrf"
	localeCookie  = "rung_locale"

	staffSessionTTL  = 12 * time.Hour
	memberSessionTTL = 7 * 24 * time.Hour
	// LinkTTL is how long a magic sign-in link works.
	LinkTTL = 15 * time.Minute
)

// Options configure the web handler.
type Options struct {
	Logger *slog.Logger
	// BaseURL is how browsers reach the server, for sign-in links
	// ("http://127.0.0.1:8080" when empty).
	BaseURL string
	// SecureCookies marks cookies Secure even when the request did not
	// come over TLS (behind a TLS-terminating proxy).
	SecureCookies bool
	// Notify sends sign-in links by e-mail and backs the notification
	// pages (notifications.go); nil: links are only logged.
	Notify *notify.Service
}

// Handler serves the portal and the console.
type Handler struct {
	svc   *service.Service
	st    store.Store
	log   *slog.Logger
	base  string
	https bool
	pages map[string]*template.Template
	mux   *http.ServeMux
	stats *statsCache
	desk  *registration.Desk // lead and deal registration: registrations.go
	notes *notify.Service    // notifications: notifications.go
	an    analyticsState     // analytics.go

	failByEmail *limiter // failed password sign-ins per e-mail
	failByIP    *limiter // failed sign-ins per address
	linkByIP    *limiter // magic-link requests per address
}

// New returns the web handler for a service. It fails when a template does
// not parse, so a broken page stops the server at start.
func New(svc *service.Service, o Options) (*Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:8080"
	}
	h := &Handler{
		svc: svc, st: svc.Store(), log: o.Logger, base: strings.TrimRight(o.BaseURL, "/"), https: o.SecureCookies, notes: o.Notify,
		mux:         http.NewServeMux(),
		failByEmail: newLimiter(5, 15*time.Minute),
		failByIP:    newLimiter(20, 15*time.Minute),
		linkByIP:    newLimiter(10, 15*time.Minute),
	}
	var err error
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	h.stats = newStatsCache(svc, o.Logger, statsEvery, statsIdle).start()
	h.desk = registration.New(svc, registration.Options{Logger: o.Logger})
	h.routes()
	return h, nil
}

// Close stops the background work of the handler.
func (h *Handler) Close() { h.stats.close() }

// BaseURL returns the address sign-in links start with.
func (h *Handler) BaseURL() string { return h.base }

// Mount returns a handler that serves the web pages and passes everything
// else (the JSON API, health checks) to api.
func (h *Handler) Mount(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" {
			api.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
	defer func() {
		// A bug in a page is logged with its stack; the browser gets the
		// plain error page, never the trace.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("web: panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			h.fail(w, r, fmt.Errorf("panic: %v", v))
		}
	}()
	h.mux.ServeHTTP(w, r)
}

func parsePages() (map[string]*template.Template, error) {
	layout, err := fs.ReadFile(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		body, err := fs.ReadFile(templateFiles, n)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"pct": func(f float64) string { return fmt.Sprintf("%.0f", min(1, max(0, f))*100) },
	"add": func(a, b int) int { return a + b },
	// q escapes a query value. Its result is marked as URL text: in an
	// href's query html/template would escape the escapes again
	// (a:b became a%253Ab, which the server reads as a%3Ab).
	"q": func(s string) template.URL { return template.URL(url.QueryEscape(s)) },
	"path": func(s string) string {
		return url.PathEscape(s)
	},
	"sub":  func(a, b int64) int64 { return a - b },
	"subf": func(a, b float64) float64 { return max(0, a-b) },
	// bdg passes a badge and whose it is to the badge partial.
	"bdg": func(l *Locale, b engine.BadgeCard, team bool) any {
		return struct {
			L    *Locale
			B    engine.BadgeCard
			Team bool
		}{l, b, team}
	},
	// bc and bt pass several values to the board partials.
	"bc": func(l *Locale, b boardView) any {
		base := "/portal/leaderboards"
		if b.staff {
			base = "/admin/leaderboards"
		}
		return struct {
			L    *Locale
			B    boardView
			Base string
		}{l, b, base}
	},
	"bt": func(l *Locale, b boardView, rows []engine.BoardEntry, cohort bool) any {
		return struct {
			L      *Locale
			B      boardView
			Rows   []engine.BoardEntry
			Cohort bool
		}{l, b, rows, cohort}
	},
	"lt": func(l *Locale, rows []engine.LedgerEntry, members bool, base string) any {
		return struct {
			L       *Locale
			Rows    []engine.LedgerEntry
			Members bool
			Base    string
		}{l, rows, members, base}
	},
	// regf passes a queue row to the registration flags partial.
	"regf": func(l *Locale, r regRow) any {
		return struct {
			L   *Locale
			Row regRow
		}{l, r}
	},
	// regin passes one field of the registration form to its partial.
	"regin": func(l *Locale, name, label, typ, value string, errs map[string]string) any {
		return struct {
			L                               *Locale
			Name, Label, Type, Value, Error string
		}{l, name, label, typ, value, errs[name]}
	},
	"has": func(xs []string, x string) bool {
		for _, v := range xs {
			if v == x {
				return true
			}
		}
		return false
	},
}

// page is what every template gets.
type page struct {
	L       *Locale
	V       *viewer // nil when signed out
	CSRF    string
	Title   string
	Nav     string
	Path    string
	Notice  string
	Data    any
	Unread  int  // the member's unread notifications: the bell
	Mailbox bool // the demo's mailbox page exists and the viewer is an admin
}

func (h *Handler) newPage(w http.ResponseWriter, r *http.Request, title, nav string, data any) *page {
	v := viewerFrom(r)
	acctLocale := ""
	if v != nil {
		acctLocale = v.Account.Locale
	}
	var loc *time.Location
	var prog *program.Program
	h.svc.Read(func(e *engine.Engine) error {
		loc = e.Calendar().Loc
		prog = e.Program()
		return nil
	})
	p := &page{L: newLocale(pickLocale(acctLocale, r), loc), V: v, Nav: nav, Path: pagePath(r), Data: data}
	p.L.prog = prog
	p.Title = p.L.T(title)
	if v != nil {
		p.CSRF = v.Session.CSRF
		p.Unread, p.Mailbox = h.unread(r), h.box() != nil && v.Admin()
	} else {
		p.CSRF = h.anonCSRF(w, r)
	}
	return p
}

// render writes a page with a status.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	t := h.pages[name]
	if t == nil {
		h.log.Error("web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("web: render", "page", name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintln(w, p.L.T("Something went wrong on our side. The server log has the details."))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(buf.String()))
}

// fail shows an error page in the user's language; internal errors are
// logged and never shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. The server log has the details."
	switch rung.ErrorCode(err) {
	case rung.ENOTFOUND:
		status, msg = http.StatusNotFound, "This page does not exist, or it is not yours to see."
	case rung.EFORBIDDEN:
		status, msg = http.StatusForbidden, "You do not have access to this page."
	case rung.EINVALID:
		status, msg = http.StatusBadRequest, "The request was not understood."
	default:
		if !errors.Is(err, context.Canceled) {
			h.log.Error("web: request failed", "path", r.URL.Path, "err", err)
		}
	}
	p := h.newPage(w, r, "Error", "", nil)
	p.Notice = p.L.T(msg)
	if status == http.StatusBadRequest {
		p.Notice += " " + p.L.Err(err) // what was wrong, in the user's language
	}
	h.render(w, status, "error", p)
}

var (
	errForbidden = rung.Errorf(rung.EFORBIDDEN, "forbidden")
	errNotFound  = rung.Errorf(rung.ENOTFOUND, "not found")
)

// redirect answers a form post or a signed-out visit with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// pagePath is the address a page is shown at, for forms that come back
// to it (the language switch). A page answering a POST (a form shown
// again with its errors) is not at the POST's address, which has no GET:
// it is the page the form was sent from, when the browser says so and it
// is this site's, else none (home).
func pagePath(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host && u.Path != r.URL.Path {
		return localPath(u.RequestURI(), "")
	}
	return ""
}

// localPath keeps only same-site paths, for "go back to" parameters.
func localPath(s, def string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return def
	}
	return s
}

func hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// audit records an account action; failures are logged, since the action
// has happened.
func audit(ctx context.Context, st store.Store, log *slog.Logger, at time.Time, actor, action, target, detail string) {
	e := rung.AuditEntry{At: at.UTC(), Actor: actor, Action: action, Target: target, Detail: detail}
	if err := st.Commit(ctx, &store.Batch{Audit: []rung.AuditEntry{e}}); err != nil && log != nil {
		log.Error("audit write failed", "action", action, "target", target, "err", err)
	}
}
