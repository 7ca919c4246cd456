package engine

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/program"
)

// A state dump is the engine's derived state written out, so that a restart
// loads it instead of evaluating the whole log again (docs/design.md,
// "Speed"). Pointers become numbers: subjects by handle, events by handle,
// awards by their place in the dump (written where first met), rules by
// their place in the program versions, holdings by subject and badge index,
// streams by place. What the programs alone determine (metric slots, badge
// and quest indexes, which types are read) is built again from the program
// versions the loader is given, which must be the ones the dump was written
// with; caches are left empty; leaderboards and tier timelines, which are
// pure functions of the rest, are built again. persist_test.go lists every
// field of every state type with how it is kept, and fails when a field is
// added that this file does not know.

// DumpFormat is the version of the state dump's format. Change it whenever
// what is written, or what a field means, changes: an older dump is then
// refused and the log replayed.
const DumpFormat = 1

// DumpMeta is what a state dump says about itself beside the state.
type DumpMeta struct {
	Format uint32
	// Seq is the last log record and Change the last change of the feed
	// the state includes.
	Seq, Change int64
	// Versions are the program versions the state was computed with.
	Versions []DumpVersion
}

// DumpVersion names one program version: number, start and the SHA-256 of
// its source.
type DumpVersion struct {
	N      int
	From   time.Time
	Source [32]byte
}

// ErrDumpMismatch is wrapped by LoadDump's error when the dump is whole but
// not for these program versions or this format.
var ErrDumpMismatch = errors.New("engine state dump does not fit")

// DumpVersions names the program versions for a DumpMeta.
func DumpVersions(vs []*Version) []DumpVersion {
	out := make([]DumpVersion, len(vs))
	for i, v := range vs {
		out[i] = DumpVersion{N: v.N, From: v.From, Source: sha256.Sum256(v.Program.Source)}
	}
	return out
}

// WriteDump writes the engine's state to w, tagged with the log seq and
// the change-feed position it includes. The engine must not be in a bulk
// load, nor changed while it writes (hold the service's read lock).
func (e *Engine) WriteDump(w io.Writer, seq, change int64) error {
	if !e.boardsLive || len(e.bulk) > 0 {
		return fmt.Errorf("engine state dump: the engine is in a bulk load; dump it after EndBulk")
	}
	if e.pending.on || len(e.pending.lost) > 0 {
		return fmt.Errorf("engine state dump: a record is being applied")
	}
	x := newEnc(w, DumpFormat)
	d := &dumper{e: e, x: x, awards: map[*Award]uint32{}, rules: map[*program.Rule]uint32{}, streams: map[*stream]uint32{}}
	d.meta(seq, change)
	d.names()
	d.bodies()
	d.subjectShells()
	d.events()
	d.subjectLists()
	d.streamsOut()
	d.holdings()
	d.effects()
	d.results()
	d.redemptions()
	d.revocations()
	d.tierFacts()
	return x.close()
}

// dumper writes one dump.
type dumper struct {
	e       *Engine
	x       *enc
	awards  map[*Award]uint32 // awards written, numbered from 1
	rules   map[*program.Rule]uint32
	streams map[*stream]uint32
}

func (d *dumper) meta(seq, change int64) {
	x, e := d.x, d.e
	x.i(seq)
	x.i(change)
	x.t(e.now)
	x.u(uint64(len(e.versions)))
	for _, v := range DumpVersions(e.versions) {
		x.i(int64(v.N))
		x.t(v.From)
		x.buf = append(x.buf, v.Source[:]...)
	}
	n := uint32(0)
	for _, v := range e.versions {
		for _, r := range v.Program.Points.Rules {
			n++
			d.rules[r] = n
		}
	}
}

func (d *dumper) names() {
	x, e := d.x, d.e
	x.strs(e.types.names)
	keys := make([]string, len(e.keyIDs)+1)
	for k, id := range e.keyIDs {
		if int(id) >= len(keys) || keys[id] != "" {
			x.fail("key ids are not 1..%d", len(e.keyIDs))
			return
		}
		keys[id] = k
	}
	x.strs(keys[1:])
}

func (d *dumper) bodies() {
	x, b := d.x, &d.e.bodies
	x.u(uint64(len(b.blocks)))
	for i, blk := range b.blocks {
		if i > 0 && uint32(i) == b.cur {
			blk = blk[:b.free] // the rest is room
		}
		if i > 0 {
			x.bytes(blk)
		}
	}
	x.u(uint64(b.cur))
	x.u(uint64(b.free))
}

