package engine

import (
	"sort"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/rank"
)

// board is a live leaderboard: the aggregate of every subject over the
// window containing the engine's now, and an order-statistic index over
// their values (overall and per cohort), kept up to date by deltas as
// events arrive.
type board struct {
	def      *program.Leaderboard
	m        *program.Metric
	member   bool
	from, to time.Time
	fromN    int64
	toN      int64
	// metric slots the board listens to: mi for plain metrics, ni/di for a
	// ratio's parts; -1 when unused. Points boards listen to awards.
	mi, ni, di int
	kn, kd     program.MetricKind // kinds of the main/numerator and denominator slots
	aggs       []boardAgg         // by subject handle
	idx        *rank.Index
	cohorts    map[string]*rank.Index
	cohortOf   map[uint32]string
	// dirty holds the subjects whose values the indexes are yet to take
	// (DeferBoards), each once: marked has their bits, by handle.
	dirty  []uint32
	marked []uint64
}

type boardAgg struct{ a, b agg }

func (e *Engine) buildBoards() {
	e.metricIndex()
	e.boards = e.boards[:0]
	if e.cur == nil {
		return
	}
	for _, def := range e.cur.Leaderboards {
		b := &board{def: def, m: e.cur.Metric(def.Metric), member: def.For == program.SubjectMember, mi: -1, ni: -1, di: -1}
		switch b.m.Kind {
		case program.MetricPoints:
		case program.MetricRatio:
			b.ni, b.di = e.metricIdx[b.m.Num], e.metricIdx[b.m.Den]
			b.kn, b.kd = e.cur.Metrics[b.m.Num].Kind, e.cur.Metrics[b.m.Den].Kind
		default:
			b.mi = e.metricIdx[b.m.Name]
			b.kn = b.m.Kind
		}
		e.boards = append(e.boards, b)
		e.buildBoard(b)
	}
}

func (e *Engine) metricIndex() {
	e.metricIdx = map[string]int{}
	if e.cur == nil {
		return
	}
	for i, n := range e.cur.MetricOrder {
		e.metricIdx[n] = i
	}
}

// live reports whether a read as of t can use the live board: t is now (or
// later) and inside the board's current window.
func (e *Engine) live(b *board, t time.Time) bool {
	return t.IsZero() || (!t.Before(e.now) && t.Before(b.to))
}

// boardWindow returns the window of a board that contains t.
func (e *Engine) boardWindow(def *program.Leaderboard, t time.Time) (time.Time, time.Time) {
	if def.Window.Kind == program.WindowChallenge {
		for _, c := range e.cur.Challenges {
			if c.ID == def.Challenge {
				return c.Starts, c.Ends
			}
		}
	}
	return e.Calendar().Window(def.Window, t)
}

// buildBoard computes a board from scratch for the window containing now.
func (e *Engine) buildBoard(b *board) {
	b.from, b.to = e.boardWindow(b.def, e.now)
	b.fromN, b.toN = nanos(b.from), nanos(b.to)
	if b.member {
		b.aggs = make([]boardAgg, len(e.memberByHandle))
	} else {
		b.aggs = make([]boardAgg, len(e.partnerByHandle))
	}
	b.cohorts = map[string]*rank.Index{}
	b.cohortOf = map[uint32]string{}
	if b.member {
		b.idx = rank.New(e.cmpMemberHandles)
		for _, m := range e.memberByHandle {
			e.boardFill(b, m.handle, m)
		}
	} else {
		b.idx = rank.New(e.cmpPartnerHandles)
		for _, p := range e.partnerByHandle {
			e.boardFill(b, p.handle, p)
		}
	}
}

// boardFill computes one subject's aggregate on a board from its series.
func (e *Engine) boardFill(b *board, h uint32, subj any) {
	ba := &boardAgg{}
	switch {
	case b.m.Kind == program.MetricPoints:
		for aw := range subjectAwards(subj).window(b.fromN, b.toN) {
			ba.a.add(point{at: aw.At, v: aw.Points * micro}, program.MetricPoints)
		}
	case b.m.Kind == program.MetricRatio:
		ser := subjectSeries(subj)
		ba.a = aggOf(ser[b.ni].window(b.fromN, b.toN), b.kn)
		ba.b = aggOf(ser[b.di].window(b.fromN, b.toN), b.kd)
	default:
		ba.a = aggOf(subjectSeries(subj)[b.mi].window(b.fromN, b.toN), b.kn)
	}
	if ba.a.n == 0 && ba.b.n == 0 {
		return
	}
	b.aggs[h] = *ba
	e.boardSet(b, h, &b.aggs[h])
}

