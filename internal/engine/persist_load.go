package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/program"
)

// LoadDump reads a state dump WriteDump wrote and returns the engine it
// holds, for the program versions vs (compiled from the same sources, in
// the same order, as the engine that wrote it had). A dump of another
// format or other program versions gives an error wrapping ErrDumpMismatch;
// damaged or cut bytes one wrapping ErrSnapshotCorrupt. Either way the
// caller replays the log instead: no error, no engine.
func LoadDump(r io.Reader, vs []*Version) (e *Engine, meta DumpMeta, err error) {
	defer func() {
		// The decoder checks every number it reads; this is the last line
		// against a bug there turning damaged bytes into a crash.
		if p := recover(); p != nil {
			e, err = nil, fmt.Errorf("%w: %v", ErrSnapshotCorrupt, p)
		}
	}()
	return loadDump(r, vs)
}

func loadDump(r io.Reader, vs []*Version) (*Engine, DumpMeta, error) {
	x, format, err := newDec(r)
	if err != nil {
		return nil, DumpMeta{}, err
	}
	meta := DumpMeta{Format: format}
	if format != DumpFormat {
		return nil, meta, fmt.Errorf("%w: format %d, this build reads %d", ErrDumpMismatch, format, DumpFormat)
	}
	l := &loader{x: x, e: New()}
	now := l.meta(&meta)
	if x.err != nil {
		return nil, meta, x.err
	}
	if err := sameVersions(meta.Versions, DumpVersions(vs)); err != nil {
		return nil, meta, err
	}
	if len(vs) > 0 {
		l.e.indexVersions(vs, now)
	}
	l.e.now = now
	l.ruleTable(vs)
	l.names()
	l.bodies()
	l.subjectShells()
	l.events()
	l.subjectLists()
	l.streamsIn()
	l.holdings()
	l.effects()
	l.results()
	l.redemptions()
	l.revocations()
	l.tierFacts()
	if err := x.end(); err != nil {
		return nil, meta, err
	}
	l.e.buildBoards()
	return l.e, meta, nil
}

// sameVersions checks the dump's program versions against the loader's.
func sameVersions(dumped, have []DumpVersion) error {
	if len(dumped) != len(have) {
		return fmt.Errorf("%w: written with %d program versions, there are %d", ErrDumpMismatch, len(dumped), len(have))
	}
	for i := range dumped {
		a, b := dumped[i], have[i]
		if a.N != b.N || !a.From.Equal(b.From) || a.Source != b.Source {
			return fmt.Errorf("%w: program version %d differs from the one it was written with", ErrDumpMismatch, b.N)
		}
	}
	return nil
}

// loader reads one dump into a new engine.
type loader struct {
	x       *dec
	e       *Engine
	rules   []*program.Rule // by number, from 1
	awards  []*Award        // by number, from 1
	awardsB []Award         // where new awards are carved from
	streams []*stream
	strs    map[string]string // rule ids and notes, shared
}

func (l *loader) meta(m *DumpMeta) time.Time {
	x := l.x
	m.Seq = x.i()
	m.Change = x.i()
	now := x.t()
	n := x.n(1 << 20)
	for i := 0; i < n && x.ok(); i++ {
		v := DumpVersion{N: x.int(), From: x.t()}
		x.raw(v.Source[:])
		m.Versions = append(m.Versions, v)
	}
	return now
}

func (l *loader) ruleTable(vs []*Version) {
	l.rules = []*program.Rule{nil}
	for _, v := range vs {
		l.rules = append(l.rules, v.Program.Points.Rules...)
	}
	l.awards = []*Award{nil}
	l.strs = map[string]string{}
}

// shared returns one string for equal rule ids and notes.
func (l *loader) shared(s string) string {
	if t, ok := l.strs[s]; ok {
		return t
	}
	if len(l.strs) < 1<<16 {
		l.strs[s] = s
	}
	return s
}

func (l *loader) names() {
	x, e := l.x, l.e
	e.types.names = x.strs()
	if len(e.types.names) > 0 {
		// typeNames.intern starts its table with "" as 0.
		if e.types.names[0] != "" {
			x.fail("the event types do not start with the empty one")
		}
		e.types.ids = make(map[string]uint32, len(e.types.names))
	}
	for i, n := range e.types.names {
		if _, dup := e.types.ids[n]; dup {
			x.fail("event type %q twice", n)
		}
		e.types.ids[n] = uint32(i)
	}
	keys := x.strs()
	for i, k := range keys {
		if _, dup := e.keyIDs[k]; dup || k == "" {
			x.fail("metric key %q twice or empty", k)
		}
		e.keyIDs[k] = uint32(i + 1)
	}
}

