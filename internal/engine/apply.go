package engine

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// eventState is what the engine keeps of an event: its identity, the Seqs of
// its versions in the log, and its evaluated effects. The body itself stays
// in the store. It is kept small, since the engine holds one per event of
// the log and a replay touches each: what few events need (notes, badge
// marks, the Seqs of later versions) is in more.
type eventState struct {
	id        string
	h         uint32 // a number of the event's own, never reused
	typ       uint32 // the event type, interned: Engine.types
	version   uint32
	retracted bool
	queued    bool   // in Engine.bulk, waiting for EndBulk
	p         uint32 // the partner's handle + 1; 0 for none
	m         uint32 // the member's handle + 1; 0 for none
	// body is the current version in the log's compact encoding, in the
	// engine's body blocks: a tenth of the memory of a decoded event.
	body bodyRef
	at   int64 // occurred_at, unix nanos
	recv int64 // received_at of the event's first record, unix nanos; 0 unknown
	seq  int64 // the Seq of the event's first record

	fx   *effects   // nil until the event has evaluations or contributions
	more *eventMore // nil until the event has any of it
}

// effects is what an event's evaluation left: the rules that applied and
// the metric contributions. Most events of a busy program (logins) have
// none, and keep no room for them.
type effects struct {
	evals    []ruleEval
	contribs []contrib
}

// evals returns the rules that applied to the event.
func (ev *eventState) evals() []ruleEval {
	if ev.fx == nil {
		return nil
	}
	return ev.fx.evals
}

// contribs returns the event's metric contributions.
func (ev *eventState) contribs() []contrib {
	if ev.fx == nil {
		return nil
	}
	return ev.fx.contribs
}

// eventMore is what an event keeps beyond its core, when it has any.
type eventMore struct {
	seqs  []int64    // the Seqs of the records after the first, oldest first
	notes []string   // why rules awarded nothing, when they failed
	marks []*holding // the event and step badge holdings the event is in
}

func (ev *eventState) extra() *eventMore {
	if ev.more == nil {
		ev.more = &eventMore{}
	}
	return ev.more
}

// notes returns why rules awarded the event nothing, when they failed.
func (ev *eventState) notes() []string {
	if ev.more == nil {
		return nil
	}
	return ev.more.notes
}

func (ev *eventState) setNotes(ns []string) {
	if ev.more == nil && len(ns) == 0 {
		return
	}
	ev.extra().notes = ns
}

func (ev *eventState) addNote(n string) { ev.setNotes(append(ev.notes(), n)) }

// noteKey names the note made at one place of the engine (site) of an
// expression's error for a missing attribute.
type noteKey struct {
	err  *program.MissingKeyError
	site noteSite
}

type noteSite uint8

const (
	noteRuleWhen noteSite = iota
	noteRuleAward
	noteRuleOncePer
	noteMetric
	noteBadgeWhen
	noteBadgeEvidence
	noteBadgeStep
)

// maxErrNotes bounds errNotes; past it the map starts again. The errors
// are those of the program's expressions for the attributes they name, so
// a program rarely has more than tens.
const maxErrNotes = 4096

// errNote returns the note format makes of err. Every event that lacks an
// attribute an expression reads gets the same note (a program that reads
// an attribute some events never carry gives one to each of those), so
// for an expression's error for a missing attribute the note is made once
// and shared: no formatting, and one string for all of them.
func (e *Engine) errNote(err error, site noteSite, format func() string) string {
	me, ok := err.(*program.MissingKeyError)
	if !ok {
		return format()
	}
	k := noteKey{me, site}
	if n, ok := e.errNotes[k]; ok {
		return n
	}
	if e.errNotes == nil || len(e.errNotes) >= maxErrNotes {
		e.errNotes = make(map[noteKey]string)
	}
	n := format()
	e.errNotes[k] = n
	return n
}

// marks returns the event and step badge holdings the event is in.
func (ev *eventState) marks() []*holding {
	if ev.more == nil {
		return nil
	}
	return ev.more.marks
}

func (ev *eventState) setMarks(hs []*holding) {
	if ev.more == nil && len(hs) == 0 {
		return
	}
	ev.extra().marks = hs
}

// seqs returns the Seqs of every log record of the event, oldest first.
func (ev *eventState) seqs() []int64 {
	if ev.more == nil || len(ev.more.seqs) == 0 {
		return []int64{ev.seq}
	}
	return append([]int64{ev.seq}, ev.more.seqs...)
}

