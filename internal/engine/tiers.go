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

// Review outcomes (SPEC §5).
const (
	OutcomeUpgrade   = "upgrade"
	OutcomeStay      = "stay"
	OutcomeGrace     = "grace"
	OutcomeDowngrade = "downgrade"
	OutcomeOverride  = "override"
)

// Appeal states.
const (
	AppealOpen       = "open"
	AppealUpheld     = "upheld"
	AppealOverturned = "overturned"
)

// TierDecision is one partner's outcome of a quarterly tier review. A
// published decision is a recorded manual action: once published it is
// not computed again, even when late events would change it.
type TierDecision struct {
	Quarter     string    `json:"quarter"`
	Partner     string    `json:"partner"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Qualified   string    `json:"qualified"`
	Outcome     string    `json:"outcome"`
	EffectiveAt time.Time `json:"effective_at"`
	// Would and WouldTo are what the review would have done without the
	// override in force (outcome override only).
	Would   string `json:"would,omitempty"`
	WouldTo string `json:"would_to,omitempty"`
	// GraceLeft is how many more failed reviews the partner may have
	// before it moves down; GraceUntil is the deadline: when the next
	// review's decision takes effect.
	GraceLeft  int       `json:"grace_left,omitempty"`
	GraceUntil time.Time `json:"grace_until,omitzero"`
	// Checks are the criteria values behind the decision, for every tier
	// above the lowest.
	Checks      []TierCheck `json:"checks,omitempty"`
	PublishedAt time.Time   `json:"published_at,omitzero"`
	By          string      `json:"by,omitempty"`
}

// TierCheck is a tier's criteria evaluated for a partner at one time.
type TierCheck struct {
	Tier     string      `json:"tier"`
	Met      bool        `json:"met"`
	Criteria []Criterion `json:"criteria"`
}

// TierOverride pins a partner's tier from From until Until (zero: no
// expiry), whatever reviews and auto-upgrades decide underneath.
type TierOverride struct {
	ID      string    `json:"id"`
	Partner string    `json:"partner"`
	Tier    string    `json:"tier"`
	Reason  string    `json:"reason"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until,omitzero"`
	By      string    `json:"by,omitempty"`
}

