package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// viewer is the signed-in person of a request.
type viewer struct {
	Account store.Account
	Session store.Session
	// Partner is the current partner of a partner member's account.
	Partner  string
	partners map[string]bool // a manager's partners
}

// Staff reports whether the viewer works for the vendor.
func (v *viewer) Staff() bool { return v.Account.Role.Staff() }

// Admin reports whether the viewer may do everything.
func (v *viewer) Admin() bool { return v.Account.Role == store.RoleAdmin }

// PartnerAdmin reports whether the viewer sees their whole company.
func (v *viewer) PartnerAdmin() bool { return v.Account.Role == store.RolePartnerAdmin }

// seesPartner reports whether the viewer may read a partner's private
// data: scorecard, ledger, members.
func (v *viewer) seesPartner(id string) bool {
	switch v.Account.Role {
	case store.RoleAdmin:
		return true
	case store.RoleManager:
		return v.partners[id]
	case store.RolePartnerAdmin:
		return id != "" && id == v.Partner
	}
	return false
}

// seesMember reports whether the viewer may read a member's private data.
func (v *viewer) seesMember(m rung.Member, now time.Time) bool {
	switch v.Account.Role {
	case store.RoleAdmin:
		return true
	case store.RoleManager:
		return v.partners[m.PartnerAt(now)]
	case store.RolePartnerAdmin:
		return m.ID == v.Account.Member || (v.Partner != "" && m.PartnerAt(now) == v.Partner)
	case store.RoleMember:
		return m.ID == v.Account.Member
	}
	return false
}

type viewerKey struct{}

func viewerFrom(r *http.Request) *viewer {
	v, _ := r.Context().Value(viewerKey{}).(*viewer)
	return v
}

// loadViewer finds the session of a request's cookie; nil when there is
// none, it expired, or its account is disabled or gone.
func (h *Handler) loadViewer(r *http.Request) (*viewer, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	ctx := r.Context()
	ss, err := h.st.SessionByHash(ctx, hash(c.Value))
	if rung.ErrorCode(err) == rung.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := h.svc.Now()
	if !now.Before(ss.ExpiresAt) {
		return nil, nil
	}
	a, err := h.st.Account(ctx, ss.Account)
	if rung.ErrorCode(err) == rung.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !a.DisabledAt.IsZero() && !now.Before(a.DisabledAt) {
		return nil, nil
	}
	v := &viewer{Account: a, Session: ss, partners: map[string]bool{}}
	for _, p := range a.Partners {
		v.partners[p] = true
	}
	if !a.Role.Staff() {
		var ok bool
		h.svc.Read(func(e *engine.Engine) error {
			var m rung.Member
			if m, ok = e.Member(a.Member); ok {
				v.Partner = m.PartnerAt(now)
			}
			return nil
		})
		if !ok || v.Partner == "" {
			return nil, nil // the member record is gone or left its partner
		}
	}
	return v, nil
}

// withViewer loads the viewer of every request and checks the CSRF token
// of every form post.
func (h *Handler) withViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h.loadViewer(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if v != nil {
			r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, v))
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 2<<20)
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				err = r.ParseMultipartForm(2 << 20)
			} else {
				err = r.ParseForm()
			}
			if err != nil {
				h.fail(w, r, rung.Errorf(rung.EINVALID, "bad form"))
				return
			}
			want := ""
			if v != nil {
				want = v.Session.CSRF
			} else if c, err := r.Cookie(csrfCookie); err == nil {
				want = c.Value
			}
			if !sameToken(r.PostForm.Get("csrf"), want) || !sameOrigin(r) {
				p := h.newPage(w, r, "Error", "", nil)
				p.Notice = p.L.T("This form has expired. Go back, reload the page and try again.")
				h.render(w, http.StatusForbidden, "error", p)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin rejects posts whose Origin header names another site.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// anonCSRF returns the CSRF token of a signed-out browser, setting the
// cookie that holds it when missing.
func (h *Handler) anonCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r)})
	return tok
}

func (h *Handler) secure(r *http.Request) bool { return h.https || r.TLS != nil }

// signedIn wraps a page that needs a viewer with one of roles; signed-out
// visitors go to the sign-in page, others get 403.
func (h *Handler) signedIn(fn http.HandlerFunc, roles ...store.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := viewerFrom(r)
		if v == nil {
			next := ""
			if r.Method == http.MethodGet {
				next = "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			redirect(w, r, "/login"+next)
			return
		}
		for _, role := range roles {
			if v.Account.Role == role {
				fn(w, r)
				return
			}
		}
		h.fail(w, r, errForbidden)
	})
}

var (
	staffRoles   = []store.Role{store.RoleAdmin, store.RoleManager}
	partnerRoles = []store.Role{store.RolePartnerAdmin, store.RoleMember}
	allRoles     = append(append([]store.Role{}, staffRoles...), partnerRoles...)
)

