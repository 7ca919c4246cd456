package engine

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// Challenges (SPEC §3–4) come in two shapes.
//
// A metric challenge ranks members or partners (a partner's value counts
// its members' events) by a metric over [starts, ends). Until the
// finalization instant F = ends + finalize_after its standings are
// provisional; from F on they are final, and the winners get the reward:
// the top `winners` places overall and the top `winners` places within
// each cohort (the cohort a partner was in when the challenge started;
// ties share a place), only those who reached the goal when there is one
// (`winners: 0` with a goal: everyone who reached it). A subject gets the
// reward once per challenge, however many places it won.
//
// The final result is a function of the log: it counts the events whose
// first record was received at or before F. An event first received later
// still counts in metrics, leaderboards and the live value, never in the
// result, so a late event never changes winners. A correction or
// retraction of an event the result counted does change it (principle 1:
// correct the record and the points follow); the reward then moves, and
// the event's effects show it. The engine learns the clock passed F from
// SetNow (the service ticks it every minute and on every write) and from
// EndBulk; a rebuild later gives the same result and the same rewards.
//
// Reward points are ordinary ledger awards with rule "challenge:<id>" at F,
// attached to the winner's last counted event; the reward badge is held
// from F (see syncRewardBadge).
//
// A quest is a challenge with steps. It is kept as a step badge of its own
// (badgeDefs past the program's badges): steps, window, order and role
// work exactly as for step badges, limited to events inside [starts,
// ends). Its completion is a subject's reward, at the completing event's
// occurred_at, and is taken back when a retraction or correction undoes
// the completion.

// challengeRule is the rule column of a challenge's reward points.
func challengeRule(id string) string { return "challenge:" + id }

// isChallengeAward reports whether an award is a challenge's reward.
func isChallengeAward(a *Award) bool { return strings.HasPrefix(a.Rule, "challenge:") }

// finalAt is when a challenge's standings become final.
func finalAt(c *program.Challenge) time.Time { return c.Ends.Add(c.FinalizeAfter) }

// indexQuests appends a step badge per quest of the newest program to its
// badges.
func (e *Engine) indexQuests() {
	e.badgeDefs, e.questOf, e.finals = nil, nil, 0
	if e.cur == nil {
		return
	}
	e.badgeDefs = append(e.badgeDefs, e.cur.Badges...)
	e.questOf = make([]*program.Challenge, len(e.cur.Badges))
	for _, c := range e.cur.Challenges {
		if len(c.Steps) == 0 {
			if c.Metric != "" {
				e.finals++
			}
			continue
		}
		from := c.From
		if c.Within == 0 {
			from = "first_step" // no window but the quest's dates: joined_at plays no part
		}
		e.badgeDefs = append(e.badgeDefs, &program.Badge{ID: c.ID, Name: c.Name, For: c.For, Steps: c.Steps,
			Within: c.Within, From: from, Ordered: c.Ordered, Role: c.Role, Points: c.Reward.Points, Line: c.Line})
		e.questOf = append(e.questOf, c)
	}
}

// isQuest reports whether a holding is a quest's, not a badge's.
func (e *Engine) isQuest(h *holding) bool { return h.idx < len(e.questOf) && e.questOf[h.idx] != nil }

// questCounts reports whether an event may count for badge definition i:
// always for a badge, inside the quest's dates for a quest.
func (e *Engine) questCounts(i int, ev *eventState) bool {
	if i >= len(e.questOf) || e.questOf[i] == nil {
		return true
	}
	q := e.questOf[i]
	return ev.at >= q.Starts.UnixNano() && ev.at < q.Ends.UnixNano()
}

// questChanged follows a quest holding's change to its reward badge.
func (e *Engine) questChanged(h *holding) {
	if !e.isQuest(h) {
		return
	}
	if q := e.questOf[h.idx]; q.Reward.Badge != "" {
		e.syncRewardBadge(h.subj, q.Reward.Badge)
	}
}

// challengeResult is a metric challenge's final result.
type challengeResult struct {
	c       *program.Challenge
	at      int64 // F, unix nanos
	rows    []standingRow
	winners []winner
	// onTime: some event of the window had arrived by F, so later
	// arrivals are late; false when its history came after F.
	onTime bool
}

// winner is a subject a final result rewards.
type winner struct {
	subj   any
	row    int // index in rows
	ev     *eventState
	reason string
	award  *Award
}

// standingRow is one subject's standing in a metric challenge.
type standingRow struct {
	subj        any
	id          string
	value       float64
	at          int64 // when it reached the value
	cohort      string
	place       int
	cohortPlace int
	reached     bool // the goal, when there is one
	winner      bool
	last        []uint32 // the handles of its last counted contributions' events (same occurred_at)
	lastAt      int64
	lastAward   *Award // points challenges: its last counted award
}