// lastSeq returns the Seq of the event's newest record.
func (ev *eventState) lastSeq() int64 {
	if ev.more == nil || len(ev.more.seqs) == 0 {
		return ev.seq
	}
	return ev.more.seqs[len(ev.more.seqs)-1]
}

// partnerOf returns the event's partner, nil for none.
func (e *Engine) partnerOf(ev *eventState) *partnerState {
	if ev.p == 0 {
		return nil
	}
	return e.partnerByHandle[ev.p-1]
}

// partnerAt returns the partner with handle h-1, nil for h 0.
func (e *Engine) partnerAt(h uint32) *partnerState {
	if h == 0 {
		return nil
	}
	return e.partnerByHandle[h-1]
}

// memberAt returns the member with handle h-1, nil for h 0.
func (e *Engine) memberAt(h uint32) *memberState {
	if h == 0 {
		return nil
	}
	return e.memberByHandle[h-1]
}

// memberOf returns the event's member, nil for none.
func (e *Engine) memberOf(ev *eventState) *memberState {
	if ev.m == 0 {
		return nil
	}
	return e.memberByHandle[ev.m-1]
}

func (ev *eventState) live() bool { return !ev.retracted && ev.p != 0 }

// before orders events by occurred_at, then id: the order of the SPEC
// wherever order matters.
func (ev *eventState) before(o *eventState) bool {
	if ev.at != o.at {
		return ev.at < o.at
	}
	return ev.id < o.id
}

// ruleEval is one rule's evaluation of one event, before order-dependent
// trimming (caps, once-per keys).
type ruleEval struct {
	rule     *program.Rule
	stream   *stream // set for rules with a limit or once_per
	award    *Award  // what was granted, nil if nothing
	key      string
	amount   int64 // after multiplier and rounding; never negative
	version  int32
	toMember bool // awarded to the member, else to the partner
}

// to returns who the rule awards.
func (re *ruleEval) to() program.Subject {
	if re.toMember {
		return program.SubjectMember
	}
	return program.SubjectPartner
}

// contrib is one event's contribution to a metric of a subject.
type contrib struct {
	metric int
	v      float64
	key    string
}

// Status is what happened to an incoming event.
type Status string

// The statuses of SPEC §2.
const (
	StatusAccepted  Status = "accepted"
	StatusDuplicate Status = "duplicate"
	StatusCorrected Status = "corrected"
	StatusRejected  Status = "rejected"
)

// Classify says what an incoming event would be: a new event (accepted),
// the same content again (duplicate), or a changed version (corrected), and
// the version number the record would get. A retracted event sent again is
// accepted as a new version.
func (e *Engine) Classify(ev *rung.Event) (Status, int, uint64) {
	h := e.Hash(ev)
	old := e.events.get(ev.ID)
	switch {
	case old == nil:
		return StatusAccepted, 1, h
	case old.retracted:
		return StatusAccepted, int(old.version) + 1, h
	case Hash(e.eventOf(old)) == h:
		return StatusDuplicate, int(old.version), h
	default:
		return StatusCorrected, int(old.version) + 1, h
	}
}

// Known reports whether an event id is in the log, and whether it is
// retracted.
func (e *Engine) Known(id string) (known, retracted bool, version int) {
	ev := e.events.get(id)
	if ev == nil {
		return false, false, 0
	}
	return true, ev.retracted, int(ev.version)
}

// Hash returns a hash of an event's content (everything but its id).
func (e *Engine) Hash(ev *rung.Event) uint64 { return Hash(ev) }

// hashSeed is random per process: hashes are compared only within one.
var hashSeed = maphash.MakeSeed()

// Hash returns a hash of an event's content (everything but its id),
// stable within one process: two versions with equal hashes are the same
// content.
func Hash(ev *rung.Event) uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	writeString(&h, ev.Type)
	writeString(&h, ev.Partner)
	writeString(&h, ev.Member)
	writeString(&h, ev.Source)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ev.OccurredAt.UnixNano()))
	h.Write(b[:])
	hashValue(&h, ev.Attrs)
	return h.Sum64()
}

func writeString(h *maphash.Hash, s string) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
	h.Write(b[:])
	h.WriteString(s)
}

