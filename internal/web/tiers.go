package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
)

// tierRoutes adds the tier pages: the console's reviews, overrides,
// appeals, mobility and a partner's tier history; the portal's tier page
// with the appeal form.
func (h *Handler) tierRoutes(m *http.ServeMux) {
	partner := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, partnerRoles...) }
	staff := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, staffRoles...) }
	admin := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, "admin") }
	m.Handle("GET /portal/tier", partner(h.portalTier))
	m.Handle("POST /portal/tier/appeal", partner(h.portalAppeal))
	m.Handle("GET /admin/tiers", staff(h.consoleTiers))
	m.Handle("POST /admin/tiers/review", admin(h.publishReview))
	m.Handle("POST /admin/tiers/overrides", admin(h.setOverride))
	m.Handle("POST /admin/tiers/overrides/{id}/end", admin(h.endOverride))
	m.Handle("POST /admin/tiers/appeals/{id}/decision", admin(h.decideAppeal))
	m.Handle("GET /admin/partners/{id}/tiers", staff(h.partnerTiers))
}

// consoleTiersData is the console's tier page.
type consoleTiersData struct {
	Quarter   string
	Quarters  []string
	Ended     bool
	Published bool
	Decisions []engine.TierDecision
	Mobility  engine.Mobility
	Appeals   []service.AppealView
	Overrides []engine.TierOverride
	Levels    []string
	Partners  []string
	Error     string
	CanAct    bool
}

// lastQuarters names the quarter containing now and the n-1 before it,
// newest first.
func lastQuarters(e *engine.Engine, now time.Time, n int) []string {
	var out []string
	t := now
	for range n {
		q := e.QuarterLabel(t)
		out = append(out, q)
		start, _, _ := e.Calendar().ParseQuarter(q)
		t = start.Add(-time.Hour)
	}
	return out
}

// consoleTiers previews a quarter's review (or shows it as published),
// with the criteria values behind each decision, and lists appeals,
// overrides and the quarter's mobility.
func (h *Handler) consoleTiers(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	now := h.svc.Now()
	d := &consoleTiersData{Quarter: r.URL.Query().Get("quarter"), Error: r.URL.Query().Get("error"), CanAct: v.Admin()}
	var noTiers bool
	h.svc.Read(func(e *engine.Engine) error {
		p := e.Program()
		if p == nil || p.Tiers == nil {
			noTiers = true
			return nil
		}
		d.Levels = p.Tiers.Levels
		d.Quarters = lastQuarters(e, now, 5)
		if d.Quarter == "" {
			d.Quarter = d.Quarters[1] // the last quarter that ended
		}
		for _, id := range e.PartnerIDs() {
			if v.seesPartner(id) {
				d.Partners = append(d.Partners, id)
			}
		}
		for _, o := range e.TierOverrides("") {
			if v.seesPartner(o.Partner) {
				d.Overrides = append(d.Overrides, o)
			}
		}
		return nil
	})
	p := h.newPage(w, r, "Tiers", "tiers", d)
	if noTiers {
		p.Notice = p.L.T("The program has no tiers section yet.")
		h.render(w, http.StatusOK, "tiers_console", p)
		return
	}
	rev, err := h.svc.ReviewTiers(r.Context(), d.Quarter, true, "")
	if err != nil {
		d.Error = p.L.Err(err)
		d.Quarter = d.Quarters[1]
		rev, _ = h.svc.ReviewTiers(r.Context(), d.Quarter, true, "")
	}
	d.Published = rev.Published
	for _, x := range rev.Decisions {
		if v.seesPartner(x.Partner) {
			d.Decisions = append(d.Decisions, x)
		}
	}
	h.svc.Read(func(e *engine.Engine) error {
		end, _ := e.QuarterEnd(d.Quarter)
		d.Ended = !now.Before(end)
		d.Mobility, _ = e.TierMobility(d.Quarter)
		return nil
	})
	for _, a := range h.svc.TierAppeals("") {
		if v.seesPartner(a.Partner) {
			d.Appeals = append(d.Appeals, a)
		}
	}
	if r.URL.Query().Get("done") != "" {
		p.Notice = p.L.T("Saved.")
	}
	h.render(w, http.StatusOK, "tiers_console", p)
}

// back redirects to the console's tier page, with an error when the
// action failed.
func (h *Handler) backToTiers(w http.ResponseWriter, r *http.Request, quarter string, err error) {
	q := url.Values{}
	if quarter != "" {
		q.Set("quarter", quarter)
	}
	if err != nil {
		if rung.ErrorCode(err) == rung.EINTERNAL || rung.ErrorCode(err) == "" {
			h.fail(w, r, err)
			return
		}
		q.Set("error", errText(requestLocale(r), err))
	} else {
		q.Set("done", "1")
	}
	redirect(w, r, "/admin/tiers?"+q.Encode())
}

// errText is an error's message, in the locale's language, with its
// details.
func errText(l *Locale, err error) string {
	var re *rung.Error
	if e, ok := err.(*rung.Error); ok {
		re = e
	}
	if re == nil {
		return err.Error()
	}
	s := l.Err(re)
	for _, d := range re.Details {
		s += "; " + d.Key + ": " + d.Message
	}
	return s
}

func (h *Handler) publishReview(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	q := r.PostForm.Get("quarter")
	_, err := h.svc.ReviewTiers(r.Context(), q, false, "user:"+v.Account.ID)
	h.backToTiers(w, r, q, err)
}

