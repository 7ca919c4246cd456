// Package engine computes Rung's derived state from its facts: given the
// program versions, partners, members, the event log and the recorded manual
// actions, it keeps the points ledger, balances, metrics, levels and live
// leaderboards. It is pure: no SQL, no HTTP, no clock reads — every time it
// needs is passed in. That makes replay, as_of reads, simulation and
// property tests cheap.
//
// An Engine is not safe for concurrent use; the service serializes writers
// and lets readers share a read lock.
package engine

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/program"
)

// Version is one applied program version as the engine uses it.
type Version struct {
	N       int
	From    time.Time // rules apply to events that occurred from here on
	Program *program.Program
}

// Engine holds the derived state. The zero value is not usable; call New.
type Engine struct {
	versions []*Version
	cur      *program.Program // the newest version: metrics, boards, levels

	partners map[string]*partnerState
	members  map[string]*memberState
	events   eventTable
	warmed   uint64 // what Warm read, kept so its reads stay

	// subjects by handle, for the rank index tie-break and for names
	memberByHandle  []*memberState
	partnerByHandle []*partnerState

	streams map[streamKey]*stream
	// periodLocal holds the rules whose streams an event changes only
	// within its limit period (periodLocal in awards.go).
	periodLocal map[string]bool
	boards      []*board
	// boardsLive is false while bulk loading: boards are built once at the end.
	boardsLive bool
	// deferBoards is set between DeferBoards and FlushBoards.
	deferBoards bool
	now         time.Time

	metricIdx map[string]int // metric name → series slot
	// negative marks, by series slot, the metrics some contribution was
	// ever negative in (sticky until everything is evaluated again): a
	// sum of them may fall as its window's end moves on (hopelessRun).
	negative []bool
	// scored holds what reads each event type: some rule (of any
	// version) or metric (readsScore), some event or step badge
	// (readsBadges, with the badges); events of other types are kept but
	// not evaluated.
	scored map[string]typeReaders
	// readers is scored by interned type (readersOf), filled as types
	// are met.
	readers []typeReaders

	badges badgeIndex
	tiers  *tierFacts // recorded tier actions and timelines: tiers.go
	// badgeDefs are the newest program's badges, then one step badge per
	// quest (questOf names its challenge; nil for a badge); results are
	// the final results of the challenges past their finalization, and
	// finals how many metric challenges can be final.
	badgeDefs []*program.Badge
	questOf   []*program.Challenge
	results   map[string]*challengeResult
	finals    int
	// redeemed holds the rewards redemptions (rewards.go).
	redeemed redemptions
	// pending collects the badges lost while one record is applied;
	// revocations is the history of badges revoked, in log order.
	pending     pendingRevocations
	revocations []Revocation

	vars varsCache
	// bodies holds the events' bodies (bodies.go).
	bodies bodyStore
	slab   slab
	// bulk, while bulk loading, holds the events whose newest version is
	// not placed yet: EndBulk places them in occurred order, so every
	// sorted list and stream grows at its end.
	bulk []*eventState
	// loading is true between BeginBulk and EndBulk; memberPending holds
	// the events the load gave a member that its list lacks
	// (flushMemberEvents).
	loading       bool
	memberPending []uint32
	// keyIDs numbers the distinct keys metrics count.
	keyIDs map[string]uint32
	types  typeNames
	// expiry is the expiry of the last award's period (awardExpiry).
	expiry expiryMemo
	// errNotes holds the notes made of errors that come again and again
	// (errNote).
	errNotes map[noteKey]string
	// scratch is where an event's evaluations are collected before the
	// event keeps them.
	scratch struct {
		evals    []ruleEval
		contribs []contrib
		marks    []*holding
		steps    []*eventState
	}
}

// New returns an empty engine.
func New() *Engine {
	e := &Engine{
		partners:   map[string]*partnerState{},
		members:    map[string]*memberState{},
		streams:    map[streamKey]*stream{},
		keyIDs:     map[string]uint32{},
		boardsLive: true,
	}
	return e
}