// TierAppeal is a partner's appeal of a published decision and the
// admin's answer. An overturned appeal replaces the decision's tier from
// the decision's effective time.
type TierAppeal struct {
	ID        string    `json:"id"`
	Partner   string    `json:"partner"`
	Quarter   string    `json:"quarter"`
	Text      string    `json:"text"`
	Evidence  []string  `json:"evidence"`
	By        string    `json:"by,omitempty"`
	At        time.Time `json:"at"`
	DueAt     time.Time `json:"due_at"`
	Status    string    `json:"status"`
	Tier      string    `json:"tier,omitempty"` // the new tier, when overturned
	Reply     string    `json:"reply,omitempty"`
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// TierChange is one entry of a partner's tier history.
type TierChange struct {
	At     time.Time `json:"at"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to"`
	Kind   string    `json:"kind"` // initial | review | auto_upgrade | override | override_end | appeal | partner
	Reason string    `json:"reason"`
}

// line returns the partner's timeline, nil when none is built.
func (tf *tierFacts) line(p *partnerState) *timeline {
	if int(p.handle) < len(tf.lines) {
		return tf.lines[p.handle]
	}
	return nil
}

// agg returns the partner's cached aggregates, nil when none.
func (tf *tierFacts) agg(p *partnerState) *windowAggs {
	if int(p.handle) < len(tf.aggs) {
		return tf.aggs[p.handle]
	}
	return nil
}

// setByHandle sets the partner's value in a slice by partner handle,
// growing it as needed.
func setByHandle[T any](s []T, p *partnerState, v T) []T {
	if n := int(p.handle) + 1; n > len(s) {
		s = append(s, make([]T, n-len(s))...)
	}
	s[p.handle] = v
	return s
}

// tierFacts holds the recorded tier actions and the per-partner timelines
// derived from them and from the events.
type tierFacts struct {
	decisions map[string][]*TierDecision // by partner, by EffectiveAt then quarter
	overrides map[string][]*TierOverride // by partner, by From then id
	appeals   map[string][]*TierAppeal   // by partner, by At then id
	// lines are the partners' timelines, by handle (nil: none built).
	lines []*timeline
	// aggs caches, per partner by handle, the aggregates auto-upgrades
	// test, so that events arriving in order each cost O(1) to test.
	aggs []*windowAggs
	// lastAggs are aggs[lastAggsOf] (nil: not known), of the partner
	// asked for last.
	lastAggsOf *partnerState
	lastAggs   *windowAggs
	// reads are the metric series the newest program's tier criteria
	// read (by metricIdx), for the program readsOf; readsAll is set when
	// a criterion reads the built-in points, which every award moves.
	readsOf  *program.Program
	reads    []bool
	readsAll bool
	// plan is the newest program's tier criteria compiled for testing,
	// and the tier window last asked for.
	plan *tierPlan
	// cands is buildTimeline's room for candidate times.
	cands []int64
}

// tierPlan is a program's tier criteria with their metrics and series
// slots looked up once, by partner type and tier rank.
type tierPlan struct {
	of     *program.Program
	cal    *program.Calendar
	window program.Window
	byType map[string][][]critPlan // partner types of by_type
	def    [][]critPlan            // every other type
	// The tier window memo: Window's bounds, in unix nanoseconds, for
	// the instants [lo, hi) (an empty span: none yet).
	lo, hi, from, to int64
	// hz is tierHorizon's memo, for two spans of instants: a quarter's
	// instants are two spans where the zone changes its offset inside
	// it, and events out of order fall on both sides; hzOld is the
	// one to replace next.
	hz    [2]horizonMemo
	hzOld int
}

// critPlan is one criterion ready to test.
type critPlan struct {
	c        *program.Criterion
	m        *program.Metric // nil: a metric the program does not know, never met
	slot     int             // the series of a count, sum, avg or distinct
	num, den int             // the series of a ratio's parts
}

// tierPlan returns the compiled tier criteria of the newest program.
func (e *Engine) tierPlan() *tierPlan {
	tf := e.tierFacts()
	if tf.plan != nil && tf.plan.of == e.cur {
		return tf.plan
	}
	tp := e.tierProgram()
	pl := &tierPlan{of: e.cur, cal: e.Calendar(), window: tp.Window, byType: map[string][][]critPlan{}}
	compile := func(typ string, byType bool) [][]critPlan {
		out := make([][]critPlan, len(tp.Levels))
		for r, tier := range tp.Levels {
			var list []program.Criterion
			if byType {
				list = tp.CriteriaFor(typ, tier)
			} else {
				list = tp.Criteria[tier]
			}
			for i := range list {
				c := &list[i]
				cp := critPlan{c: c, m: e.cur.Metric(c.Metric)}
				if cp.m != nil {
					cp.slot = e.metricIdx[cp.m.Name]
					if cp.m.Kind == program.MetricRatio {
						cp.num, cp.den = e.metricIdx[cp.m.Num], e.metricIdx[cp.m.Den]
					}
				}
				out[r] = append(out[r], cp)
			}
		}
		return out
	}
	for typ := range tp.ByType {
		pl.byType[typ] = compile(typ, true)
	}
	pl.def = compile("", false)
	tf.plan = pl
	return pl
}

// windowAt returns the tier window containing t, cut at t, as
// Engine.windowAt gives it, reusing the bounds of the instant asked for before when t
// shares them.
func (pl *tierPlan) windowAt(e *Engine, t int64) (int64, int64) {
	if t == 0 {
		// unixTime(0) is the zero time: windowAt's own answer.
		return e.windowAt(pl.window, unixTime(t))
	}
	if t < pl.lo || t >= pl.hi {
		from, to, lo, hi := pl.cal.WindowSpan(pl.window, unixTime(t))
		pl.from, pl.to, pl.lo, pl.hi = nanos(from), nanos(to), lo, hi
	}
	return pl.from, min(pl.to, t+1)
}

// tierReads returns which metric series the tier criteria read, and
// whether they read points (then every event may matter).
func (e *Engine) tierReads() (reads []bool, all bool) {
	tf := e.tierFacts()
	if tf.readsOf == e.cur && e.cur != nil {
		return tf.reads, tf.readsAll
	}
	tf.readsOf, tf.reads, tf.readsAll = e.cur, nil, false
	tp := e.tierProgram()
	if tp == nil {
		return nil, false
	}
	tf.reads = make([]bool, len(e.metricIdx))
	mark := func(name string) {
		if i, ok := e.metricIdx[name]; ok && i < len(tf.reads) {
			tf.reads[i] = true
		} else {
			tf.readsAll = true // points, or a name this index does not know: be safe
		}
	}
	read := func(cs []program.Criterion) {
		for _, c := range cs {
			if m := e.cur.Metric(c.Metric); m != nil && m.Kind == program.MetricRatio {
				mark(m.Num)
				mark(m.Den)
				continue
			}
			mark(c.Metric)
		}
	}
	for _, cs := range tp.Criteria {
		read(cs)
	}
	for _, byTier := range tp.ByType {
		for _, cs := range byTier {
			read(cs)
		}
	}
	return tf.reads, tf.readsAll
}

// movesTiers reports whether an event's contributions feed a metric the
// tier criteria read: only such an event can be an auto-upgrade.
func (e *Engine) movesTiers(ev *eventState) bool {
	if len(ev.contribs()) == 0 {
		return false
	}
	reads, all := e.tierReads()
	if all {
		return true
	}
	for _, c := range ev.contribs() {
		if c.metric < len(reads) && reads[c.metric] {
			return true
		}
	}
	return false
}

// candidates appends to buf the auto-upgrade candidates of a partner in
// [from, horizon): the times of its live events that movesTiers, in no
// particular order and with repeats. A live event's contributions are
// exactly its points in the partner's series, so they are read from the
// series the criteria read rather than from every event of the partner.
func (e *Engine) candidates(p *partnerState, from, horizon int64, buf []int64) []int64 {
	reads, all := e.tierReads()
	for s := range p.series {
		if !all && (s >= len(reads) || !reads[s]) {
			continue
		}
		chunks := p.series[s].c.chunks
		for i, j := p.series[s].seek(from); i < len(chunks); i, j = i+1, 0 {
			ch := chunks[i]
			for ; j < len(ch) && ch[j].at < horizon; j++ {
				buf = append(buf, ch[j].at)
			}
			if j < len(ch) {
				break
			}
		}
	}
	return buf
}

// windowAggs are a partner's metric aggregates over [from, upTo] of one
// tier window, by series slot.
type windowAggs struct {
	from, upTo int64
	by         []agg
	kinds      []program.MetricKind // by slot; 0: not asked for yet
	// stale is set when a contribution they cover changed: they are
	// computed anew (in the same room) when next asked for.
	stale bool
}

// touchTiers marks a partner's cached aggregates stale when a
// contribution to a series slot they hold changes at or before what they
// cover.
func (e *Engine) touchTiers(p *partnerState, slot int, at int64) {
	if e.tiers == nil {
		return
	}
	tf := e.tiers
	c := tf.lastAggs
	if tf.lastAggsOf != p {
		c = tf.agg(p)
	}
	if c != nil && at <= c.upTo && slot < len(c.kinds) && c.kinds[slot] != 0 {
		c.stale = true
	}
}

// slotAgg returns the partner's aggregate of a series slot over the tier
// window containing t, up to t, from the cache when it is good.
func (e *Engine) slotAgg(p *partnerState, slot int, kind program.MetricKind, from, t int64) *agg {
	tf := e.tierFacts()
	c := tf.lastAggs
	if tf.lastAggsOf != p {
		c = tf.agg(p)
	}
	if c == nil {
		c = &windowAggs{stale: true}
		tf.aggs = setByHandle(tf.aggs, p, c)
	}
	if c.stale || c.from != from || t < c.upTo {
		n := len(p.series)
		if cap(c.by) < n {
			c.by, c.kinds = make([]agg, n), make([]program.MetricKind, n)
		}
		c.by, c.kinds = c.by[:n], c.kinds[:n]
		for i := range c.by {
			// A distinct count's key map is emptied for use again.
			keys := c.by[i].keys
			clear(keys)
			c.by[i] = agg{keys: keys}
		}
		clear(c.kinds)
		c.from, c.upTo, c.stale = from, t, false
	}
	tf.lastAggsOf, tf.lastAggs = p, c
	if t > c.upTo {
		for s, k := range c.kinds {
			if k != 0 {
				p.series[s].addTo(&c.by[s], c.upTo+1, t+1, k)
			}
		}
		c.upTo = t
	}
	a := &c.by[slot]
	if c.kinds[slot] == 0 {
		p.series[slot].addTo(a, from, t+1, kind)
		c.kinds[slot] = kind
	}
	return a
}

// metricAt is a criterion's metric value for a partner over the tier
// window containing t, up to t, through the cache.
func (e *Engine) metricAt(p *partnerState, cp *critPlan, from, to, t int64) (float64, bool) {
	m := cp.m
	switch m.Kind {
	case program.MetricPoints:
		mv := e.metricValue(p, m, from, to)
		return mv.Value, mv.OK
	case program.MetricRatio:
		nm, dm := e.cur.Metrics[m.Num], e.cur.Metrics[m.Den]
		num := e.slotAgg(p, cp.num, nm.Kind, from, t)
		den := e.slotAgg(p, cp.den, dm.Kind, from, t)
		return e.ratioValue(m, num, den)
	}
	return e.slotAgg(p, cp.slot, m.Kind, from, t).value(m.Kind)
}

// timeline is a partner's underlying tier over time: segments, each from
// its at until the next one's. Overrides are laid over it by tierAt.
type timeline struct {
	segs []tseg
	// lastEv is the newest time of a contributing event the timeline
	// tested: an event after it, arriving in order, is the only new
	// candidate.
	lastEv int64
	// The last segment's time and tier, if any, kept beside segs so
	// that the common read, the tier now, touches the timeline alone.
	hasLast  bool
	lastAt   int64
	lastTier string
}

// sealed returns tl with its last segment noted (nil stays nil); a
// timeline is not changed once built.
func (tl *timeline) sealed() *timeline {
	if tl != nil && len(tl.segs) > 0 {
		last := tl.segs[len(tl.segs)-1]
		tl.hasLast, tl.lastAt, tl.lastTier = true, last.at, last.tier
	}
	return tl
}

type tseg struct {
	at   int64
	tier string
	kind string
	why  string
}

func (e *Engine) tierFacts() *tierFacts {
	if e.tiers == nil {
		e.tiers = &tierFacts{
			decisions: map[string][]*TierDecision{},
			overrides: map[string][]*TierOverride{},
			appeals:   map[string][]*TierAppeal{},
		}
	}
	return e.tiers
}

func (e *Engine) tierProgram() *program.Tiers {
	if e.cur == nil || e.cur.Tiers == nil || len(e.cur.Tiers.Levels) == 0 {
		return nil
	}
	return e.cur.Tiers
}

// baseTier is the tier a partner version starts with.
func (e *Engine) baseTier(pv *rung.Partner) string {
	if pv.InitialTier != "" {
		return pv.InitialTier
	}
	if t := e.tierProgram(); t != nil {
		return t.Levels[0]
	}
	return ""
}

// timelineTier returns the partner's tier at t: an override in force, or
// the underlying timeline.
func (e *Engine) timelineTier(p *partnerState, t int64) string {
	if e.tiers != nil {
		if o := e.overrideAt(p.id, t); o != nil {
			return o.Tier
		}
		if tl := e.tiers.line(p); tl != nil {
			if tier, ok := tl.at(t); ok {
				return tier
			}
		}
	}
	return e.baseTier(&p.versions[p.at(t)].Partner)
}

func (tl *timeline) at(t int64) (string, bool) {
	if tl.hasLast && tl.lastAt <= t {
		return tl.lastTier, true // the common case: now, or lately
	}
	i := sort.Search(len(tl.segs), func(i int) bool { return tl.segs[i].at > t })
	if i == 0 {
		return "", false
	}
	return tl.segs[i-1].tier, true
}

func (e *Engine) overrideAt(partner string, t int64) *TierOverride {
	var in *TierOverride
	for _, o := range e.tiers.overrides[partner] {
		if o.From.UnixNano() <= t && (o.Until.IsZero() || t < o.Until.UnixNano()) {
			in = o // the latest one set wins
		}
	}
	return in
}

// decisionTo is the tier a decision sets: the appeal's tier when an
// appeal overturned it, the tier the review would have set under an
// override, else its To.
func (e *Engine) decisionTo(d *TierDecision) (tier string, kind string) {
	for _, a := range e.tiers.appeals[d.Partner] {
		if a.Quarter == d.Quarter && a.Status == AppealOverturned {
			return a.Tier, "appeal"
		}
	}
	if d.Outcome == OutcomeOverride {
		return d.WouldTo, "review"
	}
	return d.To, "review"
}

// changePoint is something that may move the underlying tier.
type changePoint struct {
	at   int64
	ord  int // at the same time: partner versions, then decisions, then events
	tier string
	d    *TierDecision
}

// buildTimeline computes a partner's underlying timeline, reusing old's
// segments before from (math.MinInt64: everything anew).
//
// With a horizon (not math.MaxInt64), only candidates before it are
// tested: the caller knows nothing at or after it can qualify otherwise.
// If the tier entering the horizon is the old timeline's, the old
// segments from the horizon on are kept as they are; if not, it returns
// nil and the caller builds again without a horizon.
func (e *Engine) buildTimeline(p *partnerState, old *timeline, from int64, cands []int64, horizon int64) *timeline {
	return e.buildSegs(p, old, from, cands, horizon).sealed()
}

// buildSegs is buildTimeline but for noting the last segment.
func (e *Engine) buildSegs(p *partnerState, old *timeline, from int64, cands []int64, horizon int64) *timeline {
	tp := e.tierProgram()
	tf := e.tierFacts()
	tl := &timeline{lastEv: math.MinInt64}
	var pts []changePoint
	if old == nil {
		from, horizon = math.MinInt64, math.MaxInt64
	}
	if from != math.MinInt64 {
		tl.lastEv = old.lastEv
		for _, s := range old.segs {
			if s.at < from {
				tl.segs = append(tl.segs, s)
			}
		}
	}
	prevBase := ""
	for i := range p.versions {
		b := e.baseTier(&p.versions[i].Partner)
		at := p.versions[i].ValidFrom.UnixNano()
		if i == 0 {
			at = math.MinInt64
		}
		if b != prevBase && at >= from {
			pts = append(pts, changePoint{at: at, ord: 0, tier: b})
		}
		prevBase = b
	}
	for _, d := range tf.decisions[p.id] {
		if at := d.EffectiveAt.UnixNano(); at >= from {
			pts = append(pts, changePoint{at: at, ord: 1, d: d})
		}
	}
	// The candidates (ord 2) are kept apart, as sorted times, and merged
	// with the other points in the loop below.
	cs := tf.cands[:0]
	if tp != nil && tp.AutoUpgrade {
		if cands != nil {
			cs = append(cs, cands...)
		} else {
			cs = e.candidates(p, from, horizon, cs)
		}
		slices.Sort(cs)
		cs = slices.Compact(cs)
		if len(cs) > 0 {
			tl.lastEv = max(tl.lastEv, cs[len(cs)-1])
		}
	}
	tf.cands = cs
	slices.SortFunc(pts, func(a, b changePoint) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.ord, b.ord)
	})
	u := ""
	if n := len(tl.segs); n > 0 {
		u = tl.segs[n-1].tier
	}
	set := func(at int64, tier, kind, why string) {
		if tier == u && len(tl.segs) > 0 {
			return
		}
		u = tier
		tl.segs = append(tl.segs, tseg{at: at, tier: tier, kind: kind, why: why})
	}
	rank := func(t string) int {
		if e.cur == nil {
			return -1
		}
		return e.cur.TierRank(t)
	}
	var lastCand int64 = math.MinInt64
	// The candidates up to open were found not to be a hopeless run for
	// rank openRank: they are tested one by one.
	open, openRank := int64(math.MinInt64), -1
	for i, j := 0, 0; i < len(pts) || j < len(cs); {
		var c changePoint
		if j == len(cs) || (i < len(pts) && pts[i].at <= cs[j]) {
			c = pts[i] // at the same time, before a candidate
			i++
		} else {
			c = changePoint{at: cs[j], ord: 2}
			j++
		}
		if c.at >= horizon && old != nil {
			return keepFrom(tl, old, u, horizon)
		}
		switch c.ord {
		case 0:
			kind := "partner"
			if c.at == math.MinInt64 {
				kind = "initial"
			}
			set(c.at, c.tier, kind, "initial tier of the partner record")
		case 1:
			to, kind := e.decisionTo(c.d)
			if to == "" {
				continue
			}
			why := fmt.Sprintf("review %s: %s", c.d.Quarter, c.d.Outcome)
			if kind == "appeal" {
				why = fmt.Sprintf("review %s: appeal overturned", c.d.Quarter)
			}
			outcome := c.d.Outcome
			if outcome == OutcomeOverride {
				outcome = c.d.Would
			}
			if kind == "appeal" || outcome == OutcomeDowngrade || rank(to) > rank(u) {
				set(c.at, to, kind, why)
			}
		case 2:
			if c.at == lastCand || tp == nil {
				continue
			}
			lastCand = c.at
			r := rank(u)
			if r+1 >= len(tp.Levels) {
				continue
			}
			if c.at > open || r != openRank {
				// Until the next other point (u holds till then) and
				// the horizon.
				limit := int64(math.MaxInt64)
				if i < len(pts) {
					limit = pts[i].at
				}
				if old != nil {
					limit = min(limit, horizon)
				}
				n, last := e.hopelessRun(p, cs[j-1:], limit, r)
				if n > 0 {
					j += n - 1
					lastCand = cs[j-1]
					continue
				}
				open, openRank = last, r
			}
			if q := e.qualifiedAbove(p, c.at, r); q != "" {
				set(c.at, q, "auto_upgrade", "auto-upgrade: the criteria of "+q+" hold")
			}
		}
	}
	if horizon != math.MaxInt64 && old != nil {
		// No point at or after the horizon: the old segments there, if
		// any, came from candidates this build did not test.
		return keepFrom(tl, old, u, horizon)
	}
	return tl
}