func (l *loader) bodies() {
	x, b := l.x, &l.e.bodies
	n := x.n(math.MaxUint32)
	for i := 0; i < n && x.ok(); i++ {
		if i == 0 {
			b.blocks = append(b.blocks, nil)
			continue
		}
		b.blocks = append(b.blocks, x.bytes())
	}
	b.cur = x.u32(uint64(max(len(b.blocks)-1, 0)))
	b.free = x.n(bodyChunk)
	if b.cur != 0 && x.ok() {
		// The block being filled was written up to its fill: it gets its
		// room back.
		blk := b.blocks[b.cur]
		if len(blk) != b.free {
			x.fail("the body block being filled is not as long as its fill")
			return
		}
		b.blocks[b.cur] = append(blk, make([]byte, bodyChunk-len(blk))...)
	}
}

func (l *loader) subjectShells() {
	x, e := l.x, l.e
	n := x.n(math.MaxUint32 - 1)
	for i := 0; i < n && x.ok(); i++ {
		p := &partnerState{id: x.s(), handle: uint32(i), members: map[string]*memberState{}}
		p.joined = x.i()
		k := x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			p.versions = append(p.versions, l.partnerVersion())
		}
		if len(p.versions) == 0 || e.partners[p.id] != nil {
			x.fail("partner %q has no versions or comes twice", p.id)
			return
		}
		e.partners[p.id] = p
		e.partnerByHandle = append(e.partnerByHandle, p)
	}
	n = x.n(math.MaxUint32 - 1)
	for i := 0; i < n && x.ok(); i++ {
		m := &memberState{handle: uint32(i)}
		l.member(&m.m)
		m.joined = x.i()
		if e.members[m.m.ID] != nil {
			x.fail("member %q comes twice", m.m.ID)
			return
		}
		e.members[m.m.ID] = m
		e.memberByHandle = append(e.memberByHandle, m)
	}
}

func (l *loader) partnerVersion() rung.PartnerVersion {
	x := l.x
	var pv rung.PartnerVersion
	pv.Version = x.int()
	pv.ValidFrom = x.t()
	p := &pv.Partner
	p.ID = x.s()
	p.Name = x.s()
	p.Type = x.s()
	p.Region = x.s()
	p.Size = x.s()
	p.JoinedAt = x.t()
	if x.b() {
		p.Domains = x.strs()
		if p.Domains == nil {
			p.Domains = []string{}
		}
	} else {
		x.strs()
	}
	p.Attrs = l.attrs()
	p.InitialTier = x.s()
	return pv
}

func (l *loader) member(m *rung.Member) {
	x := l.x
	m.ID = x.s()
	m.Partner = x.s()
	m.Name = x.s()
	m.Email = x.s()
	m.Role = x.s()
	m.JoinedAt = x.t()
	m.Attrs = l.attrs()
	some := x.b()
	n := x.n(math.MaxInt32)
	if some {
		m.Memberships = make([]rung.Membership, 0, min(n, 64))
	}
	for i := 0; i < n && x.ok(); i++ {
		m.Memberships = append(m.Memberships, rung.Membership{Partner: x.s(), JoinedAt: x.t(), LeftAt: x.t()})
	}
}

func (l *loader) attrs() map[string]any {
	b := l.x.bytes()
	if l.x.err != nil {
		return nil
	}
	var r rung.Record
	if err := codec.DecodeRecord(b, &r); err != nil {
		l.x.fail("attributes: %v", err)
		return nil
	}
	return r.Event.Attrs
}

// maxPresizedEvents bounds how many events the index is sized for before
// a dump's events are read (8 bytes a slot, 4/3 slots an event).
const maxPresizedEvents = 1 << 25