// Program returns the newest program version, or nil before the first.
func (e *Engine) Program() *program.Program { return e.cur }

// Versions returns the program versions, oldest first.
func (e *Engine) Versions() []*Version { return e.versions }

// versionAt returns the program version whose rules apply at t: the newest
// one effective at or before t, and the first one for earlier times (so a
// program scores the history loaded before it).
func (e *Engine) versionAt(t int64) *Version {
	vs := e.versions
	i := sort.Search(len(vs), func(i int) bool { return vs[i].From.UnixNano() > t })
	if i == 0 {
		return vs[0]
	}
	return vs[i-1]
}

// Calendar returns the calendar of the newest program (UTC, January fiscal
// start before the first program).
func (e *Engine) Calendar() *program.Calendar {
	if e.cur != nil {
		return e.cur.Calendar
	}
	return defaultCalendar
}

var defaultCalendar = &program.Calendar{Loc: time.UTC, FiscalStart: 1}

// partnerState is a partner and everything derived for it.
type partnerState struct {
	id       string
	handle   uint32
	joined   int64                 // the newest version's joined_at, unix nanos; 0 unknown
	versions []rung.PartnerVersion // by ValidFrom
	events   []uint32              // handles of this partner's events, any order
	awards   awardList             // every award earned for this partner, its members' included
	adjusts  []rung.Adjustment     // partner-level adjustments (no member)
	series   []series              // per metric index: the partner's contributions
	members  map[string]*memberState
	vars     map[int]map[string]any // CEL vars by version index
	holds    []*holding             // by badge index of the newest program; nil until one is needed
}

// memberState is a member and everything derived for it.
type memberState struct {
	m       rung.Member
	events  []uint32 // handles of the member's events, any order
	handle  uint32
	joined  int64 // m.JoinedAt in unix nanos, beside events for ingest's cache; 0 unknown
	awards  awardList
	adjusts []rung.Adjustment
	series  []series
	vars    map[string]any
	holds   []*holding
}

// latest returns the partner's newest version.
func (p *partnerState) latest() *rung.Partner {
	return &p.versions[len(p.versions)-1].Partner
}

// at returns the index of the partner version in effect at t: the newest
// with ValidFrom ≤ t, or the first for earlier times.
func (p *partnerState) at(t int64) int {
	vs := p.versions
	i := sort.Search(len(vs), func(i int) bool { return vs[i].ValidFrom.UnixNano() > t })
	if i == 0 {
		return 0
	}
	return i - 1
}

// tierAt returns the partner's tier at t: an override in force, else its
// timeline of reviews and auto-upgrades (tiers.go), else its initial tier
// or the lowest tier of the program.
func (e *Engine) tierAt(p *partnerState, t int64) string {
	return e.timelineTier(p, t)
}

// Partner returns the newest version of a partner.
func (e *Engine) Partner(id string) (rung.Partner, bool) {
	p := e.partners[id]
	if p == nil {
		return rung.Partner{}, false
	}
	return *p.latest(), true
}

// PartnerVersions returns every version of a partner, oldest first.
func (e *Engine) PartnerVersions(id string) []rung.PartnerVersion {
	if p := e.partners[id]; p != nil {
		return p.versions
	}
	return nil
}

// Member returns a member record.
func (e *Engine) Member(id string) (rung.Member, bool) {
	m := e.members[id]
	if m == nil {
		return rung.Member{}, false
	}
	return m.m, true
}

// Counts returns how many partners, members and distinct events the engine
// holds.
func (e *Engine) Counts() (partners, members, events int) {
	return len(e.partners), len(e.members), e.events.len()
}

