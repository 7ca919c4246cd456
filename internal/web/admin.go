package web

import (
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// count is a labelled number for tables.
type count struct {
	Key   string
	Label string
	N     int
}

type overviewData struct {
	Ready          bool
	Quarter        string
	At             time.Time
	Partners       int // partners the viewer sees
	ActivePartners int
	ActiveMembers  int
	Points         int64
	Events         int
	ByType         []count
	ByTier         []count
}

// overview is the console's home: this quarter at a glance.
func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d := &overviewData{}
	labels := map[string]string{}
	h.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil {
			for t, a := range p.Activities {
				labels[t] = a.Label
			}
		}
		return nil
	})
	if s := h.stats.get(); s != nil {
		d.Ready, d.Quarter, d.At = true, s.Quarter, s.At
		byType, byTier := map[string]int{}, map[string]int{}
		for id, ps := range s.Partners {
			if !v.seesPartner(id) {
				continue
			}
			d.Partners++
			n := 0
			for t, c := range ps.Events {
				byType[t] += c
				n += c
			}
			if n > 0 {
				d.ActivePartners++
			}
			d.Events += n
			d.ActiveMembers += ps.Members
			d.Points += ps.Points
			if ps.Tier != "" {
				byTier[ps.Tier]++
			}
		}
		for t, n := range byType {
			d.ByType = append(d.ByType, count{Key: t, Label: labels[t], N: n})
		}
		sort.Slice(d.ByType, func(i, j int) bool {
			if d.ByType[i].N != d.ByType[j].N {
				return d.ByType[i].N > d.ByType[j].N
			}
			return d.ByType[i].Key < d.ByType[j].Key
		})
		h.svc.Read(func(e *engine.Engine) error {
			if p := e.Program(); p != nil && p.Tiers != nil {
				for _, t := range p.Tiers.Levels {
					d.ByTier = append(d.ByTier, count{Key: t, N: byTier[t]})
				}
			}
			return nil
		})
	}
	h.render(w, http.StatusOK, "overview", h.newPage(w, r, "Overview", "overview", d))
}

// partnerRow is one line of the partners list.
type partnerRow struct {
	rung.Partner
	Tier     string
	Balance  int64
	Members  int
	Active   int
	Lifetime int64
}

type partnersData struct {
	Q, Tier, Size, Region, Type  string
	Tiers, Sizes, Regions, Types []string
	Rows                         []partnerRow
	Total                        int
	Offset, Next, Prev           int
	More                         bool
	Query                        template.URL // the filters, for paging links
}

const pageSize = 50

// partners lists the partners the viewer sees, with search and filters.
func (h *Handler) partners(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	q := r.URL.Query()
	d := &partnersData{Q: strings.TrimSpace(q.Get("q")), Tier: q.Get("tier"), Size: q.Get("size"), Region: q.Get("region"), Type: q.Get("type")}
	d.Offset, _ = strconv.Atoi(q.Get("offset"))
	d.Offset = max(0, d.Offset)
	s := h.stats.get()
	sizes, regions, types := map[string]bool{}, map[string]bool{}, map[string]bool{}
	needle := strings.ToLower(d.Q)
	h.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil && p.Tiers != nil {
			d.Tiers = p.Tiers.Levels
		}
		for _, id := range e.PartnerIDs() {
			if !v.seesPartner(id) {
				continue
			}
			p, _ := e.Partner(id)
			sizes[p.Size], regions[p.Region], types[p.Type] = true, true, true
			row := partnerRow{Partner: p}
			if s != nil && s.Partners[id] != nil {
				ps := s.Partners[id]
				row.Tier, row.Balance, row.Active, row.Lifetime, row.Members = ps.Tier, ps.Balance, ps.Members, ps.Lifetime, ps.Current
			} else {
				row.Members = len(e.MemberIDs(id))
			}
			if needle != "" && !strings.Contains(strings.ToLower(p.Name), needle) && !strings.Contains(strings.ToLower(p.ID), needle) {
				continue
			}
			if (d.Tier != "" && row.Tier != d.Tier) || (d.Size != "" && p.Size != d.Size) ||
				(d.Region != "" && p.Region != d.Region) || (d.Type != "" && p.Type != d.Type) {
				continue
			}
			d.Rows = append(d.Rows, row)
		}
		return nil
	})
	d.Sizes, d.Regions, d.Types = keys(sizes), keys(regions), keys(types)
	d.Total = len(d.Rows)
	d.Rows, d.Prev, d.Next, d.More = window(d.Rows, d.Offset)
	// Each value is escaped; the whole is a URL query, not a value.
	d.Query = template.URL("q=" + urlq(d.Q) + "&tier=" + urlq(d.Tier) + "&size=" + urlq(d.Size) + "&region=" + urlq(d.Region) + "&type=" + urlq(d.Type))
	h.render(w, http.StatusOK, "partners", h.newPage(w, r, "Partners", "partners", d))
}

