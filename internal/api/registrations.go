package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/store"
)

// registrationRoutes adds lead and deal registration (SPEC §5 and
// docs/registration.md): the API, the CRM's accounts, and the intake
// channels without an API key (Slack, inbound e-mail, the public form).
func (h *Handler) registrationRoutes() {
	threshold, _ := strconv.ParseFloat(os.Getenv("RUNG_MATCH_THRESHOLD"), 64)
	if threshold < 0 || threshold > 1 {
		h.log.Warn("RUNG_MATCH_THRESHOLD must be from 0 to 1; using the default", "value", threshold)
		threshold = 0
	}
	h.reg = registration.New(h.svc, registration.Options{Logger: h.log, MatchThreshold: threshold})
	h.intake = newIntake(h)
	m := h.mux
	m.Handle("POST /api/v1/registrations", h.auth(rung.ScopeIngest, h.postRegistration))
	m.Handle("GET /api/v1/registrations", h.auth(rung.ScopeRead, h.listRegistrations))
	m.Handle("GET /api/v1/registrations/metrics", h.auth(rung.ScopeRead, h.registrationMetrics))
	m.Handle("GET /api/v1/registrations/attribution.csv", h.auth(rung.ScopeRead, h.attributionCSV))
	m.Handle("POST /api/v1/registrations/import", h.auth(rung.ScopeIngest, h.importRegistrations))
	m.Handle("POST /api/v1/registrations/sweep", h.auth(rung.ScopeAdmin, h.sweepRegistrations))
	m.Handle("GET /api/v1/registrations/{id}", h.auth(rung.ScopeRead, h.getRegistration))
	m.Handle("POST /api/v1/registrations/{id}/decision", h.auth(rung.ScopeAdmin, h.decideRegistration))
	m.Handle("POST /api/v1/registrations/{id}/answer", h.auth(rung.ScopeIngest, h.answerRegistration))
	m.Handle("POST /api/v1/registrations/{id}/meeting", h.auth(rung.ScopeIngest, h.meetingRegistration))
	m.Handle("POST /api/v1/registrations/{id}/won", h.auth(rung.ScopeIngest, h.closeRegistration(true)))
	m.Handle("POST /api/v1/registrations/{id}/lost", h.auth(rung.ScopeIngest, h.closeRegistration(false)))
	m.Handle("POST /api/v1/registrations/{id}/conflicts/decision", h.auth(rung.ScopeAdmin, h.settleConflict))
	m.Handle("PUT /api/v1/accounts/{domain}", h.auth(rung.ScopeIngest, h.putCRMAccount))
	m.Handle("GET /api/v1/accounts", h.auth(rung.ScopeRead, h.listCRMAccounts))
	m.Handle("GET /api/v1/accounts/{domain}", h.auth(rung.ScopeRead, h.getCRMAccount))

	m.HandleFunc("POST /api/v1/intake/slack", h.intake.slack)
	m.Handle("POST /api/v1/intake/email", h.authBasic(rung.ScopeIngest, h.intake.email))
	m.HandleFunc("POST /api/v1/intake/form", h.intake.form)
}

// authBasic is auth that also takes the key as the password of HTTP basic
// authentication, for inbound-parse services that can put credentials in
// the URL they post to but cannot set headers.
func (h *Handler) authBasic(need rung.Scope, fn http.HandlerFunc) http.Handler {
	inner := h.auth(need, fn)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pw, ok := r.BasicAuth(); ok && r.Header.Get("Authorization") != "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+pw)
		}
		inner.ServeHTTP(w, r)
	})
}

// decodeJSON reads a JSON body into v, refusing unknown fields, naming the
// allowed ones.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowed string) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return rung.Errorf(rung.ETOOLARGE, "the body is larger than 1 MiB")
		case errors.Is(err, io.EOF):
			return rung.Errorf(rung.EINVALID, "the body is empty: send a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return rung.Errorf(rung.EINVALID, "%s (allowed: %s)", strings.TrimPrefix(err.Error(), "json: "), allowed)
		}
		return rung.Errorf(rung.EINVALID, "the body is not valid: %s", jsonProblem(err))
	}
	return nil
}