func hashValue(h *maphash.Hash, v any) {
	switch v := v.(type) {
	case nil:
		h.WriteByte(0)
	case bool:
		if v {
			h.WriteByte(1)
		} else {
			h.WriteByte(2)
		}
	case float64:
		h.WriteByte(3)
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	case int:
		hashValue(h, float64(v))
	case int64:
		hashValue(h, float64(v))
	case string:
		h.WriteByte(4)
		writeString(h, v)
	case []any:
		h.WriteByte(5)
		writeString(h, strconv.Itoa(len(v)))
		for _, x := range v {
			hashValue(h, x)
		}
	case map[string]any:
		h.WriteByte(6)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeString(h, strconv.Itoa(len(keys)))
		for _, k := range keys {
			writeString(h, k)
			hashValue(h, v[k])
		}
	default:
		h.WriteByte(7)
		writeString(h, fmt.Sprint(v))
	}
}

// Note is something the engine wants the sender of an event to know: a rule
// that failed to evaluate, say.
type Note = string

// Apply applies one log record: a new event, a correction (the earlier
// version's effects are reversed and the new one's applied) or a retraction.
// The record must already be durable. It returns the notes of the event's
// evaluation. The partner (and member, if any) must be known.
func (e *Engine) Apply(rec *rung.Record) []Note { return e.apply(rec, nil) }

// apply is Apply, with the record's subjects already found when sub is not
// nil (ApplyResolved).
func (e *Engine) apply(rec *rung.Record, sub *Subject) []Note {
	if e.badges.any {
		e.pending.on = true
		defer e.settleRevocations(rec)
	}
	var ev *eventState
	added := true
	if e.events.load != nil && rec.Version == 1 {
		ev = e.events.addFirst(rec.Event.ID)
	} else {
		ev, added = e.events.getOrAdd(rec.Event.ID)
	}
	if !added && e.finals > 0 {
		old, streams := ev.at, ev.streams()
		defer func() { e.refinalize(old, streams, ev) }() // runs before the revocations settle
	}
	if added {
		ev.recv = joinedNanos(rec.ReceivedAt)
		if e.finals > 0 {
			defer func() { e.refinalize(math.MinInt64, nil, ev) }()
		}
		ev.seq = rec.Seq
	} else {
		if ev.live() {
			e.unapply(ev)
			// The tier timeline may move where the old version was.
			defer e.tiersEventMoved(e.partnerOf(ev), ev.at, nil)
		}
		ev.extra().seqs = append(ev.extra().seqs, rec.Seq)
	}
	ev.version = uint32(rec.Version)
	if rec.Retracted {
		ev.retracted = true
		return nil
	}
	ev.retracted = false
	if sub != nil && sub.block != nil {
		ev.body = e.bodies.lent(sub)
	} else {
		ev.body = e.keepBody(rec)
	}
	ev.typ = e.types.intern(rec.Event.Type)
	ev.at = rec.Event.OccurredAt.UnixNano()
	if e.bulk != nil {
		// Placed and evaluated by EndBulk, in occurred order.
		if !ev.queued {
			ev.queued = true
			e.bulk = append(e.bulk, ev)
		}
		return nil
	}
	var notes []Note
	if sub != nil {
		notes = e.placeWith(ev, &rec.Event, e.partnerAt(sub.p), e.memberAt(sub.m))
	} else {
		notes = e.place(ev, &rec.Event)
	}
	e.tiersEventMoved(e.partnerOf(ev), ev.at, ev)
	return notes
}

// place attaches an event's current version to its partner and member and
// evaluates it.
func (e *Engine) place(ev *eventState, body *rung.Event) []Note {
	var m *memberState
	if body.Member != "" {
		m = e.members[body.Member]
	}
	return e.placeWith(ev, body, e.partners[body.Partner], m)
}

// placeWith is place with the body's partner and member found: p nil for
// an unknown partner, m nil for none or an unknown member.
func (e *Engine) placeWith(ev *eventState, body *rung.Event, p *partnerState, m *memberState) []Note {
	if p == nil {
		// Validation keeps this from happening; a log from an older
		// build could still hold such an event. It counts for nothing.
		ev.p = 0
		ev.setNotes([]string{fmt.Sprintf("partner %q is unknown", body.Partner)})
		return ev.notes()
	}
	if old := e.partnerOf(ev); old != p {
		if old != nil {
			old.events = dropEvent(old.events, ev.h)
		}
		ev.p = p.handle + 1
		p.events = append(p.events, ev.h)
	}
	if old := e.memberOf(ev); old != m {
		if old != nil {
			e.flushMemberEvents()
			old.events = dropEvent(old.events, ev.h)
		}
		switch {
		case m == nil:
		case e.loading:
			e.memberPending = append(e.memberPending, ev.h)
		default:
			m.events = append(m.events, ev.h)
		}
	}
	ev.m = 0
	if m != nil {
		ev.m = m.handle + 1
	}
	e.evaluateWith(ev, body)
	return ev.notes()
}

