package engine

import (
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

// point is one event's contribution to one metric of one subject.
type point struct {
	at  int64
	id  string
	v   int64 // micro-units
	key string
}

// series is a subject's contributions to one metric, sorted by (at, id).
type series []point

func (s *series) insert(p point) {
	x := *s
	if n := len(x); n == 0 || x[n-1].at < p.at || (x[n-1].at == p.at && x[n-1].id < p.id) {
		*s = append(x, p)
		return
	}
	i := sort.Search(len(x), func(i int) bool { return x[i].at > p.at || (x[i].at == p.at && x[i].id >= p.id) })
	x = append(x, point{})
	copy(x[i+1:], x[i:])
	x[i] = p
	*s = x
}

func (s *series) remove(at int64, id string) {
	x := *s
	i := sort.Search(len(x), func(i int) bool { return x[i].at > at || (x[i].at == at && x[i].id >= id) })
	if i < len(x) && x[i].at == at && x[i].id == id {
		*s = append(x[:i], x[i+1:]...)
	}
}

func (s series) window(from, to int64) series {
	i := sort.Search(len(s), func(i int) bool { return s[i].at >= from })
	j := sort.Search(len(s), func(i int) bool { return s[i].at >= to })
	return s[i:j]
}

// agg is an aggregate of contributions: what a metric needs to give a
// value. It supports adding and removing one contribution.
type agg struct {
	n    int64
	sum  int64
	at   int64            // latest contribution
	keys map[string]int32 // distinct: how many contributions per key
}

func (a *agg) add(p point, distinct bool) {
	a.n++
	a.sum += p.v
	if p.at > a.at {
		a.at = p.at
	}
	if distinct {
		if a.keys == nil {
			a.keys = map[string]int32{}
		}
		a.keys[p.key]++
	}
}

// remove takes a contribution out; it reports false when the latest time
// may have changed and the caller must recompute it.
func (a *agg) remove(p point, distinct bool) bool {
	a.n--
	a.sum -= p.v
	if distinct {
		if a.keys[p.key]--; a.keys[p.key] <= 0 {
			delete(a.keys, p.key)
		}
	}
	if a.n <= 0 {
		*a = agg{}
		return true
	}
	return p.at != a.at
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

func aggOf(s series, distinct bool) agg {
	var a agg
	for _, p := range s {
		a.add(p, distinct)
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

func subjectAwards(subj any) awardList {
	switch s := subj.(type) {
	case *memberState:
		return s.awards
	case *partnerState:
		return s.awards
	}
	return nil
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
		for _, aw := range subjectAwards(subj).window(from, to) {
			a.add(point{at: aw.At, v: aw.Points * micro}, false)
		}
		v, ok := a.value(m.Kind)
		return MetricValue{Value: v, At: unixTime(a.at), OK: ok}
	}
	ser := subjectSeries(subj)
	if m.Kind == program.MetricRatio {
		ni, di := e.metricIdx[m.Num], e.metricIdx[m.Den]
		num := aggOf(ser[ni].window(from, to), e.cur.Metrics[m.Num].Kind == program.MetricDistinct)
		den := aggOf(ser[di].window(from, to), e.cur.Metrics[m.Den].Kind == program.MetricDistinct)
		v, ok := e.ratioValue(m, &num, &den)
		at := max(num.at, den.at)
		nv, _ := num.value(e.cur.Metrics[m.Num].Kind)
		dv, _ := den.value(e.cur.Metrics[m.Den].Kind)
		return MetricValue{Value: v, At: unixTime(at), OK: ok, Num: nv, Den: dv}
	}
	a := aggOf(ser[e.metricIdx[m.Name]].window(from, to), m.Kind == program.MetricDistinct)
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
	if t := to.UnixNano(); t < end {
		end = t
	}
	return from.UnixNano(), end
}

func (e *Engine) addContrib(ev *eventState, c contrib) {
	p := point{at: ev.at, id: ev.id, v: toMicro(c.v), key: c.key}
	ev.partner.series[c.metric].insert(p)
	e.boardDelta(ev.partner, c.metric, p, +1)
	if ev.member != nil {
		ev.member.series[c.metric].insert(p)
		e.boardDelta(ev.member, c.metric, p, +1)
	}
}

func (e *Engine) removeContrib(ev *eventState, c contrib) {
	p := point{at: ev.at, id: ev.id, v: toMicro(c.v), key: c.key}
	ev.partner.series[c.metric].remove(p.at, p.id)
	e.boardDelta(ev.partner, c.metric, p, -1)
	if ev.member != nil {
		ev.member.series[c.metric].remove(p.at, p.id)
		e.boardDelta(ev.member, c.metric, p, -1)
	}
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