// keepFrom ends a timeline built up to horizon, whose tier entering it
// is u, with the old timeline's segments from horizon on; nil when u is
// not the old tier there, so those segments cannot be kept.
func keepFrom(tl, old *timeline, u string, horizon int64) *timeline {
	if u != old.tierBefore(horizon) {
		return nil
	}
	for _, sg := range old.segs {
		if sg.at >= horizon {
			tl.segs = append(tl.segs, sg)
		}
	}
	tl.lastEv = max(tl.lastEv, old.lastEv)
	return tl
}

// tierBefore is the timeline's tier just before t ("" before its first
// segment).
func (tl *timeline) tierBefore(t int64) string {
	u := ""
	for _, sg := range tl.segs {
		if sg.at >= t {
			break
		}
		u = sg.tier
	}
	return u
}

// tierHorizon returns the first instant from which no tier window holds
// an event at at: the criteria tested from then on do not see it. It is
// math.MaxInt64 when there is none near (a window over all time, or one
// that slides by days over many of them).
func (e *Engine) tierHorizon(at int64) int64 {
	if e.tierProgram() == nil {
		return math.MaxInt64
	}
	return e.tierPlan().horizon(at)
}

// horizon is tierHorizon for the plan's calendar and window. The windows
// it walks after the first depend only on the first's end, so they are
// kept for every at whose window is the same (hz).
func (pl *tierPlan) horizon(at int64) int64 {
	t := unixTime(at)
	hz := &pl.hz[pl.hzOld^1]
	if !hz.holds(at) {
		if pl.hz[pl.hzOld].holds(at) {
			hz = &pl.hz[pl.hzOld]
		} else {
			hz = &pl.hz[pl.hzOld]
			hz.ok = false
		}
		pl.hzOld ^= 1
	}
	if !hz.ok {
		from, to, lo, hi := pl.cal.WindowSpan(pl.window, t)
		if at == 0 {
			// unixTime(0) is the zero time, outside the nanosecond range
			// WindowSpan's span is for: its window alone is right.
			from, to = pl.cal.Window(pl.window, t)
			lo, hi = 1, 0 // kept for no other at
		}
		*hz = horizonMemo{ok: true, lo: lo, hi: hi, from0: nanos(from), to0: to, steps: hz.steps[:0]}
		// The steps depend on the first window's end alone, not on
		// whether this at's walk goes on to them.
		if to.Before(program.MaxTime) {
			for u := to; len(hz.steps) < 15; {
				from, to := pl.cal.Window(pl.window, u)
				stop := !to.After(u) || !to.Before(program.MaxTime)
				hz.steps = append(hz.steps, horizonStep{from: nanos(from), t: nanos(u), stop: stop})
				if stop {
					break
				}
				u = to
			}
		}
	}
	// The walk of the first window on, as a loop over Calendar.Window
	// would take it (16 windows at most).
	if hz.from0 > at {
		return nanos(t)
	}
	if !hz.to0.After(t) || !hz.to0.Before(program.MaxTime) {
		return math.MaxInt64
	}
	for _, st := range hz.steps {
		if st.from > at {
			return st.t
		}
		if st.stop {
			return math.MaxInt64
		}
	}
	return math.MaxInt64
}

