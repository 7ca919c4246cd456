package engine

import (
	"math"
	"time"
)

// PartnerAwarded returns the points awarded for a partner (its members'
// included) in [from, to): what the kind "award" entries of its Ledger over
// that span add up to, without building them. A zero from or to leaves that
// side open; an unknown partner has none.
func (e *Engine) PartnerAwarded(id string, from, to time.Time) int64 {
	p := e.partners[id]
	if p == nil {
		return 0
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	var n int64
	for a := range p.awards.window(lo, hi) {
		if a.Partner.id == id {
			n += a.Points
		}
	}
	return n
}
