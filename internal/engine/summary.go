package engine

import "time"

// PartnerSummary returns a partner's tier and points as of t (zero: now)
// without its ranks and challenge standings, which cost a pass over every
// partner: cheap enough to compute for all partners (the web console's
// partner list and overview).
func (e *Engine) PartnerSummary(id string, t time.Time) (tier string, points Points, ok bool) {
	p := e.partners[id]
	if p == nil {
		return "", Points{}, false
	}
	at := e.asOf(t).UnixNano()
	if e.cur != nil && e.cur.Tiers != nil && len(e.cur.Tiers.Levels) > 0 {
		tier = e.tierAt(p, at)
	}
	return tier, e.points(&p.awards, p.adjusts, at), true
}