func (l *loader) events() {
	x, e := l.x, l.e
	n := x.u32(math.MaxUint32 - 1)
	types := uint64(len(e.types.names))
	parts, mems := uint64(len(e.partnerByHandle)), uint64(len(e.memberByHandle))
	// The index is sized once for every event (not grown step by step);
	// n comes from a frame whose checksum held, but a bound keeps a
	// damaged count from asking for more than a few hundred MiB here.
	e.events.grow(int(min(n, maxPresizedEvents)))
	for i := uint32(0); i < n && x.ok(); i++ {
		id := x.s()
		ev, added := e.events.getOrAdd(id)
		if !added {
			x.fail("event %q comes twice", id)
			return
		}
		if types == 0 {
			ev.typ = x.u32(0)
		} else {
			ev.typ = x.u32(types - 1)
		}
		ev.version = x.u32(math.MaxUint32)
		ev.retracted = x.b()
		ev.p = x.u32(parts)
		ev.m = x.u32(mems)
		ev.body = bodyRef{blk: x.u32(math.MaxUint32), off: x.u32(math.MaxUint32), n: x.u32(math.MaxUint32)}
		if r := ev.body; r.blk != 0 && (int(r.blk) >= len(e.bodies.blocks) || uint64(r.off)+uint64(r.n) > uint64(len(e.bodies.blocks[r.blk]))) {
			x.fail("event %q's body is outside the body blocks", id)
		}
		ev.at = x.i()
		ev.recv = x.i()
		ev.seq = x.i()
	}
}

// handles reads a list of handles, each at most max.
func (l *loader) handles(max uint64) []uint32 {
	x := l.x
	n := x.n(math.MaxInt32)
	if n == 0 {
		return nil
	}
	hs := make([]uint32, 0, min(n, 1<<16))
	for i := 0; i < n && x.ok(); i++ {
		hs = append(hs, x.u32(max))
	}
	return hs
}

func (l *loader) subjectLists() {
	x, e := l.x, l.e
	evs := uint64(e.events.n)
	for _, p := range e.partnerByHandle {
		p.events = l.handles(evs)
		p.adjusts = l.adjusts()
		p.series = l.series()
		k := x.n(len(e.memberByHandle))
		for i := 0; i < k && x.ok(); i++ {
			h := x.u32(uint64(len(e.memberByHandle) - 1))
			if x.ok() {
				m := e.memberByHandle[h]
				p.members[m.m.ID] = m
			}
		}
		l.awardList(&p.awards)
		if !x.ok() {
			return
		}
	}
	for _, m := range e.memberByHandle {
		m.events = l.handles(evs)
		m.adjusts = l.adjusts()
		m.series = l.series()
		l.awardList(&m.awards)
		if !x.ok() {
			return
		}
	}
}

func (l *loader) adjusts() []rung.Adjustment {
	x := l.x
	n := x.n(math.MaxInt32)
	var as []rung.Adjustment
	for i := 0; i < n && x.ok(); i++ {
		as = append(as, rung.Adjustment{ID: x.s(), Partner: x.s(), Member: x.s(), Points: x.i(),
			Reason: x.s(), OccurredAt: x.t(), By: x.s(), CreatedAt: x.t()})
	}
	return as
}

func (l *loader) series() []series {
	x, e := l.x, l.e
	n := x.n(math.MaxInt32)
	if n != e.metricSlots() {
		x.fail("a subject has %d metric series, the program %d", n, e.metricSlots())
		return nil
	}
	ss := make([]series, n)
	evs := uint64(e.events.n)
	keys := uint64(len(e.keyIDs))
	for i := 0; i < n && x.ok(); i++ {
		c := &ss[i].c
		k := x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			m := x.n(chunkMax * 2)
			if m == 0 {
				x.fail("an empty chunk")
				return nil
			}
			ch := make([]point, m, max(m, 8))
			for q := range ch {
				ch[q] = point{at: x.i(), v: x.i(), ev: x.u32(evs), key: x.u32(keys)}
				if ch[q].v < 0 {
					e.markNegative(i)
				}
			}
			c.chunks = append(c.chunks, ch)
		}
	}
	return ss
}

func (l *loader) awardList(al *awardList) {
	x := l.x
	c := &al.c
	k := x.n(math.MaxInt32)
	for j := 0; j < k && x.ok(); j++ {
		m := x.n(chunkMax * 2)
		if m == 0 {
			x.fail("an empty chunk")
			return
		}
		ch := make([]awardRef, 0, max(m, 8))
		for q := 0; q < m && x.ok(); q++ {
			a := l.award()
			if a == nil {
				x.fail("a nil award in a list")
				return
			}
			ch = append(ch, awardRef{at: a.At, a: a})
		}
		c.chunks = append(c.chunks, ch)
	}
}

