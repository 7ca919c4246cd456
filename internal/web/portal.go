package web

import (
	"net/http"
	"sort"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
)

// boardView is a subject's place on one leaderboard with the board around
// it, overall and in its cohort.
type boardView struct {
	ID, Name   string
	Metric     string // the board's metric, whose unit formats Value
	ForPartner bool
	Self       string
	Rank       int
	CohortRank int
	Cohort     string
	Of         int
	Value      float64
	// ShowValues is false for boards of other metrics than points: others'
	// revenue or rates are not shown to partners.
	ShowValues   bool
	Around       []engine.BoardEntry
	CohortAround []engine.BoardEntry
	staff        bool // links go to the console
}

// tierView is the partner's tier card.
type tierView struct {
	*engine.TierCard
	Benefits     []string
	NextBenefits []string
}

type portalData struct {
	Member  rung.Member
	Partner rung.Partner
	Card    engine.Scorecard
	Tier    *tierView
	Boards  []boardView
	Feed    []feedItem
	Recent  []engine.LedgerEntry
	// Badges the member holds, and the partner's own (team) badges.
	Badges     []engine.BadgeCard
	TeamBadges []engine.BadgeCard
	Quarter    string
	LevelMax   bool
}

// boardsFor builds the board views of a scorecard's standings.
func boardsFor(e *engine.Engine, prog *program.Program, ranks []engine.Standing, self string, forPartner, staff bool, size int) []boardView {
	var out []boardView
	for _, s := range ranks {
		def := prog.Leaderboard(s.Leaderboard)
		if def == nil {
			continue
		}
		bv := boardView{ID: s.Leaderboard, Name: def.Name, Metric: def.Metric, ForPartner: forPartner, Self: self, Rank: s.Rank, CohortRank: s.CohortRank,
			Cohort: s.Cohort, Of: s.Of, Value: s.Value, ShowValues: staff || def.Metric == "points", staff: staff}
		if pg, err := e.Leaderboard(s.Leaderboard, engine.BoardQuery{Around: self, Limit: size}); err == nil {
			bv.Around = pg.Entries
		}
		if s.Cohort != "" {
			if pg, err := e.Leaderboard(s.Leaderboard, engine.BoardQuery{Around: self, Limit: size, Cohort: s.Cohort}); err == nil {
				bv.CohortAround = pg.Entries
			}
		}
		out = append(out, bv)
	}
	return out
}

func tierViewOf(prog *program.Program, tc *engine.TierCard) *tierView {
	if tc == nil {
		return nil
	}
	tv := &tierView{TierCard: tc}
	if prog.Tiers != nil {
		tv.Benefits = prog.Tiers.Benefits[tc.Current]
		tv.NextBenefits = prog.Tiers.Benefits[tc.Next]
	}
	return tv
}