func window[T any](rows []T, off int) ([]T, int, int, bool) {
	if off > len(rows) {
		off = len(rows)
	}
	end := min(len(rows), off+pageSize)
	return rows[off:end], max(0, off-pageSize), end, end < len(rows)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

type memberRow struct {
	rung.Member
	PartnerName string
	Lifetime    int64
	Level       string
}

type partnerData struct {
	Partner  rung.Partner
	Versions []rung.PartnerVersion
	Card     engine.Scorecard
	Tier     *tierView
	Members  []memberRow
	Ledger   []engine.LedgerEntry
	Boards   []boardView
}

// partner is one partner's page: scorecard, tier, members, history, ledger.
func (h *Handler) partner(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	id := r.PathValue("id")
	if !v.seesPartner(id) {
		h.fail(w, r, errNotFound)
		return
	}
	d := &partnerData{}
	err := h.svc.Read(func(e *engine.Engine) error {
		p, ok := e.Partner(id)
		if !ok {
			return errNotFound
		}
		d.Partner = p
		d.Versions = e.PartnerVersions(id)
		sc, err := e.PartnerScorecard(id, time.Time{})
		if err != nil {
			return err
		}
		d.Card = sc
		if prog := e.Program(); prog != nil {
			d.Tier = tierViewOf(prog, sc.Tier)
			d.Boards = boardsFor(e, prog, sc.Ranks, id, true, true, 3)
		}
		for _, mid := range e.MemberIDs(id) {
			m, _ := e.Member(mid)
			row := memberRow{Member: m}
			if msc, err := e.MemberScorecard(mid, time.Time{}); err == nil {
				row.Lifetime = msc.Points.Lifetime
				if msc.Level != nil {
					row.Level = msc.Level.Name
				}
			}
			d.Members = append(d.Members, row)
		}
		l, err := e.Ledger(engine.LedgerFilter{Partner: id, Limit: 100})
		l = labelled(e, l)
		for i := len(l) - 1; i >= 0; i-- {
			d.Ledger = append(d.Ledger, l[i])
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "partner", h.newPage(w, r, d.Partner.Name, "partners", d))
}

type membersData struct {
	Q, Partner         string
	Rows               []memberRow
	Total              int
	Offset, Next, Prev int
	More               bool
	Query              template.URL
}

// members lists the members the viewer sees, with search.
func (h *Handler) members(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	q := r.URL.Query()
	d := &membersData{Q: strings.TrimSpace(q.Get("q")), Partner: q.Get("partner")}
	d.Offset, _ = strconv.Atoi(q.Get("offset"))
	d.Offset = max(0, d.Offset)
	needle := strings.ToLower(d.Q)
	now := h.svc.Now()
	h.svc.Read(func(e *engine.Engine) error {
		// Find the matching ids first; only the rows of the page shown
		// are built.
		ids := e.MemberIDs(d.Partner)
		if needle != "" || !v.Admin() {
			match := ids[:0]
			for _, id := range ids {
				m, _ := e.Member(id)
				if !v.seesMember(m, now) {
					continue
				}
				if needle != "" && !strings.Contains(strings.ToLower(m.Name), needle) && !strings.Contains(strings.ToLower(m.ID), needle) &&
					!strings.Contains(strings.ToLower(m.Email), needle) {
					continue
				}
				match = append(match, id)
			}
			ids = match
		}
		d.Total = len(ids)
		ids, d.Prev, d.Next, d.More = window(ids, d.Offset)
		for _, id := range ids {
			m, _ := e.Member(id)
			p, _ := e.Partner(m.PartnerAt(now))
			d.Rows = append(d.Rows, memberRow{Member: m, PartnerName: p.Name})
		}
		for i := range d.Rows {
			if sc, err := e.MemberScorecard(d.Rows[i].ID, time.Time{}); err == nil {
				d.Rows[i].Lifetime = sc.Points.Lifetime
				if sc.Level != nil {
					d.Rows[i].Level = sc.Level.Name
				}
			}
		}
		return nil
	})
	d.Query = template.URL("q=" + urlq(d.Q) + "&partner=" + urlq(d.Partner))
	h.render(w, http.StatusOK, "members", h.newPage(w, r, "Members", "members", d))
}

type memberData struct {
	Member      rung.Member
	PartnerName string
	Card        engine.Scorecard
	Ledger      []engine.LedgerEntry
	Boards      []boardView
	Role        store.Role
	Link        string // a sign-in link just issued
}

// member is one member's page; admins set the role and issue links here.
func (h *Handler) member(w http.ResponseWriter, r *http.Request) {
	h.memberPage(w, r, "")
}

func (h *Handler) memberPage(w http.ResponseWriter, r *http.Request, link string) {
	v := viewerFrom(r)
	id := r.PathValue("id")
	now := h.svc.Now()
	d := &memberData{Link: link, Role: store.RoleMember}
	err := h.svc.Read(func(e *engine.Engine) error {
		m, ok := e.Member(id)
		if !ok || !v.seesMember(m, now) {
			return errNotFound
		}
		d.Member = m
		p, _ := e.Partner(m.PartnerAt(now))
		d.PartnerName = p.Name
		sc, err := e.MemberScorecard(id, time.Time{})
		if err != nil {
			return err
		}
		d.Card = sc
		if prog := e.Program(); prog != nil {
			d.Boards = boardsFor(e, prog, sc.Ranks, id, false, true, 3)
		}
		l, err := e.Ledger(engine.LedgerFilter{Member: id, Limit: 100})
		l = labelled(e, l)
		for i := len(l) - 1; i >= 0; i-- {
			d.Ledger = append(d.Ledger, l[i])
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a, err := h.st.Account(r.Context(), MemberAccountID(id)); err == nil {
		d.Role = a.Role
	}
	h.render(w, http.StatusOK, "member", h.newPage(w, r, d.Member.Name, "members", d))
}

// lookMember finds a member the viewer may see, for the member actions.
func (h *Handler) lookMember(r *http.Request) (rung.Member, error) {
	v := viewerFrom(r)
	var m rung.Member
	var ok bool
	h.svc.Read(func(e *engine.Engine) error {
		m, ok = e.Member(r.PathValue("id"))
		return nil
	})
	if !ok || !v.seesMember(m, h.svc.Now()) {
		return m, errNotFound
	}
	return m, nil
}

// memberRole makes a member a partner admin or a plain member (admins).
func (h *Handler) memberRole(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	m, err := h.lookMember(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := SetMemberRole(r.Context(), h.st, m, store.Role(r.PostForm.Get("role")), "user:"+v.Account.ID, h.svc.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/members/"+pathq(m.ID))
}

// memberLink issues a sign-in link for a member and shows it (until
// e-mail exists, the admin passes it on).
func (h *Handler) memberLink(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	m, err := h.lookMember(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	link, err := IssueLink(r.Context(), h.st, h.log, m, h.base, "user:"+v.Account.ID, h.svc.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.memberPage(w, r, link)
}

type eventData struct {
	ID      string
	Body    rung.Event
	History service.EventHistory
	Rules   map[string]string
}

// event explains one event: "why did I get these points". Staff see the
// events of their partners; members their own, partner admins their
// company's.
func (h *Handler) event(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	id := r.PathValue("id")
	hist, body, err := h.svc.EventEffects(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	allowed := v.seesPartner(body.Partner)
	if !allowed && !v.Staff() && body.Member != "" && body.Member == v.Account.Member {
		allowed = true
	}
	if !allowed {
		h.fail(w, r, errNotFound)
		return
	}
	d := &eventData{ID: id, Body: body, History: hist, Rules: map[string]string{}}
	h.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil {
			for _, ru := range p.Points.Rules {
				d.Rules[ru.ID] = ru.Label
			}
		}
		return nil
	})
	nav := "partners"
	if !v.Staff() {
		nav = "ledger"
	}
	h.render(w, http.StatusOK, "event", h.newPage(w, r, "Why these points", nav, d))
}

type keysData struct {
	Keys   []rung.APIKey
	Secret string
	Name   string
	Error  string
}

// apiKeys lists the API keys and creates new ones (admins).
func (h *Handler) apiKeys(w http.ResponseWriter, r *http.Request) {
	h.keysPage(w, r, &keysData{}, http.StatusOK)
}

func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request, d *keysData, status int) {
	ks, err := h.st.APIKeys(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := len(ks) - 1; i >= 0; i-- {
		d.Keys = append(d.Keys, ks[i])
	}
	h.render(w, status, "apikeys", h.newPage(w, r, "API keys", "apikeys", d))
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d := &keysData{Name: strings.TrimSpace(r.PostForm.Get("name"))}
	scope, err := rung.ParseScope(r.PostForm.Get("scope"))
	if d.Name == "" || err != nil {
		d.Error = "Give the key a name and a scope."
		h.keysPage(w, r, d, http.StatusBadRequest)
		return
	}
	_, secret, err := h.svc.CreateAPIKey(r.Context(), d.Name, scope, "user:"+v.Account.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Secret, d.Name = secret, ""
	h.keysPage(w, r, d, http.StatusOK)
}

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	if err := h.svc.RevokeAPIKey(r.Context(), r.PathValue("id"), "user:"+v.Account.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/apikeys")
}

type auditData struct {
	Entries []rung.AuditEntry
	Target  string
	Next    int64
}

// auditLog pages through who changed what, newest first (admins).
func (h *Handler) auditLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	d := &auditData{Target: q.Get("target")}
	es, err := h.st.Audit(r.Context(), store.AuditFilter{Target: d.Target, Limit: 100, Before: before})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Entries = es
	if len(es) == 100 {
		d.Next = es[len(es)-1].ID
	}
	h.render(w, http.StatusOK, "audit", h.newPage(w, r, "Audit log", "audit", d))
}
