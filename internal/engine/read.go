package engine

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// varsCache holds the Vars reused across evaluations.
type varsCache struct {
	v      program.Vars
	event  map[string]any      // reused for every event
	fields program.EventFields // the keys of event the program versions read
	// partner and member: whether some version's expressions read them;
	// when none does, they are left out (nil).
	partner, member bool
}

func (e *Engine) varsFor(ev *eventState, body *rung.Event) *program.Vars {
	v := &e.vars.v
	if e.vars.event == nil {
		e.vars.event = make(map[string]any, 7)
	}
	v.Event = program.FillEventFields(e.vars.event, body, e.vars.fields)
	v.Body = body
	v.Partner, v.Member = nil, nil
	if e.vars.partner {
		v.Partner = e.partnerVars(e.partnerOf(ev), ev.at)
	}
	if ev.m != 0 && e.vars.member {
		if e.memberOf(ev).vars == nil {
			e.memberOf(ev).vars = program.MemberVars(&e.memberOf(ev).m)
		}
		v.Member = e.memberOf(ev).vars
	}
	return v
}

func (e *Engine) partnerVars(p *partnerState, t int64) map[string]any {
	i := p.at(t)
	if p.vars == nil {
		p.vars = map[int]map[string]any{}
	}
	// Keyed by version and tier: the tier moves within a version.
	tier := e.tierAt(p, t)
	k := i<<8 | (e.tierRankOf(tier) + 1)
	pv := p.vars[k]
	if pv == nil {
		pv = program.PartnerVars(&p.versions[i].Partner, tier)
		p.vars[k] = pv
	}
	return pv
}

// AddAdjustment records an admin's grant or deduction.
func (e *Engine) AddAdjustment(a rung.Adjustment) {
	p := e.partners[a.Partner]
	if p == nil {
		return
	}
	p.adjusts = append(p.adjusts, a)
	if m := e.members[a.Member]; m != nil && a.Member != "" {
		m.adjusts = append(m.adjusts, a)
	}
}

// Expiring is points that will expire at a time unless spent first.
type Expiring struct {
	Points int64     `json:"points"`
	At     time.Time `json:"at"`
}

// Points is a subject's points summary.
type Points struct {
	Balance  int64      `json:"balance"`
	Lifetime int64      `json:"lifetime"`
	Expiring []Expiring `json:"expiring"`
}

// lot is points that can be spent until they expire.
type lot struct {
	at, expires int64 // expires 0: never
	left        int64
}

// points computes balance, lifetime and expiring lots as of t. Awards and
// grants are lots; deductions and redemptions (rewards.go) spend the
// oldest-expiring unexpired points first (points that never expire last).
func (e *Engine) points(awards *awardList, adjusts []rung.Adjustment, t int64) Points {
	return e.pointsSpending(awards, adjusts, e.redeemed.spent[awards], t)
}