// refinalize recomputes the final results after a record changed an event
// that occurred (before or after the record) inside a final challenge, or,
// for a challenge on points, an event in a rule's stream (caps and once-per
// keys) that has events in the window after it: their points may have
// moved. streams are the event's streams before the record.
func (e *Engine) refinalize(oldAt int64, streams []*stream, ev *eventState) {
	if !e.boardsLive || e.cur == nil {
		return
	}
	now := e.now.UnixNano()
	streams = append(streams, ev.streams()...)
	for _, c := range e.cur.Challenges {
		f := nanos(finalAt(c))
		if c.Metric == "" || f > now {
			continue
		}
		s, t := c.Starts.UnixNano(), c.Ends.UnixNano()
		if len(streams) > 0 && e.cur.Metric(c.Metric).Kind == program.MetricPoints {
			lo := ev.at
			if oldAt != math.MinInt64 {
				lo = min(oldAt, ev.at)
			}
			from := max(s, lo)
			for _, st := range streams {
				i := sort.Search(len(st.evs), func(i int) bool { return st.evs[i].at >= from })
				if i < len(st.evs) && st.evs[i].at < t {
					e.finalizeChallenges()
					return
				}
			}
		}
		if res := e.results[c.ID]; ev.recv > f && res != nil && res.onTime {
			continue // a late event counts in no result and moves no other event's value
		}
		if oldAt >= s && oldAt < t || ev.at >= s && ev.at < t {
			e.finalizeChallenges()
			return
		}
	}
}

// finalizeChallenges brings the final results of the challenges whose
// finalization instant has passed up to date, granting and taking back
// rewards where the winners changed.
func (e *Engine) finalizeChallenges() {
	if !e.boardsLive || e.cur == nil || e.finals == 0 {
		return
	}
	if e.results == nil {
		e.results = map[string]*challengeResult{}
	}
	// A reward badge a result no longer gives is not written down as
	// revoked: a rebuild finalizes once, from the whole log, and could not
	// tell the history of results in between.
	on := e.pending.on
	e.pending.on = false
	defer func() { e.pending.on = on }()
	for _, c := range e.cur.Challenges {
		if c.Metric == "" || e.now.Before(finalAt(c)) {
			continue
		}
		res := e.finalResult(c)
		old := e.results[c.ID]
		if old != nil && sameWinners(old, res) {
			for i := range res.winners {
				res.winners[i].award = old.winners[i].award
			}
			e.results[c.ID] = res
			continue
		}
		var touched []any
		if old != nil {
			for _, w := range old.winners {
				if w.award != nil {
					e.removeAward(w.award)
				}
				touched = append(touched, w.subj)
			}
		}
		e.results[c.ID] = res
		for i := range res.winners {
			w := &res.winners[i]
			if c.Reward.Points > 0 {
				w.award = e.rewardAward(c, res.at, w)
				e.addAward(w.award)
			}
			touched = append(touched, w.subj)
		}
		if c.Reward.Badge != "" {
			for _, s := range touched {
				e.syncRewardBadge(s, c.Reward.Badge)
			}
		}
	}
}

func sameWinners(a, b *challengeResult) bool {
	return slices.EqualFunc(a.winners, b.winners, func(x, y winner) bool {
		return x.subj == y.subj && x.ev == y.ev && x.reason == y.reason
	})
}

// rewardAward is a winner's reward points: a ledger entry at F, for the
// partner its last counted event was for.
func (e *Engine) rewardAward(c *program.Challenge, at int64, w *winner) *Award {
	v := e.versionAt(at)
	a := &Award{Event: w.ev, Rule: challengeRule(c.ID), Version: v.N, Partner: e.partnerOf(w.ev),
		Points: c.Reward.Points, Requested: c.Reward.Points, At: at, Expires: expiresAt(v, at), Note: w.reason}
	if m, ok := w.subj.(*memberState); ok {
		a.Member = m
	}
	return a
}

// finalResult computes a challenge's final standings and winners.
func (e *Engine) finalResult(c *program.Challenge) *challengeResult {
	f := nanos(finalAt(c))
	rows, onTime := e.challengeRows(c, c.Ends.UnixNano(), f)
	res := &challengeResult{c: c, at: f, rows: rows, onTime: onTime}
	for i := range rows {
		r := &rows[i]
		if !r.winner {
			continue
		}
		w := winner{subj: r.subj, row: i, reason: placeReason(c, r)}
		if r.lastAward != nil {
			w.ev = r.lastAward.Event
		} else {
			// The last in the order of occurred_at, then id.
			for _, h := range r.last {
				if ev := e.subjectEvent(r.subj, h); ev != nil && (w.ev == nil || w.ev.id < ev.id) {
					w.ev = ev
				}
			}
		}
		if w.ev == nil || e.partnerOf(w.ev) == nil {
			continue
		}
		res.winners = append(res.winners, w)
	}
	return res
}