// horizonMemo is the walk of tier windows from the first window of the
// instants [lo, hi): that window's bounds, then the windows after it.
type horizonMemo struct {
	ok     bool
	lo, hi int64
	from0  int64 // unix nanoseconds
	to0    time.Time
	steps  []horizonStep
}

// holds reports whether the memo is for at's span.
func (hz *horizonMemo) holds(at int64) bool {
	return hz.ok && at != 0 && hz.lo <= at && at < hz.hi
}

// horizonStep is a window of the walk: its start, the instant it was
// taken at, and whether the walk ends after it.
type horizonStep struct {
	from, t int64
	stop    bool
}

// qualifiedAbove returns the highest tier above rank r whose criteria all
// hold for the partner at t, or "".
func (e *Engine) qualifiedAbove(p *partnerState, t int64, r int) string {
	tp := e.tierProgram()
	pl := e.tierPlan()
	byRank, ok := pl.byType[p.versions[p.at(t)].Partner.Type]
	if !ok {
		byRank = pl.def
	}
	for i := len(tp.Levels) - 1; i > r; i-- {
		if e.tierMet(p, pl, byRank[i], t) {
			return tp.Levels[i]
		}
	}
	return ""
}

// tierSkip turns hopelessRun on; a test turns it off to build timelines
// by testing every candidate.
var tierSkip = true

// hopelessRun returns how many of the auto-upgrade candidates cs (sorted,
// from cs[0] on) buildSegs may pass over without testing them, for a
// partner whose tier is of rank r until limit: those before limit in
// cs[0]'s tier window and partner version (so that the window's start
// and the criteria are the same for all), when no tier above r can be
// met at any of them. That holds when each such tier has an at_least
// criterion on a metric that never falls as the window's end moves on (a
// count, a distinct count, or a sum that was never given a negative
// contribution) and that fails at the last of them. Most partners, most
// of the time, are far from the next tier: an event out of order then
// costs one test instead of one per later candidate. When it returns 0,
// last is the run's last candidate: those up to it are to be tested one
// by one.
func (e *Engine) hopelessRun(p *partnerState, cs []int64, limit int64, r int) (n int, last int64) {
	if !tierSkip || len(cs) < 2 {
		return 0, cs[0]
	}
	pl := e.tierPlan()
	pl.windowAt(e, cs[0])
	limit = min(limit, pl.hi)
	v := p.at(cs[0])
	if v+1 < len(p.versions) {
		limit = min(limit, p.versions[v+1].ValidFrom.UnixNano())
	}
	n = sort.Search(len(cs), func(k int) bool { return cs[k] >= limit })
	if n < 2 || cs[0] <= 0 && cs[n-1] >= 0 {
		// windowAt takes the instant 0 for the zero time: no run holds it.
		return 0, cs[max(n, 1)-1]
	}
	last = cs[n-1]
	byRank, ok := pl.byType[p.versions[v].Partner.Type]
	if !ok {
		byRank = pl.def
	}
	for k := len(byRank) - 1; k > r; k-- {
		if !e.tierHopeless(p, pl, byRank[k], last) {
			return 0, last
		}
	}
	return n, last
}

// tierHopeless reports whether a tier cannot be met at any instant of the
// tier window holding t up to t: it has no criteria or one on a metric
// the program lacks (tierMet: never met), or an at_least criterion on a
// metric that never falls as the window's end moves on fails at t.
func (e *Engine) tierHopeless(p *partnerState, pl *tierPlan, list []critPlan, t int64) bool {
	if len(list) == 0 {
		return true
	}
	for i := range list {
		cp := &list[i]
		if cp.m == nil {
			return true
		}
		if cp.c.AtLeast == nil || !e.neverFalls(cp) {
			continue
		}
		from, to := pl.windowAt(e, t)
		v, ok := e.metricAt(p, cp, from, to, t)
		if !criterionMet(cp.c, MetricValue{Value: v, OK: ok}) {
			return true
		}
	}
	return false
}