func (d *dumper) subjectShells() {
	x, e := d.x, d.e
	x.u(uint64(len(e.partnerByHandle)))
	for _, p := range e.partnerByHandle {
		x.s(p.id)
		x.i(p.joined)
		x.u(uint64(len(p.versions)))
		for i := range p.versions {
			d.partnerVersion(&p.versions[i])
		}
	}
	x.u(uint64(len(e.memberByHandle)))
	for _, m := range e.memberByHandle {
		d.member(&m.m)
		x.i(m.joined)
	}
}

func (d *dumper) partnerVersion(pv *rung.PartnerVersion) {
	x, p := d.x, &pv.Partner
	x.i(int64(pv.Version))
	x.t(pv.ValidFrom)
	x.s(p.ID)
	x.s(p.Name)
	x.s(p.Type)
	x.s(p.Region)
	x.s(p.Size)
	x.t(p.JoinedAt)
	x.b(p.Domains != nil)
	x.strs(p.Domains)
	d.attrs(p.Attrs)
	x.s(p.InitialTier)
}

func (d *dumper) member(m *rung.Member) {
	x := d.x
	x.s(m.ID)
	x.s(m.Partner)
	x.s(m.Name)
	x.s(m.Email)
	x.s(m.Role)
	x.t(m.JoinedAt)
	d.attrs(m.Attrs)
	x.b(m.Memberships != nil)
	x.u(uint64(len(m.Memberships)))
	for _, ms := range m.Memberships {
		x.s(ms.Partner)
		x.t(ms.JoinedAt)
		x.t(ms.LeftAt)
	}
}

// attrs writes attributes in the log's encoding of event attributes.
func (d *dumper) attrs(a map[string]any) {
	b, err := codec.EncodeRecord(nil, &rung.Record{Event: rung.Event{Attrs: a}})
	if err != nil {
		d.x.fail("attributes: %v", err)
		return
	}
	d.x.bytes(b)
}

func (d *dumper) events() {
	x, t := d.x, &d.e.events
	x.u(uint64(t.n))
	for ev := range t.all {
		if ev.queued {
			x.fail("event %q is queued for a bulk load", ev.id)
			return
		}
		x.s(ev.id)
		x.u(uint64(ev.typ))
		x.u(uint64(ev.version))
		x.b(ev.retracted)
		x.u(uint64(ev.p))
		x.u(uint64(ev.m))
		x.u(uint64(ev.body.blk))
		x.u(uint64(ev.body.off))
		x.u(uint64(ev.body.n))
		x.i(ev.at)
		x.i(ev.recv)
		x.i(ev.seq)
	}
}

func (d *dumper) handles(hs []uint32) {
	d.x.u(uint64(len(hs)))
	for _, h := range hs {
		d.x.u(uint64(h))
	}
}

func (d *dumper) subjectLists() {
	x, e := d.x, d.e
	for _, p := range e.partnerByHandle {
		d.handles(p.events)
		d.adjusts(p.adjusts)
		d.series(p.series)
		ms := slices.Collect(maps.Values(p.members))
		slices.SortFunc(ms, func(a, b *memberState) int { return int(a.handle) - int(b.handle) })
		x.u(uint64(len(ms)))
		for _, m := range ms {
			x.u(uint64(m.handle))
		}
		d.awardList(&p.awards)
	}
	for _, m := range e.memberByHandle {
		d.handles(m.events)
		d.adjusts(m.adjusts)
		d.series(m.series)
		d.awardList(&m.awards)
	}
}

func (d *dumper) adjusts(as []rung.Adjustment) {
	x := d.x
	x.u(uint64(len(as)))
	for _, a := range as {
		x.s(a.ID)
		x.s(a.Partner)
		x.s(a.Member)
		x.i(a.Points)
		x.s(a.Reason)
		x.t(a.OccurredAt)
		x.s(a.By)
		x.t(a.CreatedAt)
	}
}

func (d *dumper) series(ss []series) {
	x := d.x
	x.u(uint64(len(ss)))
	for i := range ss {
		chunks := ss[i].c.chunks
		x.u(uint64(len(chunks)))
		for _, ch := range chunks {
			x.u(uint64(len(ch)))
			for _, p := range ch {
				x.i(p.at)
				x.i(p.v)
				x.u(uint64(p.ev))
				x.u(uint64(p.key))
			}
		}
	}
}

