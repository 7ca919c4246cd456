package engine

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// Badges (SPEC §3–4) are held by a member or a partner. What a subject
// holds is a function of its live events, whatever order they arrived in:
//
//   - an event badge is held from the first qualifying event, in the order
//     of occurred_at, then id (its when holds and its evidence evaluates to
//     a non-empty string);
//   - a metric badge's level is held from the first event, in that order,
//     after which the subject's all-time value of the metric reaches the
//     level's threshold;
//   - a step badge is held from the event that completes its steps inside
//     the window.
//
// A subject keeps one holding per badge: the events that may award it and
// what it holds now. Every change to those events recomputes the holding;
// the metric badges skip that when a contribution cannot move a threshold
// crossing (one after every level reached, below every level missing).

// badgeIndex says which badges of the newest program read what.
type badgeIndex struct {
	byType map[string][]int // event and step badges, by the event types they read
	bySlot [][]int          // metric badges, by metric slot (a ratio's parts included)
	points []int            // metric badges on the built-in points metric
	metric bool             // some badge is on a metric other than points
	any    bool
}

// buildBadgeIndex indexes the newest program's badges.
func (e *Engine) buildBadgeIndex() {
	e.badges = badgeIndex{byType: map[string][]int{}, bySlot: make([][]int, e.metricSlots())}
	e.indexQuests()
	if e.cur == nil {
		return
	}
	for i, b := range e.badgeDefs {
		switch {
		case len(b.On) > 0:
			for _, t := range b.On {
				e.badges.byType[t] = appendOnce(e.badges.byType[t], i)
			}
		case len(b.Steps) > 0:
			for _, s := range b.Steps {
				e.badges.byType[s.Type] = appendOnce(e.badges.byType[s.Type], i)
			}
		case b.Metric != "":
			m := e.cur.Metric(b.Metric)
			switch {
			case m == nil:
				continue
			case m.Kind == program.MetricPoints:
				e.badges.points = append(e.badges.points, i)
			case m.Kind == program.MetricRatio:
				e.badges.metric = true
				for _, part := range []string{m.Num, m.Den} {
					s := e.metricIdx[part]
					e.badges.bySlot[s] = appendOnce(e.badges.bySlot[s], i)
				}
			default:
				e.badges.metric = true
				s := e.metricIdx[m.Name]
				e.badges.bySlot[s] = appendOnce(e.badges.bySlot[s], i)
			}
		default:
			continue // awarded by a challenge only
		}
		e.badges.any = true
	}
}

