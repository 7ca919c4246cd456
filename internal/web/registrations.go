package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/store"
)

// regRow is one registration in the console's review queue.
type regRow struct {
	R        store.Registration
	Status   string // translated
	Conflict bool   // in a conflict nobody settled yet
	Matches  bool   // has possible matches for a reviewer to look at
	Overdue  bool   // waiting for review past review_due
	Waiting  bool   // submitted or needs_info: the reviewer's turn
}

// regQueueData is the console's review queue.
type regQueueData struct {
	Rows                    []regRow
	Waiting, Overdue, Total int
	All                     bool // closed registrations shown too
	Page, Pages             int  // 1-based; Rows is one page
	Query                   template.URL
}

// regQueuePage is how many registrations one page of the queue shows.
const regQueuePage = 50

// pageOf reads ?page= (1-based; out of range is clamped) and returns it
// with the number of pages that n rows of size each fill.
func pageOf(r *http.Request, n, size int) (page, pages int) {
	pages = max(1, (n+size-1)/size)
	page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	return min(max(page, 1), pages), pages
}

// regDetailData is the console's page of one registration.
type regDetailData struct {
	Row     regRow
	History []regStep
	// Others are the conflicting registrations the viewer may open.
	Others []string
	// CanSettle is true when the viewer sees every side of the open
	// conflicts and may give the company to this registration.
	CanSettle bool
}

// regStep is one transition, its statuses translated.
type regStep struct {
	T        store.Transition
	From, To string
}

func (h *Handler) newRegRow(l *Locale, r store.Registration, now time.Time) regRow {
	return regRow{
		R: r, Status: regStatus(l, r.Status),
		Conflict: len(registration.OpenConflicts(r)) > 0 && registration.Active(r),
		Matches:  len(r.Matches) > 0,
		Overdue:  r.Status == store.RegSubmitted && now.After(r.ReviewDue),
		Waiting:  r.Status == store.RegSubmitted || r.Status == store.RegNeedsInfo,
	}
}

// regStatus names a registration status in the viewer's language.
func regStatus(l *Locale, s string) string {
	switch s {
	case store.RegSubmitted:
		return l.T("Submitted")
	case store.RegNeedsInfo:
		return l.T("Needs information")
	case store.RegApproved:
		return l.T("Approved")
	case store.RegDeclined:
		return l.T("Declined")
	case store.RegMeeting:
		return l.T("First meeting held")
	case store.RegWon:
		return l.T("Won")
	case store.RegLost:
		return l.T("Lost")
	case store.RegExpired:
		return l.T("Expired")
	}
	return s
}

// registrationQueue is the console's review queue: what waits for a
// decision first, oldest first, then the other active registrations (and
// the closed ones with ?all=1). Managers see their partners' only.
func (h *Handler) registrationQueue(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	all := r.URL.Query().Get("all") == "1"
	rs, err := h.desk.List(r.Context(), store.RegistrationFilter{Active: !all})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.svc.Now()
	p := h.newPage(w, r, "Registrations", "registrations", nil)
	d := &regQueueData{All: all}
	for _, x := range rs {
		if !v.seesPartner(x.Partner) {
			continue
		}
		row := h.newRegRow(p.L, x, now)
		d.Rows = append(d.Rows, row)
		if row.Waiting {
			d.Waiting++
		}
		if row.Overdue {
			d.Overdue++
		}
	}
	// The store lists oldest first; keep that order inside each group.
	slices.SortStableFunc(d.Rows, func(a, b regRow) int {
		switch {
		case a.Waiting == b.Waiting:
			return 0
		case a.Waiting:
			return -1
		}
		return 1
	})
	d.Total = len(d.Rows)
	d.Page, d.Pages = pageOf(r, len(d.Rows), regQueuePage)
	d.Rows = d.Rows[(d.Page-1)*regQueuePage : min(d.Page*regQueuePage, len(d.Rows))]
	if all {
		d.Query = "all=1&"
	}
	p.Data = d
	if n := r.URL.Query().Get("done"); n != "" {
		p.Notice = p.L.Tf("Registration %s: %s.", n, regStatus(p.L, r.URL.Query().Get("status")))
	}
	h.render(w, http.StatusOK, "registrations", p)
}

// staffRegistration loads a registration the viewer may review: 404 for
// one of a partner a manager does not manage.
func (h *Handler) staffRegistration(r *http.Request) (store.Registration, error) {
	x, err := h.desk.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return x, err
	}
	if !viewerFrom(r).seesPartner(x.Partner) {
		return store.Registration{}, errNotFound
	}
	return x, nil
}

