package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// rewardRoutes adds the portal's reward catalog and the console's
// redemption queue and liability report (docs/rewards.md).
func (h *Handler) rewardRoutes(m *http.ServeMux) {
	partner := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, partnerRoles...) }
	staff := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, staffRoles...) }
	admin := func(fn http.HandlerFunc) http.Handler { return h.signedIn(fn, "admin") }
	m.Handle("GET /portal/rewards", partner(h.portalRewards))
	m.Handle("POST /portal/rewards/{id}/redeem", partner(h.portalRedeem))
	m.Handle("GET /admin/redemptions", staff(h.redemptionQueue))
	m.Handle("POST /admin/redemptions/{id}/decision", admin(h.decideRedemption))
	m.Handle("GET /admin/liability", admin(h.liability))
	m.Handle("GET /admin/liability.csv", admin(h.liabilityCSV))
}

// rewardCard is one catalog reward as the portal shows it.
type rewardCard struct {
	It        service.CatalogItem
	CanRedeem bool   // the button is shown
	Why       string // why not, in the viewer's language
	HasStock  bool
	StockLeft int
	Tiers     string // the tiers it is for, listed
}

// redemptionRow is one redemption in a list, its status translated.
type redemptionRow struct {
	R      rung.Redemption
	Status string
	Reward string // the reward's name
}

// portalRewardsData is the portal's rewards page.
type portalRewardsData struct {
	Catalog service.Catalog
	Cards   []rewardCard
	Rows    []redemptionRow
	Team    bool // a partner admin sees the partner's redemptions
}

// redemptionStatus names a redemption status in the viewer's language.
func redemptionStatus(l *Locale, s string) string {
	switch s {
	case rung.RedemptionPending:
		return l.T("Pending")
	case rung.RedemptionFulfilled:
		return l.T("Fulfilled")
	case rung.RedemptionRejected:
		return l.T("Rejected")
	}
	return s
}

// blockedWhy says in the viewer's language which rule keeps a reward
// from being redeemed now.
func blockedWhy(l *Locale, it service.CatalogItem, c service.Catalog) string {
	switch it.Blocked {
	case service.RuleNotEligible:
		return l.Tf("Only for partners in tier %s.", strings.Join(it.Tiers, ", "))
	case service.RuleOutOfStock:
		return l.T("Out of stock.")
	case service.RulePerMemberLimit:
		return l.Tf("Redeemed %d times already, the most allowed.", it.PerMember)
	case service.RuleInsufficientBalance:
		have := c.PartnerBalance
		if it.For != "partner" {
			have = min(c.MemberBalance, c.PartnerBalance)
		}
		return l.Tf("%s more points needed.", l.Num(it.Cost-max(have, 0)))
	}
	return ""
}

func (h *Handler) rewardNames() map[string]string {
	names := map[string]string{}
	h.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil {
			for _, r := range p.Rewards {
				names[r.ID] = r.Name
			}
		}
		return nil
	})
	return names
}

func (h *Handler) redemptionRows(l *Locale, rs []rung.Redemption, keep func(rung.Redemption) bool) []redemptionRow {
	names := h.rewardNames()
	var out []redemptionRow
	for _, r := range rs {
		if keep != nil && !keep(r) {
			continue
		}
		name := names[r.Reward]
		if name == "" {
			name = r.Reward
		}
		out = append(out, redemptionRow{R: r, Status: redemptionStatus(l, r.Status), Reward: name})
	}
	return out
}

func (h *Handler) portalRewards(w http.ResponseWriter, r *http.Request) {
	var notice func(*Locale) string
	if id := r.URL.Query().Get("redeemed"); id != "" {
		notice = func(l *Locale) string {
			return l.Tf("Thank you: your request %s is in. The points are held until it is fulfilled.", id)
		}
	}
	h.portalRewardsPage(w, r, http.StatusOK, notice)
}