// DeferBoards makes the live boards' rank indexes take the new values of
// their subjects at FlushBoards rather than at each change, so that a
// group of events that moves a subject many times (a partner, on a
// partner board, for every event of its members) moves it in an index
// once. The engine's own reads of the boards flush first; the caller
// calls FlushBoards before any other goroutine reads the engine, since
// reads under a shared lock must find nothing to flush.
func (e *Engine) DeferBoards() { e.deferBoards = true }

// FlushBoards puts the values changed since DeferBoards into the boards'
// indexes and ends the deferring.
func (e *Engine) FlushBoards() {
	e.flushBoards()
	e.deferBoards = false
}

// flushBoards puts the deferred values into the indexes.
func (e *Engine) flushBoards() {
	for _, b := range e.boards {
		for _, h := range b.dirty {
			b.marked[h>>6] &^= 1 << (h & 63)
			e.boardPut(b, h, &b.aggs[h])
		}
		b.dirty = b.dirty[:0]
	}
}

// boardSet puts a subject's current value into the board's indexes, or,
// while they are deferred, notes that it is to be put.
func (e *Engine) boardSet(b *board, h uint32, ba *boardAgg) {
	if !e.deferBoards {
		e.boardPut(b, h, ba)
		return
	}
	w := int(h >> 6)
	if w >= len(b.marked) {
		b.marked = append(b.marked, make([]uint64, w+1-len(b.marked))...)
	}
	if bit := uint64(1) << (h & 63); b.marked[w]&bit == 0 {
		b.marked[w] |= bit
		b.dirty = append(b.dirty, h)
	}
}

// boardPut puts a subject's current value into the board's indexes.
func (e *Engine) boardPut(b *board, h uint32, ba *boardAgg) {
	var v float64
	var ok bool
	at := ba.a.at
	if b.m.Kind == program.MetricRatio {
		v, ok = e.ratioValue(b.m, &ba.a, &ba.b)
		at = max(at, ba.b.at)
	} else {
		v, ok = ba.a.value(b.m.Kind)
	}
	c := ""
	if b.def.Cohort != "" {
		var seen bool
		if c, seen = b.cohortOf[h]; !seen {
			c = e.cohortOfHandle(b, h)
			b.cohortOf[h] = c
		}
	}
	if !ok {
		b.idx.Delete(h)
		if ci := b.cohorts[c]; ci != nil {
			ci.Delete(h)
		}
		return
	}
	b.idx.Set(h, v, at)
	if b.def.Cohort != "" {
		ci := b.cohorts[c]
		if ci == nil {
			if b.member {
				ci = rank.New(e.cmpMemberHandles)
			} else {
				ci = rank.New(e.cmpPartnerHandles)
			}
			b.cohorts[c] = ci
		}
		ci.Set(h, v, at)
	}
}

// boardDelta applies a contribution added (sign +1) or removed (-1) to the
// live boards listening to the metric slot.
func (e *Engine) boardDelta(subj any, slot int, p point, sign int) {
	if !e.boardsLive {
		return
	}
	for _, b := range e.boards {
		if b.m.Kind == program.MetricPoints || p.at < b.fromN || p.at >= b.toN {
			continue
		}
		if slot != b.mi && slot != b.ni && slot != b.di {
			continue
		}
		ba, h := e.boardAggOf(b, subj)
		if ba == nil {
			continue
		}
		update := func(which *agg, kind program.MetricKind) {
			if sign > 0 {
				which.add(p, kind)
			} else if !which.remove(p, kind) {
				*which = aggOf(subjectSeries(subj)[slot].window(b.fromN, b.toN), kind)
			}
		}
		if slot == b.mi || slot == b.ni {
			update(&ba.a, b.kn)
		}
		if slot == b.di {
			update(&ba.b, b.kd)
		}
		e.boardSet(b, h, ba)
	}
}

// pointsDelta applies an award added or removed to the live points boards.
func (e *Engine) pointsDelta(a *Award, sign int) {
	if !e.boardsLive {
		return
	}
	p := point{at: a.At, v: a.Points * micro}
	for _, b := range e.boards {
		if b.m.Kind != program.MetricPoints || a.At < b.fromN || a.At >= b.toN {
			continue
		}
		var subj any = a.Partner
		if b.member {
			if a.Member == nil {
				continue
			}
			subj = a.Member
		}
		ba, h := e.boardAggOf(b, subj)
		if ba == nil {
			continue
		}
		if sign > 0 {
			ba.a.add(p, program.MetricPoints)
		} else if !ba.a.remove(p, program.MetricPoints) {
			ba.a = agg{}
			for aw := range subjectAwards(subj).window(b.fromN, b.toN) {
				ba.a.add(point{at: aw.At, v: aw.Points * micro}, program.MetricPoints)
			}
		}
		e.boardSet(b, h, ba)
	}
}