// neverFalls reports whether a criterion's metric over a window can only
// grow as the window's end moves on: a count or a distinct count, or a sum
// no contribution to which was ever negative.
func (e *Engine) neverFalls(cp *critPlan) bool {
	switch cp.m.Kind {
	case program.MetricCount, program.MetricDistinct:
		return true
	case program.MetricSum:
		return cp.slot >= len(e.negative) || !e.negative[cp.slot]
	}
	return false
}

// tierMet reports whether all of a tier's criteria hold at t. A tier
// without criteria is never reached by them (only by hand).
func (e *Engine) tierMet(p *partnerState, pl *tierPlan, list []critPlan, t int64) bool {
	if len(list) == 0 {
		return false
	}
	from, to := pl.windowAt(e, t)
	for i := range list {
		cp := &list[i]
		if cp.m == nil {
			return false
		}
		v, ok := e.metricAt(p, cp, from, to, t)
		if !criterionMet(cp.c, MetricValue{Value: v, OK: ok}) {
			return false
		}
	}
	return true
}

func criterionMet(c *program.Criterion, mv MetricValue) bool {
	switch {
	case !mv.OK:
		return false
	case c.AtLeast != nil:
		return mv.Value >= *c.AtLeast
	case c.AtMost != nil:
		return mv.Value <= *c.AtMost
	}
	return false
}

// firstDiff returns the first time two timelines differ, and false when
// they are the same.
func firstDiff(a, b *timeline) (int64, bool) {
	var as, bs []tseg
	if a != nil {
		as = a.segs
	}
	if b != nil {
		bs = b.segs
	}
	n := min(len(as), len(bs))
	for i := 0; i < n; i++ {
		if as[i].at != bs[i].at || as[i].tier != bs[i].tier {
			return min(as[i].at, bs[i].at), true
		}
	}
	switch {
	case len(as) > n:
		return as[n].at, true
	case len(bs) > n:
		return bs[n].at, true
	}
	return 0, false
}

// refreshTimeline recomputes a partner's timeline from time from and
// scores again the events whose tier changed. A rule's where may read
// partner.tier, so scoring again can move the metrics the timeline reads:
// it repeats until nothing moves (bounded).
func (e *Engine) refreshTimeline(p *partnerState, from int64) {
	e.refreshTimelineWith(p, from, nil)
}

// refreshTimelineWith is refreshTimeline with the auto-upgrade candidates
// after from known (nil: every contributing event from then on).
func (e *Engine) refreshTimelineWith(p *partnerState, from int64, cands []int64) {
	e.refreshTimelineUpTo(p, from, cands, math.MaxInt64)
}

// refreshTimelineUpTo is refreshTimelineWith for a change whose effect on
// the criteria ends at horizon (see buildTimeline).
func (e *Engine) refreshTimelineUpTo(p *partnerState, from int64, cands []int64, horizon int64) {
	if e.tierProgram() == nil {
		return
	}
	tf := e.tierFacts()
	for round := 0; round < 4; round++ {
		old := tf.line(p)
		tl := e.buildTimeline(p, old, from, cands, horizon)
		if tl == nil {
			tl = e.buildTimeline(p, old, from, cands, math.MaxInt64)
		}
		cands, horizon = nil, math.MaxInt64
		d, changed := firstDiff(old, tl)
		tf.lines = setByHandle(tf.lines, p, tl)
		if !changed {
			return
		}
		p.vars = nil
		e.rescoreFrom(p, d)
		from = d
	}
}

// rescoreFrom evaluates again the partner's events at or after t.
func (e *Engine) rescoreFrom(p *partnerState, t int64) {
	var again []*eventState
	for _, h := range p.events {
		if ev := e.events.at(h); ev.live() && ev.at >= t && e.readersOf(ev.typ).reads != 0 {
			again = append(again, ev)
		}
	}
	if len(again) > 0 {
		e.reevaluate(again)
	}
}

// tiersEventMoved is called after an event of a partner was applied,
// corrected or retracted at time at.
func (e *Engine) tiersEventMoved(p *partnerState, at int64, ev *eventState) {
	tp := e.tierProgram()
	if p == nil || tp == nil || !tp.AutoUpgrade || e.bulk != nil {
		return
	}
	moves := ev != nil && e.movesTiers(ev)
	tl := e.tierFacts().line(p)
	if ev != nil && !moves && tl != nil {
		// Nothing a criterion reads changed: the timeline stands.
		return
	}
	if tl != nil && at > tl.lastEv {
		// In order: the newest event is the only new candidate.
		cands := []int64{}
		if moves && ev.live() && e.partnerOf(ev) == p && ev.at == at {
			cands = append(cands, at)
		}
		e.refreshTimelineWith(p, at, cands)
		return
	}
	if ev != nil {
		// A new event out of order: it counts only in the windows that
		// hold its time.
		e.refreshTimelineUpTo(p, at, nil, e.tierHorizon(at))
		return
	}
	e.refreshTimeline(p, at)
}

// refreshAllTimelines recomputes every partner's timeline, after a bulk
// load or a full recompute.
func (e *Engine) refreshAllTimelines() {
	if e.tiers != nil {
		clear(e.tiers.aggs)
		e.tiers.lastAggsOf, e.tiers.lastAggs = nil, nil
	}
	if e.tierProgram() == nil {
		if e.tiers != nil {
			clear(e.tiers.lines)
		}
		return
	}
	for _, p := range e.partnerByHandle {
		e.refreshTimeline(p, math.MinInt64)
	}
}

// PutTierDecisions records published review decisions (replacing any of
// the same quarter and partner) and applies them to the partners' tiers.
func (e *Engine) PutTierDecisions(ds []TierDecision) {
	tf := e.tierFacts()
	touched := map[string]bool{}
	for _, d := range ds {
		d := d
		list := tf.decisions[d.Partner]
		list = slices.DeleteFunc(list, func(x *TierDecision) bool { return x.Quarter == d.Quarter })
		list = append(list, &d)
		slices.SortFunc(list, func(a, b *TierDecision) int {
			if c := a.EffectiveAt.Compare(b.EffectiveAt); c != 0 {
				return c
			}
			return strings.Compare(a.Quarter, b.Quarter)
		})
		tf.decisions[d.Partner] = list
		touched[d.Partner] = true
	}
	e.retier(touched)
}