// pointsSpending is points with the redemptions charged to the subject
// given.
func (e *Engine) pointsSpending(awards *awardList, adjusts []rung.Adjustment, spent []*rung.Redemption, t int64) Points {
	var lots []*lot
	var lifetime int64
	for a := range awards.all() {
		if a.At > t {
			break
		}
		lifetime += a.Points
		lots = append(lots, &lot{at: a.At, expires: a.Expires, left: a.Points})
	}
	debits := spentDebits(spent, t)
	for _, a := range adjusts {
		at := a.OccurredAt.UnixNano()
		if at > t {
			continue
		}
		lifetime += a.Points
		if a.Points > 0 {
			var exp int64
			if e.cur != nil {
				exp = expiresAt(e.versionAt(at), at)
			}
			lots = append(lots, &lot{at: at, expires: exp, left: a.Points})
		} else if a.Points < 0 {
			debits = append(debits, debit{at: at, amt: -a.Points})
		}
	}
	sort.SliceStable(lots, func(i, j int) bool {
		a, b := lots[i], lots[j]
		ea, eb := a.expires, b.expires
		if ea == 0 {
			ea = math.MaxInt64
		}
		if eb == 0 {
			eb = math.MaxInt64
		}
		if ea != eb {
			return ea < eb
		}
		return a.at < b.at
	})
	sort.Slice(debits, func(i, j int) bool { return debits[i].at < debits[j].at })
	var short int64
	for _, d := range debits {
		need := d.amt
		for _, l := range lots {
			if need == 0 {
				break
			}
			if l.at > d.at || (l.expires != 0 && l.expires <= d.at) || l.left == 0 {
				continue
			}
			take := min(need, l.left)
			l.left -= take
			need -= take
		}
		short += need
	}
	out := Points{Lifetime: max(0, lifetime), Expiring: []Expiring{}}
	for _, l := range lots {
		if l.expires != 0 && l.expires <= t {
			continue
		}
		out.Balance += l.left
		if l.expires != 0 && l.left > 0 {
			at := unixTime(l.expires)
			if n := len(out.Expiring); n > 0 && out.Expiring[n-1].At.Equal(at) {
				out.Expiring[n-1].Points += l.left
			} else {
				out.Expiring = append(out.Expiring, Expiring{Points: l.left, At: at})
			}
		}
	}
	out.Balance -= short
	return out
}

// LevelCard is a subject's level and the way to the next.
type LevelCard struct {
	Name     string  `json:"name"`
	Next     string  `json:"next,omitempty"`
	NextAt   int64   `json:"next_at,omitempty"`
	Progress float64 `json:"progress"`
}

func (e *Engine) level(lifetime int64) *LevelCard {
	if e.cur == nil || len(e.cur.Levels) == 0 {
		return nil
	}
	cur, next := e.cur.LevelAt(lifetime)
	lc := &LevelCard{Name: cur.Name, Progress: 1}
	if next != nil {
		lc.Next, lc.NextAt = next.Name, next.At
		lc.Progress = float64(lifetime-cur.At) / float64(next.At-cur.At)
	}
	return lc
}

// ChallengeCard is a subject's standing in a challenge.
type ChallengeCard struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Value       float64    `json:"value"`
	Goal        *float64   `json:"goal,omitempty"`
	Rank        int        `json:"rank,omitempty"` // place; ties share it
	Final       bool       `json:"final"`
	Kind        string     `json:"kind"`   // challenge | quest
	Status      string     `json:"status"` // upcoming | running | finalizing | final | ended
	CohortRank  int        `json:"cohort_rank,omitempty"`
	Cohort      string     `json:"cohort,omitempty"`
	Won         bool       `json:"won,omitempty"` // a final winner, or a completed quest
	Steps       []StepInfo `json:"steps,omitempty"`
	CompletedAt time.Time  `json:"completed_at,omitzero"`
}

// Scorecard is what a member or partner sees of their standing.
type Scorecard struct {
	Subject    string          `json:"subject"`
	Name       string          `json:"name"`
	Partner    string          `json:"partner,omitempty"`
	AsOf       time.Time       `json:"as_of"`
	Points     Points          `json:"points"`
	Level      *LevelCard      `json:"level,omitempty"`
	Badges     []BadgeCard     `json:"badges"`
	Revoked    []BadgeCard     `json:"revoked_badges"`
	Ranks      []Standing      `json:"ranks"`
	Challenges []ChallengeCard `json:"challenges"`
	Tier       *TierCard       `json:"tier,omitempty"`
}