// award reads an award reference (dumper.award).
func (l *loader) award() *Award {
	x, e := l.x, l.e
	n := x.u()
	switch {
	case n == 0 || !x.ok():
		return nil
	case n > 1:
		if n-1 >= uint64(len(l.awards)) {
			x.fail("award %d before it is written", n-1)
			return nil
		}
		return l.awards[n-1]
	}
	if len(l.awardsB) == 0 {
		l.awardsB = make([]Award, 512)
	}
	a := &l.awardsB[0]
	l.awardsB = l.awardsB[1:]
	l.awards = append(l.awards, a)
	a.Event = l.event()
	a.Rule = l.shared(x.s())
	a.Version = x.int()
	if p := x.u32(uint64(len(e.partnerByHandle)) - 1); x.ok() && len(e.partnerByHandle) > 0 {
		a.Partner = e.partnerByHandle[p]
	}
	a.Member = l.memberRef()
	a.Points = x.i()
	a.Requested = x.i()
	a.Note = l.shared(x.s())
	a.At = x.i()
	a.Expires = x.i()
	if x.ok() && (a.Event == nil || a.Partner == nil) {
		x.fail("an award without event or partner")
	}
	return a
}

func (l *loader) memberRef() *memberState {
	h := l.x.u32(uint64(len(l.e.memberByHandle)))
	if h == 0 || !l.x.ok() {
		return nil
	}
	return l.e.memberByHandle[h-1]
}

// event reads an event reference: nil for 0.
func (l *loader) event() *eventState {
	h := l.x.u32(uint64(l.e.events.n))
	if h == 0 || !l.x.ok() {
		return nil
	}
	return l.e.events.at(h)
}

// subject reads dumper.subject's form; nil for none.
func (l *loader) subject() any {
	x, e := l.x, l.e
	switch kind := x.u(); kind {
	case 0:
		return nil
	case 1:
		h := x.u32(math.MaxUint32)
		if x.ok() && int(h) < len(e.memberByHandle) {
			return e.memberByHandle[h]
		}
	case 2:
		h := x.u32(math.MaxUint32)
		if x.ok() && int(h) < len(e.partnerByHandle) {
			return e.partnerByHandle[h]
		}
	}
	x.fail("a subject that is not there")
	return nil
}

func (l *loader) streamsIn() {
	x, e := l.x, l.e
	n := x.n(math.MaxInt32)
	l.streams = []*stream{nil}
	for i := 0; i < n && x.ok(); i++ {
		s := &stream{}
		s.key.rule = x.s()
		s.key.to = program.Subject(x.s())
		s.key.subject = l.subject()
		k := x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			ev := l.event()
			if ev == nil {
				x.fail("a nil event in a stream")
			}
			s.evs = append(s.evs, ev)
		}
		if x.b() {
			s.seen = map[string]bool{}
		}
		k = x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			key := x.s()
			if s.seen == nil {
				x.fail("keys of a nil map")
				return
			}
			s.seen[key] = x.b()
		}
		if x.b() {
			s.used = map[int64]int64{}
		}
		k = x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			start := x.i()
			if s.used == nil {
				x.fail("keys of a nil map")
				return
			}
			s.used[start] = x.i()
		}
		if _, dup := e.streams[s.key]; dup || s.key.subject == nil {
			x.fail("a stream twice or without subject")
			return
		}
		e.streams[s.key] = s
		l.streams = append(l.streams, s)
	}
}

func (l *loader) holdings() {
	for _, p := range l.e.partnerByHandle {
		p.holds = l.holds(p)
	}
	for _, m := range l.e.memberByHandle {
		m.holds = l.holds(m)
	}
}

func (l *loader) holds(subj any) []*holding {
	x, e := l.x, l.e
	some := x.b()
	n := x.n(len(e.badgeDefs))
	if !some {
		if n != 0 {
			x.fail("holdings of none")
		}
		return nil
	}
	hs := make([]*holding, n)
	for i := 0; i < n && x.ok(); i++ {
		if x.u() == 0 {
			continue
		}
		b := e.badgeDefs[i]
		h := &holding{badge: b, idx: i, subj: subj}
		if b.Metric != "" {
			h.metric = e.cur.Metric(b.Metric)
		}
		h.joined, h.from, h.to = x.i(), x.i(), x.i()
		h.windowed = x.b()
		k := x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			h.cands = append(h.cands, cand{ev: l.event(), evidence: x.s(), steps: x.u()})
		}
		h.steps = x.u()
		h.n, h.sum, h.neg = x.i(), x.i(), x.i()
		k = x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			h.held = append(h.held, l.heldLevel())
		}
		hs[i] = h
	}
	return hs
}