func (h *Handler) registrationDetail(w http.ResponseWriter, r *http.Request) {
	x, err := h.staffRegistration(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.registrationDetailPage(w, r, x, http.StatusOK, nil)
}

// registrationDetailPage renders a registration with an optional notice,
// written in the viewer's language.
func (h *Handler) registrationDetailPage(w http.ResponseWriter, r *http.Request, x store.Registration, status int, notice func(*Locale) string) {
	v := viewerFrom(r)
	p := h.newPage(w, r, "Registration", "registrations", nil)
	d := &regDetailData{Row: h.newRegRow(p.L, x, h.svc.Now())}
	for _, t := range x.History {
		s := regStep{T: t, To: regStatus(p.L, t.To)}
		if t.From != "" {
			s.From = regStatus(p.L, t.From)
		}
		d.History = append(d.History, s)
	}
	for _, c := range x.Conflicts {
		other, err := h.desk.Get(r.Context(), c.Other(x.ID))
		if err == nil && v.seesPartner(other.Partner) {
			d.Others = append(d.Others, other.ID)
		}
	}
	d.CanSettle = d.Row.Conflict && h.seesConflicts(r, x)
	p.Data = d
	if notice != nil {
		p.Notice = notice(p.L)
	}
	h.render(w, status, "registration", p)
}

// decideRegistration approves, declines or asks for information in one
// click, from the queue or the detail page.
func (h *Handler) decideRegistration(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	x, err := h.staffRegistration(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	decision := r.PostForm.Get("decision")
	out, err := h.desk.Decide(r.Context(), x.ID, decision, r.PostForm.Get("reason"), "user:"+v.Account.ID)
	if err != nil {
		status := http.StatusBadRequest
		var msg func(*Locale) string
		switch {
		case rung.ErrorCode(err) == rung.EINVALID && decision == registration.DecisionDecline:
			msg = func(l *Locale) string { return l.T("A decline needs a reason: it is told to the partner.") }
		case rung.ErrorCode(err) == rung.EINVALID && decision == registration.DecisionNeedsInfo:
			msg = func(l *Locale) string {
				return l.T("Asking for information needs a reason: what the partner should add.")
			}
		case rung.ErrorCode(err) == rung.EINVALID:
			msg = func(l *Locale) string { return l.T("Choose approve, decline or needs information.") }
		case rung.ErrorCode(err) == rung.ECONFLICT && len(registration.OpenConflicts(x)) > 0:
			status = http.StatusConflict
			msg = func(l *Locale) string { return l.T("This registration is in a conflict: settle the conflict first.") }
		case rung.ErrorCode(err) == rung.ECONFLICT:
			status = http.StatusConflict
			msg = func(l *Locale) string {
				return l.Tf("This registration is %s: only a submitted one can be approved or asked for more information.", regStatus(l, x.Status))
			}
		default:
			h.fail(w, r, err)
			return
		}
		h.registrationDetailPage(w, r, x, status, msg)
		return
	}
	back := localPath(r.PostForm.Get("back"), "/admin/registrations")
	if !strings.HasPrefix(back, "/admin/registrations") {
		back = "/admin/registrations"
	}
	// Back to the queue: the same page and view, with the notice.
	if u, err := url.Parse(back); err == nil && u.Path == "/admin/registrations" {
		q := u.Query()
		q.Set("done", out.ID)
		q.Set("status", out.Status)
		u.RawQuery = q.Encode()
		back = u.String()
	}
	redirect(w, r, back)
}

// seesConflicts reports whether the viewer may read every registration x
// is in an open conflict with: settling it declines them.
func (h *Handler) seesConflicts(r *http.Request, x store.Registration) bool {
	v := viewerFrom(r)
	for _, id := range registration.OpenConflicts(x) {
		other, err := h.desk.Get(r.Context(), id)
		if err != nil || !v.seesPartner(other.Partner) {
			return false
		}
	}
	return true
}

// settleRegistration gives the company to this registration: every
// registration it is in an open conflict with is declined, with the
// reason told to both partners.
func (h *Handler) settleRegistration(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	x, err := h.staffRegistration(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(registration.OpenConflicts(x)) == 0 {
		h.registrationDetailPage(w, r, x, http.StatusConflict, func(l *Locale) string {
			return l.T("This registration has no open conflict.")
		})
		return
	}
	if !h.seesConflicts(r, x) {
		h.fail(w, r, errForbidden)
		return
	}
	_, err = h.desk.SettleConflict(r.Context(), x.ID, x.ID, r.PostForm.Get("reason"), "user:"+v.Account.ID)
	if rung.ErrorCode(err) == rung.EINVALID {
		h.registrationDetailPage(w, r, x, http.StatusBadRequest, func(l *Locale) string {
			return l.T("Settling a conflict needs a reason: it is told to both partners.")
		})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/registrations/"+url.PathEscape(x.ID))
}

// portalRegData is the portal's registrations page: the form, and the
// partner's registrations as the partner may see them.
type portalRegData struct {
	Rows []portalRegRow
	// The form, kept on errors.
	Kind, Company, Domain, ContactName, ContactEmail, Notes, Amount string
	Consent                                                         bool
	Errors                                                          map[string]string // by field
	Team                                                            bool              // a partner admin sees the whole partner's
	Import                                                          *regImportData    // the results of a CSV upload
}

// portalRegRow is a registration as its partner sees it: never another
// partner's details, only that the company is under review.
type portalRegRow struct {
	V         registration.PartnerView
	Status    string
	Countdown string // "protected for 23 more days"
	Reason    string // translated when it is one Rung wrote
}

func newPortalRegRow(l *Locale, r store.Registration, now time.Time) portalRegRow {
	pv := registration.NewPartnerView(r)
	row := portalRegRow{V: pv, Status: regStatus(l, pv.Status), Reason: pv.Reason}
	if strings.HasPrefix(pv.Reason, "another partner's registration") {
		row.Reason = l.T("Another partner's registration of this company took precedence.")
	}
	if pv.ProtectedUntil != nil && registration.Active(r) && r.Status != store.RegSubmitted && r.Status != store.RegNeedsInfo {
		left := pv.ProtectedUntil.Sub(now)
		days := int((left + 24*time.Hour - 1) / (24 * time.Hour))
		switch {
		case left <= 0:
			row.Countdown = l.T("Protection has ended")
		case days == 1:
			row.Countdown = l.T("Protected for one more day")
		default:
			row.Countdown = l.Tf("Protected for %d more days", days)
		}
	}
	return row
}

// seesRegistration reports whether a partner member may read a
// registration: their own, or any of their partner's for a partner admin.
func (v *viewer) seesRegistration(r store.Registration) bool {
	if v.Partner == "" || r.Partner != v.Partner {
		return false
	}
	return v.PartnerAdmin() || r.Member == v.Account.Member
}

func (h *Handler) portalRegistrations(w http.ResponseWriter, r *http.Request) {
	d := &portalRegData{Kind: registration.KindLead}
	h.portalRegistrationsPage(w, r, d, http.StatusOK)
}

func (h *Handler) portalRegistrationsPage(w http.ResponseWriter, r *http.Request, d *portalRegData, status int) {
	v := viewerFrom(r)
	rs, err := h.desk.List(r.Context(), store.RegistrationFilter{Partner: v.Partner})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.newPage(w, r, "Registrations", "registrations", d)
	now := h.svc.Now()
	d.Team = v.PartnerAdmin()
	// Newest first: what the member just registered is on top.
	for i := len(rs) - 1; i >= 0; i-- {
		if v.seesRegistration(rs[i]) {
			d.Rows = append(d.Rows, newPortalRegRow(p.L, rs[i], now))
		}
	}
	if id := r.URL.Query().Get("created"); id != "" && status == http.StatusOK {
		p.Notice = p.L.Tf("Thank you: your registration %s is in. We review it soon.", id)
	}
	h.render(w, status, "portalregs", p)
}

// registerCompany takes a registration from the portal form.
func (h *Handler) registerCompany(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	f := r.PostForm
	d := &portalRegData{
		Kind: f.Get("kind"), Company: strings.TrimSpace(f.Get("company")), Domain: strings.TrimSpace(f.Get("domain")),
		ContactName: strings.TrimSpace(f.Get("contact_name")), ContactEmail: strings.TrimSpace(f.Get("contact_email")),
		Notes: strings.TrimSpace(f.Get("notes")), Amount: strings.TrimSpace(f.Get("amount")), Consent: f.Get("consent") == "yes",
		Errors: map[string]string{},
	}
	var amount float64
	if d.Amount != "" {
		a, err := strconv.ParseFloat(plainNumber(d.Amount, pickLocale(v.Account.Locale, r)), 64)
		if err != nil || a < 0 {
			d.Errors["amount"] = "Enter the deal's amount as a number, such as 25000."
		}
		amount = a
	}
	consent := d.Consent
	in := registration.Input{
		Kind: d.Kind, Partner: v.Partner, Member: v.Account.Member, CompanyName: d.Company, CompanyDomain: d.Domain,
		ContactName: d.ContactName, ContactEmail: d.ContactEmail, Notes: d.Notes, Amount: amount,
		Consent: &consent, Channel: "portal", By: "member:" + v.Account.Member,
	}
	if len(d.Errors) > 0 {
		h.portalRegistrationsPage(w, r, d, http.StatusBadRequest)
		return
	}
	out, created, err := h.desk.Submit(r.Context(), in)
	if rung.ErrorCode(err) == rung.EINVALID {
		var re *rung.Error
		if errors.As(err, &re) {
			for _, det := range re.Details {
				switch det.Key {
				case "kind":
					d.Errors["kind"] = "Choose lead or deal."
				case "consent":
					d.Errors["consent"] = "Confirm that the contact agreed to be passed on to the vendor."
				case "company.name":
					d.Errors["company"] = "Enter the customer company's name (up to 200 characters)."
				case "company.domain":
					d.Errors["domain"] = "Enter the company's own web domain, such as example.com: not a mailbox provider, not your own company's."
				case "contact.email":
					d.Errors["contact_email"] = "Enter the contact's e-mail address, such as jane@example.com."
				case "notes":
					d.Errors["notes"] = "Notes can be at most 4000 characters long."
				case "amount":
					d.Errors["amount"] = "Enter the deal's amount as a number, such as 25000."
				default:
					d.Errors["form"] = "The registration could not be taken: check the fields and try again."
				}
			}
		}
		if len(d.Errors) == 0 {
			d.Errors["form"] = "The registration could not be taken: check the fields and try again."
		}
		h.portalRegistrationsPage(w, r, d, http.StatusBadRequest)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !created {
		redirect(w, r, "/portal/registrations/"+url.PathEscape(out.ID)+"?existing=1")
		return
	}
	redirect(w, r, "/portal/registrations?created="+url.QueryEscape(out.ID))
}

// portalRegistration is one registration as its partner sees it; another
// partner's, or (for a member) a colleague's, does not exist.
func (h *Handler) portalRegistration(w http.ResponseWriter, r *http.Request) {
	x, err := h.partnerRegistration(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.portalRegistrationPage(w, r, x, http.StatusOK, &portalAnswer{})
}

// portalAnswer is the form that answers a reviewer's question.
type portalAnswer struct {
	Text, Error string
}

func (h *Handler) portalRegistrationPage(w http.ResponseWriter, r *http.Request, x store.Registration, status int, a *portalAnswer) {
	p := h.newPage(w, r, "Registration", "registrations", nil)
	p.Data = struct {
		portalRegRow
		Answer    *portalAnswer
		NeedsInfo bool
	}{newPortalRegRow(p.L, x, h.svc.Now()), a, x.Status == store.RegNeedsInfo}
	if r.URL.Query().Get("existing") != "" {
		p.Notice = p.L.T("You have an active registration of this company already; here it is.")
	} else if r.URL.Query().Get("answered") != "" {
		p.Notice = p.L.T("Thank you: your answer is in, and the registration is back in review.")
	}
	h.render(w, status, "portalreg", p)
}

// partnerRegistration loads a registration the partner member may read.
func (h *Handler) partnerRegistration(r *http.Request) (store.Registration, error) {
	x, err := h.desk.Get(r.Context(), r.PathValue("id"))
	if err == nil && !viewerFrom(r).seesRegistration(x) {
		return store.Registration{}, errNotFound
	}
	return x, err
}

// answerRegistration gives the information a reviewer asked for; the
// registration goes back into review.
func (h *Handler) answerRegistration(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	x, err := h.partnerRegistration(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := &portalAnswer{Text: strings.TrimSpace(r.PostForm.Get("answer"))}
	_, err = h.desk.Answer(r.Context(), x.ID, d.Text, "member:"+v.Account.Member)
	if err == nil {
		redirect(w, r, "/portal/registrations/"+url.PathEscape(x.ID)+"?answered=1")
		return
	}
	switch rung.ErrorCode(err) {
	case rung.EINVALID:
		d.Error = "Write what the reviewer asked for."
		h.portalRegistrationPage(w, r, x, http.StatusBadRequest, d)
	case rung.ECONFLICT:
		d.Error = "This registration does not wait for an answer any more."
		h.portalRegistrationPage(w, r, x, http.StatusConflict, d)
	default:
		h.fail(w, r, err)
	}
}

// plainNumber turns an amount as a person of lang writes it ("25,000.50"
// or "25.000,50") into one strconv reads.
func plainNumber(s, lang string) string {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "'", "").Replace(s)
	if lang == "de" {
		return strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
	}
	return strings.ReplaceAll(s, ",", "")
}
