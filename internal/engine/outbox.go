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
	for id, m := range e.members {
		fn(e.memberSubjectState(id, m))
	}
	for id, p := range e.partners {
		fn(e.partnerSubjectState(id, p))
	}
}

// SubjectStates calls fn with the state now of the members and partners
// named that exist.
func (e *Engine) SubjectStates(members, partners []string, fn func(SubjectState)) {
	for _, id := range members {
		if m := e.members[id]; m != nil {
			fn(e.memberSubjectState(id, m))
		}
	}
	for _, id := range partners {
		if p := e.partners[id]; p != nil {
			fn(e.partnerSubjectState(id, p))
		}
	}
}

func heldRefs(holds []*holding) []BadgeRef {
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

func (e *Engine) memberSubjectState(id string, m *memberState) SubjectState {
	balance, lifetime := e.subjectPoints(&m.awards, m.adjusts, e.now.UnixNano())
	s := SubjectState{ID: id, Kind: "member", Name: m.m.Name, Partner: m.m.PartnerAt(e.now), Balance: balance, Lifetime: lifetime, Badges: heldRefs(m.holds)}
	if lc := e.level(lifetime); lc != nil {
		s.Level = lc.Name
	}
	return s
}

func (e *Engine) partnerSubjectState(id string, ps *partnerState) SubjectState {
	t := e.now.UnixNano()
	balance, lifetime := e.subjectPoints(&ps.awards, ps.adjusts, t)
	s := SubjectState{ID: id, Kind: "partner", Name: ps.latest().Name, Balance: balance, Lifetime: lifetime, Badges: heldRefs(ps.holds)}
	if e.cur != nil && e.cur.Tiers != nil && len(e.cur.Tiers.Levels) > 0 {
		s.Tier = e.tierAt(ps, t)
	}
	return s
}