// startSession signs a browser in as an account.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, a store.Account) error {
	now := h.svc.Now()
	ttl := memberSessionTTL
	if a.Role.Staff() {
		ttl = staffSessionTTL
	}
	tok := randomToken()
	ss := store.Session{Hash: hash(tok), Account: a.ID, CSRF: randomToken(), CreatedAt: now.UTC(), ExpiresAt: now.Add(ttl).UTC()}
	// Sweep expired sessions now and then: at every sign-in.
	if err := h.st.DeleteSessions(r.Context(), "", now); err != nil {
		h.log.Warn("web: sweeping expired sessions", "err", err)
	}
	if err := h.st.CreateSession(r.Context(), ss); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.secure(r), MaxAge: int(ttl / time.Second)})
	return nil
}

// clientIP is the address a request came from (the proxy's, behind one).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginForm is the sign-in page's state.
type loginForm struct {
	Next       string
	Email      string
	LinkEmail  string
	Error      string // next to the password form
	LinkError  string // next to the link form
	LinkSent   bool
	LinkNotice string // why the link a visitor followed did not work
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if v := viewerFrom(r); v != nil {
		redirect(w, r, home(v))
		return
	}
	h.render(w, http.StatusOK, "login", h.newPage(w, r, "Sign in", "login", &loginForm{Next: localPath(r.URL.Query().Get("next"), "")}))
}

func home(v *viewer) string {
	if v.Staff() {
		return "/admin"
	}
	return "/portal"
}

// login checks an admin's or manager's password.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := h.svc.Now()
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	f := &loginForm{Email: email, Next: localPath(r.PostForm.Get("next"), "")}
	p := h.newPage(w, r, "Sign in", "login", f)
	ip := clientIP(r)
	if b1, until1 := h.failByEmail.blocked(email, now); b1 || func() bool { b, _ := h.failByIP.blocked(ip, now); return b }() {
		if until1.IsZero() {
			until1 = now.Add(15 * time.Minute)
		}
		mins := int(until1.Sub(now)/time.Minute) + 1
		f.Error = p.L.Tf("Too many failed attempts. Try again in %d minutes.", mins)
		audit(ctx, h.st, h.log, now, "web:"+ip, "login.blocked", email, "")
		h.render(w, http.StatusTooManyRequests, "login", p)
		return
	}
	if email == "" || r.PostForm.Get("password") == "" {
		f.Error = p.L.T("Enter your e-mail address and your password.")
		h.render(w, http.StatusBadRequest, "login", p)
		return
	}
	a, err := h.st.AccountByEmail(ctx, email)
	if err != nil && rung.ErrorCode(err) != rung.ENOTFOUND {
		h.fail(w, r, err)
		return
	}
	ok := false
	if err == nil && a.PasswordHash != "" {
		ok = CheckPassword(a.PasswordHash, r.PostForm.Get("password")) && a.Role.Staff() &&
			(a.DisabledAt.IsZero() || now.Before(a.DisabledAt))
	} else {
		CheckPassword(dummyHash, r.PostForm.Get("password"))
	}
	if !ok {
		h.failByEmail.add(email, now)
		h.failByIP.add(ip, now)
		audit(ctx, h.st, h.log, now, "web:"+ip, "login.failed", email, "")
		f.Error = p.L.T("The e-mail address or the password is wrong.")
		h.render(w, http.StatusUnauthorized, "login", p)
		return
	}
	h.failByEmail.reset(email)
	if err := h.startSession(w, r, a); err != nil {
		h.fail(w, r, err)
		return
	}
	audit(ctx, h.st, h.log, now, "user:"+a.ID, "login", a.ID, "password, from "+ip)
	redirect(w, r, localPath(f.Next, "/admin"))
}

// requestLink sends a partner member a sign-in link, when the e-mail
// belongs to a member. The answer is the same either way, so the form does
// not tell who is a member.
func (h *Handler) requestLink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := h.svc.Now()
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	f := &loginForm{LinkEmail: email}
	p := h.newPage(w, r, "Sign in", "login", f)
	if !strings.Contains(email, "@") {
		f.LinkError = p.L.T("Enter the e-mail address your company registered for you.")
		h.render(w, http.StatusBadRequest, "login", p)
		return
	}
	ip := clientIP(r)
	if b, _ := h.linkByIP.blocked(ip, now); b {
		f.LinkError = p.L.Tf("Too many requests. Try again in %d minutes.", 15)
		h.render(w, http.StatusTooManyRequests, "login", p)
		return
	}
	h.linkByIP.add(ip, now)
	var found *rung.Member
	h.svc.Read(func(e *engine.Engine) error {
		for _, id := range e.MemberIDs("") {
			if m, ok := e.Member(id); ok && strings.EqualFold(m.Email, email) && m.PartnerAt(now) != "" {
				found = &m
				return nil
			}
		}
		return nil
	})
	if found != nil {
		u, err := IssueLink(ctx, h.st, h.log, *found, h.base, "web:"+ip, now)
		if err != nil && rung.ErrorCode(err) != rung.EFORBIDDEN {
			h.fail(w, r, err)
			return
		}
		if err == nil {
			h.mailLink(ctx, *found, u) // notifications.go
		}
	}
	f.LinkSent = true
	h.render(w, http.StatusOK, "login", p)
}