func (l *loader) heldLevel() heldLevel {
	x := l.x
	hl := heldLevel{level: x.s(), at: x.i(), ev: l.event(), evidence: x.s(), value: x.f()}
	some := x.b()
	k := x.n(math.MaxInt32)
	if some {
		hl.events = make([]*eventState, 0, min(k, 64))
	}
	for j := 0; j < k && x.ok(); j++ {
		hl.events = append(hl.events, l.event())
	}
	hl.award = l.award()
	return hl
}

func (l *loader) holdingRef() *holding {
	x := l.x
	subj := l.subject()
	i := x.n(math.MaxInt32)
	if !x.ok() {
		return nil
	}
	hs := subjectHolds(subj)
	if i >= len(hs) || hs[i] == nil {
		x.fail("an event marks a holding that is not there")
		return nil
	}
	return hs[i]
}

func subjectHolds(s any) []*holding {
	switch s := s.(type) {
	case *memberState:
		return s.holds
	case *partnerState:
		return s.holds
	}
	return nil
}

func (l *loader) effects() {
	x, e := l.x, l.e
	for ev := range e.events.all {
		if !x.ok() {
			return
		}
		if x.u() != 0 {
			fx := e.slab.effects()
			fx.evals = l.evals()
			k := x.n(math.MaxInt32)
			if k > 0 {
				cs := make([]contrib, 0, min(k, 64))
				for j := 0; j < k && x.ok(); j++ {
					c := contrib{metric: x.int(), v: x.f(), key: x.s()}
					if c.metric < 0 || c.metric >= e.metricSlots() {
						x.fail("a contribution to metric slot %d", c.metric)
					}
					cs = append(cs, c)
				}
				fx.contribs = e.slab.contribs(cs)
			}
			ev.fx = fx
		}
		if x.u() == 0 {
			continue
		}
		m := &eventMore{}
		k := x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			m.seqs = append(m.seqs, x.i())
		}
		some := x.b()
		m.notes = x.strs()
		if some && m.notes == nil {
			m.notes = []string{}
		}
		some = x.b()
		k = x.n(math.MaxInt32)
		if some {
			m.marks = make([]*holding, 0, min(k, 64))
		}
		for j := 0; j < k && x.ok(); j++ {
			m.marks = append(m.marks, l.holdingRef())
		}
		ev.more = m
	}
}

func (l *loader) evals() []ruleEval {
	x, e := l.x, l.e
	n := x.n(math.MaxInt32)
	if n == 0 {
		return nil
	}
	res := e.scratch.evals[:0]
	for i := 0; i < n && x.ok(); i++ {
		re := ruleEval{}
		if r := x.u32(uint64(len(l.rules) - 1)); x.ok() {
			re.rule = l.rules[r]
		}
		if s := x.u32(uint64(len(l.streams) - 1)); x.ok() {
			re.stream = l.streams[s]
		}
		re.award = l.award()
		re.key = x.s()
		re.amount = x.i()
		v := x.int()
		re.version = int32(v)
		re.toMember = x.b()
		if x.ok() && re.rule == nil {
			x.fail("an evaluation without rule")
		}
		res = append(res, re)
	}
	e.scratch.evals = res[:0]
	return e.slab.evals(res)
}

func (l *loader) results() {
	x, e := l.x, l.e
	if x.b() {
		e.results = map[string]*challengeResult{}
	}
	n := x.n(math.MaxInt32)
	for i := 0; i < n && x.ok(); i++ {
		id := x.s()
		var c *program.Challenge
		if e.cur != nil {
			for _, cc := range e.cur.Challenges {
				if cc.ID == id {
					c = cc
				}
			}
		}
		if c == nil || e.results == nil {
			x.fail("a result of challenge %q, which the program does not have", id)
			return
		}
		r := &challengeResult{c: c, at: x.i(), onTime: x.b()}
		k := x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			r.rows = append(r.rows, l.row())
		}
		k = x.n(math.MaxInt32)
		for j := 0; j < k && x.ok(); j++ {
			w := winner{subj: l.subject(), row: x.int(), ev: l.event(), reason: x.s(), award: l.award()}
			r.winners = append(r.winners, w)
		}
		e.results[id] = r
	}
}