// MemberScorecard returns a member's scorecard as of t (zero: now).
func (e *Engine) MemberScorecard(id string, t time.Time) (Scorecard, error) {
	m := e.members[id]
	if m == nil {
		return Scorecard{}, rung.Errorf(rung.ENOTFOUND, "member %q not found", id)
	}
	at := e.asOf(t)
	sc := Scorecard{Subject: id, Name: m.m.Name, Partner: m.m.PartnerAt(at), AsOf: at}
	sc.Badges, sc.Revoked = e.badgeCards(m, m.holds, at)
	sc.Points = e.points(&m.awards, m.adjusts, at.UnixNano())
	sc.Level = e.level(sc.Points.Lifetime)
	sc.Ranks = e.standings(m, true, t)
	sc.Challenges = e.challengeCards(m, true, at)
	return sc, nil
}

// PartnerScorecard returns a partner's scorecard as of t (zero: now).
func (e *Engine) PartnerScorecard(id string, t time.Time) (Scorecard, error) {
	p := e.partners[id]
	if p == nil {
		return Scorecard{}, rung.Errorf(rung.ENOTFOUND, "partner %q not found", id)
	}
	at := e.asOf(t)
	pv := p.versions[p.at(at.UnixNano())].Partner
	sc := Scorecard{Subject: id, Name: pv.Name, AsOf: at}
	sc.Badges, sc.Revoked = e.badgeCards(p, p.holds, at)
	sc.Points = e.points(&p.awards, p.adjusts, at.UnixNano())
	sc.Level = e.level(sc.Points.Lifetime)
	sc.Ranks = e.standings(p, false, t)
	sc.Challenges = e.challengeCards(p, false, at)
	sc.Tier = e.tierCard(p, at)
	return sc, nil
}

func (e *Engine) asOf(t time.Time) time.Time {
	if t.IsZero() {
		return e.now
	}
	return t
}