// followLink shows the page a magic link opens: a button that signs the
// member in. Opening the link uses nothing, so a mail scanner that fetches
// it does not spend it; the button does (useLink).
func (h *Handler) followLink(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	l, err := h.st.LoginLink(r.Context(), hash(tok))
	if tok == "" {
		err = rung.Errorf(rung.ENOTFOUND, "no token")
	}
	h.linkStep(w, r, tok, l, err, false)
}

// useLink signs a member in with a magic link's token: once, within
// LinkTTL.
func (h *Handler) useLink(w http.ResponseWriter, r *http.Request) {
	tok := r.PostForm.Get("token")
	l, err := h.st.UseLoginLink(r.Context(), hash(tok), h.svc.Now())
	if tok == "" {
		err = rung.Errorf(rung.ENOTFOUND, "no token")
	}
	h.linkStep(w, r, tok, l, err, true)
}

// linkStep answers a link opened (use false) or its button pressed (use
// true): the reason it does not work, the button, or the signed-in portal.
func (h *Handler) linkStep(w http.ResponseWriter, r *http.Request, tok string, l store.LoginLink, err error, use bool) {
	ctx := r.Context()
	now := h.svc.Now()
	f := &loginForm{}
	p := h.newPage(w, r, "Sign in", "login", f)
	var a store.Account
	switch {
	case rung.ErrorCode(err) == rung.ENOTFOUND:
		f.LinkNotice = p.L.T("This sign-in link is not valid. Ask for a new one below.")
	case rung.ErrorCode(err) == rung.ECONFLICT || (err == nil && !l.UsedAt.IsZero()):
		f.LinkNotice = p.L.T("This sign-in link was used already: each link works once. Ask for a new one below.")
	case err != nil:
		h.fail(w, r, err)
		return
	case !now.Before(l.ExpiresAt):
		f.LinkNotice = p.L.Tf("This sign-in link has expired: links work for %d minutes. Ask for a new one below.", int(LinkTTL/time.Minute))
	default:
		if a, err = h.st.Account(ctx, l.Account); err != nil && rung.ErrorCode(err) != rung.ENOTFOUND {
			h.fail(w, r, err)
			return
		}
		if err != nil || (!a.DisabledAt.IsZero() && !now.Before(a.DisabledAt)) {
			f.LinkNotice = p.L.T("This account is disabled. Ask your program admin.")
		}
	}
	if f.LinkNotice != "" {
		if l.Account != "" {
			h.svc.Read(func(e *engine.Engine) error {
				if m, ok := e.Member(strings.TrimPrefix(l.Account, "member:")); ok {
					f.LinkEmail = m.Email
				}
				return nil
			})
		}
		h.render(w, http.StatusGone, "login", p)
		return
	}
	if !use {
		p.Data = &linkPage{Token: tok, Name: a.Name}
		h.render(w, http.StatusOK, "link", p)
		return
	}
	if err := h.startSession(w, r, a); err != nil {
		h.fail(w, r, err)
		return
	}
	audit(ctx, h.st, h.log, now, "user:"+a.ID, "login", a.ID, "sign-in link, from "+clientIP(r))
	redirect(w, r, "/portal")
}

// linkPage is the page a magic link opens.
type linkPage struct {
	Token, Name string
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if v := viewerFrom(r); v != nil {
		if err := h.st.DeleteSession(r.Context(), v.Session.Hash); err != nil {
			h.fail(w, r, err)
			return
		}
		audit(r.Context(), h.st, h.log, h.svc.Now(), "user:"+v.Account.ID, "logout", v.Account.ID, "")
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r), MaxAge: -1})
	redirect(w, r, "/login")
}

// setLocale saves the language: on the account when signed in, in a
// cookie otherwise.
func (h *Handler) setLocale(w http.ResponseWriter, r *http.Request) {
	lang := r.PostForm.Get("lang")
	if lang != "en" && lang != "de" {
		h.fail(w, r, rung.Errorf(rung.EINVALID, "unknown language"))
		return
	}
	if v := viewerFrom(r); v != nil && v.Account.Locale != lang {
		a := v.Account
		a.Locale = lang
		if err := h.st.PutAccount(r.Context(), a); err != nil {
			h.fail(w, r, err)
			return
		}
		audit(r.Context(), h.st, h.log, h.svc.Now(), "user:"+a.ID, "account.locale", a.ID, lang)
	}
	http.SetCookie(w, &http.Cookie{Name: localeCookie, Value: lang, Path: "/", SameSite: http.SameSiteLaxMode, Secure: h.secure(r), MaxAge: 365 * 24 * 3600})
	redirect(w, r, localPath(r.PostForm.Get("back"), "/"))
}