// portal is a member's home: points, level, tier, ranks and the feed.
func (h *Handler) portal(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d := &portalData{}
	now := h.svc.Now()
	err := h.svc.Read(func(e *engine.Engine) error {
		m, ok := e.Member(v.Account.Member)
		if !ok {
			return errNotFound
		}
		d.Member = m
		d.Partner, _ = e.Partner(v.Partner)
		sc, err := e.MemberScorecard(m.ID, time.Time{})
		if err != nil {
			return err
		}
		d.Card = sc
		d.Badges = sc.Badges
		d.LevelMax = sc.Level != nil && sc.Level.Next == ""
		prog := e.Program()
		if prog == nil {
			return nil
		}
		d.Quarter = prog.Calendar.QuarterLabel(now)
		d.Boards = boardsFor(e, prog, sc.Ranks, m.ID, false, false, 5)
		psc, err := e.PartnerScorecard(v.Partner, time.Time{})
		if err == nil {
			d.TeamBadges = psc.Badges
			d.Tier = tierViewOf(prog, psc.Tier)
			d.Boards = append(d.Boards, boardsFor(e, prog, psc.Ranks, v.Partner, true, false, 5)...)
		}
		if l, err := e.Ledger(engine.LedgerFilter{Member: m.ID, Partner: v.Partner, Limit: 8}); err == nil {
			l = labelled(e, l)
			for i := len(l) - 1; i >= 0; i-- {
				d.Recent = append(d.Recent, l[i])
			}
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if s := h.stats.get(); s != nil {
		d.Feed = s.Feed
		if len(d.Feed) > 10 {
			d.Feed = d.Feed[:10]
		}
	}
	h.render(w, http.StatusOK, "portal", h.newPage(w, r, "My progress", "portal", d))
}

// teamRow is one member on the partner admin's team page.
type teamRow struct {
	Member rung.Member
	Card   engine.Scorecard
	Rank   int // on the first member board
}

type teamData struct {
	Partner rung.Partner
	Board   string
	Rows    []teamRow
}

// team shows a partner admin their whole team's standings.
func (h *Handler) team(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	if !v.PartnerAdmin() {
		h.fail(w, r, errForbidden)
		return
	}
	d := &teamData{}
	err := h.svc.Read(func(e *engine.Engine) error {
		d.Partner, _ = e.Partner(v.Partner)
		for _, id := range e.MemberIDs(v.Partner) {
			m, _ := e.Member(id)
			sc, err := e.MemberScorecard(id, time.Time{})
			if err != nil {
				continue
			}
			row := teamRow{Member: m, Card: sc}
			if len(sc.Ranks) > 0 {
				row.Rank = sc.Ranks[0].Rank
				if d.Board == "" && e.Program() != nil {
					if lb := e.Program().Leaderboard(sc.Ranks[0].Leaderboard); lb != nil {
						d.Board = lb.Name
					}
				}
			}
			d.Rows = append(d.Rows, row)
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sort.SliceStable(d.Rows, func(i, j int) bool { return d.Rows[i].Card.Points.Lifetime > d.Rows[j].Card.Points.Lifetime })
	h.render(w, http.StatusOK, "team", h.newPage(w, r, "My team", "team", d))
}

// myLedger lists a member's own points, newest first, with the why.
func (h *Handler) myLedger(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	var rows []engine.LedgerEntry
	err := h.svc.Read(func(e *engine.Engine) error {
		l, err := e.Ledger(engine.LedgerFilter{Member: v.Account.Member, Limit: 200})
		l = labelled(e, l)
		for i := len(l) - 1; i >= 0; i-- {
			rows = append(rows, l[i])
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "myledger", h.newPage(w, r, "My points", "ledger", rows))
}

// boardPage is one leaderboard page.
type boardPage struct {
	Def  *program.Leaderboard
	Page engine.BoardPage
	// Rows are the top of the board, then, when the viewer ranks below
	// it, a gap and the rows around the viewer.
	Rows      []boardRow
	Cohorts   []string
	Cohort    string
	Self      string
	ShowValue bool
	Boards    []*program.Leaderboard
	Base      string // the URL of this board, without query
}

// boardRow is a row of a leaderboard page, or the gap between its top and
// the rows around the viewer.
type boardRow struct {
	E   engine.BoardEntry
	Gap bool
}

// leaderboard shows a board's top and, for partner roles, the rows around
// them; values of non-points boards are shown to staff only.
func (h *Handler) leaderboard(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	id := r.PathValue("id")
	d := &boardPage{Cohort: r.URL.Query().Get("cohort")}
	err := h.svc.Read(func(e *engine.Engine) error {
		prog := e.Program()
		if prog == nil {
			return errNotFound
		}
		d.Boards = prog.Leaderboards
		if id == "" && len(prog.Leaderboards) > 0 {
			id = prog.Leaderboards[0].ID
		}
		d.Def = prog.Leaderboard(id)
		if d.Def == nil {
			return errNotFound
		}
		d.ShowValue = v.Staff() || d.Def.Metric == "points"
		if d.Def.For == program.SubjectPartner {
			d.Self = v.Partner
		} else {
			d.Self = v.Account.Member
		}
		if d.Def.Cohort != "" {
			// Every row, a page of 1,000 (the most one read gives) at a
			// time: a cohort ranked below the first page is offered too.
			seen := map[string]bool{}
			for off := 0; ; off += 1000 {
				pg, err := e.Leaderboard(id, engine.BoardQuery{Limit: 1000, Offset: off})
				if err != nil {
					break
				}
				for _, en := range pg.Entries {
					if en.Cohort != "" && !seen[en.Cohort] {
						seen[en.Cohort] = true
						d.Cohorts = append(d.Cohorts, en.Cohort)
					}
				}
				if len(pg.Entries) < 1000 || off+1000 >= pg.Total {
					break
				}
			}
			sort.Strings(d.Cohorts)
		} else {
			d.Cohort = ""
		}
		q := engine.BoardQuery{Cohort: d.Cohort, Limit: 50}
		pg, err := e.Leaderboard(id, q)
		if err != nil {
			return err
		}
		d.Page = pg
		d.Rows = make([]boardRow, 0, len(pg.Entries)+6)
		top := map[string]bool{}
		for _, en := range pg.Entries {
			d.Rows = append(d.Rows, boardRow{E: en})
			top[en.Subject] = true
		}
		if d.Self != "" && !top[d.Self] && len(pg.Entries) > 0 {
			// Ranked below the top: the viewer's place, with two rows
			// either side, as the API's around= gives it.
			q.Limit, q.Around = 5, d.Self
			place := func(en engine.BoardEntry) int {
				if d.Cohort != "" {
					return en.CohortRank
				}
				return en.Rank
			}
			last := place(pg.Entries[len(pg.Entries)-1])
			if near, err := e.Leaderboard(id, q); err == nil {
				first := true
				for _, en := range near.Entries {
					if top[en.Subject] {
						continue
					}
					if first && place(en) > last+1 {
						d.Rows = append(d.Rows, boardRow{Gap: true})
					}
					first = false
					d.Rows = append(d.Rows, boardRow{E: en})
				}
			}
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Staff() {
		d.Base = "/admin/leaderboards/" + d.Def.ID
		h.render(w, http.StatusOK, "board", h.newPage(w, r, "Leaderboards", "boards", d))
		return
	}
	d.Base = "/portal/leaderboards/" + d.Def.ID
	h.render(w, http.StatusOK, "board", h.newPage(w, r, "Leaderboards", "boards", d))
}

// labelled shows each entry's rule by its label, when the program gives one.
func labelled(e *engine.Engine, l []engine.LedgerEntry) []engine.LedgerEntry {
	prog := e.Program()
	if prog == nil {
		return l
	}
	for i := range l {
		if r := prog.Rule(l[i].Rule); r != nil && r.Label != "" {
			l[i].Rule = r.Label
		}
	}
	return l
}