// Criterion is one tier criterion with the partner's progress on it.
type Criterion struct {
	ID       string  `json:"id"`
	Label    string  `json:"label"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Defined  bool    `json:"defined"`
	Target   float64 `json:"target"`
	Met      bool    `json:"met"`
	Progress float64 `json:"progress"`
}

// criteria evaluates a tier's criteria for a partner over the tier window
// containing t.
func (e *Engine) criteria(p *partnerState, tier string, t time.Time) []Criterion {
	tiers := e.cur.Tiers
	list := tiers.CriteriaFor(p.versions[p.at(t.UnixNano())].Partner.Type, tier)
	from, to := e.windowAt(tiers.Window, t)
	out := make([]Criterion, 0, len(list))
	for _, c := range list {
		m := e.cur.Metric(c.Metric)
		mv := e.metricValue(p, m, from, to)
		cr := Criterion{ID: c.ID, Label: c.Label, Metric: c.Metric, Value: mv.Value, Defined: mv.OK}
		if cr.Label == "" {
			cr.Label = c.ID
		}
		switch {
		case c.AtLeast != nil:
			cr.Target = *c.AtLeast
			cr.Met = mv.OK && mv.Value >= cr.Target
			if cr.Target > 0 {
				cr.Progress = math.Min(1, math.Max(0, mv.Value/cr.Target))
			} else {
				cr.Progress = 1
			}
		case c.AtMost != nil:
			cr.Target = *c.AtMost
			cr.Met = mv.OK && mv.Value <= cr.Target
			if cr.Met {
				cr.Progress = 1
			}
		}
		if !mv.OK {
			cr.Progress = 0
		}
		out = append(out, cr)
	}
	return out
}

// LedgerEntry is one line of the points ledger.
type LedgerEntry struct {
	Kind       string    `json:"kind"` // award | adjustment | redemption | redemption_returned
	Points     int64     `json:"points"`
	Requested  int64     `json:"requested,omitempty"`
	Rule       string    `json:"rule,omitempty"`
	Event      string    `json:"event,omitempty"`
	Member     string    `json:"member,omitempty"`
	Partner    string    `json:"partner"`
	OccurredAt time.Time `json:"occurred_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	Version    int       `json:"program_version,omitempty"`
	Note       string    `json:"note,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	By         string    `json:"by,omitempty"`
	Badge      string    `json:"badge,omitempty"`       // bonus points of this badge
	BadgeLevel string    `json:"badge_level,omitempty"` // and level
	Challenge  string    `json:"challenge,omitempty"`   // reward of this challenge or quest
}

// LedgerFilter selects ledger entries. Partner or Member is required.
type LedgerFilter struct {
	Partner  string
	Member   string
	From, To time.Time // occurred_at in [From, To); zero: unbounded
	Limit    int       // 0: all
}

// Ledger returns the ledger entries of a partner (its members' included) or
// of a member, oldest first.
func (e *Engine) Ledger(f LedgerFilter) ([]LedgerEntry, error) {
	var awards *awardList
	var adjusts []rung.Adjustment
	switch {
	case f.Member != "":
		m := e.members[f.Member]
		if m == nil {
			return nil, rung.Errorf(rung.ENOTFOUND, "member %q not found", f.Member)
		}
		awards, adjusts = &m.awards, m.adjusts
	case f.Partner != "":
		p := e.partners[f.Partner]
		if p == nil {
			return nil, rung.Errorf(rung.ENOTFOUND, "partner %q not found", f.Partner)
		}
		awards, adjusts = &p.awards, p.adjusts
	default:
		return nil, rung.Errorf(rung.EINVALID, "the ledger needs a partner or a member: add ?partner=ID or ?member=ID")
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.From.IsZero() {
		from = f.From.UnixNano()
	}
	if !f.To.IsZero() {
		to = f.To.UnixNano()
	}
	out := []LedgerEntry{}
	for a := range awards.window(from, to) {
		if f.Partner != "" && a.Partner.id != f.Partner {
			continue // with a member: only what it earned for this partner
		}
		out = append(out, awardEntry(a))
	}
	for _, a := range adjusts {
		at := a.OccurredAt.UnixNano()
		if at < from || at >= to || (f.Partner != "" && a.Partner != f.Partner) {
			continue
		}
		out = append(out, LedgerEntry{Kind: "adjustment", Points: a.Points, Member: a.Member, Partner: a.Partner,
			OccurredAt: a.OccurredAt, Reason: a.Reason, By: a.By, Event: a.ID})
	}
	out = append(out, e.redemptionEntries(awards, from, to, f.Partner)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].OccurredAt.Before(out[j].OccurredAt) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}

func awardEntry(a *Award) LedgerEntry {
	le := LedgerEntry{Kind: "award", Points: a.Points, Rule: a.Rule, Event: a.Event.id, Partner: a.Partner.id,
		OccurredAt: unixTime(a.At), ExpiresAt: unixTime(a.Expires), Version: a.Version, Note: a.Note}
	if a.Points != a.Requested {
		le.Requested = a.Requested
	}
	if isBadgeAward(a) {
		le.Badge, le.BadgeLevel, _ = strings.Cut(strings.TrimPrefix(a.Rule, "badge:"), ":")
		le.Reason = "badge " + le.Badge
		if le.BadgeLevel != "" {
			le.Reason += " (" + le.BadgeLevel + ")"
		}
	}
	if isChallengeAward(a) {
		le.Challenge = strings.TrimPrefix(a.Rule, "challenge:")
		le.Reason = "challenge " + le.Challenge
	}
	if a.Member != nil {
		le.Member = a.Member.m.ID
	}
	return le
}

// Effects is everything one event caused: "why did I get these points".
type Effects struct {
	ID        string         `json:"id"`
	Version   int            `json:"version"`
	Retracted bool           `json:"retracted"`
	Seqs      []int64        `json:"-"`
	Awards    []LedgerEntry  `json:"awards"`
	Metrics   []MetricEffect `json:"metrics"`
	Levels    []LevelEffect  `json:"levels"`
	Badges    []BadgeEffect  `json:"badges"`
	Notes     []string       `json:"notes"`
	// Challenges are the challenge wins and quest completions the event
	// carries.
	Challenges []ChallengeEffect `json:"challenges"`
}

// MetricEffect is what an event added to a metric.
type MetricEffect struct {
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Key    string  `json:"key,omitempty"`
}

// LevelEffect is a level a member reached through an event's points.
type LevelEffect struct {
	Member string    `json:"member"`
	Level  string    `json:"level"`
	At     time.Time `json:"at"`
}

// EventEffects returns an event's effects and the Seqs of its versions.
func (e *Engine) EventEffects(id string) (Effects, error) {
	ev := e.events.get(id)
	if ev == nil {
		return Effects{}, rung.Errorf(rung.ENOTFOUND, "event %q not found", id)
	}
	ef := Effects{ID: id, Version: int(ev.version), Retracted: ev.retracted, Seqs: ev.seqs(),
		Awards: []LedgerEntry{}, Metrics: []MetricEffect{}, Levels: []LevelEffect{}, Badges: []BadgeEffect{}, Notes: []string{}}
	badges, bonus := e.badgeEffects(ev)
	ef.Badges = append(ef.Badges, badges...)
	ef.Challenges = []ChallengeEffect{}
	if ev.live() {
		won, rewards := e.challengeEffects(ev)
		ef.Challenges = append(ef.Challenges, won...)
		bonus = append(bonus, rewards...)
	}
	if ev.retracted {
		return ef, nil
	}
	ef.Notes = append(ef.Notes, ev.notes()...)
	members := map[*memberState]bool{}
	for _, re := range ev.evals() {
		if re.award != nil {
			ef.Awards = append(ef.Awards, awardEntry(re.award))
			if re.award.Member != nil {
				members[re.award.Member] = true
			}
		}
	}
	for _, a := range bonus {
		ef.Awards = append(ef.Awards, awardEntry(a))
		if a.Member != nil {
			members[a.Member] = true
		}
	}
	for _, c := range ev.contribs() {
		ef.Metrics = append(ef.Metrics, MetricEffect{Metric: e.cur.MetricOrder[c.metric], Value: c.v, Key: c.key})
	}
	for m := range members {
		ef.Levels = append(ef.Levels, e.levelsReachedBy(m, ev)...)
	}
	return ef, nil
}

// levelsReachedBy returns the levels a member crossed with an event's
// awards, walking its lifetime points in order.
func (e *Engine) levelsReachedBy(m *memberState, ev *eventState) []LevelEffect {
	var out []LevelEffect
	if e.cur == nil || len(e.cur.Levels) == 0 {
		return out
	}
	var sum int64
	adj := append([]rung.Adjustment(nil), m.adjusts...)
	sort.Slice(adj, func(i, j int) bool { return adj[i].OccurredAt.Before(adj[j].OccurredAt) })
	ai := 0
	for a := range m.awards.all() {
		for ai < len(adj) && adj[ai].OccurredAt.UnixNano() <= a.At {
			sum += adj[ai].Points
			ai++
		}
		before, _ := e.cur.LevelAt(sum)
		sum += a.Points
		after, _ := e.cur.LevelAt(sum)
		if a.Event == ev && after.Name != before.Name && after.At > before.At {
			out = append(out, LevelEffect{Member: m.m.ID, Level: after.Name, At: unixTime(a.At)})
		}
	}
	return out
}

// EventBody returns the current version of an event as last received (for a
// retracted event, the version before the retraction).
func (e *Engine) EventBody(id string) rung.Event {
	if ev := e.events.get(id); ev != nil {
		return *e.eventOf(ev)
	}
	return rung.Event{}
}

// EachEvent calls fn for every event id with the Seq of its newest record,
// its version and whether it is retracted.
func (e *Engine) EachEvent(fn func(id string, seq int64, version int, retracted bool)) {
	for ev := range e.events.all {
		fn(ev.id, ev.lastSeq(), int(ev.version), ev.retracted)
	}
}
