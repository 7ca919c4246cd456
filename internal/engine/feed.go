package engine

import (
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

// FeedEntry is one line of the recognition feed: a badge earned or a
// level reached. It names who and what, never an amount of revenue: the
// feed is shown to every partner in the portal.
type FeedEntry struct {
	At          time.Time `json:"at"`
	Kind        string    `json:"kind"` // badge | level | challenge
	Subject     string    `json:"subject"`
	SubjectKind string    `json:"subject_kind"` // member | partner
	Name        string    `json:"name"`
	Partner     string    `json:"partner"`
	PartnerName string    `json:"partner_name"`
	What        string    `json:"what"` // "earned Deal Maker (Silver)", "reached Pro"
	Badge       string    `json:"badge,omitempty"`
	Level       string    `json:"level,omitempty"`     // the badge's level, or the level reached
	Challenge   string    `json:"challenge,omitempty"` // the challenge won or quest completed
	Event       string    `json:"event,omitempty"`     // the event that completed it
}

// FeedFilter selects feed entries.
type FeedFilter struct {
	Partner string    // "": every partner
	Limit   int       // 0: 50
	AsOf    time.Time // zero: now
}

// MaxFeedLimit is the most entries one feed read returns.
const MaxFeedLimit = 500

// Feed returns the newest recognition entries first: badges held and
// member levels reached, at or before AsOf.
func (e *Engine) Feed(f FeedFilter) ([]FeedEntry, error) {
	if f.Partner != "" && e.partners[f.Partner] == nil {
		return nil, rung.Errorf(rung.ENOTFOUND, "partner %q not found", f.Partner)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxFeedLimit)
	t := e.asOf(f.AsOf).UnixNano()
	out := []FeedEntry{}
	badges := func(subj any, holds []*holding) {
		for _, h := range holds {
			if h == nil || e.isQuest(h) {
				continue
			}
			for i := range h.held {
				hl := &h.held[i]
				if hl.at > t || (f.Partner != "" && e.partnerOf(hl.ev).id != f.Partner) {
					continue
				}
				fe := FeedEntry{At: unixTime(hl.at), Kind: "badge", Badge: h.badge.ID, Level: hl.level, Event: hl.ev.id,
					What: "earned " + h.badge.Name}
				if hl.level != "" {
					fe.What += " (" + hl.level + ")"
				}
				e.feedSubject(&fe, subj, e.partnerOf(hl.ev))
				out = append(out, fe)
			}
		}
	}
	for _, p := range e.partnerByHandle {
		if f.Partner == "" || p.id == f.Partner {
			badges(p, p.holds)
		}
	}
	for _, m := range e.memberByHandle {
		badges(m, m.holds)
		if e.cur == nil || len(e.cur.Levels) < 2 {
			continue
		}
		for _, lv := range e.levelUps(m) {
			if lv.at > t || (f.Partner != "" && lv.partner.id != f.Partner) {
				continue
			}
			fe := FeedEntry{At: unixTime(lv.at), Kind: "level", Level: lv.level, Event: lv.event, What: "reached " + lv.level}
			e.feedSubject(&fe, m, lv.partner)
			out = append(out, fe)
		}
	}
	out = append(out, e.challengeFeed(f.Partner, t)...)
	slices.SortFunc(out, func(a, b FeedEntry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		for _, c := range []int{strings.Compare(a.Kind, b.Kind), strings.Compare(a.Subject, b.Subject),
			strings.Compare(a.Badge, b.Badge), strings.Compare(a.Level, b.Level)} {
			if c != 0 {
				return c
			}
		}
		return 0
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// feedSubject fills in who an entry is about.
func (e *Engine) feedSubject(fe *FeedEntry, subj any, p *partnerState) {
	fe.Subject, fe.SubjectKind = subjectKey(subj)
	if m, ok := subj.(*memberState); ok {
		fe.Name = m.m.Name
	} else {
		fe.Name = p.latest().Name
	}
	fe.Partner, fe.PartnerName = p.id, p.latest().Name
}

// levelUp is a level a member reached for the first time.
type levelUp struct {
	level   string
	at      int64
	partner *partnerState
	event   string // "" when an adjustment took it there
}

// levelUps walks a member's lifetime points in order and returns each level
// above the first the first time it was reached.
func (e *Engine) levelUps(m *memberState) []levelUp {
	var out []levelUp
	var sum int64
	best := e.cur.Levels[0].At
	adj := m.adjusts
	if !slices.IsSortedFunc(adj, func(a, b rung.Adjustment) int { return a.OccurredAt.Compare(b.OccurredAt) }) {
		adj = slices.Clone(adj)
		slices.SortStableFunc(adj, func(a, b rung.Adjustment) int { return a.OccurredAt.Compare(b.OccurredAt) })
	}
	step := func(points, at int64, p *partnerState, event string) {
		sum += points
		if cur, _ := e.cur.LevelAt(sum); cur.At > best {
			best = cur.At
			out = append(out, levelUp{level: cur.Name, at: at, partner: p, event: event})
		}
	}
	ai := 0
	for a := range m.awards.all() {
		for ai < len(adj) && adj[ai].OccurredAt.UnixNano() <= a.At {
			if p := e.partners[adj[ai].Partner]; p != nil {
				step(adj[ai].Points, adj[ai].OccurredAt.UnixNano(), p, "")
			}
			ai++
		}
		step(a.Points, a.At, a.Partner, a.Event.id)
	}
	for ; ai < len(adj); ai++ {
		if p := e.partners[adj[ai].Partner]; p != nil {
			step(adj[ai].Points, adj[ai].OccurredAt.UnixNano(), p, "")
		}
	}
	return out
}