func (h *Handler) portalRewardsPage(w http.ResponseWriter, r *http.Request, status int, notice func(*Locale) string) {
	v := viewerFrom(r)
	c, err := h.svc.Catalog(r.Context(), v.Account.Member, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := &portalRewardsData{Catalog: c, Team: v.PartnerAdmin()}
	p := h.newPage(w, r, "Rewards", "rewards", d)
	for _, it := range c.Rewards {
		card := rewardCard{It: it, CanRedeem: it.Eligible, HasStock: it.StockLeft != nil, Tiers: strings.Join(it.Tiers, ", ")}
		if it.StockLeft != nil {
			card.StockLeft = *it.StockLeft
		}
		if it.For == "partner" && !v.PartnerAdmin() {
			card.CanRedeem = false
			card.Why = p.L.T("Your partner admin redeems this with the team's points.")
		} else if !it.Eligible {
			card.Why = blockedWhy(p.L, it, c)
		}
		d.Cards = append(d.Cards, card)
	}
	f := store.RedemptionFilter{Member: v.Account.Member}
	if v.PartnerAdmin() {
		f = store.RedemptionFilter{Partner: v.Partner}
	}
	rs, err := h.svc.Redemptions(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Rows = h.redemptionRows(p.L, rs, func(x rung.Redemption) bool { return x.Partner == v.Partner || x.Member == v.Account.Member })
	if notice != nil {
		p.Notice = notice(p.L)
	}
	h.render(w, status, "portalrewards", p)
}

// portalRedeem asks for a reward: a member reward with the member's
// points, a partner reward (partner admins only) with the partner's.
func (h *Handler) portalRedeem(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	req := service.RedeemRequest{Reward: r.PathValue("id"), Member: v.Account.Member, By: "member:" + v.Account.Member}
	var forPartner bool
	h.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil {
			if rw := p.Reward(req.Reward); rw != nil && rw.For == "partner" {
				forPartner = true
			}
		}
		return nil
	})
	if forPartner {
		if !v.PartnerAdmin() {
			h.fail(w, r, errForbidden)
			return
		}
		req.Member, req.Partner = "", v.Partner
	}
	out, err := h.svc.Redeem(r.Context(), req)
	if err == nil {
		redirect(w, r, "/portal/rewards?redeemed="+url.QueryEscape(out.ID))
		return
	}
	rule := service.RefusedRule(err)
	if rule == "" {
		h.fail(w, r, err)
		return
	}
	h.portalRewardsPage(w, r, http.StatusConflict, func(l *Locale) string {
		switch rule {
		case service.RuleNotEligible:
			return l.T("Not redeemed: this reward is not for your partner's tier.")
		case service.RuleOutOfStock:
			return l.T("Not redeemed: this reward is out of stock.")
		case service.RulePerMemberLimit:
			return l.T("Not redeemed: you have redeemed this reward as often as allowed.")
		}
		return l.T("Not redeemed: not enough points.")
	})
}

// redemptionQueueData is the console's redemption queue.
type redemptionQueueData struct {
	Rows    []redemptionRow
	Status  string // the filter: pending, fulfilled, rejected or "" (all)
	CanDo   bool   // admins decide; managers look
	Pending int    // how many wait for a decision, on every page
	// Offset is the first row's place in the queue; Prev and Next are the
	// offsets of the neighbouring pages, More whether there is a next.
	Offset, Prev, Next int
	More               bool
	StatusParam        string // the status filter as asked, for the pager's links
}

// redemptionQueue lists redemptions, pending ones by default, oldest
// request first so the longest waiting is on top. Managers see their
// partners' only.
func (h *Handler) redemptionQueue(w http.ResponseWriter, r *http.Request) {
	h.redemptionQueuePage(w, r, http.StatusOK, nil)
}

