package web

import (
	"net/http"
	"time"

	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
)

// challengeRoutes adds the challenge pages: the portal's active challenges
// and quests, the console's list.
func (h *Handler) challengeRoutes(m *http.ServeMux) {
	m.Handle("GET /portal/challenges", h.signedIn(h.portalChallenges, partnerRoles...))
	m.Handle("GET /admin/challenges", h.signedIn(h.adminChallenges, staffRoles...))
}

// challengeView is one challenge on the portal: its standings (the top and
// the viewer's or team's row) or, for a quest, the checklist.
type challengeView struct {
	Info       engine.ChallengeInfo
	Team       bool // for partners: the viewer's company takes part
	ShowValues bool // others' values: for points challenges only
	Top        []engine.ChallengeEntry
	Self       *engine.ChallengeEntry // the viewer's (or team's) row; nil when not ranked
	Total      int
	Winners    []string
	Steps      []stepView // quests
	Done       int
	Completed  time.Time
	BadgeName  string // the reward badge's name
}

// stepView is one checklist item of a quest.
type stepView struct {
	Label string
	Count int
	Done  int
	Met   bool
}

type challengesData struct {
	Challenges []challengeView
	Quests     []challengeView
}

// portalChallenges shows the member's and the team's challenges that have
// started and are not long over, with their places, and their quests as
// checklists.
func (h *Handler) portalChallenges(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d := &challengesData{}
	now := h.svc.Now()
	err := h.svc.Read(func(e *engine.Engine) error {
		prog := e.Program()
		m, ok := e.Member(v.Account.Member)
		if prog == nil || !ok {
			return nil
		}
		cards := map[string]engine.ChallengeCard{}
		if sc, err := e.MemberScorecard(m.ID, now); err == nil {
			for _, c := range sc.Challenges {
				cards["member:"+c.ID] = c
			}
		}
		if sc, err := e.PartnerScorecard(v.Partner, now); err == nil {
			for _, c := range sc.Challenges {
				cards["partner:"+c.ID] = c
			}
		}
		for _, info := range e.Challenges(now) {
			team := info.For == string(program.SubjectPartner)
			self := m.ID
			if team {
				self = v.Partner
			}
			card, ok := cards[info.For+":"+info.ID]
			if !ok || info.Status == engine.ChallengeUpcoming || info.Status == engine.ChallengeEnded {
				continue // not for this member (another role), or over
			}
			cv := challengeView{Info: info, Team: team, ShowValues: info.Metric == "points"}
			if b := prog.Badge(info.Reward.Badge); b != nil {
				cv.BadgeName = b.Name
			}
			if info.Kind == "quest" {
				cv.Done, cv.Completed = int(card.Value), card.CompletedAt
				for _, s := range card.Steps {
					cv.Steps = append(cv.Steps, stepView{Label: activityLabel(prog, s.Type), Count: s.Count, Done: s.Done, Met: s.Done >= s.Count})
				}
				d.Quests = append(d.Quests, cv)
				continue
			}
			if info.Status == engine.ChallengeFinal && now.Sub(info.FinalizesAt) > 30*24*time.Hour {
				continue // long over
			}
			cs, err := eachChallengeRow(e, info.ID, now, func(i int, en engine.ChallengeEntry) bool {
				if en.Subject == self {
					cv.Self = &en
				}
				if i < 5 {
					cv.Top = append(cv.Top, en)
				}
				return cv.Self == nil || i < 5
			})
			if err != nil {
				continue
			}
			cv.Total, cv.Winners = cs.Total, cs.Winners
			d.Challenges = append(d.Challenges, cv)
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "challenges_portal", h.newPage(w, r, "Challenges", "challenges", d))
}

// eachChallengeRow passes the rows of a challenge's standings at now to fn
// in order, until fn returns false, reading pages of 1,000 (the most one
// read gives): a standings of more rows is read to its end, not cut at
// the first page. It returns the first page's standings.
func eachChallengeRow(e *engine.Engine, id string, now time.Time, fn func(i int, en engine.ChallengeEntry) bool) (engine.ChallengeStandings, error) {
	const page = 1000
	var first engine.ChallengeStandings
	for off := 0; ; off += page {
		cs, err := e.Challenge(id, engine.ChallengeQuery{Limit: page, Offset: off, AsOf: now})
		if err != nil {
			return first, err
		}
		if off == 0 {
			first = cs
		}
		for i, en := range cs.Entries {
			if !fn(off+i, en) {
				return first, nil
			}
		}
		if len(cs.Entries) < page || off+page >= cs.Total {
			return first, nil
		}
	}
}

// activityLabel names an event type by its label in the program, if any.
func activityLabel(prog *program.Program, typ string) string {
	if a, ok := prog.Activities[typ]; ok && a.Label != "" {
		return a.Label
	}
	return typ
}

// adminChallengeRow is one challenge in the console's list.
type adminChallengeRow struct {
	Info    engine.ChallengeInfo
	Total   int
	Done    int // quests: subjects that completed
	Winners []string
	Cohorts []engine.CohortWinners
}

// adminChallenges lists every challenge and quest with its status, how
// many take part, and the winners (final) or leaders (provisional).
func (h *Handler) adminChallenges(w http.ResponseWriter, r *http.Request) {
	var rows []adminChallengeRow
	now := h.svc.Now()
	err := h.svc.Read(func(e *engine.Engine) error {
		for _, info := range e.Challenges(now) {
			row := adminChallengeRow{Info: info}
			cs, err := eachChallengeRow(e, info.ID, now, func(_ int, en engine.ChallengeEntry) bool {
				if !en.CompletedAt.IsZero() {
					row.Done++
				}
				return true
			})
			if err != nil {
				return err
			}
			row.Total, row.Winners, row.Cohorts = cs.Total, cs.Winners, cs.CohortWinners
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "challenges_admin", h.newPage(w, r, "Challenges", "challenges", rows))
}

func init() {
	for k, v := range challengesDE {
		de[k] = v
	}
	for k, v := range challengesDEProgram {
		deProgram[k] = v
	}
	// lastDay is the last day of a challenge whose end is the midnight
	// after it.
	funcs["lastDay"] = func(end time.Time) time.Time { return end.Add(-time.Nanosecond) }
}

// challengesDE is the German catalog of the challenge pages.
var challengesDE = map[string]string{
	"Challenges":                         "Challenges",
	"Quests":                             "Quests",
	"No active challenges right now.":    "Gerade laufen keine Challenges.",
	"No quests for you right now.":       "Gerade gibt es keine Quests für Sie.",
	"provisional":                        "vorläufig",
	"final":                              "endgültig",
	"running":                            "läuft",
	"upcoming":                           "demnächst",
	"finalizing":                         "wird abgeschlossen",
	"ended":                              "beendet",
	"Your team":                          "Ihr Team",
	"You":                                "Sie",
	"Place":                              "Platz",
	"Goal":                               "Ziel",
	"Reward":                             "Belohnung",
	"Winner":                             "Gewinner",
	"Completed on %s":                    "Abgeschlossen am %s",
	"%d of %d steps done":                "%d von %d Schritten erledigt",
	"%s points":                          "%s Punkte",
	"Not ranked yet: it counts from %s.": "Noch nicht platziert: Es zählt ab %s.",
	"Ends %s; final on %s.":              "Endet am %s; endgültig am %s.",
	"Status":                             "Status",
	"Kind":                               "Art",
	"Dates":                              "Zeitraum",
	"Taking part":                        "Teilnehmende",
	"Winners or leaders":                 "Gewinner oder Führende",
	"quest":                              "Quest",
	"challenge":                          "Challenge",
	"For %s only":                        "Nur für %s",
	"%d completed":                       "%d abgeschlossen",
}

// challengesDEProgram is the German of the program parser's challenge
// problems.
var challengesDEProgram = map[string]string{
	"%s is only used by challenges that rank a metric; a quest rewards everyone who completes its steps":                                                    "%s gilt nur für Challenges, die eine Kennzahl werten; eine Quest belohnt alle, die ihre Schritte abschließen",
	"badge %q is awarded by its own rule (on, metric or steps); a challenge's reward badge has none, so only challenges award it (define a separate badge)": "Abzeichen %q wird nach eigener Regel vergeben (on, metric oder steps); das Belohnungsabzeichen einer Challenge hat keine, damit nur Challenges es vergeben (legen Sie ein eigenes Abzeichen an)",
	"role limits a quest to members with that role; a quest for partners has no role (drop role or use for: member)":                                        "role beschränkt eine Quest auf Mitglieder mit dieser Rolle; eine Quest für Partner hat keine Rolle (role entfernen oder for: member verwenden)",
}
