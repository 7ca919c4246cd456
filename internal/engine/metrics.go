package engine

import (
	"iter"
	"math"
	"sort"
	"time"

	"github.com/rung-dev/rung/internal/program"
)

// Metric values are summed in integer micro-units: float addition depends
// on the order of its operands, and derived state must not depend on the
// order events arrive in. 1e6 keeps six decimals and sums up to ~9.2e12.
const micro = 1e6

func toMicro(v float64) int64 {
	x := math.Round(v * micro)
	if x > math.MaxInt64/4 {
		return math.MaxInt64 / 4
	}
	if x < -math.MaxInt64/4 {
		return -math.MaxInt64 / 4
	}
	return int64(x)
}

// point is one event's contribution to one metric of one subject. It holds
// no pointers, so the collector never scans a series: the event is its
// handle and a distinct key its interned number.
type point struct {
	at  int64
	v   int64  // micro-units
	ev  uint32 // eventState.h
	key uint32 // interned distinct key; 0 for none
}

// series is a subject's contributions to one metric, sorted by at, then by
// event handle. Only aggregates are read from a series, and they do not
// depend on the order of contributions with the same at.
type series struct{ c chunked[point] }

func pointBefore(a, b point) bool { return a.at < b.at || (a.at == b.at && a.ev < b.ev) }

func (s *series) insert(p point) { s.c.insert(p, pointBefore) }

func (s *series) remove(at int64, ev uint32) {
	s.c.remove(point{at: at, ev: ev}, pointBefore, func(x point) bool { return x.at == at && x.ev == ev })
}

// window yields the contributions with at in [from, to), in order.
func (s *series) window(from, to int64) iter.Seq[point] {
	return s.c.from(func(p point) bool { return p.at >= from }, func(p point) bool { return p.at < to })
}

// addTo adds the contributions with at in [from, to) to an aggregate: the
// same as adding those window yields, without an iterator.
func (s *series) addTo(a *agg, from, to int64, kind program.MetricKind) {
	chunks := s.c.chunks
	for i, j := s.seek(from); i < len(chunks); i, j = i+1, 0 {
		ch := chunks[i]
		for ; j < len(ch); j++ {
			if ch[j].at >= to {
				return
			}
			a.add(ch[j], kind)
		}
	}
}

// seek returns where the first contribution at or after from is: chunk i,
// place j in it (i is the number of chunks when there is none). A walk of
// the chunks from there reads a span without an iterator.
func (s *series) seek(from int64) (i, j int) {
	chunks := s.c.chunks
	i = sort.Search(len(chunks), func(i int) bool { ch := chunks[i]; return ch[len(ch)-1].at >= from })
	if i < len(chunks) && chunks[i][0].at < from {
		ch := chunks[i]
		j = sort.Search(len(ch), func(j int) bool { return ch[j].at >= from })
	}
	return i, j
}

// agg is an aggregate of contributions: what a metric needs to give a
// value, and when the subject reached it. It supports adding and removing
// one contribution.
type agg struct {
	n   int64
	sum int64
	// at is when the value was reached: the latest contribution that
	// changed it (a zero-valued sum contribution does not; for distinct,
	// a key counts from its first contribution).
	at   int64
	keys map[uint32]keyTimes // distinct only, by interned key
}

// keyTimes is how often a distinct key occurred and when first.
type keyTimes struct {
	n     int32
	first int64
}

// moves reports whether a contribution changes the value of a metric kind.
func moves(p point, kind program.MetricKind) bool {
	switch kind {
	case program.MetricSum, program.MetricPoints:
		return p.v != 0
	}
	return true
}