func (d *dumper) awardList(l *awardList) {
	x := d.x
	x.u(uint64(len(l.c.chunks)))
	for _, ch := range l.c.chunks {
		x.u(uint64(len(ch)))
		for _, r := range ch {
			if r.a == nil || r.at != r.a.At {
				x.fail("an award list holds a nil award or one out of place")
				return
			}
			d.award(r.a)
		}
	}
}

// award writes a reference to an award: 0 for nil, its number when written
// before, else 1 and the award itself.
func (d *dumper) award(a *Award) {
	x := d.x
	if a == nil {
		x.u(0)
		return
	}
	if n, ok := d.awards[a]; ok {
		x.u(uint64(n) + 1)
		return
	}
	d.awards[a] = uint32(len(d.awards) + 1)
	x.u(1)
	if a.Event == nil || a.Partner == nil {
		x.fail("an award without event or partner")
		return
	}
	x.u(uint64(a.Event.h))
	x.s(a.Rule)
	x.i(int64(a.Version))
	x.u(uint64(a.Partner.handle))
	d.memberRef(a.Member)
	x.i(a.Points)
	x.i(a.Requested)
	x.s(a.Note)
	x.i(a.At)
	x.i(a.Expires)
}

func (d *dumper) memberRef(m *memberState) {
	if m == nil {
		d.x.u(0)
		return
	}
	d.x.u(uint64(m.handle) + 1)
}

// subject writes a *memberState or *partnerState: kind (0 none, 1
// member, 2 partner), then the handle.
func (d *dumper) subject(s any) {
	x := d.x
	switch s := s.(type) {
	case nil:
		x.u(0)
	case *memberState:
		x.u(1)
		x.u(uint64(s.handle))
	case *partnerState:
		x.u(2)
		x.u(uint64(s.handle))
	default:
		x.fail("a subject of type %T", s)
	}
}

func (d *dumper) eventRef(ev *eventState) {
	if ev == nil {
		d.x.u(0)
		return
	}
	d.x.u(uint64(ev.h))
}

func (d *dumper) streamsOut() {
	x, e := d.x, d.e
	ss := slices.Collect(maps.Values(e.streams))
	// A stable order: the dump of one state is the same bytes.
	slices.SortFunc(ss, func(a, b *stream) int {
		if c := strings.Compare(a.key.rule, b.key.rule); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.key.to), string(b.key.to)); c != 0 {
			return c
		}
		return subjectOrder(a.key.subject) - subjectOrder(b.key.subject)
	})
	x.u(uint64(len(ss)))
	for i, s := range ss {
		if e.streams[s.key] != s {
			x.fail("a stream is not under its key")
			return
		}
		d.streams[s] = uint32(i + 1)
		x.s(s.key.rule)
		x.s(string(s.key.to))
		d.subject(s.key.subject)
		x.u(uint64(len(s.evs)))
		for _, ev := range s.evs {
			d.eventRef(ev)
		}
		x.b(s.seen != nil)
		keys := slices.Sorted(maps.Keys(s.seen))
		x.u(uint64(len(keys)))
		for _, k := range keys {
			x.s(k)
			x.b(s.seen[k])
		}
		x.b(s.used != nil)
		starts := slices.Sorted(maps.Keys(s.used))
		x.u(uint64(len(starts)))
		for _, k := range starts {
			x.i(k)
			x.i(s.used[k])
		}
	}
}

// subjectOrder orders subjects: members by handle, then partners.
func subjectOrder(s any) int {
	switch s := s.(type) {
	case *memberState:
		return int(s.handle) * 2
	case *partnerState:
		return int(s.handle)*2 + 1
	}
	return -1
}

func (d *dumper) holdings() {
	for _, p := range d.e.partnerByHandle {
		d.holds(p, p.holds)
	}
	for _, m := range d.e.memberByHandle {
		d.holds(m, m.holds)
	}
}

