package engine

import (
	"slices"
	"strings"
)

// SubjectState is what Rung reports outside about a member or a partner
// now: points, level, tier and badges. The outbox compares it with what it
// reported last to tell what changed.
type SubjectState struct {
	ID       string     `json:"id"`
	Kind     string     `json:"kind"` // member | partner
	Name     string     `json:"name,omitempty"`
	Partner  string     `json:"partner,omitempty"` // a member's partner now
	Balance  int64      `json:"balance"`
	Lifetime int64      `json:"lifetime"`
	Level    string     `json:"level,omitempty"` // members, when the program has levels
	Tier     string     `json:"tier,omitempty"`  // partners, when the program has tiers
	Badges   []BadgeRef `json:"badges"`          // by ID, then Level
}

// BadgeRef names a badge (level) held.
type BadgeRef struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Level string `json:"level,omitempty"`
}

// EachSubjectState calls fn with the state of every member and partner
// now, in no particular order.
func (e *Engine) EachSubjectState(fn func(SubjectState)) {
	now := e.now
	t := now.UnixNano()
	badges := func(holds []*holding) []BadgeRef {
		out := []BadgeRef{}
		for _, h := range holds {
			if h == nil {
				continue
			}
			for i := range h.held {
				out = append(out, BadgeRef{ID: h.badge.ID, Name: h.badge.Name, Level: h.held[i].level})
			}
		}
		slices.SortFunc(out, func(a, b BadgeRef) int {
			if c := strings.Compare(a.ID, b.ID); c != 0 {
				return c
			}
			return strings.Compare(a.Level, b.Level)
		})
		return out
	}
	for id, m := range e.members {
		p := e.points(&m.awards, m.adjusts, t)
		s := SubjectState{ID: id, Kind: "member", Name: m.m.Name, Partner: m.m.PartnerAt(now), Balance: p.Balance, Lifetime: p.Lifetime, Badges: badges(m.holds)}
		if lc := e.level(p.Lifetime); lc != nil {
			s.Level = lc.Name
		}
		fn(s)
	}
	for id, ps := range e.partners {
		p := e.points(&ps.awards, ps.adjusts, t)
		s := SubjectState{ID: id, Kind: "partner", Name: ps.latest().Name, Balance: p.Balance, Lifetime: p.Lifetime, Badges: badges(ps.holds)}
		if e.cur != nil && e.cur.Tiers != nil && len(e.cur.Tiers.Levels) > 0 {
			s.Tier = e.tierAt(ps, t)
		}
		fn(s)
	}
}