// boardAggOf returns the board's aggregate for a subject, creating it; nil
// when the subject is of the other kind.
func (e *Engine) boardAggOf(b *board, subj any) (*boardAgg, uint32) {
	var h uint32
	switch s := subj.(type) {
	case *memberState:
		if !b.member {
			return nil, 0
		}
		h = s.handle
	case *partnerState:
		if b.member {
			return nil, 0
		}
		h = s.handle
	}
	if int(h) >= len(b.aggs) {
		b.aggs = append(b.aggs, make([]boardAgg, int(h)+1-len(b.aggs))...)
	}
	return &b.aggs[h], h
}

// cohortOfHandle returns a subject's cohort for the board's window: the
// cohort its partner had when the window started.
func (e *Engine) cohortOfHandle(b *board, h uint32) string {
	var p *partnerState
	if b.member {
		m := e.memberByHandle[h]
		p = e.partners[m.m.PartnerAt(b.from)]
		if p == nil {
			p = e.partners[m.m.Partner]
		}
	} else {
		p = e.partnerByHandle[h]
	}
	if p == nil {
		return ""
	}
	return e.cohortValue(b.def.Cohort, p, b.fromN)
}

// cohortValue evaluates a named cohort for a partner as it was at t.
func (e *Engine) cohortValue(name string, p *partnerState, t int64) string {
	for _, c := range e.cur.Cohorts {
		if c.Name != name {
			continue
		}
		// Built afresh, not from the cache: reads share a read lock and
		// must not write.
		i := p.at(t)
		vars := &program.Vars{Partner: program.PartnerVars(&p.versions[i].Partner, e.tierAt(p, t))}
		k, err := c.Expr.Key(vars)
		if err != nil {
			return ""
		}
		return k
	}
	return ""
}

// refreshBoardsFor recomputes cohorts of a partner (and its members) after a
// partner changed; values are unchanged.
func (e *Engine) refreshBoardsFor(p *partnerState) {
	if !e.boardsLive {
		return
	}
	for _, b := range e.boards {
		if b.def.Cohort == "" {
			continue
		}
		var hs []uint32
		if b.member {
			for _, m := range p.members {
				hs = append(hs, m.handle)
			}
		} else {
			hs = []uint32{p.handle}
		}
		for _, h := range hs {
			old, seen := b.cohortOf[h]
			if !seen {
				continue
			}
			if ci := b.cohorts[old]; ci != nil {
				ci.Delete(h)
			}
			delete(b.cohortOf, h)
			if int(h) < len(b.aggs) && (b.aggs[h].a.n > 0 || b.aggs[h].b.n > 0) {
				e.boardSet(b, h, &b.aggs[h])
			}
		}
	}
}

// BoardQuery selects a page of a leaderboard.
type BoardQuery struct {
	Cohort string    // rank inside this cohort only
	Limit  int       // default 20, at most 1000
	Offset int       // entries to skip
	Around string    // centre the page on this subject
	AsOf   time.Time // zero: now
}

// BoardEntry is one row of a leaderboard page.
type BoardEntry struct {
	Rank       int     `json:"rank"`
	CohortRank int     `json:"cohort_rank,omitempty"`
	Subject    string  `json:"subject"`
	Name       string  `json:"name"`
	Partner    string  `json:"partner,omitempty"`
	Cohort     string  `json:"cohort,omitempty"`
	Value      float64 `json:"value"`
}

// BoardPage is a page of a leaderboard.
type BoardPage struct {
	ID      string       `json:"id"`
	Name    string       `json:"name,omitempty"`
	Metric  string       `json:"metric"`
	For     string       `json:"for"`
	Window  Span         `json:"window"`
	Cohort  string       `json:"cohort,omitempty"`
	Total   int          `json:"total"`
	Entries []BoardEntry `json:"entries"`
}

// Span is a time window [From, To).
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ranked is a leaderboard as a sorted list, for as_of reads.
type ranked struct {
	h     uint32
	v     float64
	at    int64
	name  string
	rank  int
	crank int
}