// evaluate recomputes an event's effects from its current version.
func (e *Engine) evaluate(ev *eventState) {
	e.evaluateWith(ev, e.eventOf(ev))
}

// evaluateWith evaluates the event's rules and metrics and applies the
// resulting awards and contributions.
func (e *Engine) evaluateWith(ev *eventState, body *rung.Event) {
	if len(ev.evals()) > 0 || len(ev.contribs()) > 0 || len(ev.marks()) > 0 {
		// Never count an event twice: take its effects out first.
		e.unapply(ev)
	}
	if ev.fx != nil {
		ev.fx.evals = ev.fx.evals[:0]
		ev.fx.contribs = ev.fx.contribs[:0]
	}
	if ev.more != nil {
		ev.more.notes = ev.more.notes[:0]
	}
	if e.cur == nil {
		return
	}
	reads := e.readersOf(ev.typ)
	var vars *program.Vars
	if reads.reads&readsScore != 0 {
		vars = e.score(ev, body, &reads)
	}
	if reads.reads&readsBadges != 0 {
		e.markBadges(ev, body, vars, reads.badges)
	}
}

// score evaluates the event's rules and metrics, applies the awards and
// contributions, and returns the variables it evaluated them with. reads
// is what reads the event's type.
func (e *Engine) score(ev *eventState, body *rung.Event, reads *typeReaders) *program.Vars {
	evals, contribs := e.scratch.evals[:0], e.scratch.contribs[:0]
	vars := e.varsFor(ev, body)
	v := e.versionAt(ev.at)
	p := v.Program
	vanity := reads.vanity
	ruleVanity := vanity
	rules, typ := reads.rules, ""
	if p != e.cur {
		// Rules follow their version: those of its on the type.
		typ = e.types.name(ev.typ)
		ruleVanity = p.Vanity(typ)
		rules = p.Points.Rules
	}
	if !ruleVanity {
		tier := ""
		for _, r := range rules {
			if p != e.cur && !slices.Contains(r.On, typ) {
				continue
			}
			re, ok, note := e.evalRule(ev, r, v, vars, &tier)
			if note != "" {
				ev.addNote(note)
			}
			if ok {
				evals = append(evals, re)
			}
		}
	}
	// Metrics are those of the newest program.
	if !vanity {
		for _, tm := range reads.metrics {
			c, ok, key, err := evalMetric(tm.m, vars)
			if err != nil {
				ev.addNote(e.errNote(err, noteMetric, func() string { return fmt.Sprintf("metric %s: %s: %v", tm.name, key, err) }))
			}
			if ok {
				c.metric = tm.i
				contribs = append(contribs, c)
			}
		}
	}
	// The event keeps exactly what it needs, in its old room when that
	// fits, else carved from the engine's blocks.
	if ev.fx == nil && len(evals)+len(contribs) > 0 {
		ev.fx = e.slab.effects()
	}
	if fx := ev.fx; fx != nil {
		if len(evals) <= cap(fx.evals) {
			fx.evals = append(fx.evals, evals...)
		} else {
			fx.evals = e.slab.evals(evals)
		}
		if len(contribs) <= cap(fx.contribs) {
			fx.contribs = append(fx.contribs, contribs...)
		} else {
			fx.contribs = e.slab.contribs(contribs)
		}
	}
	e.scratch.evals, e.scratch.contribs = evals, contribs
	e.applyEffects(ev)
	return vars
}

