package engine

import (
	"time"

	"github.com/rung-dev/rung"
)

// AwardFact is an award as the analytics read it: who, how many points,
// when, until when, and by which rule.
type AwardFact struct {
	Member  string // "" for the partner's own
	Rule    string
	Points  int64
	At      int64 // Unix nanoseconds
	Expires int64 // 0: never
}

// EachAward calls fn for every award of a partner, its members' included,
// in time order, and returns the partner's manual adjustments. It reads
// without copying the ledger, for the analytics snapshot.
func (e *Engine) EachAward(partner string, fn func(AwardFact)) []rung.Adjustment {
	p := e.partners[partner]
	if p == nil {
		return nil
	}
	for a := range p.awards.all() {
		af := AwardFact{Rule: a.Rule, Points: a.Points, At: a.At, Expires: a.Expires}
		if a.Member != nil {
			af.Member = a.Member.m.ID
		}
		fn(af)
	}
	return p.adjusts
}

// EachMetricPoint calls fn for every contribution to a partner's metric
// (its members' events included), in time order. It reports false when
// the partner or the metric is unknown, or the metric is a ratio or
// points (which have no series of their own).
func (e *Engine) EachMetricPoint(partner, metric string, fn func(at time.Time, v float64)) bool {
	p := e.partners[partner]
	if p == nil || e.cur == nil {
		return false
	}
	i, ok := e.metricIdx[metric]
	if !ok || i >= len(p.series) {
		return false
	}
	for pt := range p.series[i].c.all() {
		fn(unixTime(pt.at), float64(pt.v)/micro)
	}
	return true
}