func (h *Handler) redemptionQueuePage(w http.ResponseWriter, r *http.Request, status int, notice func(*Locale) string) {
	v := viewerFrom(r)
	st := r.URL.Query().Get("status")
	switch st {
	case "":
		st = rung.RedemptionPending
	case "all":
		st = ""
	case rung.RedemptionPending, rung.RedemptionFulfilled, rung.RedemptionRejected:
	default:
		h.fail(w, r, rung.Errorf(rung.EINVALID, "status"))
		return
	}
	d := &redemptionQueueData{Status: st, CanDo: v.Admin(), StatusParam: r.URL.Query().Get("status")}
	d.Offset, _ = strconv.Atoi(r.URL.Query().Get("offset"))
	d.Offset = max(0, d.Offset)
	// The queue is read a page at a time, oldest request first, from the
	// viewer's partners only: a long queue shows its longest waiting, and
	// a manager's page is full of their own partners'.
	f := store.RedemptionFilter{Status: st, Oldest: true, Offset: d.Offset, Limit: pageSize + 1}
	switch {
	case v.Admin():
	case v.Account.Role == store.RoleManager:
		f.Partners = keys(v.partners)
	default:
		f.Partner = v.Partner
		if f.Partner == "" {
			f.Partners = []string{}
		}
	}
	rs, err := h.svc.Redemptions(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pending := f
	pending.Status = rung.RedemptionPending
	if d.Pending, err = h.svc.CountRedemptions(r.Context(), pending); err != nil {
		h.fail(w, r, err)
		return
	}
	if d.More = len(rs) > pageSize; d.More {
		rs = rs[:pageSize]
	}
	d.Prev, d.Next = max(0, d.Offset-pageSize), d.Offset+len(rs)
	p := h.newPage(w, r, "Redemptions", "redemptions", d)
	d.Rows = h.redemptionRows(p.L, rs, func(x rung.Redemption) bool { return v.seesPartner(x.Partner) })
	if n := r.URL.Query().Get("done"); n != "" {
		p.Notice = p.L.Tf("Redemption %s: %s.", n, redemptionStatus(p.L, r.URL.Query().Get("to")))
	}
	if notice != nil {
		p.Notice = notice(p.L)
	}
	h.render(w, status, "redemptions", p)
}

// decideRedemption approves (fulfilled) or rejects (points back) one
// pending redemption.
func (h *Handler) decideRedemption(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	id := r.PathValue("id")
	out, err := h.svc.DecideRedemption(r.Context(), id, r.PostForm.Get("decision"), strings.TrimSpace(r.PostForm.Get("reason")), "user:"+v.Account.ID)
	if err != nil {
		switch rung.ErrorCode(err) {
		case rung.EINVALID:
			h.redemptionQueuePage(w, r, http.StatusBadRequest, func(l *Locale) string { return l.T("Choose approve or reject.") })
		case rung.ECONFLICT:
			h.redemptionQueuePage(w, r, http.StatusConflict, func(l *Locale) string {
				return l.Tf("Redemption %s was decided already.", id)
			})
		default:
			h.fail(w, r, err)
		}
		return
	}
	// Back to the queue: the same page and filter, with the notice.
	back := "/admin/redemptions"
	if u, err := url.Parse(localPath(r.PostForm.Get("back"), back)); err == nil && u.Path == back {
		q := u.Query()
		q.Set("done", out.ID)
		q.Set("to", out.Status)
		u.RawQuery = q.Encode()
		back = u.String()
	} else {
		back += "?done=" + url.QueryEscape(out.ID) + "&to=" + url.QueryEscape(out.Status)
	}
	redirect(w, r, back)
}

// liabilityData is the console's liability report.
type liabilityData struct {
	Rep service.LiabilityReport
}

func (h *Handler) liability(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(w, r, "Points liability", "liability", &liabilityData{Rep: h.svc.Liability(time.Time{})})
	h.render(w, http.StatusOK, "liability", p)
}

func (h *Handler) liabilityCSV(w http.ResponseWriter, r *http.Request) {
	rep := h.svc.Liability(time.Time{})
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="liability-`+rep.AsOf.Format("2006-01-02")+`.csv"`)
	service.WriteLiabilityCSV(w, rep)
}
