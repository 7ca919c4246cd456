package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// accountsData is the console's accounts page: who may sign in, and a form
// for new staff accounts.
type accountsData struct {
	Accounts []store.Account
	// The form, kept on errors.
	Email, Name, Role, Partners string
	Errors                      map[string]string // by field
	Unknown                     string            // partner ids that do not exist
	Created                     string            // e-mail of the account just made
	Password                    string            // its generated password, shown once
}

func (h *Handler) accounts(w http.ResponseWriter, r *http.Request) {
	h.accountsPage(w, r, &accountsData{Role: string(store.RoleManager)}, http.StatusOK)
}

func (h *Handler) accountsPage(w http.ResponseWriter, r *http.Request, d *accountsData, status int) {
	as, err := h.st.ListAccounts(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Accounts = as
	h.render(w, status, "accounts", h.newPage(w, r, "Accounts", "accounts", d))
}

// createAccount makes an admin or manager account with a generated
// password, shown once.
func (h *Handler) createAccount(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	f := r.PostForm
	d := &accountsData{Email: strings.TrimSpace(f.Get("email")), Name: strings.TrimSpace(f.Get("name")), Role: f.Get("role"),
		Partners: strings.TrimSpace(f.Get("partners")), Errors: map[string]string{}}
	var partners []string
	for _, p := range strings.FieldsFunc(d.Partners, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		partners = append(partners, p)
	}
	if !strings.Contains(d.Email, "@") {
		d.Errors["email"] = "Enter an e-mail address."
	}
	role := store.Role(d.Role)
	if !role.Staff() {
		d.Errors["role"] = "Choose admin or manager."
	}
	if role == store.RoleManager && len(partners) == 0 {
		d.Errors["partners"] = "A manager needs at least one partner id."
	}
	if role == store.RoleAdmin && len(partners) > 0 {
		d.Errors["partners"] = "An admin sees every partner: leave this empty."
	}
	var unknown []string
	for _, p := range partners {
		if !h.partnerExists(p) {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) > 0 {
		d.Errors["partners"], d.Unknown = "These partner ids are unknown:", strings.Join(unknown, ", ")
	}
	if len(d.Errors) > 0 {
		h.accountsPage(w, r, d, http.StatusBadRequest)
		return
	}
	pw := GeneratePassword()
	a, err := AddStaff(r.Context(), h.st, NewStaff{Email: d.Email, Name: d.Name, Role: role, Partners: partners, Password: pw}, "user:"+v.Account.ID, h.svc.Now())
	switch {
	case err == nil:
	case rung.ErrorCode(err) == rung.ECONFLICT:
		d.Errors["email"] = "An account with this e-mail exists already."
		h.accountsPage(w, r, d, http.StatusConflict)
		return
	case rung.ErrorCode(err) == rung.EINVALID:
		d.Errors["email"] = "Enter an e-mail address."
		h.accountsPage(w, r, d, http.StatusBadRequest)
		return
	default:
		h.fail(w, r, err)
		return
	}
	h.accountsPage(w, r, &accountsData{Role: string(store.RoleManager), Created: a.Email, Password: pw}, http.StatusOK)
}

// disableAccount disables (or enables again) an account and ends its
// sessions. Admins cannot disable themselves.
func (h *Handler) disableAccount(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	ctx := r.Context()
	a, err := h.st.Account(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a.ID == v.Account.ID {
		h.fail(w, r, errForbidden)
		return
	}
	now := h.svc.Now()
	action := "account.disable"
	if a.DisabledAt.IsZero() {
		a.DisabledAt = now.UTC()
	} else {
		a.DisabledAt, action = time.Time{}, "account.enable"
	}
	if err := h.st.PutAccount(ctx, a); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.st.DeleteSessions(ctx, a.ID, now); err != nil {
		h.fail(w, r, err)
		return
	}
	audit(ctx, h.st, h.log, now, "user:"+v.Account.ID, action, a.ID, a.Email)
	redirect(w, r, "/admin/accounts")
}

func (h *Handler) partnerExists(id string) bool {
	var ok bool
	h.svc.Read(func(e *engine.Engine) error {
		_, ok = e.Partner(id)
		return nil
	})
	return ok
}
