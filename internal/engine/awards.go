package engine

import (
	"fmt"
	"iter"
	"sort"
	"strings"

	"github.com/rung-dev/rung/internal/program"
)

// Award is one ledger entry: points a rule granted for an event.
type Award struct {
	Event     *eventState
	Rule      string
	Version   int
	Partner   *partnerState
	Member    *memberState // nil for partner awards
	Points    int64
	Requested int64  // what the rule asked for before a limit trimmed it
	Note      string // why Points < Requested
	At        int64  // occurred_at of the event
	Expires   int64  // 0: never
}

// before orders awards by time, event id, then rule id.
func (a *Award) before(b *Award) bool {
	if a.At != b.At {
		return a.At < b.At
	}
	if a.Event.id != b.Event.id {
		return a.Event.id < b.Event.id
	}
	return a.Rule < b.Rule
}

// awardList is a subject's awards, kept sorted by Award.before, and their
// sums once the outbox asks for them (nil until then).
type awardList struct {
	c    chunked[awardRef]
	memo *pointsMemo
}

// awardRef is an award in a list, with its time beside it: searching a list
// compares times without visiting the awards.
type awardRef struct {
	at int64
	a  *Award
}

func awardBefore(x, y awardRef) bool {
	if x.at != y.at {
		return x.at < y.at
	}
	return x.a.before(y.a)
}

// insert and remove are the only changes to a list's awards besides
// replacing the list whole (which drops its memo) and loading a snapshot
// (into a new list): they keep the memo's sums.
func (l *awardList) insert(a *Award) {
	l.c.insert(awardRef{a.At, a}, awardBefore)
	if l.memo != nil {
		l.memo.inserted(a)
	}
}

func (l *awardList) remove(a *Award) {
	if l.c.remove(awardRef{a.At, a}, awardBefore, func(x awardRef) bool { return x.a == a }) && l.memo != nil {
		l.memo.removed(a)
	}
}

// window yields the awards with At in [from, to), in order.
func (l *awardList) window(from, to int64) iter.Seq[*Award] {
	return func(yield func(*Award) bool) {
		for r := range l.c.from(func(r awardRef) bool { return r.at >= from }, func(r awardRef) bool { return r.at < to }) {
			if !yield(r.a) {
				return
			}
		}
	}
}

// all yields every award in order.
func (l *awardList) all() iter.Seq[*Award] {
	return func(yield func(*Award) bool) {
		for r := range l.c.all() {
			if !yield(r.a) {
				return
			}
		}
	}
}

func (e *Engine) newAward(ev *eventState, re *ruleEval, points, requested int64, note string) *Award {
	v := e.versionAt(ev.at)
	var a *Award
	if e.loading {
		a = e.slab.award()
	} else {
		a = new(Award)
	}
	*a = Award{
		Event:     ev,
		Rule:      re.rule.ID,
		Version:   int(re.version),
		Partner:   e.partnerOf(ev),
		Points:    points,
		Requested: requested,
		Note:      note,
		At:        ev.at,
		Expires:   e.awardExpiry(v, ev.at),
	}
	if re.toMember {
		a.Member = e.memberOf(ev)
	}
	return a
}

func (e *Engine) addAward(a *Award) {
	a.Partner.awards.insert(a)
	if a.Member != nil {
		a.Member.awards.insert(a)
	}
	e.pointsDelta(a, +1)
	e.pointsBadges(a, +1)
}

func (e *Engine) removeAward(a *Award) {
	a.Partner.awards.remove(a)
	if a.Member != nil {
		a.Member.awards.remove(a)
	}
	e.pointsDelta(a, -1)
	e.pointsBadges(a, -1)
}

// streamKey names the events one stateful rule sees for one subject.
type streamKey struct {
	rule    string
	to      program.Subject
	subject any // *memberState or *partnerState
}

// stream holds, in order, the events a rule with a limit or once_per key
// saw for one subject. Who got capped or who used a key first depends on
// the order of occurred_at, then id; a late event is inserted at its place
// and the awards after it are computed again.
type stream struct {
	key  streamKey
	evs  []*eventState
	seen map[string]bool // once_per keys used
	used map[int64]int64 // points granted per limit period start
}

func (s *stream) evalOf(ev *eventState) *ruleEval {
	evals := ev.evals()
	for i := range evals {
		if evals[i].stream == s {
			return &evals[i]
		}
	}
	return nil
}

// streamInsert adds an event to a stream and grants what it is owed.
func (e *Engine) streamInsert(s *stream, ev *eventState) {
	n := len(s.evs)
	if n == 0 || s.evs[n-1].before(ev) {
		s.evs = append(s.evs, ev)
		e.streamGrant(s, ev, s.evalOf(ev))
		return
	}
	i := sort.Search(n, func(i int) bool { return ev.before(s.evs[i]) })
	s.evs = append(s.evs, nil)
	copy(s.evs[i+1:], s.evs[i:])
	s.evs[i] = ev
	e.streamRecomputeAt(s, ev)
}

// streamRemove takes an event out of a stream; the events after it may now
// be owed more.
func (e *Engine) streamRemove(s *stream, ev *eventState) {
	for i, x := range s.evs {
		if x == ev {
			s.evs = append(s.evs[:i], s.evs[i+1:]...)
			break
		}
	}
	if re := s.evalOf(ev); re != nil && re.award != nil {
		e.removeAward(re.award)
		re.award = nil
	}
	if len(s.evs) == 0 {
		delete(e.streams, s.key)
		return
	}
	e.streamRecomputeAt(s, ev)
}

