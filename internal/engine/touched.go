package engine

import "github.com/rung-dev/rung"

// What a change about to be applied may touch, for the outbox producer: it
// compares only the subjects whose state a write may have moved. Each
// reports the subjects as they are before the change; the change's own
// record names the rest.

// EventSubjects calls fn with the partner and member (either may be "")
// the event with this id counts for now, if the engine has it live.
func (e *Engine) EventSubjects(id string, fn func(partner, member string)) {
	ev := e.events.get(id)
	if ev == nil || !ev.live() {
		return
	}
	m := ""
	if ms := e.memberOf(ev); ms != nil {
		m = ms.m.ID
	}
	fn(e.partnerOf(ev).id, m)
}

// PartnerSubjects calls fn with the members a new version of the partner
// may move: its members and the members of its events.
func (e *Engine) PartnerSubjects(id string, fn func(member string)) {
	p := e.partners[id]
	if p == nil {
		return
	}
	for m := range p.members {
		fn(m)
	}
	for _, h := range p.events {
		ev := e.events.at(h)
		if ms := e.memberOf(ev); ms != nil && e.partnerOf(ev) == p {
			fn(ms.m.ID)
		}
	}
}

// MemberSubjects calls fn with the partners a new record of the member may
// move: the ones its record names now and those of its events.
func (e *Engine) MemberSubjects(id string, fn func(partner string)) {
	ms := e.members[id]
	if ms == nil {
		return
	}
	fn(ms.m.Partner)
	for _, x := range ms.m.Memberships {
		fn(x.Partner)
	}
	e.flushMemberEvents()
	for _, h := range ms.events {
		ev := e.events.at(h)
		if p := e.partnerOf(ev); p != nil && e.memberOf(ev) == ms {
			fn(p.id)
		}
	}
}

// subjectPoints is points' balance and lifetime without the expiring lots
// it also lists: when no redemption spends and no adjustment deducts,
// nothing is charged to a lot, and the balance is what has not expired,
// summed without a lot an award or a sort. The outbox computes it for
// every subject a write touched: the awards' sums come from the list's
// memo (pointsmemo.go), in constant time while no award in the list
// begins or expires between the times asked; adjustments, which are few,
// are added on every call.
func (e *Engine) subjectPoints(awards *awardList, adjusts []rung.Adjustment, t int64) (balance, lifetime int64) {
	if len(e.redeemed.spent[awards]) > 0 {
		p := e.points(awards, adjusts, t)
		return p.Balance, p.Lifetime
	}
	for _, a := range adjusts {
		if a.Points < 0 {
			p := e.points(awards, adjusts, t)
			return p.Balance, p.Lifetime
		}
	}
	balance, lifetime = awards.sum(t)
	for _, a := range adjusts {
		at := a.OccurredAt.UnixNano()
		if at > t || a.Points == 0 {
			continue
		}
		lifetime += a.Points
		var exp int64
		if e.cur != nil {
			exp = expiresAt(e.versionAt(at), at)
		}
		if exp == 0 || exp > t {
			balance += a.Points
		}
	}
	return balance, max(0, lifetime)
}