func (h *Handler) setOverride(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	o := engine.TierOverride{Partner: r.PostForm.Get("partner"), Tier: r.PostForm.Get("tier"), Reason: r.PostForm.Get("reason")}
	if u := r.PostForm.Get("until"); u != "" {
		var loc *time.Location
		h.svc.Read(func(e *engine.Engine) error { loc = e.Calendar().Loc; return nil })
		if loc == nil {
			loc = time.UTC
		}
		t, err := time.ParseInLocation("2006-01-02", u, loc)
		if err != nil {
			h.backToTiers(w, r, "", rung.Errorf(rung.EINVALID, "the expiry %q is not a date like 2027-03-31", u))
			return
		}
		o.Until = t
	}
	_, err := h.svc.SetTierOverride(r.Context(), o, "user:"+v.Account.ID)
	h.backToTiers(w, r, "", err)
}

func (h *Handler) endOverride(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	_, err := h.svc.EndTierOverride(r.Context(), r.PathValue("id"), "user:"+v.Account.ID)
	h.backToTiers(w, r, "", err)
}

func (h *Handler) decideAppeal(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	_, err := h.svc.DecideAppeal(r.Context(), r.PathValue("id"), r.PostForm.Get("decision"), r.PostForm.Get("tier"),
		r.PostForm.Get("reply"), "user:"+v.Account.ID)
	h.backToTiers(w, r, "", err)
}

// partnerTiersData is a partner's tier history page, in the console and
// in the portal.
type partnerTiersData struct {
	Partner   string
	Name      string
	Card      *tierView
	History   []engine.TierChange
	Decisions []engine.TierDecision
	Appeals   []service.AppealView
	Overrides []engine.TierOverride
	// Appealable are the decisions without an appeal yet (portal, partner
	// admins).
	Appealable []string
	CanAppeal  bool
	Error      string
	Portal     bool // the portal's page: the card, benefits and the appeal form
	// Nudge is the newest recorded nudge of this quarter toward the next
	// tier, nil when none.
	Nudge *engine.Nudge
}

func (h *Handler) partnerTiersOf(id string) (*partnerTiersData, error) {
	d := &partnerTiersData{Partner: id}
	err := h.svc.Read(func(e *engine.Engine) error {
		p, ok := e.Partner(id)
		if !ok {
			return errNotFound
		}
		d.Name = p.Name
		sc, err := e.PartnerScorecard(id, time.Time{})
		if err != nil {
			return err
		}
		if prog := e.Program(); prog != nil {
			d.Card = tierViewOf(prog, sc.Tier)
		}
		d.History, _ = e.TierHistory(id)
		d.Decisions = e.TierDecisions(id)
		d.Overrides = e.TierOverrides(id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Appeals = h.svc.TierAppeals(id)
	appealed := map[string]bool{}
	for _, a := range d.Appeals {
		appealed[a.Quarter] = true
	}
	for i := len(d.Decisions) - 1; i >= 0; i-- {
		if q := d.Decisions[i].Quarter; !appealed[q] {
			d.Appealable = append(d.Appealable, q)
		}
	}
	return d, nil
}

// partnerTiers is a partner's tier history in the console.
func (h *Handler) partnerTiers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !viewerFrom(r).seesPartner(id) {
		h.fail(w, r, errNotFound)
		return
	}
	d, err := h.partnerTiersOf(id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "tiers_partner", h.newPage(w, r, "Tier history", "tiers", d))
}

// portalTier is the company's tier page in the portal: the checklist,
// benefits, history, decisions and (for partner admins) the appeal form.
func (h *Handler) portalTier(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d, err := h.partnerTiersOf(v.Partner)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.CanAppeal, d.Portal = v.PartnerAdmin(), true
	if ns, err := h.svc.Nudges(r.Context(), v.Partner); err == nil && d.Card != nil {
		q := ""
		h.svc.Read(func(e *engine.Engine) error { q = e.QuarterLabel(h.svc.Now()); return nil })
		for i := range ns {
			if ns[i].Quarter == q && ns[i].Tier == d.Card.Next {
				d.Nudge = &ns[i]
			}
		}
	}
	d.Error = r.URL.Query().Get("error")
	p := h.newPage(w, r, "Partner tier", "portal", d)
	if r.URL.Query().Get("done") != "" {
		p.Notice = p.L.T("Your appeal was sent. You will get an answer by the date shown.")
	}
	h.render(w, http.StatusOK, "tiers_partner", p)
}

// portalAppeal files a partner admin's appeal of a decision.
func (h *Handler) portalAppeal(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	if !v.PartnerAdmin() {
		h.fail(w, r, rung.Errorf(rung.EFORBIDDEN, "only partner admins appeal"))
		return
	}
	var links []string
	for _, l := range strings.Fields(r.PostForm.Get("evidence")) {
		links = append(links, l)
	}
	_, err := h.svc.FileAppeal(r.Context(), v.Partner, r.PostForm.Get("quarter"), r.PostForm.Get("text"), links, "user:"+v.Account.ID)
	q := url.Values{}
	if err != nil {
		if c := rung.ErrorCode(err); c != rung.EINVALID && c != rung.ECONFLICT && c != rung.ENOTFOUND {
			h.fail(w, r, err)
			return
		}
		q.Set("error", errText(requestLocale(r), err))
	} else {
		q.Set("done", "1")
	}
	redirect(w, r, "/portal/tier?"+q.Encode())
}