// registrationBody is the body of POST /api/v1/registrations.
type registrationBody struct {
	Kind    string `json:"kind"`
	Partner string `json:"partner"`
	Member  string `json:"member"`
	Company struct {
		Name   string `json:"name"`
		Domain string `json:"domain"`
	} `json:"company"`
	Contact struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"contact"`
	Notes   string  `json:"notes"`
	Amount  float64 `json:"amount"`
	Region  string  `json:"region"`
	Product string  `json:"product"`
	Consent *bool   `json:"consent"`
	Channel string  `json:"channel"` // e.g. portal, when the portal posts on a partner's behalf
}

func (h *Handler) postRegistration(w http.ResponseWriter, r *http.Request) {
	var b registrationBody
	if err := decodeJSON(w, r, &b, "kind, partner, member, company {name, domain}, contact {name, email}, notes, amount, region, product, consent, channel"); err != nil {
		writeError(w, err)
		return
	}
	channel := b.Channel
	if channel == "" {
		channel = "api"
	}
	reg, created, err := h.reg.Submit(r.Context(), registration.Input{
		Kind: b.Kind, Partner: b.Partner, Member: b.Member, CompanyName: b.Company.Name, CompanyDomain: b.Company.Domain,
		ContactName: b.Contact.Name, ContactEmail: b.Contact.Email, Notes: b.Notes, Amount: b.Amount,
		Region: b.Region, Product: b.Product, Consent: b.Consent, Channel: channel, By: actor(r),
	})
	if err != nil && reg.ID == "" {
		writeError(w, err)
		return
	}
	if err != nil {
		// Stored, but its events could not all be written: they are
		// written again with the next change or re-send.
		h.log.Warn("registration stored, events pending", "registration", reg.ID, "err", err)
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
		w.Header().Set("Location", "/api/v1/registrations/"+reg.ID)
	}
	writeJSON(w, code, registration.NewView(reg, h.svc.Now()))
}

func (h *Handler) getRegistration(w http.ResponseWriter, r *http.Request) {
	at, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	reg, err := h.reg.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	now := h.svc.Now()
	if !at.IsZero() {
		var ok bool
		if reg, ok = registration.AsOf(reg, at); !ok {
			writeError(w, rung.Errorf(rung.ENOTFOUND, "registration %s was not yet submitted at %s", r.PathValue("id"), at.Format(time.RFC3339)))
			return
		}
		now = at
	}
	writeJSON(w, http.StatusOK, registration.NewView(reg, now))
}

// registrationFilter reads the list filters: partner, status (several,
// comma-separated), kind, active, since, overdue, limit, offset.
func registrationFilter(r *http.Request) (store.RegistrationFilter, bool, error) {
	q := r.URL.Query()
	f := store.RegistrationFilter{Partner: q.Get("partner"), Kind: q.Get("kind"), Active: q.Get("active") == "true"}
	if s := q.Get("status"); s != "" {
		for _, st := range strings.Split(s, ",") {
			st = strings.TrimSpace(st)
			switch st {
			case store.RegSubmitted, store.RegNeedsInfo, store.RegApproved, store.RegDeclined, store.RegMeeting, store.RegWon, store.RegLost, store.RegExpired:
				f.Status = append(f.Status, st)
			default:
				return f, false, rung.Errorf(rung.EINVALID, "status=%q is not a registration status: use submitted, needs_info, approved, declined, meeting, won, lost or expired", st)
			}
		}
	}
	var err error
	if f.Since, err = timeParam(r, "since"); err != nil {
		return f, false, err
	}
	if f.Limit, err = intParam(r, "limit", 0); err != nil {
		return f, false, err
	}
	if f.Offset, err = intParam(r, "offset", 0); err != nil {
		return f, false, err
	}
	return f, q.Get("overdue") == "true", nil
}

func (h *Handler) listRegistrations(w http.ResponseWriter, r *http.Request) {
	f, overdue, err := registrationFilter(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if overdue {
		f.Status = []string{store.RegSubmitted}
	}
	at, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// The whole selection is read, then paged: the overdue filter and the
	// counts are of every registration the filter selects, not of a page.
	page := f
	f.Limit, f.Offset = 0, 0
	now := h.svc.Now()
	var rs []store.Registration
	if at.IsZero() {
		rs, err = h.reg.List(r.Context(), f)
	} else {
		rs, err = h.listAsOf(r.Context(), f, at)
		now = at
	}
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]registration.View, 0, len(rs))
	counts := map[string]int{"overdue_reviews": 0, "open_conflicts": 0, "possible_matches": 0}
	for _, reg := range rs {
		v := registration.NewView(reg, now)
		if overdue && !v.ReviewOverdue {
			continue
		}
		if v.ReviewOverdue {
			counts["overdue_reviews"]++
		}
		if len(registration.OpenConflicts(reg)) > 0 {
			counts["open_conflicts"]++
		}
		if len(reg.Matches) > 0 {
			counts["possible_matches"]++
		}
		out = append(out, v)
	}
	total := len(out)
	out = out[min(page.Offset, len(out)):]
	if page.Limit > 0 && len(out) > page.Limit {
		out = out[:page.Limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"registrations": out, "counts": counts, "total": total})
}

func (h *Handler) decideRegistration(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	if err := decodeJSON(w, r, &b, "decision, reason"); err != nil {
		writeError(w, err)
		return
	}
	reg, err := h.reg.Decide(r.Context(), r.PathValue("id"), b.Decision, b.Reason, actor(r))
	h.answerWith(w, reg, err)
}

func (h *Handler) answerWith(w http.ResponseWriter, reg store.Registration, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, registration.NewView(reg, h.svc.Now()))
}

func (h *Handler) answerRegistration(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Notes string `json:"notes"`
	}
	if err := decodeJSON(w, r, &b, "notes"); err != nil {
		writeError(w, err)
		return
	}
	reg, err := h.reg.Answer(r.Context(), r.PathValue("id"), b.Notes, actor(r))
	h.answerWith(w, reg, err)
}

func (h *Handler) meetingRegistration(w http.ResponseWriter, r *http.Request) {
	var b struct {
		At time.Time `json:"at"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &b, "at"); err != nil {
			writeError(w, err)
			return
		}
	}
	reg, err := h.reg.Meeting(r.Context(), r.PathValue("id"), b.At, actor(r))
	h.answerWith(w, reg, err)
}