// PartnerIDs returns every partner id, sorted.
func (e *Engine) PartnerIDs() []string {
	ids := make([]string, 0, len(e.partners))
	for id := range e.partners {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// MemberIDs returns the ids of a partner's current members (all members when
// partner is ""), sorted.
func (e *Engine) MemberIDs(partner string) []string {
	var ids []string
	if partner == "" {
		ids = make([]string, 0, len(e.members))
		for id := range e.members {
			ids = append(ids, id)
		}
	} else if p := e.partners[partner]; p != nil {
		for id := range p.members {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// PutPartner records a partner version. Versions must arrive in increasing
// Version order per partner. Events of the partner that occurred at or after
// the version's ValidFrom are evaluated again, since rules and cohorts may
// read the partner's fields.
func (e *Engine) PutPartner(pv rung.PartnerVersion) {
	p := e.partners[pv.Partner.ID]
	if p == nil {
		p = &partnerState{id: pv.Partner.ID, handle: uint32(len(e.partnerByHandle)), members: map[string]*memberState{}}
		p.series = make([]series, e.metricSlots())
		e.partners[p.id] = p
		e.partnerByHandle = append(e.partnerByHandle, p)
		p.versions = append(p.versions, pv)
		p.joined = joinedNanos(pv.Partner.JoinedAt)
		return
	}
	joined := p.latest().JoinedAt
	p.versions = append(p.versions, pv)
	p.joined = joinedNanos(p.latest().JoinedAt)
	p.vars = nil
	if len(p.events) == 0 {
		e.refreshTimeline(p, math.MinInt64)
		e.refreshBoardsFor(p)
		return
	}
	from := pv.ValidFrom.UnixNano()
	if !joined.Equal(pv.Partner.JoinedAt) && e.badges.any {
		from = math.MinInt64 // step badges count from joining
	}
	var again []*eventState
	for _, h := range p.events {
		if ev := e.events.at(h); e.partnerOf(ev) == p && ev.at >= from && ev.live() {
			again = append(again, ev)
		}
	}
	e.reevaluate(again)
	e.refreshTimeline(p, from)
	e.refreshBoardsFor(p)
	e.finalizeChallenges() // cohorts and values may have changed
}

// joinedNanos is a joined_at in unix nanos, 0 when unknown.
func joinedNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// PutMember records a member's new state (with its membership history).
// Events of the member are evaluated again, since rules may read it.
func (e *Engine) PutMember(m rung.Member) {
	e.flushMemberEvents()
	ms := e.members[m.ID]
	if ms == nil {
		ms = &memberState{m: m, handle: uint32(len(e.memberByHandle))}
		ms.series = make([]series, e.metricSlots())
		e.members[m.ID] = ms
		e.memberByHandle = append(e.memberByHandle, ms)
	} else {
		if old := e.partners[ms.m.Partner]; old != nil && old.members[m.ID] == ms {
			delete(old.members, m.ID)
		}
		ms.m = m
		ms.vars = nil
	}
	ms.joined = joinedNanos(m.JoinedAt)
	if p := e.partners[m.Partner]; p != nil {
		p.members[m.ID] = ms
	}
	var again []*eventState
	for _, h := range ms.events {
		if ev := e.events.at(h); e.memberOf(ev) == ms && ev.live() {
			again = append(again, ev)
		}
	}
	e.reevaluate(again)
	e.finalizeChallenges()
}

// SetVersions replaces the program versions and recomputes all derived
// state: rules, metrics and boards may all have changed. now is the time
// live boards are computed for.
func (e *Engine) SetVersions(vs []*Version, now time.Time) error {
	if len(vs) == 0 {
		return fmt.Errorf("engine: no program versions")
	}
	e.indexVersions(vs, now)
	e.recomputeAll()
	e.finalizeChallenges()
	return nil
}

// indexVersions sets the program versions and what the engine derives from
// the programs alone (metric slots, badge and quest indexes, which types
// are read), without evaluating any event: SetVersions, and loading a
// snapshot, which brings the evaluations with it.
func (e *Engine) indexVersions(vs []*Version, now time.Time) {
	e.versions = vs
	e.cur = vs[len(vs)-1].Program
	e.now = now
	e.metricIndex()
	e.buildBadgeIndex()
	e.periodLocal = periodLocal(vs)
	e.scored = map[string]typeReaders{}
	mark := func(t string, r uint8) {
		x := e.scored[t]
		x.reads |= r
		x.vanity = e.cur.Vanity(t)
		e.scored[t] = x
	}
	var fields program.EventFields
	e.vars.partner, e.vars.member = false, false
	for _, v := range vs {
		fields |= v.Program.EventFields
		e.vars.partner = e.vars.partner || v.Program.ReadsPartner
		e.vars.member = e.vars.member || v.Program.ReadsMember
		for _, r := range v.Program.Points.Rules {
			for _, t := range r.On {
				mark(t, readsScore)
			}
		}
	}
	for _, m := range e.cur.Metrics {
		for _, t := range m.Types {
			mark(t, readsScore)
		}
	}
	// The newest program's rules and metrics of each type, in their
	// order, for score.
	for _, r := range e.cur.Points.Rules {
		for _, t := range r.On {
			x := e.scored[t]
			if n := len(x.rules); n == 0 || x.rules[n-1] != r {
				x.rules = append(x.rules, r)
			}
			e.scored[t] = x
		}
	}
	for i, name := range e.cur.MetricOrder {
		m := e.cur.Metrics[name]
		if m.Kind == program.MetricRatio {
			continue
		}
		for _, t := range m.Types {
			x := e.scored[t]
			if n := len(x.metrics); n == 0 || x.metrics[n-1].i != i {
				x.metrics = append(x.metrics, typeMetric{i: i, name: name, m: m})
			}
			e.scored[t] = x
		}
	}
	for t, bs := range e.badges.byType {
		mark(t, readsBadges)
		x := e.scored[t]
		x.badges = bs
		e.scored[t] = x
	}
	e.readers = e.readers[:0]
	if fields != e.vars.fields || e.vars.event == nil {
		// A new map: keys the old set filled must not linger.
		e.vars.fields = fields
		e.vars.event = make(map[string]any, 7)
	}
}

// SetNow moves the engine's clock: live boards whose window has ended are
// rebuilt for the window containing now.
// The clock only moves forward: a late caller with an older time changes
// nothing.
func (e *Engine) SetNow(now time.Time) {
	if now.Before(e.now) {
		return
	}
	e.now = now
	for _, b := range e.boards {
		if from, to := e.boardWindow(b.def, now); !from.Equal(b.from) || !to.Equal(b.to) {
			e.buildBoard(b)
		}
	}
	e.finalizeChallenges()
}

// BeginBulk stops live board maintenance while many records are loaded;
// EndBulk builds the boards once. Use them around a replay of the log.
// records, when known, sizes the event table for the replay. The records
// applied until EndBulk must be the log's, numbered as it numbers them: a
// record of version 1 is taken for the first of its event without looking
// the id up.
func (e *Engine) BeginBulk(records int) {
	e.boardsLive = false
	e.loading = true
	if !e.badges.any {
		// Badges record revocations as records arrive, in the log's order
		// (a correction or retraction that takes a badge away), so a
		// program with badges is replayed in that order.
		e.bulk = make([]*eventState, 0, records)
	}
	e.events.grow(records)
	e.events.beginLoad(records)
	if records >= 4*eventBlock {
		e.slab.startLoad()
	}
	if records > 0 {
		// Room for every record's member once: grown by append, the
		// list would allocate about five times its size (1.25× steps).
		e.memberPending = slices.Grow(e.memberPending, records)
	}
}

// EndBulk builds the live boards for now and resumes their maintenance.
func (e *Engine) EndBulk(now time.Time) {
	var indexed chan any // the index's panic, if any, once it caught up
	if l := e.events.load; len(e.bulk) == 0 && l != nil && len(l.pending) >= 4*eventBlock {
		// Nothing to place: the index of event ids catches up on another
		// core while the members' lists are filled. Neither writes what
		// the other reads.
		indexed = make(chan any, 1)
		go func() {
			defer func() { indexed <- recover() }()
			e.events.endLoad()
		}()
		e.bulk = nil
	} else {
		e.events.endLoad()
		e.placeBulk()
	}
	e.loading = false
	e.flushMemberEvents()
	if indexed != nil {
		if p := <-indexed; p != nil {
			panic(p) // on the loading goroutine, as without the index's own
		}
	}
	e.refreshAllTimelines()
	e.boardsLive = true
	e.now = now
	e.buildBoards()
	e.finalizeChallenges()
	e.slab.endLoad()
}

// typeReaders is what reads an event type.
type typeReaders struct {
	reads  uint8
	vanity bool  // the newest program marks the type vanity
	badges []int // event and step badges, by index in the newest program
	// rules and metrics are the newest program's rules and metrics (but
	// ratios) on the type, in the program's order.
	rules   []*program.Rule
	metrics []typeMetric
}

// typeMetric is a metric an event type counts in: its slot and name.
type typeMetric struct {
	i    int
	name string
	m    *program.Metric
}

// readersOf returns what reads an interned event type.
func (e *Engine) readersOf(typ uint32) typeReaders {
	for i := len(e.readers); i < len(e.types.names); i++ {
		e.readers = append(e.readers, e.scored[e.types.names[i]])
	}
	if int(typ) < len(e.readers) {
		return e.readers[typ]
	}
	return typeReaders{}
}

// What reads an event type (typeReaders.reads).
const (
	readsScore  uint8 = 1 << iota // a rule or a metric
	readsBadges                   // an event or step badge
)

// metricSlots is how many metric series a subject keeps: one per metric of
// the newest program (points are kept as awards, not a series).
func (e *Engine) metricSlots() int {
	if e.cur == nil {
		return 0
	}
	return len(e.cur.MetricOrder)
}

// recomputeAll drops every derived value and evaluates every event again.
func (e *Engine) recomputeAll() {
	e.streams = map[streamKey]*stream{}
	e.negative = nil // marked again as the events are
	e.results = nil  // their awards go with the ledgers
	slots := e.metricSlots()
	for _, p := range e.partners {
		p.awards = awardList{}
		p.series = make([]series, slots)
		p.vars = nil
		p.holds = nil
	}
	for _, m := range e.members {
		m.awards = awardList{}
		m.series = make([]series, slots)
		m.vars = nil
		m.holds = nil
	}
	live := e.boardsLive
	e.boardsLive = false
	evs := make([]*eventState, 0, e.events.len())
	for ev := range e.events.all {
		ev.fx = nil
		if ev.more != nil {
			ev.more.notes = nil
			ev.more.marks = nil
		}
		if ev.live() {
			evs = append(evs, ev)
		}
	}
	// Apply in the deterministic order so stateful rules append in order.
	sort.Slice(evs, func(i, j int) bool { return evs[i].before(evs[j]) })
	for _, ev := range evs {
		e.evaluate(ev)
	}
	e.refreshAllTimelines()
	e.boardsLive = live
	e.buildBoards()
}

// cmpMemberHandles orders member handles by member id.
func (e *Engine) cmpMemberHandles(a, b uint32) int {
	return strings.Compare(e.memberByHandle[a].m.ID, e.memberByHandle[b].m.ID)
}

// cmpPartnerHandles orders partner handles by partner id.
func (e *Engine) cmpPartnerHandles(a, b uint32) int {
	return strings.Compare(e.partnerByHandle[a].id, e.partnerByHandle[b].id)
}

// placeBulk places and evaluates the events Apply queued during a bulk
// load, in the order of occurred_at then id. Derived state does not depend
// on the order events are applied in (the property tests check it); this
// order makes every insert into a subject's awards, series and streams an
// append, where the log's order makes late events land in the middle.
func (e *Engine) placeBulk() {
	evs := e.bulk
	e.bulk = nil
	slices.SortFunc(evs, func(a, b *eventState) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return strings.Compare(a.id, b.id)
	})
	// One record and one attrs map serve every event: the engine keeps
	// nothing of the attrs once an event is evaluated.
	var r rung.Record
	attrs := map[string]any{}
	for _, ev := range evs {
		ev.queued = false
		if ev.retracted {
			continue
		}
		r.Event = rung.Event{}
		if b := e.bodies.get(ev.body); b != nil {
			codec.DecodeRecordReusing(b, &r, attrs)
		}
		r.Event.ID = ev.id
		e.place(ev, &r.Event)
	}
}