// streamRecomputeAt grants the events of the stream again after ev came in
// out of order or went. When the stream's rule is period-local, only the
// events of ev's limit period can be owed anything else: the rest keep what
// they had.
func (e *Engine) streamRecomputeAt(s *stream, ev *eventState) {
	if re := s.evalOf(ev); e.periodLocal[s.key.rule] && re != nil && re.rule.Limit != nil {
		e.streamRegrantPeriod(s, ev.at, re.rule.Limit.Per)
		return
	}
	e.streamRecompute(s)
}

// streamRegrantPeriod grants the stream's events in the limit period per
// containing at again.
func (e *Engine) streamRegrantPeriod(s *stream, at int64, per program.Period) {
	cal := e.versionAt(at).Program.Calendar
	t := unixTime(at)
	from := cal.PeriodStart(per, t).UnixNano()
	to := cal.PeriodEnd(per, t).UnixNano()
	lo := sort.Search(len(s.evs), func(i int) bool { return s.evs[i].at >= from })
	hi := lo + sort.Search(len(s.evs)-lo, func(i int) bool { return s.evs[lo+i].at >= to })
	delete(s.used, from)
	e.streamRegrant(s, s.evs[lo:hi])
}

// periodLocal returns the rules, by id, whose every version has a limit,
// all with the same period, and no once_per key, under versions that all
// share one calendar. An event then changes what its stream's other events
// are owed only within its own limit period: a period's events use up only
// that period's points, and no key carries from one period to the next.
func periodLocal(vs []*Version) map[string]bool {
	cal := vs[0].Program.Calendar
	for _, v := range vs[1:] {
		if !cal.Same(v.Program.Calendar) {
			return nil
		}
	}
	per := map[string]program.Period{}
	local := map[string]bool{}
	for _, v := range vs {
		for _, r := range v.Program.Points.Rules {
			p, seen := per[r.ID]
			switch {
			case r.Limit == nil || r.OncePer != nil:
				local[r.ID] = false
			case !seen:
				per[r.ID] = r.Limit.Per
				if _, ok := local[r.ID]; !ok {
					local[r.ID] = true
				}
			case p != r.Limit.Per:
				local[r.ID] = false
			}
		}
	}
	return local
}

// streamGrant grants the event at the end of the stream its award.
func (e *Engine) streamGrant(s *stream, ev *eventState, re *ruleEval) {
	points, note := s.owed(e, ev, re)
	if points > 0 {
		re.award = e.newAward(ev, re, points, re.amount, note)
		e.addAward(re.award)
	} else {
		re.award = nil
		if note != "" {
			ev.setNotes(appendNote(ev.notes(), note))
		}
	}
}

func appendNote(notes []string, n string) []string {
	for _, x := range notes {
		if x == n {
			return notes
		}
	}
	return append(notes, n)
}

// owed applies the once_per key and the limit to an event's award, and
// records what it used.
func (s *stream) owed(e *Engine, ev *eventState, re *ruleEval) (int64, string) {
	r := re.rule
	if r.OncePer != nil && s.seen[re.key] {
		return 0, fmt.Sprintf("rule %s: already awarded once for %s", r.ID, re.key)
	}
	points := re.amount
	note := ""
	if r.Limit != nil && points > 0 {
		if s.used == nil {
			s.used = map[int64]int64{}
		}
		cal := e.versionAt(ev.at).Program.Calendar
		start := cal.PeriodStart(r.Limit.Per, unixTime(ev.at)).UnixNano()
		left := r.Limit.Max - s.used[start]
		if left < 0 {
			left = 0
		}
		if points > left {
			note = fmt.Sprintf("rule %s: limit %d per %s reached; %d of %d awarded", r.ID, r.Limit.Max, r.Limit.Per, left, points)
			points = left
		}
		s.used[start] += points
	}
	// A key is used by an award, not by an event that got nothing.
	if r.OncePer != nil && points > 0 {
		if s.seen == nil {
			s.seen = map[string]bool{}
		}
		s.seen[re.key] = true
	}
	return points, note
}

// streamRecompute grants every event of the stream again, in order, and
// changes only the awards whose points differ.
func (e *Engine) streamRecompute(s *stream) {
	s.seen = nil
	s.used = nil
	e.streamRegrant(s, s.evs)
}

// streamRegrant grants evs, a run of the stream's events, again in order,
// and changes only the awards whose points differ. What the events before
// the run used is in s.seen and s.used; what the run's own events used is
// not.
func (e *Engine) streamRegrant(s *stream, evs []*eventState) {
	for _, ev := range evs {
		re := s.evalOf(ev)
		if re == nil {
			continue
		}
		points, note := s.owed(e, ev, re)
		if re.award != nil && re.award.Points == points && re.award.Note == note {
			continue
		}
		if re.award != nil {
			e.removeAward(re.award)
			re.award = nil
		}
		ev.setNotes(dropStreamNotes(ev.notes(), re.rule.ID))
		if points > 0 {
			re.award = e.newAward(ev, re, points, re.amount, note)
			e.addAward(re.award)
		} else if note != "" {
			ev.setNotes(appendNote(ev.notes(), note))
		}
	}
}

// dropStreamNotes removes the notes a stream wrote for a rule, before the
// stream writes them anew.
func dropStreamNotes(notes []string, rule string) []string {
	prefix := "rule " + rule + ": "
	out := notes[:0]
	for _, n := range notes {
		if strings.HasPrefix(n, prefix) && (strings.Contains(n, "already awarded once") || strings.Contains(n, ": limit ")) {
			continue
		}
		out = append(out, n)
	}
	return out
}