func (d *dumper) holds(subj any, hs []*holding) {
	x := d.x
	x.b(hs != nil)
	x.u(uint64(len(hs)))
	for i, h := range hs {
		if h == nil {
			x.u(0)
			continue
		}
		if h.idx != i || h.subj != subj {
			x.fail("a holding is not in its place")
			return
		}
		x.u(1)
		x.i(h.joined)
		x.i(h.from)
		x.i(h.to)
		x.b(h.windowed)
		x.u(uint64(len(h.cands)))
		for _, c := range h.cands {
			d.eventRef(c.ev)
			x.s(c.evidence)
			x.u(c.steps)
		}
		x.u(h.steps)
		x.i(h.n)
		x.i(h.sum)
		x.i(h.neg)
		x.u(uint64(len(h.held)))
		for j := range h.held {
			d.heldLevel(&h.held[j])
		}
	}
}

func (d *dumper) heldLevel(l *heldLevel) {
	x := d.x
	x.s(l.level)
	x.i(l.at)
	d.eventRef(l.ev)
	x.s(l.evidence)
	x.f(l.value)
	x.b(l.events != nil)
	x.u(uint64(len(l.events)))
	for _, ev := range l.events {
		d.eventRef(ev)
	}
	d.award(l.award)
}

// holdingRef writes a holding as its subject and badge index.
func (d *dumper) holdingRef(h *holding) {
	if h == nil {
		d.x.fail("a nil holding in an event's marks")
		return
	}
	d.subject(h.subj)
	d.x.u(uint64(h.idx))
}

func (d *dumper) effects() {
	x := d.x
	for ev := range d.e.events.all {
		if ev.fx == nil {
			x.u(0)
		} else {
			x.u(1)
			d.evals(ev.fx.evals)
			x.u(uint64(len(ev.fx.contribs)))
			for _, c := range ev.fx.contribs {
				x.i(int64(c.metric))
				x.f(c.v)
				x.s(c.key)
			}
		}
		if ev.more == nil {
			x.u(0)
			continue
		}
		x.u(1)
		x.u(uint64(len(ev.more.seqs)))
		for _, s := range ev.more.seqs {
			x.i(s)
		}
		x.b(ev.more.notes != nil)
		x.strs(ev.more.notes)
		x.b(ev.more.marks != nil)
		x.u(uint64(len(ev.more.marks)))
		for _, h := range ev.more.marks {
			d.holdingRef(h)
		}
	}
}

func (d *dumper) evals(res []ruleEval) {
	x := d.x
	x.u(uint64(len(res))) // nil and empty are the same to the engine
	for i := range res {
		re := &res[i]
		n, ok := d.rules[re.rule]
		if !ok {
			x.fail("an evaluation of a rule of no program version")
			return
		}
		x.u(uint64(n))
		if re.stream == nil {
			x.u(0)
		} else if s, ok := d.streams[re.stream]; ok {
			x.u(uint64(s))
		} else {
			x.fail("an evaluation's stream is not among the streams")
			return
		}
		d.award(re.award)
		x.s(re.key)
		x.i(re.amount)
		x.i(int64(re.version))
		x.b(re.toMember)
	}
}

func (d *dumper) results() {
	x, e := d.x, d.e
	x.b(e.results != nil)
	ids := slices.Sorted(maps.Keys(e.results))
	x.u(uint64(len(ids)))
	for _, id := range ids {
		r := e.results[id]
		x.s(id)
		if r.c == nil || r.c.ID != id {
			x.fail("challenge result %q is not its challenge's", id)
			return
		}
		x.i(r.at)
		x.b(r.onTime)
		x.u(uint64(len(r.rows)))
		for i := range r.rows {
			d.row(&r.rows[i])
		}
		x.u(uint64(len(r.winners)))
		for _, w := range r.winners {
			d.subject(w.subj)
			x.i(int64(w.row))
			d.eventRef(w.ev)
			x.s(w.reason)
			d.award(w.award)
		}
	}
}

func (d *dumper) row(r *standingRow) {
	x := d.x
	d.subject(r.subj)
	x.s(r.id)
	x.f(r.value)
	x.i(r.at)
	x.s(r.cohort)
	x.i(int64(r.place))
	x.i(int64(r.cohortPlace))
	x.b(r.reached)
	x.b(r.winner)
	x.b(r.last != nil)
	d.handles(r.last)
	x.i(r.lastAt)
	d.award(r.lastAward)
}