// evalRule evaluates one rule for an event. It returns false when the rule
// does not apply, with a note when that is because it failed.
func (e *Engine) evalRule(ev *eventState, r *program.Rule, v *Version, vars *program.Vars, tier *string) (ruleEval, bool, string) {
	if r.When != nil {
		ok, err := r.When.Bool(vars)
		if err != nil {
			return ruleEval{}, false, e.errNote(err, noteRuleWhen, func() string { return fmt.Sprintf("rule %s: when: %v", r.ID, err) })
		}
		if !ok {
			return ruleEval{}, false, ""
		}
	}
	to := r.To
	if to == "" {
		to = program.SubjectPartner
		if ev.m != 0 {
			to = program.SubjectMember
		}
	}
	if to == program.SubjectMember && ev.m == 0 {
		return ruleEval{}, false, fmt.Sprintf("rule %s: awards to the member, but the event has none", r.ID)
	}
	var amount float64
	if r.Award.Const != nil {
		amount = *r.Award.Const
	} else {
		n, err := r.Award.Number(vars)
		if err != nil {
			return ruleEval{}, false, e.errNote(err, noteRuleAward, func() string { return fmt.Sprintf("rule %s: award: %v", r.ID, err) })
		}
		amount = n
	}
	if len(r.Multiplier) > 0 {
		if *tier == "" {
			*tier = e.tierAt(e.partnerOf(ev), ev.at)
		}
		if m, ok := r.Multiplier[*tier]; ok {
			amount *= m
		}
	}
	amount = math.Round(amount)
	if math.IsNaN(amount) || amount < 0 {
		amount = 0
	}
	if amount > math.MaxInt32 {
		amount = math.MaxInt32
	}
	re := ruleEval{rule: r, version: int32(v.N), toMember: to == program.SubjectMember, amount: int64(amount)}
	if r.OncePer != nil {
		k, err := r.OncePer.Key(vars)
		if err != nil {
			return ruleEval{}, false, e.errNote(err, noteRuleOncePer, func() string { return fmt.Sprintf("rule %s: once_per: %v", r.ID, err) })
		}
		re.key = k
	}
	return re, true, ""
}

// evalMetric evaluates an event's contribution to a metric. It returns
// false when the event does not count, with the error and the key it
// failed at ("where", "value") when that is because an expression failed.
func evalMetric(m *program.Metric, vars *program.Vars) (contrib, bool, string, error) {
	if m.Where != nil {
		ok, err := m.Where.Bool(vars)
		if err != nil {
			return contrib{}, false, "where", err
		}
		if !ok {
			return contrib{}, false, "", nil
		}
	}
	c := contrib{v: 1}
	switch m.Kind {
	case program.MetricSum, program.MetricAvg:
		n, err := m.Value.Number(vars)
		if err != nil {
			return contrib{}, false, "value", err
		}
		c.v = n
	case program.MetricDistinct:
		k, err := m.Value.Key(vars)
		if err != nil {
			return contrib{}, false, "value", err
		}
		if k == "" {
			// e.g. distinct members over an event without one
			return contrib{}, false, "", nil
		}
		c.key = k
	}
	return c, true, "", nil
}

// applyEffects turns an event's evaluations into awards and contributions.
func (e *Engine) applyEffects(ev *eventState) {
	evals := ev.evals()
	for i := range evals {
		re := &evals[i]
		subj := e.subjectOf(ev, re.to())
		if re.rule.Limit == nil && re.rule.OncePer == nil {
			if re.amount > 0 {
				re.award = e.newAward(ev, re, re.amount, re.amount, "")
				e.addAward(re.award)
			}
			continue
		}
		k := streamKey{rule: re.rule.ID, to: re.to(), subject: subj}
		s := e.streams[k]
		if s == nil {
			s = &stream{key: k}
			e.streams[k] = s
		}
		re.stream = s
		e.streamInsert(s, ev)
	}
	for _, c := range ev.contribs() {
		e.addContrib(ev, c)
	}
	if e.badges.metric && len(ev.contribs()) > 0 {
		e.metricBadges(ev, +1)
	}
}

// unapply reverses an event's effects.
func (e *Engine) unapply(ev *eventState) {
	evals := ev.evals()
	for i := range evals {
		re := &evals[i]
		if re.stream != nil {
			e.streamRemove(re.stream, ev)
			continue
		}
		if re.award != nil {
			e.removeAward(re.award)
			re.award = nil
		}
	}
	for _, c := range ev.contribs() {
		e.removeContrib(ev, c)
	}
	if e.badges.metric && len(ev.contribs()) > 0 {
		e.metricBadges(ev, -1)
	}
	if len(ev.marks()) > 0 {
		e.unmarkBadges(ev)
	}
	if ev.fx != nil {
		ev.fx.evals = ev.fx.evals[:0]
		ev.fx.contribs = ev.fx.contribs[:0]
	}
}