// Leaderboard returns a page of a leaderboard. With AsOf zero or not before
// the engine's now, it reads the live index; otherwise it computes the board
// as it stood at AsOf.
func (e *Engine) Leaderboard(id string, q BoardQuery) (BoardPage, error) {
	if e.cur == nil {
		return BoardPage{}, rung.Errorf(rung.ENOTFOUND, "leaderboard %q not found: no program is applied yet", id)
	}
	var b *board
	for _, x := range e.boards {
		if x.def.ID == id {
			b = x
		}
	}
	if b == nil {
		return BoardPage{}, rung.Errorf(rung.ENOTFOUND, "leaderboard %q not found: the program defines %s", id, e.boardIDs())
	}
	q.page()
	if q.Cohort != "" && b.def.Cohort == "" {
		return BoardPage{}, rung.Errorf(rung.EINVALID, "leaderboard %q has no cohorts; drop the cohort parameter", id)
	}
	page := BoardPage{ID: b.def.ID, Name: b.def.Name, Metric: b.def.Metric, For: string(b.def.For), Cohort: q.Cohort, Entries: []BoardEntry{}}
	if e.live(b, q.AsOf) {
		return e.livePage(b, q, page)
	}
	return e.staticPage(b, q, page)
}

func (e *Engine) boardIDs() string {
	s := ""
	for i, b := range e.boards {
		if i > 0 {
			s += ", "
		}
		s += b.def.ID
	}
	if s == "" {
		return "no leaderboards"
	}
	return s
}

func (e *Engine) handleOf(b *board, id string) (uint32, bool) {
	if b.member {
		if m := e.members[id]; m != nil {
			return m.handle, true
		}
		return 0, false
	}
	if p := e.partners[id]; p != nil {
		return p.handle, true
	}
	return 0, false
}

func (e *Engine) livePage(b *board, q BoardQuery, page BoardPage) (BoardPage, error) {
	e.flushBoards()
	page.Window = Span{b.from, b.to}
	idx := b.idx
	if q.Cohort != "" {
		idx = b.cohorts[q.Cohort]
		if idx == nil {
			return page, nil
		}
	}
	page.Total = idx.Len()
	if q.Around != "" && !e.centre(b, idx, &q) {
		return page, rung.Errorf(rung.ENOTFOUND, "%s %q is not on leaderboard %q (no contributing event in the window)", b.def.For, q.Around, b.def.ID)
	}
	page.Entries = make([]BoardEntry, 0, min(q.Limit, max(0, page.Total-q.Offset)))
	idx.Range(q.Offset, q.Limit, func(rk, _ int, en rank.Entry) bool {
		be := e.entry(b, en.ID, en.Value, e.now)
		if q.Cohort != "" {
			be.CohortRank = rk
			be.Rank, _ = b.idx.Rank(en.ID)
		} else {
			be.Rank = rk
			if ci := b.cohorts[b.cohortOf[en.ID]]; ci != nil && b.def.Cohort != "" {
				be.CohortRank, _ = ci.Rank(en.ID)
			}
		}
		page.Entries = append(page.Entries, be)
		return true
	})
	return page, nil
}

// entry describes a subject on a board as of t (a member's partner is the
// one it had then).
func (e *Engine) entry(b *board, h uint32, v float64, t time.Time) BoardEntry {
	be := BoardEntry{Value: v}
	if b.member {
		m := e.memberByHandle[h]
		be.Subject, be.Name, be.Partner = m.m.ID, m.m.Name, m.m.PartnerAt(t)
		if be.Partner == "" {
			be.Partner = m.m.Partner
		}
	} else {
		p := e.partnerByHandle[h]
		be.Subject, be.Name = p.id, p.latest().Name
	}
	if b.def.Cohort != "" {
		be.Cohort = b.cohortOf[h]
	}
	return be
}

// staticBoard computes a board as it stood at asOf: every subject's value
// over the window containing asOf, cut at asOf, sorted and ranked.
func (e *Engine) staticBoard(b *board, asOf time.Time) (from, to time.Time, all []ranked, cohortOf map[uint32]string) {
	from, to = e.boardWindow(b.def, asOf)
	f, t := nanos(from), min(nanos(to), asOf.UnixNano()+1)
	cohortOf = map[uint32]string{}
	tmp := &board{def: b.def, from: from, fromN: f, member: b.member}
	add := func(h uint32, id string, subj any) {
		mv := e.metricValue(subj, b.m, f, t)
		if !mv.OK {
			return
		}
		all = append(all, ranked{h: h, v: mv.Value, at: mv.At.UnixNano(), name: id})
		if b.def.Cohort != "" {
			cohortOf[h] = e.cohortOfHandle(tmp, h)
		}
	}
	if b.member {
		for _, m := range e.memberByHandle {
			add(m.handle, m.m.ID, m)
		}
	} else {
		for _, p := range e.partnerByHandle {
			add(p.handle, p.id, p)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, c := all[i], all[j]
		if a.v != c.v {
			return a.v > c.v
		}
		if a.at != c.at {
			return a.at < c.at
		}
		return a.name < c.name
	})
	rankList(all, func(r *ranked) *int { return &r.rank })
	if b.def.Cohort != "" {
		byCohort := map[string][]*ranked{}
		for i := range all {
			c := cohortOf[all[i].h]
			byCohort[c] = append(byCohort[c], &all[i])
		}
		for _, list := range byCohort {
			for i, r := range list {
				if i > 0 && list[i-1].v == r.v {
					r.crank = list[i-1].crank
				} else {
					r.crank = i + 1
				}
			}
		}
	}
	return from, to, all, cohortOf
}