func (h *Handler) closeRegistration(won bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Amount float64 `json:"amount"`
			Reason string  `json:"reason"`
		}
		if r.ContentLength != 0 {
			if err := decodeJSON(w, r, &b, "amount, reason"); err != nil {
				writeError(w, err)
				return
			}
		}
		reg, err := h.reg.Close(r.Context(), r.PathValue("id"), won, b.Amount, b.Reason, actor(r))
		h.answerWith(w, reg, err)
	}
}

func (h *Handler) settleConflict(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Winner string `json:"winner"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &b, "winner, reason"); err != nil {
		writeError(w, err)
		return
	}
	reg, err := h.reg.SettleConflict(r.Context(), r.PathValue("id"), b.Winner, b.Reason, actor(r))
	h.answerWith(w, reg, err)
}

func (h *Handler) sweepRegistrations(w http.ResponseWriter, r *http.Request) {
	res, err := h.reg.Sweep(r.Context(), h.svc.Now())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) putCRMAccount(w http.ResponseWriter, r *http.Request) {
	var a store.CRMAccount
	if err := decodeJSON(w, r, &a, "domain, name, customer, open_deal, owner"); err != nil {
		writeError(w, err)
		return
	}
	dom, err := registration.RegistrableDomain(r.PathValue("domain"))
	if err != nil {
		writeError(w, err)
		return
	}
	if a.Domain != "" {
		if d2, err := registration.RegistrableDomain(a.Domain); err != nil || d2 != dom {
			writeError(w, rung.Errorf(rung.EINVALID, "the body's domain %q differs from the URL's %q; leave it out or make them match", a.Domain, dom))
			return
		}
	}
	a.Domain = dom
	created, err := h.reg.PutAccount(r.Context(), a)
	if err != nil {
		writeError(w, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	got, err := h.svc.Store().CRMAccount(r.Context(), dom)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, code, got)
}

func (h *Handler) getCRMAccount(w http.ResponseWriter, r *http.Request) {
	dom, err := registration.RegistrableDomain(r.PathValue("domain"))
	if err != nil {
		writeError(w, err)
		return
	}
	a, err := h.svc.Store().CRMAccount(r.Context(), dom)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (h *Handler) listCRMAccounts(w http.ResponseWriter, r *http.Request) {
	as, err := h.svc.Store().CRMAccounts(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": as})
}

// listAsOf lists the registrations f selects as they stood at t: the
// status filters apply to the status then, and limit and offset to what
// is left.
func (h *Handler) listAsOf(ctx context.Context, f store.RegistrationFilter, t time.Time) ([]store.Registration, error) {
	all := store.RegistrationFilter{Partner: f.Partner, Kind: f.Kind, CompanyKey: f.CompanyKey, Since: f.Since}
	rs, err := h.reg.List(ctx, all)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, reg := range rs {
		reg, ok := registration.AsOf(reg, t)
		if !ok || f.Active && !store.RegistrationActive(reg.Status) || len(f.Status) > 0 && !slices.Contains(f.Status, reg.Status) {
			continue
		}
		out = append(out, reg)
	}
	out = out[min(f.Offset, len(out)):]
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