// flushMemberEvents adds the events a bulk load gave a member to the
// members' lists. A load defers them: appending to one of thousands of
// lists waits for memory at each event, where the lists filled together,
// each grown once, do not. Until then a member's list lacks them, so
// whatever reads the lists flushes first. (Partners' lists are not
// deferred: a tier timeline that moves reads its partner's list, often
// during a load.)
func (e *Engine) flushMemberEvents() {
	if len(e.memberPending) == 0 {
		return
	}
	more := make([]uint32, len(e.memberByHandle))
	for _, h := range e.memberPending {
		more[e.events.at(h).m-1]++
	}
	for i, n := range more {
		if n > 0 {
			m := e.memberByHandle[i]
			m.events = slices.Grow(m.events, int(n))
		}
	}
	for _, h := range e.memberPending {
		m := e.memberByHandle[e.events.at(h).m-1]
		m.events = append(m.events, h)
	}
	e.memberPending = nil
}

// dropEvent removes an event from an owner's list (a correction moved it
// to another partner or member).
func dropEvent(evs []uint32, ev uint32) []uint32 {
	for i, x := range evs {
		if x == ev {
			evs[i] = evs[len(evs)-1]
			return evs[:len(evs)-1]
		}
	}
	return evs
}

// reevaluate evaluates events again after something they depend on changed.
func (e *Engine) reevaluate(evs []*eventState) {
	sort.Slice(evs, func(i, j int) bool { return evs[i].before(evs[j]) })
	evs = slices.Compact(evs)
	for _, ev := range evs {
		if !ev.live() {
			continue
		}
		e.unapply(ev)
	}
	for _, ev := range evs {
		if ev.live() {
			e.evaluate(ev)
		}
	}
}

func (e *Engine) subjectOf(ev *eventState, to program.Subject) any {
	if to == program.SubjectMember {
		return e.memberOf(ev)
	}
	return e.partnerOf(ev)
}

// expiresAt returns when points awarded at t under version v expire (0 for
// never).
func expiresAt(v *Version, t int64) int64 {
	p := v.Program
	x := p.Calendar.ExpiresAt(p.Points.Expire, time.Unix(0, t))
	if x.IsZero() {
		return 0
	}
	return x.UnixNano()
}

// expiryMemo is when the points awarded in one period expire: the
// period [from, to) of program p, whose points expire at.
type expiryMemo struct {
	p            *program.Program
	from, to, at int64
}

// awardExpiry is expiresAt for an award: points expiring at the end of a
// quarter or year expire at one time for the whole period, so the
// calendar is asked once per period rather than once per award.
func (e *Engine) awardExpiry(v *Version, t int64) int64 {
	p := v.Program
	x := &e.expiry
	if x.p == p && x.from <= t && t < x.to {
		return x.at
	}
	var per program.Period
	switch p.Points.Expire.Kind {
	case program.ExpireQuarter:
		per = program.PerQuarter
	case program.ExpireYear:
		per = program.PerYear
	default:
		return expiresAt(v, t)
	}
	at := expiresAt(v, t)
	from := p.Calendar.PeriodStart(per, time.Unix(0, t)).UnixNano()
	if from <= t && t < at {
		*x = expiryMemo{p: p, from: from, to: at, at: at}
	}
	return at
}

// typeScan is how many types typeNames looks through before it asks its
// map.
const typeScan = 24

// typeNames interns event types: an event keeps its type as a number, 0
// for none yet.
type typeNames struct {
	ids   map[string]uint32
	names []string
}

func (t *typeNames) intern(name string) uint32 {
	if len(t.names) <= typeScan {
		// A program has a few types: comparing the names costs less
		// than hashing one.
		for i, n := range t.names {
			if n == name {
				return uint32(i)
			}
		}
	} else if id, ok := t.ids[name]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[string]uint32{"": 0}
		t.names = []string{""}
		if name == "" {
			return 0
		}
	}
	id := uint32(len(t.names))
	name = strings.Clone(name) // not the record's memory
	t.names = append(t.names, name)
	t.ids[name] = id
	return id
}

func (t *typeNames) name(id uint32) string {
	if int(id) >= len(t.names) {
		return ""
	}
	return t.names[id]
}