// rankList assigns competition ranks (1, 2, 2, 4) to a sorted list.
func rankList(all []ranked, field func(*ranked) *int) {
	for i := range all {
		if i > 0 && all[i-1].v == all[i].v {
			*field(&all[i]) = *field(&all[i-1])
		} else {
			*field(&all[i]) = i + 1
		}
	}
}

func (e *Engine) staticPage(b *board, q BoardQuery, page BoardPage) (BoardPage, error) {
	from, to, all, cohortOf := e.staticBoard(b, q.AsOf)
	page.Window = Span{from, to}
	list := all
	if q.Cohort != "" {
		list = nil
		for _, r := range all {
			if cohortOf[r.h] == q.Cohort {
				list = append(list, r)
			}
		}
	}
	page.Total = len(list)
	if q.Around != "" {
		h, ok := e.handleOf(b, q.Around)
		pos := -1
		for i := range list {
			if ok && list[i].h == h {
				pos = i
			}
		}
		if pos < 0 {
			return page, rung.Errorf(rung.ENOTFOUND, "%s %q is not on leaderboard %q as of %s", b.def.For, q.Around, b.def.ID, q.AsOf.Format(time.RFC3339))
		}
		q.Offset = max(0, pos-q.Limit/2)
	}
	for i := q.Offset; i < len(list) && i < q.Offset+q.Limit; i++ {
		r := list[i]
		be := e.entry(b, r.h, r.v, q.AsOf)
		be.Rank = r.rank
		be.CohortRank = r.crank
		if b.def.Cohort != "" {
			be.Cohort = cohortOf[r.h]
		}
		page.Entries = append(page.Entries, be)
	}
	return page, nil
}

// Standing is a subject's place on one leaderboard.
type Standing struct {
	Leaderboard string  `json:"leaderboard"`
	Rank        int     `json:"rank"`
	CohortRank  int     `json:"cohort_rank,omitempty"`
	Cohort      string  `json:"cohort,omitempty"`
	Of          int     `json:"of"`
	Value       float64 `json:"value"`
}

// standings returns a subject's place on every board of its kind.
func (e *Engine) standings(subj any, member bool, asOf time.Time) []Standing {
	e.flushBoards()
	out := []Standing{}
	for _, b := range e.boards {
		if b.member != member {
			continue
		}
		var h uint32
		if member {
			h = subj.(*memberState).handle
		} else {
			h = subj.(*partnerState).handle
		}
		if e.live(b, asOf) {
			en, ok := b.idx.Get(h)
			if !ok {
				continue
			}
			s := Standing{Leaderboard: b.def.ID, Of: b.idx.Len(), Value: en.Value}
			s.Rank, _ = b.idx.Rank(h)
			if b.def.Cohort != "" {
				s.Cohort = b.cohortOf[h]
				if ci := b.cohorts[s.Cohort]; ci != nil {
					s.CohortRank, _ = ci.Rank(h)
				}
			}
			out = append(out, s)
			continue
		}
		_, _, all, cohortOf := e.staticBoard(b, asOf)
		for _, r := range all {
			if r.h == h {
				out = append(out, Standing{Leaderboard: b.def.ID, Rank: r.rank, CohortRank: r.crank, Cohort: cohortOf[h], Of: len(all), Value: r.v})
			}
		}
	}
	return out
}

// page applies a query's default and largest page (20 and 1,000 rows) and
// its smallest offset.
func (q *BoardQuery) page() {
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 1000)
	q.Offset = max(q.Offset, 0)
}

// centre sets q's offset so that its page has q.Around in the middle, and
// reports whether q.Around is on the board.
func (e *Engine) centre(b *board, idx *rank.Index, q *BoardQuery) bool {
	h, ok := e.handleOf(b, q.Around)
	pos := -1
	if ok {
		pos, ok = idx.Position(h)
	}
	if ok {
		q.Offset = max(0, pos-q.Limit/2)
	}
	return ok
}