func (d *dumper) redemptions() {
	x, e := d.x, d.e
	rs := &e.redeemed
	x.b(rs.byID != nil)
	ids := slices.Sorted(maps.Keys(rs.byID))
	num := map[*rung.Redemption]uint64{}
	x.u(uint64(len(ids)))
	for i, id := range ids {
		r := rs.byID[id]
		num[r] = uint64(i + 1)
		x.s(r.ID)
		x.s(r.Reward)
		x.s(r.Partner)
		x.s(r.Member)
		x.i(r.Points)
		x.s(r.Status)
		x.t(r.RequestedAt)
		x.s(r.RequestedBy)
		x.t(r.DecidedAt)
		x.s(r.DecidedBy)
		x.s(r.Reason)
	}
	// spent, by subject: its award list is the key.
	var lists []*awardList
	var subj []any
	for _, p := range e.partnerByHandle {
		if _, ok := rs.spent[&p.awards]; ok {
			lists, subj = append(lists, &p.awards), append(subj, p)
		}
	}
	for _, m := range e.memberByHandle {
		if _, ok := rs.spent[&m.awards]; ok {
			lists, subj = append(lists, &m.awards), append(subj, m)
		}
	}
	if len(lists) != len(rs.spent) {
		x.fail("redemptions are charged to an award list of no subject")
		return
	}
	x.u(uint64(len(lists)))
	for i, l := range lists {
		d.subject(subj[i])
		spent := rs.spent[l]
		x.u(uint64(len(spent)))
		for _, r := range spent {
			n, ok := num[r]
			if !ok {
				// An older version replaced in byID: written in full.
				x.u(0)
				d.redemptionBody(r)
				continue
			}
			x.u(n)
		}
	}
}

func (d *dumper) redemptionBody(r *rung.Redemption) {
	x := d.x
	x.s(r.ID)
	x.s(r.Reward)
	x.s(r.Partner)
	x.s(r.Member)
	x.i(r.Points)
	x.s(r.Status)
	x.t(r.RequestedAt)
	x.s(r.RequestedBy)
	x.t(r.DecidedAt)
	x.s(r.DecidedBy)
	x.s(r.Reason)
}

func (d *dumper) revocations() {
	x := d.x
	rs := d.e.revocations
	x.b(rs != nil)
	x.u(uint64(len(rs)))
	for _, r := range rs {
		x.s(r.Badge)
		x.s(r.Name)
		x.s(r.Level)
		x.s(r.Subject)
		x.s(r.Kind)
		x.s(r.Partner)
		x.t(r.AwardedAt)
		x.s(r.Evidence)
		x.b(r.Events != nil)
		x.strs(r.Events)
		x.t(r.RevokedAt)
		x.s(r.RevokedBy)
		x.b(r.Retraction)
	}
}

// tierFacts writes the recorded tier actions as the store keeps them
// (JSON), by partner.
func (d *dumper) tierFacts() {
	x, tf := d.x, d.e.tiers
	if tf == nil {
		x.u(0)
		return
	}
	x.u(1)
	b, err := json.Marshal(struct {
		D map[string][]*TierDecision
		O map[string][]*TierOverride
		A map[string][]*TierAppeal
	}{tf.decisions, tf.overrides, tf.appeals})
	if err != nil {
		x.fail("tier actions: %v", err)
		return
	}
	x.bytes(b)
	// The timelines: building them again from nothing evaluates events
	// again (a tier changes multipliers), which would give new awards.
	for _, p := range d.e.partnerByHandle {
		tl := tf.line(p)
		if tl == nil {
			x.u(0)
			continue
		}
		x.u(1)
		x.b(tl.segs != nil)
		x.u(uint64(len(tl.segs)))
		for _, sg := range tl.segs {
			x.i(sg.at)
			x.s(sg.tier)
			x.s(sg.kind)
			x.s(sg.why)
		}
		x.i(tl.lastEv)
		x.b(tl.hasLast)
		x.i(tl.lastAt)
		x.s(tl.lastTier)
	}
	if len(tf.lines) > len(d.e.partnerByHandle) {
		x.fail("a tier timeline of no partner")
	}
}

// EachAdjustmentID calls fn with the id of every adjustment the engine
// holds (the service's writer index after a load from a dump).
func (e *Engine) EachAdjustmentID(fn func(id string)) {
	for _, p := range e.partnerByHandle {
		for i := range p.adjusts {
			fn(p.adjusts[i].ID)
		}
	}
}