func appendOnce(xs []int, x int) []int {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// holding is a subject's standing on one badge.
type holding struct {
	badge  *program.Badge
	metric *program.Metric // metric badges
	idx    int
	subj   any // *memberState or *partnerState
	// Step badges counted from joining: the window, for the joined_at it
	// was computed for.
	joined, from, to int64
	windowed         bool
	// cands are the events that may award an event or step badge, in the
	// order of occurred_at, then id.
	cands []cand
	// steps is the union of the candidates' steps: a step badge whose
	// candidates miss a step cannot be complete, and needs no walk.
	steps uint64
	// Metric badges: the count and sum (micro-units) of the subject's
	// contributions to the metric, and how many were negative; enough to
	// tell when a contribution cannot move a crossing.
	n, sum int64
	neg    int64
	// held is what the subject holds now: one entry per level reached
	// (metric badges, lowest first), or at most one.
	held []heldLevel
}

// cand is an event that may award a badge.
type cand struct {
	ev       *eventState
	evidence string // event badges
	steps    uint64 // step badges: the steps the event matches
}

// heldLevel is a badge (level) a subject holds.
type heldLevel struct {
	level    string // "" for event and step badges
	at       int64
	ev       *eventState   // the event that completed it
	evidence string        // event badges
	value    float64       // metric badges: the value that reached the level
	events   []*eventState // step badges: the events that made the steps
	award    *Award        // bonus points, nil without
}

func (x *heldLevel) same(y *heldLevel) bool {
	return x.level == y.level && x.at == y.at && x.ev == y.ev && x.evidence == y.evidence && x.value == y.value && slices.Equal(x.events, y.events)
}

// evBefore orders (at, event) pairs by occurred_at, then id.
func evBefore(at int64, ev *eventState, at2 int64, ev2 *eventState) bool {
	if at != at2 {
		return at < at2
	}
	return ev.id < ev2.id
}

// holdingOf returns a subject's holding of badge i, creating it.
func (e *Engine) holdingOf(subj any, i int) *holding {
	var hs *[]*holding
	switch s := subj.(type) {
	case *memberState:
		hs = &s.holds
	case *partnerState:
		hs = &s.holds
	}
	if *hs == nil {
		*hs = make([]*holding, len(e.badgeDefs))
	}
	h := (*hs)[i]
	if h == nil {
		b := e.badgeDefs[i]
		h = &holding{badge: b, idx: i, subj: subj}
		if b.Metric != "" {
			h.metric = e.cur.Metric(b.Metric)
		}
		(*hs)[i] = h
	}
	return h
}

// badgeSubject returns who a badge is for on an event: the partner for
// partner badges; the member otherwise (nil when the event has none). Event badges without `for` go to the
// member when the event has one, else to the partner.
func (e *Engine) badgeSubject(b *program.Badge, ev *eventState) any {
	switch {
	case b.For == program.SubjectPartner:
		return e.partnerOf(ev)
	case b.For == "" && len(b.On) > 0 && ev.m == 0:
		return e.partnerOf(ev)
	case ev.m == 0:
		return nil
	}
	return e.memberOf(ev)
}

// roleOK reports whether a holding's subject may hold its badge: a badge
// with a role is held only by members with that role. The events are
// tracked whatever the role, so a change of role settles what is held.
func roleOK(h *holding) bool {
	if h.badge.Role == "" {
		return true
	}
	m, ok := h.subj.(*memberState)
	return !ok || m.m.Role == h.badge.Role
}

// markBadges evaluates the event and step badges that read an event's type
// and adds the event to the holdings it may award. vars may be nil; it is
// filled when an expression needs it.
func (e *Engine) markBadges(ev *eventState, body *rung.Event, vars *program.Vars, badges []int) {
	getVars := func() *program.Vars {
		if vars == nil {
			vars = e.varsFor(ev, body)
		}
		return vars
	}
	marks := e.scratch.marks[:0]
	for _, i := range badges {
		b := e.badgeDefs[i]
		if !e.questCounts(i, ev) {
			continue // outside the quest's dates
		}
		c := cand{ev: ev}
		if len(b.On) > 0 {
			if b.When != nil {
				ok, err := b.When.Bool(getVars())
				if err != nil {
					ev.addNote(e.errNote(err, noteBadgeWhen, func() string { return fmt.Sprintf("badge %s: when: %v", b.ID, err) }))
					continue
				}
				if !ok {
					continue
				}
			}
			if b.For == program.SubjectMember && ev.m == 0 {
				ev.addNote(fmt.Sprintf("badge %s: awarded to the member, but the event has none", b.ID))
				continue
			}
			s, err := b.Evidence.Key(getVars())
			if err == nil && strings.TrimSpace(s) == "" {
				err = fmt.Errorf("%s is empty", b.Evidence.Source)
			}
			if err != nil {
				ev.addNote(e.errNote(err, noteBadgeEvidence, func() string {
					return fmt.Sprintf("badge %s: not awarded without evidence: %v", b.ID, err)
				}))
				continue
			}
			c.evidence = s
		}
		subj := e.badgeSubject(b, ev)
		if subj == nil {
			continue
		}
		var h *holding
		if len(b.Steps) > 0 {
			if b.From != "first_step" {
				// Most events are long after joining: tell without
				// the holding (the exact deadline is at most a clock
				// change away from joined_at + within).
				jn := joinedAt(subj)
				if jn == 0 {
					continue // no joined_at: no window to count in
				}
				if ev.at < jn || b.Within > 0 && ev.at > jn+int64(b.Within+3*time.Hour) {
					continue
				}
			}
			h = e.holdingOf(subj, i)
			if from, to, ok := e.joinedWindow(h); ok && (ev.at < from || ev.at > to) {
				continue // outside the window after joining: cannot count
			}
			for si, s := range b.Steps {
				if si >= 64 || s.Type != e.types.name(ev.typ) {
					continue
				}
				if s.Where != nil {
					ok, err := s.Where.Bool(getVars())
					if err != nil {
						ev.addNote(e.errNote(err, noteBadgeStep, func() string {
							return fmt.Sprintf("badge %s: steps[%d].where: %v", b.ID, si, err)
						}))
						continue
					}
					if !ok {
						continue
					}
				}
				c.steps |= 1 << si
			}
			if c.steps == 0 {
				continue
			}
		}
		if h == nil {
			h = e.holdingOf(subj, i)
		}
		marks = append(marks, h)
		h.steps |= c.steps
		n := len(h.cands)
		if n == 0 || h.cands[n-1].ev.before(ev) {
			h.cands = append(h.cands, c)
			if len(h.held) > 0 && len(h.cands) > 1 {
				continue // after what completed it: changes nothing
			}
		} else {
			k, _ := slices.BinarySearchFunc(h.cands, ev, func(x cand, ev *eventState) int {
				if x.ev.before(ev) {
					return -1
				}
				return 1
			})
			h.cands = slices.Insert(h.cands, k, c)
		}
		e.holdCands(h)
	}
	e.scratch.marks = marks
	if len(marks) > 0 {
		ev.setMarks(e.slab.marks(marks))
	}
}

// unmarkBadges takes an event out of the holdings it was in.
func (e *Engine) unmarkBadges(ev *eventState) {
	for _, h := range ev.marks() {
		h.cands = slices.DeleteFunc(h.cands, func(c cand) bool { return c.ev == ev })
		h.steps = 0
		for _, c := range h.cands {
			h.steps |= c.steps
		}
		e.holdCands(h)
	}
	if ev.more != nil {
		ev.more.marks = ev.more.marks[:0]
	}
}

// joinedAt returns when a subject joined, in unix nanos; 0 when unknown.
func joinedAt(subj any) int64 {
	switch s := subj.(type) {
	case *memberState:
		return s.joined
	case *partnerState:
		return s.joined
	}
	return 0
}

// joinedWindow returns the window of a step badge counted from joining:
// [joined_at, joined_at + within]. ok is false when the badge counts from
// its first step. A subject whose joined_at is unknown has an empty
// window: nobody knows when its days after joining were.
func (e *Engine) joinedWindow(h *holding) (from, to int64, ok bool) {
	if h.badge.From == "first_step" {
		return 0, 0, false
	}
	j := joinedAt(h.subj)
	if j == 0 {
		return math.MaxInt64, math.MinInt64, true
	}
	if !h.windowed || h.joined != j {
		h.joined, h.from, h.to, h.windowed = j, j, e.stepDeadline(h.badge, j), true
	}
	return h.from, h.to, true
}

// stepDeadline returns the last instant a step counts when the window
// starts at start: start + within, where a whole number of days is counted
// in local days of the program's time zone (the same wall-clock time N
// days later, 23 or 25 hours for a day that changes the clock).
func (e *Engine) stepDeadline(b *program.Badge, start int64) int64 {
	if b.Within <= 0 {
		return math.MaxInt64
	}
	const day = 24 * time.Hour
	if b.Within%day == 0 {
		t := time.Unix(0, start).In(e.Calendar().Loc)
		return t.AddDate(0, 0, int(b.Within/day)).UnixNano()
	}
	return start + int64(b.Within)
}

// holdCands recomputes what an event or step badge holding holds from its
// candidate events.
func (e *Engine) holdCands(h *holding) {
	b := h.badge
	var now []heldLevel
	switch {
	case !roleOK(h):
	case len(b.On) > 0:
		if len(h.cands) > 0 {
			c := h.cands[0]
			now = []heldLevel{{at: c.ev.at, ev: c.ev, evidence: c.evidence}}
		}
	default:
		if h.steps != allSteps(len(b.Steps)) {
			break // a step has no event yet
		}
		if hl, ok := e.completeSteps(h); ok {
			now = []heldLevel{hl}
		}
	}
	e.setHeld(h, now)
}

// allSteps is the step set with every step of n (at most 64 count).
func allSteps(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// completeSteps finds the event that completes a step badge's steps inside
// its window. Unordered, an event counts for every step it matches; ordered,
// for the step being worked on, and a step is done at its count-th event.
func (e *Engine) completeSteps(h *holding) (heldLevel, bool) {
	b := h.badge
	if len(h.cands) == 0 {
		return heldLevel{}, false
	}
	from, to, ok := e.joinedWindow(h)
	if !ok {
		first := h.cands[0]
		if b.Ordered {
			i := slices.IndexFunc(h.cands, func(c cand) bool { return c.steps&1 != 0 })
			if i < 0 {
				return heldLevel{}, false
			}
			first = h.cands[i]
		}
		from = first.ev.at
		to = e.stepDeadline(b, from)
	}
	n := min(len(b.Steps), 64)
	var counts [64]int
	done, k := 0, 0
	used := e.scratch.steps[:0]
	defer func() { e.scratch.steps = used[:0] }()
	for _, c := range h.cands {
		if c.ev.at < from {
			continue
		}
		if c.ev.at > to {
			break
		}
		counted := false
		if b.Ordered {
			if c.steps&(1<<k) != 0 {
				counts[k]++
				counted = true
				if counts[k] == b.Steps[k].Count {
					k++
					done++
				}
			}
		} else {
			for si := range n {
				if c.steps&(1<<si) != 0 && counts[si] < b.Steps[si].Count {
					counts[si]++
					counted = true
					if counts[si] == b.Steps[si].Count {
						done++
					}
				}
			}
		}
		if counted {
			used = append(used, c.ev)
		}
		if done == n {
			hl := heldLevel{at: c.ev.at, ev: c.ev}
			if len(h.held) == 1 && slices.Equal(h.held[0].events, used) {
				hl.events = h.held[0].events
			} else {
				hl.events = slices.Clone(used)
			}
			return hl, true
		}
	}
	return heldLevel{}, false
}

// evidenceOf says what proves a held badge: an event badge's evidence, a
// metric badge's metric and the value that reached the level, or a step
// badge's steps done.
func evidenceOf(b *program.Badge, hl *heldLevel) string {
	switch {
	case len(b.On) > 0, hl.evidence != "": // a challenge reward says which challenge
		return hl.evidence
	case b.Metric != "":
		return b.Metric + " " + formatValue(hl.value)
	case len(b.Steps) == 1:
		return "1 step"
	}
	return strconv.Itoa(len(b.Steps)) + " steps"
}

// metricBadges updates the metric badges that listen to an event's
// contributions, after they were added (sign +1) or removed (-1).
func (e *Engine) metricBadges(ev *eventState, sign int) {
	for _, c := range ev.contribs() {
		for _, i := range e.badges.bySlot[c.metric] {
			b := e.cur.Badges[i]
			subj := e.badgeSubject(b, ev)
			if subj == nil {
				continue
			}
			e.metricBadgeDelta(e.holdingOf(subj, i), ev.at, ev, toMicro(c.v), sign)
		}
	}
}

// pointsBadges updates the badges on the built-in points metric after an
// award was added or removed. Badge bonus points do not count toward them:
// a badge's points cannot earn another badge.
func (e *Engine) pointsBadges(a *Award, sign int) {
	if len(e.badges.points) == 0 || isBadgeAward(a) {
		return
	}
	for _, i := range e.badges.points {
		b := e.cur.Badges[i]
		var subj any
		switch {
		case b.For == program.SubjectPartner:
			subj = a.Partner
		case a.Member == nil:
			continue
		default:
			subj = a.Member
		}
		e.metricBadgeDelta(e.holdingOf(subj, i), a.At, a.Event, a.Points*micro, sign)
	}
}

// metricBadgeDelta takes one contribution added or removed and recomputes
// the holding when it may move a crossing.
func (e *Engine) metricBadgeDelta(h *holding, at int64, ev *eventState, v int64, sign int) {
	h.n += int64(sign)
	h.sum += int64(sign) * v
	if v < 0 {
		h.neg += int64(sign)
	}
	m := h.metric
	monotone := m.Kind == program.MetricCount || m.Kind == program.MetricDistinct || m.Kind == program.MetricPoints ||
		(m.Kind == program.MetricSum && h.neg == 0 && v >= 0)
	if monotone {
		need := false
		for li, lv := range h.badge.Levels {
			if li < len(h.held) {
				r := &h.held[li]
				// A contribution at or before the crossing moves it.
				if sign > 0 && evBefore(at, ev, r.at, r.ev) || sign < 0 && !evBefore(r.at, r.ev, at, ev) {
					need = true
					break
				}
				continue
			}
			// Not reached: only an addition that lifts the (bound on
			// the) total to the threshold can reach it.
			bound := float64(h.n)
			if m.Kind == program.MetricSum || m.Kind == program.MetricPoints {
				bound = float64(h.sum) / micro
			}
			need = sign > 0 && bound >= lv.At
			break
		}
		if !need {
			return
		}
	}
	e.setHeld(h, e.metricCrossings(h, m, ev))
}

// metricCrossings walks a subject's contributions to a metric, all time, in
// the order of occurred_at, then id, and returns where each level was first
// reached. hint is the event whose contribution changed, likely a crossing.
func (e *Engine) metricCrossings(h *holding, m *program.Metric, hint *eventState) []heldLevel {
	b := h.badge
	var out []heldLevel
	if !roleOK(h) {
		return nil
	}
	var a, d agg // the metric (a ratio's numerator) and a ratio's denominator
	kn, kd := m.Kind, program.MetricKind(0)
	// Series points name their event by handle; the event is looked up
	// only where it matters: a crossing, or a tie in time.
	resolve := func(t *tagged) *eventState {
		if t.ev != nil {
			return t.ev
		}
		if hint != nil && hint.h == t.p.ev {
			t.ev = hint // the event that changed the metric
			return t.ev
		}
		for i := range h.held { // most walks find the crossings they had
			if h.held[i].ev.h == t.p.ev {
				t.ev = h.held[i].ev
				return t.ev
			}
		}
		t.ev = e.subjectEvent(h.subj, t.p.ev)
		return t.ev
	}
	// check is called after each event's contributions.
	check := func(t *tagged) bool {
		var v float64
		var ok bool
		if m.Kind == program.MetricRatio {
			v, ok = e.ratioValue(m, &a, &d)
		} else {
			v, ok = a.value(m.Kind)
		}
		for ok && len(out) < len(b.Levels) && v >= b.Levels[len(out)].At {
			lv := b.Levels[len(out)]
			out = append(out, heldLevel{level: lv.Name, at: t.p.at, ev: resolve(t), value: v})
		}
		return len(out) < len(b.Levels)
	}
	if m.Kind == program.MetricPoints {
		var cur tagged
		for aw := range subjectAwards(h.subj).all() {
			if isBadgeAward(aw) {
				continue
			}
			if cur.ev != nil && aw.Event != cur.ev && !check(&cur) {
				return out
			}
			cur = tagged{p: point{at: aw.At}, ev: aw.Event}
			a.add(point{at: aw.At, v: aw.Points * micro}, program.MetricPoints)
		}
		if cur.ev != nil {
			check(&cur)
		}
		return out
	}
	ser := subjectSeries(h.subj)
	// Contributions with the same occurred_at are taken in id order: the
	// series orders them by handle, which depends on arrival.
	var group []tagged
	flush := func() bool {
		if len(group) > 1 {
			for i := range group {
				resolve(&group[i])
			}
			slices.SortStableFunc(group, func(x, y tagged) int {
				if c := strings.Compare(x.ev.id, y.ev.id); c != 0 {
					return c
				}
				return x.part - y.part
			})
		}
		for gi := range group {
			t := &group[gi]
			if t.part == 0 {
				a.add(t.p, kn)
			} else {
				d.add(t.p, kd)
			}
			if gi+1 < len(group) && group[gi+1].p.ev == t.p.ev {
				continue // the event's other part first
			}
			if !check(t) {
				return false
			}
		}
		group = group[:0]
		return true
	}
	take := func(t tagged) bool {
		if len(group) > 0 && group[0].p.at != t.p.at && !flush() {
			return false
		}
		group = append(group, t)
		return true
	}
	if m.Kind == program.MetricRatio {
		// Rare enough to merge the two parts in a slice.
		kn, kd = e.cur.Metrics[m.Num].Kind, e.cur.Metrics[m.Den].Kind
		var all []tagged
		for part, name := range []string{m.Num, m.Den} {
			for p := range ser[e.metricIdx[name]].c.all() {
				all = append(all, tagged{p: p, part: part})
			}
		}
		slices.SortStableFunc(all, func(x, y tagged) int {
			switch {
			case x.p.at < y.p.at:
				return -1
			case x.p.at > y.p.at:
				return 1
			}
			return 0
		})
		for _, t := range all {
			if !take(t) {
				return out
			}
		}
	} else {
		for p := range ser[e.metricIdx[m.Name]].c.all() {
			if !take(tagged{p: p}) {
				return out
			}
		}
	}
	if len(group) > 0 {
		flush()
	}
	return out
}

// subjectEvent finds one of a subject's events by its handle.
func (e *Engine) subjectEvent(subj any, h uint32) *eventState {
	if h == 0 || int(h) > e.events.len() {
		return nil
	}
	ev := e.events.at(h)
	switch s := subj.(type) {
	case *memberState:
		if e.memberOf(ev) == s {
			return ev
		}
	case *partnerState:
		if e.partnerOf(ev) == s {
			return ev
		}
	}
	return nil
}

// tagged is a contribution on a walk: its point, which part of a ratio it
// is, and its event once looked up.
type tagged struct {
	p    point
	part int
	ev   *eventState
}

// formatValue writes a metric value for evidence: whole numbers without
// decimals, others with up to two.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// setHeld replaces what a holding holds, keeping the entries (and their
// bonus points) that did not change. A lost entry is remembered while a
// record is applied, to be written down as revoked if it stays lost.
func (e *Engine) setHeld(h *holding, now []heldLevel) {
	old := h.held
	for i := range now {
		if i < len(old) && old[i].same(&now[i]) {
			now[i].award = old[i].award
			continue
		}
		e.grantBonus(h, &now[i])
	}
	for i := range old {
		if i < len(now) && now[i].award == old[i].award && old[i].same(&now[i]) {
			continue
		}
		if old[i].award != nil {
			e.removeAward(old[i].award)
		}
		if e.pending.on {
			e.pending.lost = append(e.pending.lost, lostLevel{h: h, hl: old[i]})
		}
	}
	h.held = now
	e.questChanged(h)
}

// grantBonus adds a badge's bonus points, if any, as a ledger entry at the
// time the badge was awarded.
func (e *Engine) grantBonus(h *holding, hl *heldLevel) {
	hl.award = nil
	b := h.badge
	if b.Points <= 0 {
		return
	}
	ev := hl.ev
	v := e.versionAt(hl.at)
	rule := badgeRule(b.ID, hl.level)
	if e.isQuest(h) {
		rule = challengeRule(b.ID)
	}
	a := &Award{
		Event:     ev,
		Rule:      rule,
		Version:   v.N,
		Partner:   e.partnerOf(ev),
		Points:    b.Points,
		Requested: b.Points,
		At:        hl.at,
		Expires:   expiresAt(v, hl.at),
	}
	if m, ok := h.subj.(*memberState); ok {
		a.Member = m
	}
	hl.award = a
	e.addAward(a)
}

// isBadgeAward reports whether an award is a badge's bonus points.
func isBadgeAward(a *Award) bool { return strings.HasPrefix(a.Rule, "badge:") }

// badgeRule is the rule column of a badge's bonus points in the ledger:
// badge:<id>, and :<level> for a metric badge's level. Ids never hold a
// colon, so the rule of a badge never clashes with a rule's id.
func badgeRule(id, level string) string {
	if level == "" {
		return "badge:" + id
	}
	return "badge:" + id + ":" + level
}

// pendingRevocations collects, while one record is applied, the badges
// subjects lost; at the end those not held again are revoked.
type pendingRevocations struct {
	on   bool
	lost []lostLevel
}

type lostLevel struct {
	h  *holding
	hl heldLevel
}

// Revocation is a badge a subject held until a retraction or correction
// (or a new event, for a metric that can fall) meant the facts no longer
// held: kept in the subject's history.
type Revocation struct {
	Badge      string    `json:"badge"`
	Name       string    `json:"name"`
	Level      string    `json:"level,omitempty"`
	Subject    string    `json:"subject"`
	Kind       string    `json:"subject_kind"` // member | partner
	Partner    string    `json:"partner"`
	AwardedAt  time.Time `json:"awarded_at"`
	Evidence   string    `json:"evidence,omitempty"`
	Events     []string  `json:"events"`
	RevokedAt  time.Time `json:"revoked_at"` // when the record that revoked it was received
	RevokedBy  string    `json:"revoked_by"` // the event whose record revoked it
	Retraction bool      `json:"retraction"` // the record was a retraction (else a correction or new event)
}

// Revocations returns the history of revoked badges, in the order of the
// records that revoked them. It is a function of the log in its order: a
// rebuild gives it back.
func (e *Engine) Revocations() []Revocation { return e.revocations }

// settleRevocations writes down the badges a record took away for good.
func (e *Engine) settleRevocations(rec *rung.Record) {
	lost := e.pending.lost
	e.pending = pendingRevocations{lost: lost[:0]}
	for i, l := range lost {
		if slices.ContainsFunc(lost[:i], func(x lostLevel) bool { return x.h == l.h && x.hl.level == l.hl.level }) {
			continue // the first loss tells what was held before the record
		}
		if slices.ContainsFunc(l.h.held, func(x heldLevel) bool { return x.level == l.hl.level }) || e.isQuest(l.h) {
			continue // held again, perhaps from another event; a quest is no badge
		}
		r := Revocation{Badge: l.h.badge.ID, Name: l.h.badge.Name, Level: l.hl.level, AwardedAt: unixTime(l.hl.at),
			Evidence: evidenceOf(l.h.badge, &l.hl), Events: heldEvents(&l.hl), RevokedAt: rec.ReceivedAt, RevokedBy: rec.Event.ID, Retraction: rec.Retracted}
		r.Subject, r.Kind, r.Partner = e.subjectIDs(l.h.subj, l.hl.ev)
		e.revocations = append(e.revocations, r)
	}
	clear(lost)
}

// heldEvents returns the ids of the events behind a held badge.
func heldEvents(hl *heldLevel) []string {
	if len(hl.events) == 0 {
		return []string{hl.ev.id}
	}
	out := make([]string, len(hl.events))
	for i, ev := range hl.events {
		out[i] = ev.id
	}
	return out
}

// subjectIDs names a badge's subject: its id, kind and partner (for a
// member, the partner of the event that completed the badge).
func (e *Engine) subjectIDs(subj any, ev *eventState) (id, kind, partner string) {
	switch s := subj.(type) {
	case *memberState:
		if p := e.partnerOf(ev); p != nil {
			return s.m.ID, "member", p.id
		}
		// The event now names a partner the engine does not know (a
		// correction moved it): the member's own partner, then.
		return s.m.ID, "member", s.m.Partner
	case *partnerState:
		return s.id, "partner", s.id
	}
	return "", "", ""
}

// BadgeCard is a badge on a scorecard (SPEC §5).
type BadgeCard struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Level     string    `json:"level,omitempty"`
	AwardedAt time.Time `json:"awarded_at"`
	Evidence  string    `json:"evidence"`
	Events    []string  `json:"events"`
	Points    int64     `json:"points,omitempty"` // bonus points
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// badgeCards returns the badges a subject held at t: awarded at or before
// t, and not revoked by then. Revoked ones are returned apart.
func (e *Engine) badgeCards(subj any, holds []*holding, t time.Time) (held, revoked []BadgeCard) {
	held, revoked = []BadgeCard{}, []BadgeCard{}
	tn := t.UnixNano()
	for _, h := range holds {
		if h == nil || e.isQuest(h) {
			continue
		}
		for i := range h.held {
			hl := &h.held[i]
			if hl.at > tn {
				continue
			}
			bc := BadgeCard{ID: h.badge.ID, Name: h.badge.Name, Level: hl.level, AwardedAt: unixTime(hl.at),
				Evidence: evidenceOf(h.badge, hl), Events: heldEvents(hl)}
			if hl.award != nil {
				bc.Points = hl.award.Points
			}
			held = append(held, bc)
		}
	}
	id, kind := subjectKey(subj)
	for _, r := range e.revocations {
		if r.Subject != id || r.Kind != kind || r.AwardedAt.After(t) {
			continue
		}
		bc := BadgeCard{ID: r.Badge, Name: r.Name, Level: r.Level, AwardedAt: r.AwardedAt, Evidence: r.Evidence, Events: r.Events, RevokedAt: r.RevokedAt}
		if r.RevokedAt.IsZero() || !r.RevokedAt.After(t) {
			revoked = append(revoked, bc)
			continue
		}
		// Revoked after t: it was held then, unless it is held now too.
		if !slices.ContainsFunc(held, func(x BadgeCard) bool { return x.ID == r.Badge && x.Level == r.Level }) {
			bc.RevokedAt = time.Time{}
			held = append(held, bc)
		}
	}
	slices.SortStableFunc(held, func(x, y BadgeCard) int {
		if c := x.AwardedAt.Compare(y.AwardedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return held, revoked
}

// subjectKey returns a subject's id and kind.
func subjectKey(subj any) (id, kind string) {
	switch s := subj.(type) {
	case *memberState:
		return s.m.ID, "member"
	case *partnerState:
		return s.id, "partner"
	}
	return "", ""
}

// BadgeEffect is a badge an event awarded or revoked.
type BadgeEffect struct {
	Badge     string    `json:"badge"`
	Name      string    `json:"name"`
	Level     string    `json:"level,omitempty"`
	Subject   string    `json:"subject"`
	Kind      string    `json:"subject_kind"`
	Change    string    `json:"change"` // awarded | revoked
	At        time.Time `json:"at"`     // awarded: occurred_at; revoked: when the record was received
	Evidence  string    `json:"evidence,omitempty"`
	Points    int64     `json:"points,omitempty"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// badgeEffects returns the badges an event completed (and whose bonus
// points it carries) and the ones its records revoked.
func (e *Engine) badgeEffects(ev *eventState) (out []BadgeEffect, awards []*Award) {
	seen := func(subj any) {
		var holds []*holding
		switch s := subj.(type) {
		case *memberState:
			if s == nil {
				return
			}
			holds = s.holds
		case *partnerState:
			if s == nil {
				return
			}
			holds = s.holds
		}
		for _, h := range holds {
			if h == nil {
				continue
			}
			for i := range h.held {
				hl := &h.held[i]
				if hl.ev != ev {
					continue
				}
				if e.isQuest(h) {
					if hl.award != nil {
						awards = append(awards, hl.award)
					}
					continue // a quest completed: a challenge effect
				}
				be := BadgeEffect{Badge: h.badge.ID, Name: h.badge.Name, Level: hl.level, Change: "awarded", At: unixTime(hl.at), Evidence: evidenceOf(h.badge, hl)}
				be.Subject, be.Kind, _ = e.subjectIDs(h.subj, ev)
				if hl.award != nil {
					be.Points = hl.award.Points
					awards = append(awards, hl.award)
				}
				out = append(out, be)
			}
		}
	}
	if ev.live() {
		seen(e.memberOf(ev))
		seen(e.partnerOf(ev))
	}
	for _, r := range e.revocations {
		if r.RevokedBy == ev.id {
			out = append(out, BadgeEffect{Badge: r.Badge, Name: r.Name, Level: r.Level, Subject: r.Subject, Kind: r.Kind,
				Change: "revoked", At: r.RevokedAt, Evidence: r.Evidence, RevokedBy: r.RevokedBy})
		}
	}
	return out, awards
}

// dumpHoldings writes what a subject holds, for Dump.
func dumpHoldings(w io.Writer, holds []*holding) {
	for _, h := range holds {
		if h == nil {
			continue
		}
		for i := range h.held {
			hl := &h.held[i]
			fmt.Fprintf(w, "  badge %s %q %d %s %q %v\n", h.badge.ID, hl.level, hl.at, hl.ev.id, evidenceOf(h.badge, hl), heldEvents(hl))
		}
	}
}

// HeldBadge is a badge (level) a member or partner holds now.
type HeldBadge struct {
	Subject string // the member's or partner's id
	Kind    string // member | partner
	Badge   *program.Badge
	BadgeCard
}

// EachHeldBadge calls fn for every badge a member or partner holds now,
// whatever the as-of time: the badges adapters act on, such as issuing
// credentials. The order is unspecified.
func (e *Engine) EachHeldBadge(fn func(HeldBadge)) {
	each := func(subj any, holds []*holding) {
		id, kind := subjectKey(subj)
		for _, h := range holds {
			if h == nil || e.isQuest(h) {
				continue
			}
			for i := range h.held {
				hl := &h.held[i]
				fn(HeldBadge{Subject: id, Kind: kind, Badge: h.badge, BadgeCard: BadgeCard{ID: h.badge.ID, Name: h.badge.Name,
					Level: hl.level, AwardedAt: unixTime(hl.at), Evidence: evidenceOf(h.badge, hl), Events: heldEvents(hl)}})
			}
		}
	}
	for _, m := range e.members {
		each(m, m.holds)
	}
	for _, p := range e.partners {
		each(p, p.holds)
	}
}