func (a *agg) add(p point, kind program.MetricKind) {
	a.n++
	a.sum += p.v
	if kind == program.MetricDistinct {
		if a.keys == nil {
			a.keys = map[uint32]keyTimes{}
		}
		k, seen := a.keys[p.key]
		k.n++
		if !seen || p.at < k.first {
			k.first = p.at
		}
		a.keys[p.key] = k
		if !seen && p.at > a.at {
			a.at = p.at
		} else if seen && p.at == k.first {
			// An earlier first time for a known key: the latest first
			// time may have dropped.
			a.at = a.latestFirst()
		}
		return
	}
	if moves(p, kind) && p.at > a.at {
		a.at = p.at
	}
}

func (a *agg) latestFirst() int64 {
	var at int64
	for _, k := range a.keys {
		at = max(at, k.first)
	}
	return at
}

// remove takes a contribution out; it reports false when the aggregate
// cannot tell its new reach time and the caller must recompute it from the
// contributions.
func (a *agg) remove(p point, kind program.MetricKind) bool {
	a.n--
	a.sum -= p.v
	if a.n <= 0 {
		*a = agg{}
		return true
	}
	if kind == program.MetricDistinct {
		return false
	}
	return !moves(p, kind) || p.at != a.at
}

// value gives the metric's value from its aggregate; ok is false when the
// subject has no contributing event.
func (a *agg) value(k program.MetricKind) (float64, bool) {
	if a.n <= 0 {
		return 0, false
	}
	switch k {
	case program.MetricCount:
		return float64(a.n), true
	case program.MetricSum, program.MetricPoints:
		return float64(a.sum) / micro, true
	case program.MetricAvg:
		return float64(a.sum) / micro / float64(a.n), true
	case program.MetricDistinct:
		return float64(len(a.keys)), true
	}
	return 0, false
}

func aggOf(s iter.Seq[point], kind program.MetricKind) agg {
	var a agg
	for p := range s {
		a.add(p, kind)
	}
	return a
}

// ratioValue combines the numerator and denominator aggregates of a ratio.
func (e *Engine) ratioValue(m *program.Metric, num, den *agg) (float64, bool) {
	nm, dm := e.cur.Metrics[m.Num], e.cur.Metrics[m.Den]
	dv, ok := den.value(dm.Kind)
	if !ok || dv == 0 || dv < m.MinSample {
		return 0, false
	}
	nv, _ := num.value(nm.Kind)
	return nv / dv, true
}

// subjectSeries returns a subject's metric series.
func subjectSeries(subj any) []series {
	switch s := subj.(type) {
	case *memberState:
		return s.series
	case *partnerState:
		return s.series
	}
	return nil
}

func subjectAwards(subj any) *awardList {
	switch s := subj.(type) {
	case *memberState:
		return &s.awards
	case *partnerState:
		return &s.awards
	}
	return &awardList{}
}

// MetricValue is a metric's value for a subject over a window.
type MetricValue struct {
	Value float64
	At    time.Time // when the subject reached the value
	OK    bool      // false: no contributing event, or a ratio below min_sample
	Num   float64   // ratio parts, for explanations
	Den   float64
}

// metricValue evaluates a metric for a subject over [from, to).
func (e *Engine) metricValue(subj any, m *program.Metric, from, to int64) MetricValue {
	if m.Kind == program.MetricPoints {
		var a agg
		for aw := range subjectAwards(subj).window(from, to) {
			a.add(point{at: aw.At, v: aw.Points * micro}, program.MetricPoints)
		}
		v, ok := a.value(m.Kind)
		return MetricValue{Value: v, At: unixTime(a.at), OK: ok}
	}
	ser := subjectSeries(subj)
	if m.Kind == program.MetricRatio {
		ni, di := e.metricIdx[m.Num], e.metricIdx[m.Den]
		num := aggOf(ser[ni].window(from, to), e.cur.Metrics[m.Num].Kind)
		den := aggOf(ser[di].window(from, to), e.cur.Metrics[m.Den].Kind)
		v, ok := e.ratioValue(m, &num, &den)
		at := max(num.at, den.at)
		nv, _ := num.value(e.cur.Metrics[m.Num].Kind)
		dv, _ := den.value(e.cur.Metrics[m.Den].Kind)
		return MetricValue{Value: v, At: unixTime(at), OK: ok, Num: nv, Den: dv}
	}
	a := aggOf(ser[e.metricIdx[m.Name]].window(from, to), m.Kind)
	v, ok := a.value(m.Kind)
	return MetricValue{Value: v, At: unixTime(a.at), OK: ok}
}