// LoadTierFacts sets every recorded tier action at once (at start-up, or
// when another instance recorded some) and retiers only the partners whose
// actions changed.
func (e *Engine) LoadTierFacts(ds []TierDecision, os []TierOverride, as []TierAppeal) {
	tf := e.tierFacts()
	old := map[string]string{}
	sig := func(id string) string {
		return fmt.Sprintf("%+v|%+v|%+v", derefs(tf.decisions[id]), derefs(tf.overrides[id]), derefs(tf.appeals[id]))
	}
	ids := map[string]bool{}
	for id := range tf.decisions {
		ids[id] = true
	}
	for id := range tf.overrides {
		ids[id] = true
	}
	for id := range tf.appeals {
		ids[id] = true
	}
	for _, d := range ds {
		ids[d.Partner] = true
	}
	for _, o := range os {
		ids[o.Partner] = true
	}
	for _, a := range as {
		ids[a.Partner] = true
	}
	for id := range ids {
		old[id] = sig(id)
	}
	tf.decisions = map[string][]*TierDecision{}
	tf.overrides = map[string][]*TierOverride{}
	tf.appeals = map[string][]*TierAppeal{}
	for i := range ds {
		d := ds[i]
		tf.decisions[d.Partner] = append(tf.decisions[d.Partner], &d)
	}
	for i := range os {
		o := os[i]
		tf.overrides[o.Partner] = append(tf.overrides[o.Partner], &o)
	}
	for i := range as {
		a := as[i]
		tf.appeals[a.Partner] = append(tf.appeals[a.Partner], &a)
	}
	touched := map[string]bool{}
	for id := range ids {
		slices.SortFunc(tf.decisions[id], func(a, b *TierDecision) int {
			if c := a.EffectiveAt.Compare(b.EffectiveAt); c != 0 {
				return c
			}
			return strings.Compare(a.Quarter, b.Quarter)
		})
		slices.SortFunc(tf.overrides[id], func(a, b *TierOverride) int {
			if c := a.From.Compare(b.From); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		slices.SortFunc(tf.appeals[id], func(x, y *TierAppeal) int {
			if c := x.At.Compare(y.At); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
		if sig(id) != old[id] {
			touched[id] = true
		}
	}
	e.retier(touched)
}

func derefs[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// PutTierOverride records an override (replacing one with the same id).
func (e *Engine) PutTierOverride(o TierOverride) {
	tf := e.tierFacts()
	list := slices.DeleteFunc(tf.overrides[o.Partner], func(x *TierOverride) bool { return x.ID == o.ID })
	list = append(list, &o)
	slices.SortFunc(list, func(a, b *TierOverride) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	tf.overrides[o.Partner] = list
	e.retier(map[string]bool{o.Partner: true})
}

// PutTierAppeal records an appeal or its decision (replacing one with the
// same id).
func (e *Engine) PutTierAppeal(a TierAppeal) {
	tf := e.tierFacts()
	list := slices.DeleteFunc(tf.appeals[a.Partner], func(x *TierAppeal) bool { return x.ID == a.ID })
	list = append(list, &a)
	slices.SortFunc(list, func(x, y *TierAppeal) int {
		if c := x.At.Compare(y.At); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	tf.appeals[a.Partner] = list
	e.retier(map[string]bool{a.Partner: true})
}

// retier recomputes the timelines of partners whose recorded actions
// changed. An override is not part of the underlying timeline, so the
// events in its span are scored again here.
func (e *Engine) retier(partners map[string]bool) {
	if e.tierProgram() == nil {
		return
	}
	ids := make([]string, 0, len(partners))
	for id := range partners {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := e.partners[id]
		if p == nil {
			continue
		}
		p.vars = nil
		e.refreshTimeline(p, math.MinInt64)
		// Overrides and timelines both feed tierAt: score everything of
		// the partner again (cheap next to the review that caused it).
		e.rescoreFrom(p, math.MinInt64)
		e.refreshBoardsFor(p)
	}
}

// TierDecisions returns the published decisions of a partner ("" for all
// partners), oldest first.
func (e *Engine) TierDecisions(partner string) []TierDecision {
	if e.tiers == nil {
		return []TierDecision{}
	}
	out := []TierDecision{}
	add := func(list []*TierDecision) {
		for _, d := range list {
			out = append(out, *d)
		}
	}
	if partner != "" {
		add(e.tiers.decisions[partner])
		return out
	}
	for _, p := range e.PartnerIDs() {
		add(e.tiers.decisions[p])
	}
	return out
}

// TierDecision returns a partner's published decision for a quarter.
func (e *Engine) TierDecision(partner, quarter string) (TierDecision, bool) {
	if e.tiers != nil {
		for _, d := range e.tiers.decisions[partner] {
			if d.Quarter == quarter {
				return *d, true
			}
		}
	}
	return TierDecision{}, false
}

// TierOverrides returns the overrides of a partner ("" for all).
func (e *Engine) TierOverrides(partner string) []TierOverride {
	out := []TierOverride{}
	if e.tiers == nil {
		return out
	}
	for _, id := range e.PartnerIDs() {
		if partner != "" && id != partner {
			continue
		}
		for _, o := range e.tiers.overrides[id] {
			out = append(out, *o)
		}
	}
	return out
}

// TierAppeals returns the appeals of a partner ("" for all), oldest first.
func (e *Engine) TierAppeals(partner string) []TierAppeal {
	out := []TierAppeal{}
	if e.tiers == nil {
		return out
	}
	for _, id := range e.PartnerIDs() {
		if partner != "" && id != partner {
			continue
		}
		for _, a := range e.tiers.appeals[id] {
			out = append(out, *a)
		}
	}
	slices.SortStableFunc(out, func(a, b TierAppeal) int { return a.At.Compare(b.At) })
	return out
}

// TierAt returns a partner's tier at t ("" when unknown).
func (e *Engine) TierAt(partner string, t time.Time) string {
	p := e.partners[partner]
	if p == nil {
		return ""
	}
	return e.tierAt(p, t.UnixNano())
}

// quarterBounds parses a quarter label with the newest program's calendar.
func (e *Engine) quarterBounds(q string) (start, end time.Time, err error) {
	start, end, err = e.Calendar().ParseQuarter(q)
	if err != nil {
		return start, end, rung.Errorf(rung.EINVALID, "%v", err)
	}
	return start, end, nil
}

// effectiveAt is when a review of the quarter ending at end takes effect:
// decision_days local days after the end.
func (e *Engine) effectiveAt(end time.Time) time.Time {
	tp := e.tierProgram()
	loc := end.Location()
	if e.cur != nil && e.cur.Calendar != nil && e.cur.Calendar.Loc != nil {
		loc = e.cur.Calendar.Loc
	}
	y, m, d := end.In(loc).Date()
	return time.Date(y, m, d+tp.DecisionDays, 0, 0, 0, 0, loc)
}

// Review computes the decisions of a review of quarter q for every
// partner that had joined by the quarter's end, ordered by partner id. It
// changes nothing; the caller records what it publishes with
// PutTierDecisions.
func (e *Engine) Review(q string) ([]TierDecision, error) {
	tp := e.tierProgram()
	if tp == nil {
		return nil, rung.Errorf(rung.EINVALID, "the program has no tiers section: add tiers with levels and criteria before reviewing")
	}
	_, end, err := e.quarterBounds(q)
	if err != nil {
		return nil, err
	}
	out := make([]TierDecision, 0, len(e.partners))
	for _, p := range e.partnerByHandle {
		if p.joined != 0 && p.joined >= end.UnixNano() {
			continue
		}
		out = append(out, e.reviewPartner(p, q, end))
	}
	slices.SortFunc(out, func(a, b TierDecision) int { return strings.Compare(a.Partner, b.Partner) })
	return out, nil
}

func (e *Engine) reviewPartner(p *partnerState, q string, end time.Time) TierDecision {
	tp := e.tierProgram()
	t := end.UnixNano() - 1
	eff := e.effectiveAt(end)
	d := TierDecision{Quarter: q, Partner: p.id, EffectiveAt: eff}
	d.From = e.tierAt(p, t)
	under := d.From
	if tl := e.tierFacts().line(p); tl != nil {
		if u, ok := tl.at(t); ok {
			under = u
		}
	} else {
		under = e.baseTier(&p.versions[p.at(t)].Partner)
	}
	d.Qualified = tp.Levels[0]
	for i := 1; i < len(tp.Levels); i++ {
		c := e.tierCheck(p, tp.Levels[i], end.Add(-time.Nanosecond))
		d.Checks = append(d.Checks, c)
	}
	for i := len(d.Checks) - 1; i >= 0; i-- {
		if d.Checks[i].Met {
			d.Qualified = d.Checks[i].Tier
			break
		}
	}
	rq, ru := e.cur.TierRank(d.Qualified), e.cur.TierRank(under)
	outcome, to := OutcomeStay, under
	switch {
	case rq > ru:
		outcome, to = OutcomeUpgrade, d.Qualified
	case rq < ru:
		used := e.graceUsed(p.id, q)
		if used < tp.Grace {
			outcome = OutcomeGrace
			d.GraceLeft = tp.Grace - used - 1
			_, nextEnd, _ := e.quarterBounds(e.nextQuarter(q))
			d.GraceUntil = e.effectiveAt(nextEnd)
		} else {
			outcome, to = OutcomeDowngrade, d.Qualified
		}
	}
	if o := e.overrideAt(p.id, eff.UnixNano()); o != nil {
		d.Outcome, d.To, d.Would, d.WouldTo = OutcomeOverride, o.Tier, outcome, to
	} else {
		d.Outcome, d.To = outcome, to
	}
	return d
}

// graceUsed counts the partner's grace decisions in the quarters right
// before q, without a break.
func (e *Engine) graceUsed(partner, q string) int {
	n := 0
	for prev := e.prevQuarter(q); ; prev = e.prevQuarter(prev) {
		d, ok := e.TierDecision(partner, prev)
		if !ok {
			return n
		}
		out := d.Outcome
		if out == OutcomeOverride {
			out = d.Would
		}
		if out != OutcomeGrace {
			return n
		}
		n++
	}
}

func (e *Engine) prevQuarter(q string) string {
	start, _, err := e.Calendar().ParseQuarter(q)
	if err != nil {
		return ""
	}
	return e.Calendar().QuarterLabel(start.Add(-time.Hour))
}

func (e *Engine) nextQuarter(q string) string {
	_, end, err := e.Calendar().ParseQuarter(q)
	if err != nil {
		return ""
	}
	return e.Calendar().QuarterLabel(end.Add(time.Hour))
}

// QuarterEnd returns the end (exclusive) of a quarter: a review of it may
// be published from then on.
func (e *Engine) QuarterEnd(q string) (time.Time, error) {
	_, end, err := e.quarterBounds(q)
	return end, err
}

// QuarterLabel names the quarter containing t.
func (e *Engine) QuarterLabel(t time.Time) string { return e.Calendar().QuarterLabel(t) }

// tierCheck evaluates a tier's criteria for a partner over the tier window
// containing t.
func (e *Engine) tierCheck(p *partnerState, tier string, t time.Time) TierCheck {
	cs := e.criteria(p, tier, t)
	met := len(cs) > 0
	for _, c := range cs {
		met = met && c.Met
	}
	return TierCheck{Tier: tier, Met: met, Criteria: cs}
}

// Mobility counts, for a reviewed quarter, how many partners moved from
// each tier to each tier: rows and columns are the program's tiers.
type Mobility struct {
	Quarter string           `json:"quarter"`
	Tiers   []string         `json:"tiers"`
	Counts  map[string][]int `json:"counts"` // from tier → count per to tier
	Total   int              `json:"total"`
}

// TierMobility returns the mobility table of a quarter's published review.
func (e *Engine) TierMobility(q string) (Mobility, error) {
	tp := e.tierProgram()
	if tp == nil {
		return Mobility{}, rung.Errorf(rung.EINVALID, "the program has no tiers section")
	}
	if _, _, err := e.quarterBounds(q); err != nil {
		return Mobility{}, err
	}
	mb := Mobility{Quarter: q, Tiers: tp.Levels, Counts: map[string][]int{}}
	for _, l := range tp.Levels {
		mb.Counts[l] = make([]int, len(tp.Levels))
	}
	for _, d := range e.TierDecisions("") {
		if d.Quarter != q {
			continue
		}
		to, _ := e.decisionTo(&d)
		if d.Outcome == OutcomeOverride {
			to = d.To
		}
		row, ok := mb.Counts[d.From]
		j := e.cur.TierRank(to)
		if !ok || j < 0 {
			continue
		}
		row[j]++
		mb.Total++
	}
	return mb, nil
}

// TierHistory returns a partner's tier changes with their reasons, oldest
// first: the timeline, overrides and appeals.
func (e *Engine) TierHistory(partner string) ([]TierChange, error) {
	p := e.partners[partner]
	if p == nil {
		return nil, rung.Errorf(rung.ENOTFOUND, "partner %q not found", partner)
	}
	out := []TierChange{}
	if e.tierProgram() == nil {
		return out, nil
	}
	tf := e.tierFacts()
	prev := ""
	if tl := tf.line(p); tl != nil {
		for _, s := range tl.segs {
			at := time.Time{}
			if s.at != math.MinInt64 {
				at = unixTime(s.at)
			}
			out = append(out, TierChange{At: at, From: prev, To: s.tier, Kind: s.kind, Reason: s.why})
			prev = s.tier
		}
	}
	for _, o := range tf.overrides[partner] {
		out = append(out, TierChange{At: o.From, To: o.Tier, Kind: "override", Reason: o.Reason})
		if !o.Until.IsZero() {
			out = append(out, TierChange{At: o.Until, From: o.Tier, To: e.underAt(p, o.Until.UnixNano()), Kind: "override_end", Reason: "override expired"})
		}
	}
	for _, a := range tf.appeals[partner] {
		out = append(out, TierChange{At: a.At, Kind: "appeal", To: "", Reason: "appeal of review " + a.Quarter + " filed: " + a.Text})
		if a.Status != AppealOpen {
			r := "appeal of review " + a.Quarter + " " + a.Status
			if a.Reply != "" {
				r += ": " + a.Reply
			}
			out = append(out, TierChange{At: a.DecidedAt, To: a.Tier, Kind: "appeal", Reason: r})
		}
	}
	slices.SortStableFunc(out, func(a, b TierChange) int { return a.At.Compare(b.At) })
	return out, nil
}

func (e *Engine) underAt(p *partnerState, t int64) string {
	if tl := e.tierFacts().line(p); tl != nil {
		if u, ok := tl.at(t); ok {
			return u
		}
	}
	return e.baseTier(&p.versions[p.at(t)].Partner)
}

// TierCard is a partner's tier and its progress toward the next one.
type TierCard struct {
	Current      string        `json:"current"`
	Status       string        `json:"status"` // active | grace | override
	Next         string        `json:"next,omitempty"`
	Criteria     []Criterion   `json:"criteria"`
	Progress     float64       `json:"progress"`
	Missing      []string      `json:"missing"`
	GraceUntil   time.Time     `json:"grace_until,omitzero"`
	Override     *TierOverride `json:"override,omitempty"`
	Benefits     []string      `json:"benefits"`
	NextBenefits []string      `json:"next_benefits"`
	History      []TierChange  `json:"history"`
}

func (e *Engine) tierCard(p *partnerState, t time.Time) *TierCard {
	tp := e.tierProgram()
	if tp == nil {
		return nil
	}
	tc := &TierCard{Current: e.tierAt(p, t.UnixNano()), Status: "active", Criteria: []Criterion{}, Missing: []string{},
		Benefits: nonNil(tp.Benefits[""]), NextBenefits: []string{}, History: []TierChange{}}
	tc.Benefits = nonNil(tp.Benefits[tc.Current])
	if o := e.overrideAt(p.id, t.UnixNano()); o != nil {
		tc.Status = "override"
		oc := *o
		tc.Override = &oc
	} else if d := e.lastDecision(p.id, t); d != nil && d.Outcome == OutcomeGrace && t.Before(d.GraceUntil) {
		tc.Status, tc.GraceUntil = "grace", d.GraceUntil
	}
	i := e.cur.TierRank(tc.Current)
	if i+1 < len(tp.Levels) {
		tc.Next = tp.Levels[i+1]
		tc.NextBenefits = nonNil(tp.Benefits[tc.Next])
		tc.Criteria = e.criteria(p, tc.Next, t)
		tc.Progress = progressOf(tc.Criteria)
		tc.Missing = e.missing(tc.Criteria)
	} else {
		tc.Progress = 1
	}
	if h, err := e.TierHistory(p.id); err == nil {
		for _, c := range h {
			if !c.At.After(t) {
				tc.History = append(tc.History, c)
			}
		}
	}
	return tc
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// lastDecision is the partner's newest decision in effect at t.
func (e *Engine) lastDecision(partner string, t time.Time) *TierDecision {
	if e.tiers == nil {
		return nil
	}
	var last *TierDecision
	for _, d := range e.tiers.decisions[partner] {
		if !d.EffectiveAt.After(t) {
			last = d
		}
	}
	return last
}

// progressOf is the mean share of the criteria met.
func progressOf(cs []Criterion) float64 {
	if len(cs) == 0 {
		return 0
	}
	var s float64
	for _, c := range cs {
		s += c.Progress
	}
	return s / float64(len(cs))
}

// missing says in plain words what is missing for each unmet criterion.
func (e *Engine) missing(cs []Criterion) []string {
	out := []string{}
	for _, c := range cs {
		if c.Met {
			continue
		}
		out = append(out, e.missingOne(c))
	}
	return out
}

func (e *Engine) missingOne(c Criterion) string {
	m := e.cur.Metric(c.Metric)
	label := strings.ToLower(c.Label)
	if c.Label == c.ID && m != nil {
		label = strings.ReplaceAll(m.Name, "_", " ")
	}
	if !c.Defined && m != nil && m.Kind == program.MetricRatio {
		return fmt.Sprintf("not enough data yet for %s", label)
	}
	if c.Value > c.Target || (c.Value == c.Target && !c.Met) {
		return fmt.Sprintf("%s down from %s to %s", label, e.formatValue(m, c.Value), e.formatValue(m, c.Target))
	}
	gap := c.Target - c.Value
	if m != nil && (m.Kind == program.MetricCount || m.Kind == program.MetricDistinct || m.Kind == program.MetricSum || m.Kind == program.MetricPoints) {
		if m.Kind == program.MetricDistinct || m.Kind == program.MetricCount {
			n := int64(math.Ceil(gap - 1e-9))
			noun := label
			if n == 1 {
				noun = singular(label)
			}
			return fmt.Sprintf("%d more %s", n, noun)
		}
		return fmt.Sprintf("%s more %s", e.formatValue(m, gap), label)
	}
	return fmt.Sprintf("%s up from %s to %s", label, e.formatValue(m, c.Value), e.formatValue(m, c.Target))
}

// singular makes "certified people" read "certified person" and "deals"
// read "deal" for a count of one.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "people"):
		return strings.TrimSuffix(s, "people") + "person"
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "ss"):
		return s
	case strings.HasSuffix(s, "s"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}

var currencySigns = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}

// formatValue writes a metric value for people: money with the program's
// currency and thousands separators, percentages, or a plain number.
func (e *Engine) formatValue(m *program.Metric, v float64) string {
	if m != nil && m.Unit == program.UnitPercent {
		return trimFloat(v) + "%"
	}
	var s string
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		s = groupThousands(int64(v))
	} else {
		s = trimFloat(v)
	}
	if m != nil && m.Unit == program.UnitCurrency && e.cur.Currency != "" {
		if sign, ok := currencySigns[e.cur.Currency]; ok {
			return sign + s
		}
		return s + " " + e.cur.Currency
	}
	return s
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func groupThousands(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Nudge is a note that a partner nears its next tier: progress reached
// nudge_at, or all criteria but one hold. One per partner, tier and
// quarter.
type Nudge struct {
	ID       string    `json:"id"`
	Partner  string    `json:"partner"`
	Tier     string    `json:"tier"`
	Quarter  string    `json:"quarter"`
	Progress float64   `json:"progress"`
	Missing  []string  `json:"missing"`
	Message  string    `json:"message"`
	At       time.Time `json:"at"`
}

// NudgeID names the one nudge of a partner toward a tier in a quarter.
func NudgeID(partner, tier, quarter string) string {
	return "nudge:" + partner + ":" + tier + ":" + quarter
}

// Nudges returns the nudges due at t: for each partner whose progress
// toward its next tier reached nudge_at, or that meets all but one of its
// criteria (and not yet all).
func (e *Engine) Nudges(t time.Time) []Nudge {
	tp := e.tierProgram()
	out := []Nudge{}
	if tp == nil {
		return out
	}
	q := e.QuarterLabel(t)
	for _, id := range e.PartnerIDs() {
		p := e.partners[id]
		if p.joined != 0 && p.joined > t.UnixNano() {
			continue
		}
		cur := e.tierAt(p, t.UnixNano())
		i := e.cur.TierRank(cur)
		if i+1 >= len(tp.Levels) {
			continue
		}
		next := tp.Levels[i+1]
		cs := e.criteria(p, next, t)
		if len(cs) == 0 {
			continue
		}
		met := 0
		for _, c := range cs {
			if c.Met {
				met++
			}
		}
		prog := progressOf(cs)
		if met == len(cs) || !(prog >= tp.NudgeAt || (len(cs) > 1 && met == len(cs)-1)) {
			continue
		}
		miss := e.missing(cs)
		out = append(out, Nudge{ID: NudgeID(id, next, q), Partner: id, Tier: next, Quarter: q, Progress: prog, Missing: miss,
			Message: fmt.Sprintf("%s is close to %s: %s", p.latest().Name, next, strings.Join(miss, ", ")), At: t})
	}
	return out
}

// tierRankOf is a tier's rank in the newest program, -1 when unknown.
func (e *Engine) tierRankOf(tier string) int {
	if e.cur == nil {
		return -1
	}
	return e.cur.TierRank(tier)
}

// dumpTiers writes a partner's tier timeline for Dump.
func (e *Engine) dumpTiers(w io.Writer, p *partnerState) {
	if e.tiers == nil {
		return
	}
	// A partner whose timeline is its initial tier alone may have none
	// built yet (the live path builds them as events need them, a rebuild
	// builds them all): the two read the same, so they dump the same.
	if tl := e.tiers.line(p); tl != nil && !(len(tl.segs) == 1 && tl.segs[0].kind == "initial") {
		for _, s := range tl.segs {
			fmt.Fprintf(w, "  tier %d %s %s\n", s.at, s.tier, s.kind)
		}
	}
}