func (l *loader) row() standingRow {
	x := l.x
	r := standingRow{subj: l.subject(), id: x.s(), value: x.f(), at: x.i(), cohort: x.s(),
		place: x.int(), cohortPlace: x.int(), reached: x.b(), winner: x.b()}
	some := x.b()
	r.last = l.handles(uint64(l.e.events.n))
	if some && r.last == nil {
		r.last = []uint32{}
	}
	r.lastAt = x.i()
	r.lastAward = l.award()
	return r
}

func (l *loader) redemptions() {
	x, e := l.x, l.e
	rs := &e.redeemed
	if x.b() {
		rs.byID = map[string]*rung.Redemption{}
		rs.spent = map[*awardList][]*rung.Redemption{}
	}
	n := x.n(math.MaxInt32)
	all := []*rung.Redemption{nil}
	for i := 0; i < n && x.ok(); i++ {
		r := l.redemption()
		if rs.byID == nil || rs.byID[r.ID] != nil {
			x.fail("redemption %q twice, or in no table", r.ID)
			return
		}
		rs.byID[r.ID] = r
		all = append(all, r)
	}
	n = x.n(math.MaxInt32)
	for i := 0; i < n && x.ok(); i++ {
		var list *awardList
		switch s := l.subject().(type) {
		case *memberState:
			list = &s.awards
		case *partnerState:
			list = &s.awards
		}
		k := x.n(math.MaxInt32)
		if list == nil || rs.spent == nil {
			x.fail("redemptions charged to no subject")
			return
		}
		spent := make([]*rung.Redemption, 0, min(k, 64))
		for j := 0; j < k && x.ok(); j++ {
			num := x.u32(uint64(len(all) - 1))
			if num == 0 {
				spent = append(spent, l.redemption())
			} else {
				spent = append(spent, all[num])
			}
		}
		rs.spent[list] = spent
	}
}

func (l *loader) redemption() *rung.Redemption {
	x := l.x
	return &rung.Redemption{ID: x.s(), Reward: x.s(), Partner: x.s(), Member: x.s(), Points: x.i(), Status: x.s(),
		RequestedAt: x.t(), RequestedBy: x.s(), DecidedAt: x.t(), DecidedBy: x.s(), Reason: x.s()}
}

func (l *loader) revocations() {
	x, e := l.x, l.e
	some := x.b()
	n := x.n(math.MaxInt32)
	if some {
		e.revocations = make([]Revocation, 0, min(n, 1024))
	}
	for i := 0; i < n && x.ok(); i++ {
		r := Revocation{Badge: x.s(), Name: x.s(), Level: x.s(), Subject: x.s(), Kind: x.s(), Partner: x.s(),
			AwardedAt: x.t(), Evidence: x.s()}
		some := x.b()
		r.Events = x.strs()
		if some && r.Events == nil {
			r.Events = []string{}
		}
		r.RevokedAt, r.RevokedBy, r.Retraction = x.t(), x.s(), x.b()
		e.revocations = append(e.revocations, r)
	}
}

func (l *loader) tierFacts() {
	x := l.x
	if x.u() == 0 {
		return
	}
	b := x.bytes()
	if !x.ok() {
		return
	}
	var facts struct {
		D map[string][]*TierDecision
		O map[string][]*TierOverride
		A map[string][]*TierAppeal
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&facts); err != nil {
		x.fail("tier actions: %v", err)
		return
	}
	tf := l.e.tierFacts()
	tf.decisions = orEmpty(facts.D)
	tf.overrides = orEmpty(facts.O)
	tf.appeals = orEmpty(facts.A)
	for _, p := range l.e.partnerByHandle {
		if x.u() == 0 || !x.ok() {
			continue
		}
		tl := &timeline{}
		some := x.b()
		n := x.n(math.MaxInt32)
		if some {
			tl.segs = make([]tseg, 0, min(n, 64))
		}
		for i := 0; i < n && x.ok(); i++ {
			tl.segs = append(tl.segs, tseg{at: x.i(), tier: x.s(), kind: x.s(), why: x.s()})
		}
		tl.lastEv, tl.hasLast, tl.lastAt, tl.lastTier = x.i(), x.b(), x.i(), x.s()
		tf.lines = setByHandle(tf.lines, p, tl)
	}
}

func orEmpty[T any](m map[string][]*T) map[string][]*T {
	if m == nil {
		return map[string][]*T{}
	}
	return m
}