// MemberMetric evaluates a metric (or "points") for a member over the
// window containing asOf, counting only what occurred up to asOf.
func (e *Engine) MemberMetric(id, metric string, w program.Window, asOf time.Time) (MetricValue, bool) {
	m := e.members[id]
	if m == nil || e.cur == nil || e.cur.Metric(metric) == nil {
		return MetricValue{}, false
	}
	from, to := e.windowAt(w, asOf)
	return e.metricValue(m, e.cur.Metric(metric), from, to), true
}

// PartnerMetric evaluates a metric (or "points") for a partner, its
// members' events included, over the window containing asOf.
func (e *Engine) PartnerMetric(id, metric string, w program.Window, asOf time.Time) (MetricValue, bool) {
	p := e.partners[id]
	if p == nil || e.cur == nil || e.cur.Metric(metric) == nil {
		return MetricValue{}, false
	}
	from, to := e.windowAt(w, asOf)
	return e.metricValue(p, e.cur.Metric(metric), from, to), true
}

// windowAt returns the window containing asOf, cut at asOf: what had
// occurred by then.
func (e *Engine) windowAt(w program.Window, asOf time.Time) (int64, int64) {
	from, to := e.Calendar().Window(w, asOf)
	end := asOf.UnixNano() + 1
	if t := nanos(to); t < end {
		end = t
	}
	return nanos(from), end
}

func (e *Engine) addContrib(ev *eventState, c contrib) {
	p := point{at: ev.at, v: toMicro(c.v), ev: ev.h, key: e.intern(c.key)}
	if p.v < 0 {
		e.markNegative(c.metric)
	}
	e.touchTiers(e.partnerOf(ev), c.metric, ev.at)
	e.partnerOf(ev).series[c.metric].insert(p)
	e.boardDelta(e.partnerOf(ev), c.metric, p, +1)
	if ev.m != 0 {
		e.memberOf(ev).series[c.metric].insert(p)
		e.boardDelta(e.memberOf(ev), c.metric, p, +1)
	}
}

// markNegative notes that a contribution to series slot was negative.
func (e *Engine) markNegative(slot int) {
	if slot >= len(e.negative) {
		e.negative = append(e.negative, make([]bool, slot+1-len(e.negative))...)
	}
	e.negative[slot] = true
}

func (e *Engine) removeContrib(ev *eventState, c contrib) {
	p := point{at: ev.at, v: toMicro(c.v), ev: ev.h, key: e.intern(c.key)}
	e.touchTiers(e.partnerOf(ev), c.metric, ev.at)
	e.partnerOf(ev).series[c.metric].remove(p.at, p.ev)
	e.boardDelta(e.partnerOf(ev), c.metric, p, -1)
	if ev.m != 0 {
		e.memberOf(ev).series[c.metric].remove(p.at, p.ev)
		e.boardDelta(e.memberOf(ev), c.metric, p, -1)
	}
}

// nanos converts a window bound to unix nanoseconds, saturating: the zero
// time (an open start) and times past 2262 (an open end) do not fit in an
// int64 and would wrap.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Year() < 1678:
		return math.MinInt64
	case t.Year() >= 2262:
		return math.MaxInt64
	}
	return t.UnixNano()
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// intern returns the number of a distinct key: 0 for "", the same number for
// the same key for the engine's lifetime.
func (e *Engine) intern(k string) uint32 {
	if k == "" {
		return 0
	}
	n, ok := e.keyIDs[k]
	if !ok {
		n = uint32(len(e.keyIDs) + 1)
		e.keyIDs[k] = n
	}
	return n
}