// placeReason says why a row won: "1st place", "2nd place in smb".
func placeReason(c *program.Challenge, r *standingRow) string {
	var parts []string
	if c.Winners > 0 && r.place <= c.Winners {
		parts = append(parts, ordinal(r.place)+" place")
	}
	if c.Cohort != "" && c.Winners > 0 && r.cohortPlace <= c.Winners && r.cohortPlace > 0 {
		parts = append(parts, ordinal(r.cohortPlace)+" place in "+r.cohort)
	}
	if len(parts) == 0 {
		parts = append(parts, "goal reached")
	}
	return c.Name + ": " + strings.Join(parts, ", ")
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// challengeRows computes a metric challenge's standings over [starts,
// end): every subject with a value, best first, with its places and
// whether it wins. When received is not 0, events first received after it
// do not count (the final result).
func (e *Engine) challengeRows(c *program.Challenge, end, received int64) (rows []standingRow, onTime bool) {
	m := e.cur.Metric(c.Metric)
	if m == nil {
		return nil, false
	}
	from := c.Starts.UnixNano()
	end = min(end, c.Ends.UnixNano())
	var late map[uint32]bool
	if received != 0 {
		arrived := 0
		for ev := range e.events.all {
			if ev.at < from || ev.at >= end || !ev.live() {
				continue
			}
			if ev.recv <= received {
				arrived++
				continue
			}
			if late == nil {
				late = map[uint32]bool{}
			}
			late[ev.h] = true
		}
		if arrived == 0 {
			// Nothing of the window had arrived by F: the challenge's
			// history was loaded afterwards (an import), so all of it
			// counts.
			late = nil
		}
		onTime = arrived > 0
	}
	add := func(subj any, id string, p *partnerState) {
		r, ok := e.challengeValue(subj, m, from, end, received, late)
		if !ok {
			return
		}
		r.subj, r.id = subj, id
		if c.Cohort != "" && p != nil {
			r.cohort = e.cohortValue(c.Cohort, p, from)
		}
		rows = append(rows, r)
	}
	if c.For == program.SubjectPartner {
		for _, p := range e.partnerByHandle {
			add(p, p.id, p)
		}
	} else {
		for _, ms := range e.memberByHandle {
			p := e.partners[ms.m.PartnerAt(c.Starts)]
			if p == nil {
				p = e.partners[ms.m.Partner]
			}
			add(ms, ms.m.ID, p)
		}
	}
	slices.SortFunc(rows, func(a, b standingRow) int {
		if c := cmp.Compare(b.value, a.value); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	cohortSeen := map[string]int{}    // rows seen per cohort
	cohortLast := map[string][2]int{} // per cohort: last value's place, as [place, index]
	for i := range rows {
		r := &rows[i]
		if i > 0 && rows[i-1].value == r.value {
			r.place = rows[i-1].place
		} else {
			r.place = i + 1
		}
		if c.Cohort != "" {
			n := cohortSeen[r.cohort]
			last, seen := cohortLast[r.cohort]
			if seen && rows[last[1]].value == r.value {
				r.cohortPlace = last[0]
			} else {
				r.cohortPlace = n + 1
			}
			cohortSeen[r.cohort] = n + 1
			cohortLast[r.cohort] = [2]int{r.cohortPlace, i}
		}
		r.reached = c.Goal == nil || r.value >= *c.Goal
		switch {
		case !r.reached:
		case c.Winners == 0:
			r.winner = c.Goal != nil
		default:
			r.winner = r.place <= c.Winners || c.Cohort != "" && r.cohortPlace <= c.Winners
		}
	}
	return rows, onTime
}

// challengeValue computes one subject's value in a challenge over [from,
// to), without the late events (and, for points, without challenge
// rewards and badge bonuses, which a challenge cannot earn itself).
func (e *Engine) challengeValue(subj any, m *program.Metric, from, to, received int64, late map[uint32]bool) (standingRow, bool) {
	var r standingRow
	track := func(p point) {
		switch {
		case len(r.last) == 0 || p.at > r.lastAt:
			r.lastAt, r.last = p.at, append(r.last[:0], p.ev)
		case p.at == r.lastAt && !slices.Contains(r.last, p.ev):
			r.last = append(r.last, p.ev)
		}
	}
	if m.Kind == program.MetricPoints {
		var a agg
		for aw := range subjectAwards(subj).window(from, to) {
			if isBadgeAward(aw) || isChallengeAward(aw) || received != 0 && aw.Event.recv > received {
				continue
			}
			a.add(point{at: aw.At, v: aw.Points * micro}, program.MetricPoints)
			if r.lastAward == nil || r.lastAward.before(aw) {
				r.lastAward = aw
			}
		}
		v, ok := a.value(m.Kind)
		r.value, r.at = v, a.at
		return r, ok
	}
	ser := subjectSeries(subj)
	window := func(slot int, kind program.MetricKind) agg {
		var a agg
		for p := range ser[slot].window(from, to) {
			if late[p.ev] {
				continue
			}
			a.add(p, kind)
			track(p)
		}
		return a
	}
	var v float64
	var ok bool
	var at int64
	if m.Kind == program.MetricRatio {
		num := window(e.metricIdx[m.Num], e.cur.Metrics[m.Num].Kind)
		den := window(e.metricIdx[m.Den], e.cur.Metrics[m.Den].Kind)
		v, ok = e.ratioValue(m, &num, &den)
		at = max(num.at, den.at)
	} else {
		a := window(e.metricIdx[m.Name], m.Kind)
		v, ok = a.value(m.Kind)
		at = a.at
	}
	r.value, r.at = v, at
	return r, ok
}

// rewardGrant is one reason a subject holds a challenge's reward badge.
type rewardGrant struct {
	at        int64
	ev        *eventState
	challenge string
	evidence  string
}

// syncRewardBadge settles a subject's holding of a badge that challenges
// give: held from the earliest completed quest or final win that rewards
// it. A badge with its own criteria (on, metric or steps) is awarded by
// them alone.
func (e *Engine) syncRewardBadge(subj any, badge string) {
	bi := slices.IndexFunc(e.cur.Badges, func(b *program.Badge) bool { return b.ID == badge })
	if bi < 0 {
		return
	}
	b := e.cur.Badges[bi]
	if len(b.On) > 0 || len(b.Steps) > 0 || b.Metric != "" {
		return
	}
	var grants []rewardGrant
	for i, q := range e.questOf {
		if q == nil || q.Reward.Badge != badge {
			continue
		}
		if h := e.heldQuest(subj, i); h != nil && len(h.held) > 0 {
			grants = append(grants, rewardGrant{at: h.held[0].at, ev: h.held[0].ev, challenge: q.ID, evidence: q.Name + ": completed"})
		}
	}
	for _, res := range e.results {
		if res.c.Reward.Badge != badge {
			continue
		}
		for _, w := range res.winners {
			if w.subj == subj {
				grants = append(grants, rewardGrant{at: res.at, ev: w.ev, challenge: res.c.ID, evidence: w.reason})
			}
		}
	}
	var now []heldLevel
	if len(grants) > 0 {
		g := slices.MinFunc(grants, func(x, y rewardGrant) int {
			if c := cmp.Compare(x.at, y.at); c != 0 {
				return c
			}
			return strings.Compare(x.challenge, y.challenge)
		})
		now = []heldLevel{{at: g.at, ev: g.ev, evidence: g.evidence}}
	}
	h := e.heldQuest(subj, bi)
	if h == nil && now == nil {
		return
	}
	if h == nil {
		h = e.holdingOf(subj, bi)
	}
	e.setHeld(h, now)
}

// heldQuest returns a subject's holding of badge definition i, nil when it
// has none.
func (e *Engine) heldQuest(subj any, i int) *holding {
	var hs []*holding
	switch s := subj.(type) {
	case *memberState:
		hs = s.holds
	case *partnerState:
		hs = s.holds
	}
	if i < len(hs) {
		return hs[i]
	}
	return nil
}

// ChallengeStatus is where a challenge is in its life as of a time.
type ChallengeStatus string

// The challenge statuses.
const (
	ChallengeUpcoming   ChallengeStatus = "upcoming"   // before starts
	ChallengeRunning    ChallengeStatus = "running"    // between starts and ends
	ChallengeFinalizing ChallengeStatus = "finalizing" // ended; late events still count
	ChallengeFinal      ChallengeStatus = "final"      // finalized: winners rewarded
	ChallengeEnded      ChallengeStatus = "ended"      // a quest past its end
)

// ChallengeInfo describes a challenge as of a time.
type ChallengeInfo struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Kind        string          `json:"kind"` // challenge | quest
	For         string          `json:"for"`
	Metric      string          `json:"metric,omitempty"`
	Goal        *float64        `json:"goal,omitempty"`
	Cohort      string          `json:"cohort,omitempty"`
	Winners     int             `json:"winners"`
	Role        string          `json:"role,omitempty"`
	Starts      time.Time       `json:"starts"`
	Ends        time.Time       `json:"ends"` // the first instant after the last day
	FinalizesAt time.Time       `json:"finalizes_at,omitzero"`
	Status      ChallengeStatus `json:"status"`
	Provisional bool            `json:"provisional"`
	Reward      RewardInfo      `json:"reward"`
	Steps       []StepInfo      `json:"steps,omitempty"`
	Within      string          `json:"within,omitempty"`
	From        string          `json:"from,omitempty"`
	Ordered     bool            `json:"ordered,omitempty"`
}

// RewardInfo is what a challenge gives its winners.
type RewardInfo struct {
	Points int64  `json:"points,omitempty"`
	Badge  string `json:"badge,omitempty"`
}

// StepInfo is one step of a quest, with a subject's progress on it when
// read for one.
type StepInfo struct {
	Type  string `json:"type"`
	Where string `json:"where,omitempty"`
	Count int    `json:"count"`
	Done  int    `json:"done"`
}

// info describes a challenge as of t.
func (e *Engine) info(c *program.Challenge, t time.Time) ChallengeInfo {
	ci := ChallengeInfo{ID: c.ID, Name: c.Name, Description: c.Description, Kind: "challenge", For: string(c.For),
		Metric: c.Metric, Goal: c.Goal, Cohort: c.Cohort, Winners: c.Winners, Role: c.Role, Starts: c.Starts, Ends: c.Ends,
		Reward: RewardInfo{Points: c.Reward.Points, Badge: c.Reward.Badge}}
	switch {
	case t.Before(c.Starts):
		ci.Status = ChallengeUpcoming
	case t.Before(c.Ends):
		ci.Status = ChallengeRunning
	}
	if len(c.Steps) > 0 {
		ci.Kind, ci.Winners, ci.Ordered, ci.From = "quest", 0, c.Ordered, c.From
		if c.Within > 0 {
			ci.Within = formatWithin(c.Within)
		}
		for _, s := range c.Steps {
			si := StepInfo{Type: s.Type, Count: s.Count}
			if s.Where != nil {
				si.Where = s.Where.Source
			}
			ci.Steps = append(ci.Steps, si)
		}
		if ci.Status == "" {
			ci.Status = ChallengeEnded
		}
		return ci
	}
	ci.FinalizesAt = finalAt(c)
	if ci.Status == "" {
		ci.Status = ChallengeFinalizing
		if !t.Before(ci.FinalizesAt) {
			ci.Status = ChallengeFinal
		}
	}
	ci.Provisional = ci.Status != ChallengeFinal
	return ci
}

// formatWithin writes a quest's window: whole days as "14d".
func formatWithin(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// Challenges lists the newest program's challenges and quests as of t
// (zero: now), in program order.
func (e *Engine) Challenges(t time.Time) []ChallengeInfo {
	out := []ChallengeInfo{}
	if e.cur == nil {
		return out
	}
	at := e.asOf(t)
	for _, c := range e.cur.Challenges {
		out = append(out, e.info(c, at))
	}
	return out
}

// ChallengeQuery selects a page of a challenge's standings.
type ChallengeQuery struct {
	Cohort string    // only this cohort's rows
	Limit  int       // default 20, at most 1000
	Offset int       // rows to skip
	AsOf   time.Time // zero: now
}

// ChallengeEntry is one subject's row in a challenge's standings.
type ChallengeEntry struct {
	Place       int        `json:"place"`
	CohortPlace int        `json:"cohort_place,omitempty"`
	Subject     string     `json:"subject"`
	Name        string     `json:"name"`
	Partner     string     `json:"partner"`
	Cohort      string     `json:"cohort,omitempty"`
	Value       float64    `json:"value"`
	Reached     bool       `json:"reached"` // the goal; true without one
	Winner      bool       `json:"winner"`  // wins (final) or would win now (provisional)
	Done        int        `json:"done,omitempty"`
	Steps       []StepInfo `json:"steps,omitempty"`
	CompletedAt time.Time  `json:"completed_at,omitzero"`
}

// CohortWinners are the winners within one cohort.
type CohortWinners struct {
	Cohort  string   `json:"cohort"`
	Winners []string `json:"winners"`
}

// ChallengeStandings is a challenge's standings as of a time.
type ChallengeStandings struct {
	ChallengeInfo
	AsOf    time.Time        `json:"as_of"`
	Total   int              `json:"total"`
	Entries []ChallengeEntry `json:"entries"`
	// Winners overall and per cohort: final once the status is final,
	// who would win if it ended now before.
	Winners       []string        `json:"winners"`
	CohortWinners []CohortWinners `json:"cohort_winners,omitempty"`
}

// findChallenge returns a challenge of the newest program by id.
func (e *Engine) findChallenge(id string) (*program.Challenge, error) {
	if e.cur == nil {
		return nil, rung.Errorf(rung.ENOTFOUND, "challenge %q not found: no program is applied yet", id)
	}
	for _, c := range e.cur.Challenges {
		if c.ID == id {
			return c, nil
		}
	}
	ids := make([]string, 0, len(e.cur.Challenges))
	for _, c := range e.cur.Challenges {
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		return nil, rung.Errorf(rung.ENOTFOUND, "challenge %q not found: the program defines no challenges", id)
	}
	return nil, rung.Errorf(rung.ENOTFOUND, "challenge %q not found: the program defines %s", id, strings.Join(ids, ", "))
}

// rowsAt returns a metric challenge's standings as of t: the final result
// from F on, the provisional standings (what occurred by t) before.
func (e *Engine) rowsAt(c *program.Challenge, t time.Time) []standingRow {
	if !t.Before(finalAt(c)) {
		if res := e.results[c.ID]; res != nil && !e.now.Before(finalAt(c)) {
			return res.rows
		}
		rows, _ := e.challengeRows(c, c.Ends.UnixNano(), nanos(finalAt(c)))
		return rows
	}
	if t.Before(c.Starts) {
		return nil
	}
	rows, _ := e.challengeRows(c, t.UnixNano()+1, 0)
	return rows
}

// Challenge returns a challenge's standings as of q.AsOf: for a metric
// challenge the ranked subjects, for a quest the subjects that made a step,
// those done first.
func (e *Engine) Challenge(id string, q ChallengeQuery) (ChallengeStandings, error) {
	c, err := e.findChallenge(id)
	if err != nil {
		return ChallengeStandings{}, err
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 1000)
	q.Offset = max(q.Offset, 0)
	if q.Cohort != "" && c.Cohort == "" {
		return ChallengeStandings{}, rung.Errorf(rung.EINVALID, "challenge %q has no cohorts; drop the cohort parameter", id)
	}
	t := e.asOf(q.AsOf)
	cs := ChallengeStandings{ChallengeInfo: e.info(c, t), AsOf: t, Entries: []ChallengeEntry{}, Winners: []string{}}
	var all []ChallengeEntry
	if len(c.Steps) > 0 {
		all = e.questEntries(c, t)
	} else {
		rows := e.rowsAt(c, t)
		byCohort := map[string][]string{}
		for i := range rows {
			r := &rows[i]
			en := e.challengeEntry(r)
			if r.winner {
				if c.Winners == 0 || r.place <= c.Winners {
					cs.Winners = append(cs.Winners, r.id)
				}
				if c.Cohort != "" && (c.Winners == 0 || r.cohortPlace <= c.Winners) {
					byCohort[r.cohort] = append(byCohort[r.cohort], r.id)
				}
			}
			all = append(all, en)
		}
		for _, k := range sortedKeys(byCohort) {
			cs.CohortWinners = append(cs.CohortWinners, CohortWinners{Cohort: k, Winners: byCohort[k]})
		}
	}
	if q.Cohort != "" {
		all = slices.DeleteFunc(all, func(en ChallengeEntry) bool { return en.Cohort != q.Cohort })
	}
	cs.Total = len(all)
	if q.Offset < len(all) {
		cs.Entries = append(cs.Entries, all[q.Offset:min(len(all), q.Offset+q.Limit)]...)
	}
	return cs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// challengeEntry names a standing row.
func (e *Engine) challengeEntry(r *standingRow) ChallengeEntry {
	en := ChallengeEntry{Place: r.place, CohortPlace: r.cohortPlace, Subject: r.id, Cohort: r.cohort, Value: r.value, Reached: r.reached, Winner: r.winner}
	switch s := r.subj.(type) {
	case *memberState:
		en.Name, en.Partner = s.m.Name, s.m.Partner
	case *partnerState:
		en.Name, en.Partner = s.latest().Name, s.id
	}
	return en
}

// questEntries returns every subject's progress on a quest as of t, those
// done first (by completion time), then by steps done.
func (e *Engine) questEntries(c *program.Challenge, t time.Time) []ChallengeEntry {
	qi := slices.Index(e.questOf, c)
	if qi < 0 {
		return nil
	}
	var out []ChallengeEntry
	each := func(subj any, holds []*holding) {
		if qi >= len(holds) || holds[qi] == nil || len(holds[qi].cands) == 0 {
			return
		}
		en := e.questProgress(holds[qi], c, t)
		if en.Done == 0 && en.CompletedAt.IsZero() {
			return
		}
		en.Subject, _ = subjectKey(subj)
		switch s := subj.(type) {
		case *memberState:
			en.Name, en.Partner = s.m.Name, s.m.Partner
		case *partnerState:
			en.Name, en.Partner = s.latest().Name, s.id
		}
		out = append(out, en)
	}
	if c.For == program.SubjectPartner {
		for _, p := range e.partnerByHandle {
			each(p, p.holds)
		}
	} else {
		for _, m := range e.memberByHandle {
			each(m, m.holds)
		}
	}
	slices.SortFunc(out, func(a, b ChallengeEntry) int {
		switch {
		case !a.CompletedAt.IsZero() && b.CompletedAt.IsZero():
			return -1
		case a.CompletedAt.IsZero() && !b.CompletedAt.IsZero():
			return 1
		}
		if c := a.CompletedAt.Compare(b.CompletedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Done, a.Done); c != 0 {
			return c
		}
		return strings.Compare(a.Subject, b.Subject)
	})
	for i := range out {
		out[i].Place = i + 1
		if i > 0 && out[i].CompletedAt.Equal(out[i-1].CompletedAt) && out[i].Done == out[i-1].Done {
			out[i].Place = out[i-1].Place
		}
	}
	return out
}

// questProgress is a quest holding's checklist as of t: per step, the
// events counted toward it in the window (the one the quest completed in,
// or the one still open), and when it was completed.
func (e *Engine) questProgress(h *holding, c *program.Challenge, t time.Time) ChallengeEntry {
	b := h.badge
	tn := t.UnixNano()
	en := ChallengeEntry{Steps: make([]StepInfo, len(b.Steps))}
	for i, s := range b.Steps {
		en.Steps[i] = StepInfo{Type: s.Type, Count: s.Count}
		if s.Where != nil {
			en.Steps[i].Where = s.Where.Source
		}
	}
	if len(h.held) > 0 && h.held[0].at <= tn {
		en.CompletedAt = unixTime(h.held[0].at)
		en.Reached, en.Winner = true, true
		for i := range en.Steps {
			en.Steps[i].Done = en.Steps[i].Count
		}
		en.Done, en.Value = len(b.Steps), float64(len(b.Steps))
		return en
	}
	from, to, ok := e.joinedWindowRead(h)
	if !ok {
		from, to = math.MinInt64, math.MaxInt64
		for _, cd := range h.cands {
			if cd.ev.at > tn {
				break
			}
			if !b.Ordered || cd.steps&1 != 0 {
				from = cd.ev.at
				to = e.stepDeadline(b, from)
				break
			}
		}
		// The first step's window may have passed: count from the
		// latest start that still has room, so progress shows what can
		// still complete.
		if to < tn {
			for _, cd := range h.cands {
				if cd.ev.at > tn {
					break
				}
				if (!b.Ordered || cd.steps&1 != 0) && e.stepDeadline(b, cd.ev.at) >= tn {
					from, to = cd.ev.at, e.stepDeadline(b, cd.ev.at)
					break
				}
			}
		}
	}
	n := min(len(b.Steps), 64)
	k := 0
	for _, cd := range h.cands {
		if cd.ev.at < from || cd.ev.at > tn {
			continue
		}
		if cd.ev.at > to {
			break
		}
		if b.Ordered {
			if k < n && cd.steps&(1<<k) != 0 {
				en.Steps[k].Done++
				if en.Steps[k].Done == b.Steps[k].Count {
					k++
				}
			}
			continue
		}
		for si := range n {
			if cd.steps&(1<<si) != 0 && en.Steps[si].Done < b.Steps[si].Count {
				en.Steps[si].Done++
			}
		}
	}
	for _, s := range en.Steps {
		if s.Done >= s.Count {
			en.Done++
		}
	}
	en.Value = float64(en.Done)
	if !roleOK(h) {
		en.Done, en.Value = 0, 0
	}
	return en
}

// joinedWindowRead is joinedWindow without its cache: reads share a read
// lock and must not write.
func (e *Engine) joinedWindowRead(h *holding) (from, to int64, ok bool) {
	if h.badge.From == "first_step" {
		return 0, 0, false
	}
	j := joinedAt(h.subj)
	if j == 0 {
		return math.MaxInt64, math.MinInt64, true
	}
	return j, e.stepDeadline(h.badge, j), true
}

// challengeCards reports the subject's standing in every challenge and
// quest for its kind that had started by t (SPEC §5): for a challenge its
// value, the goal and its place (ties share it); for a quest the steps
// done, of how many.
func (e *Engine) challengeCards(subj any, member bool, t time.Time) []ChallengeCard {
	out := []ChallengeCard{}
	if e.cur == nil {
		return out
	}
	for _, c := range e.cur.Challenges {
		if (c.For == program.SubjectMember) != member || t.Before(c.Starts) {
			continue
		}
		info := e.info(c, t)
		cc := ChallengeCard{ID: c.ID, Name: c.Name, Goal: c.Goal, Kind: info.Kind, Status: string(info.Status), Final: info.Status == ChallengeFinal}
		if len(c.Steps) > 0 {
			if m, ok := subj.(*memberState); ok && c.Role != "" && m.m.Role != c.Role {
				continue // a learning track for another role
			}
			g := float64(len(c.Steps))
			cc.Goal = &g
			qi := slices.Index(e.questOf, c)
			if h := e.heldQuest(subj, qi); h != nil && qi >= 0 {
				en := e.questProgress(h, c, t)
				cc.Value, cc.Steps, cc.CompletedAt, cc.Won = en.Value, en.Steps, en.CompletedAt, !en.CompletedAt.IsZero()
			} else {
				for _, s := range c.Steps {
					cc.Steps = append(cc.Steps, StepInfo{Type: s.Type, Count: s.Count})
				}
			}
			out = append(out, cc)
			continue
		}
		for _, r := range e.rowsAt(c, t) {
			if r.subj == subj {
				cc.Value, cc.Rank, cc.CohortRank, cc.Cohort, cc.Won = r.value, r.place, r.cohortPlace, r.cohort, r.winner && cc.Final
				break
			}
		}
		out = append(out, cc)
	}
	return out
}

// ChallengeEffect is a challenge result or quest completion an event
// carries: the event that completed a quest, or a winner's last counted
// event.
type ChallengeEffect struct {
	Challenge string    `json:"challenge"`
	Name      string    `json:"name"`
	Subject   string    `json:"subject"`
	Kind      string    `json:"subject_kind"`
	Change    string    `json:"change"` // won | completed
	At        time.Time `json:"at"`
	Reason    string    `json:"reason,omitempty"`
	Points    int64     `json:"points,omitempty"`
}

// challengeEffects returns the challenge results an event carries, and the
// reward awards with them.
func (e *Engine) challengeEffects(ev *eventState) (out []ChallengeEffect, awards []*Award) {
	for _, id := range sortedKeys(e.results) {
		res := e.results[id]
		for _, w := range res.winners {
			if w.ev != ev {
				continue
			}
			ce := ChallengeEffect{Challenge: id, Name: res.c.Name, Change: "won", At: unixTime(res.at), Reason: w.reason}
			ce.Subject, ce.Kind = subjectKey(w.subj)
			if w.award != nil {
				ce.Points = w.award.Points
				awards = append(awards, w.award)
			}
			out = append(out, ce)
		}
	}
	for _, subj := range []any{e.memberOf(ev), e.partnerOf(ev)} {
		var holds []*holding
		switch s := subj.(type) {
		case *memberState:
			if s != nil {
				holds = s.holds
			}
		case *partnerState:
			if s != nil {
				holds = s.holds
			}
		}
		for _, h := range holds {
			if h == nil || !e.isQuest(h) || len(h.held) == 0 || h.held[0].ev != ev {
				continue
			}
			ce := ChallengeEffect{Challenge: h.badge.ID, Name: h.badge.Name, Change: "completed", At: unixTime(h.held[0].at)}
			ce.Subject, ce.Kind = subjectKey(subj)
			if a := h.held[0].award; a != nil {
				ce.Points = a.Points
			}
			out = append(out, ce)
		}
	}
	return out, awards
}

// challengeFeed returns the recognition feed's challenge entries at or
// before t: final wins and completed quests.
func (e *Engine) challengeFeed(partner string, t int64) []FeedEntry {
	var out []FeedEntry
	for _, id := range sortedKeys(e.results) {
		res := e.results[id]
		if res.at > t {
			continue
		}
		for _, w := range res.winners {
			if partner != "" && e.partnerOf(w.ev).id != partner {
				continue
			}
			fe := FeedEntry{At: unixTime(res.at), Kind: "challenge", Challenge: id, Event: w.ev.id,
				What: "won " + strings.TrimPrefix(w.reason, res.c.Name+": ") + " in " + res.c.Name}
			e.feedSubject(&fe, w.subj, e.partnerOf(w.ev))
			out = append(out, fe)
		}
	}
	each := func(subj any, holds []*holding) {
		for _, h := range holds {
			if h == nil || !e.isQuest(h) || len(h.held) == 0 {
				continue
			}
			hl := &h.held[0]
			if hl.at > t || partner != "" && e.partnerOf(hl.ev).id != partner {
				continue
			}
			fe := FeedEntry{At: unixTime(hl.at), Kind: "challenge", Challenge: h.badge.ID, Event: hl.ev.id, What: "completed " + h.badge.Name}
			e.feedSubject(&fe, subj, e.partnerOf(hl.ev))
			out = append(out, fe)
		}
	}
	for _, p := range e.partnerByHandle {
		if partner == "" || p.id == partner {
			each(p, p.holds)
		}
	}
	for _, m := range e.memberByHandle {
		each(m, m.holds)
	}
	return out
}

// dumpChallenges writes the final results, for Dump.
func (e *Engine) dumpChallenges(w io.Writer) {
	for _, id := range sortedKeys(e.results) {
		res := e.results[id]
		fmt.Fprintf(w, "challenge %s %d\n", id, res.at)
		for _, r := range res.rows {
			fmt.Fprintf(w, "  %d %d %s %s %g %v\n", r.place, r.cohortPlace, r.id, r.cohort, r.value, r.winner)
		}
		for _, wn := range res.winners {
			id, _ := subjectKey(wn.subj)
			fmt.Fprintf(w, "  winner %s %s %q\n", id, wn.ev.id, wn.reason)
		}
	}
}

// streams returns the rule streams an event is in: its points depend on
// other events' (caps, once-per keys).
func (ev *eventState) streams() []*stream {
	var out []*stream
	for i := range ev.evals() {
		if st := ev.evals()[i].stream; st != nil {
			out = append(out, st)
		}
	}
	return out
}
