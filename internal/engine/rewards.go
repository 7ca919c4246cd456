package engine

import (
	"sort"
	"time"

	"github.com/rung-dev/rung"
)

// Redemptions are recorded manual actions (SPEC §2): a redemption that
// holds or spends points is a debit at its requested_at, charged to the
// member whose points it spends (none for a partner reward) and to the
// partner, and it spends the oldest-expiring points first, like a
// deduction. A rejected one stops holding at its decided_at, which gives
// the points back. The engine keeps each redemption's latest state; what
// it computes from them depends only on that state, not on the order
// redemptions and events arrived in.

// redemptions is the engine's copy of the redemptions.
type redemptions struct {
	byID map[string]*rung.Redemption
	// spent lists the redemptions charged to a subject, by the subject's
	// award list (a member's or a partner's).
	spent map[*awardList][]*rung.Redemption
}

// PutRedemption records a redemption or its decision. A pending state of
// a redemption the engine knows as decided is stale and ignored, so a
// request and its decision may arrive in either order.
func (e *Engine) PutRedemption(r rung.Redemption) {
	rs := &e.redeemed
	if rs.byID == nil {
		rs.byID = map[string]*rung.Redemption{}
		rs.spent = map[*awardList][]*rung.Redemption{}
	}
	if old := rs.byID[r.ID]; old != nil {
		if old.Status != rung.RedemptionPending && r.Status == rung.RedemptionPending {
			return
		}
		*old = r
		return
	}
	p := e.partners[r.Partner]
	if p == nil {
		return // its partner arrives first in every order the service uses
	}
	c := r
	rs.byID[r.ID] = &c
	rs.spent[&p.awards] = append(rs.spent[&p.awards], &c)
	if m := e.members[r.Member]; m != nil && r.Member != "" {
		rs.spent[&m.awards] = append(rs.spent[&m.awards], &c)
	}
}

// Redemption returns the engine's copy of a redemption.
func (e *Engine) Redemption(id string) (rung.Redemption, bool) {
	if r := e.redeemed.byID[id]; r != nil {
		return *r, true
	}
	return rung.Redemption{}, false
}

// spentDebits returns the debits of the redemptions that hold or spend
// points at t.
func spentDebits(spent []*rung.Redemption, t int64) []debit {
	var out []debit
	at := unixTime(t)
	for _, r := range spent {
		if r.Holds(at) {
			out = append(out, debit{at: r.RequestedAt.UnixNano(), amt: r.Points})
		}
	}
	return out
}

// RedeemBalances returns what a new redemption at t could spend: the
// member's balance (0 when member is empty) and the partner's, counting
// held, the partner's redemptions that hold or spend points as the store
// reads them under its lock, instead of the ones the engine knows (which
// another instance may not have shown it yet).
func (e *Engine) RedeemBalances(partner, member string, held []rung.Redemption, t time.Time) (memberBalance, partnerBalance int64, err error) {
	p := e.partners[partner]
	if p == nil {
		return 0, 0, rung.Errorf(rung.ENOTFOUND, "partner %q not found", partner)
	}
	at := t.UnixNano()
	var forPartner, forMember []*rung.Redemption
	for i := range held {
		r := &held[i]
		if r.Partner == partner {
			forPartner = append(forPartner, r)
			if member != "" && r.Member == member {
				forMember = append(forMember, r)
			}
		}
	}
	partnerBalance = e.pointsSpending(&p.awards, p.adjusts, forPartner, at).Balance
	if member != "" {
		m := e.members[member]
		if m == nil {
			return 0, 0, rung.Errorf(rung.ENOTFOUND, "member %q not found", member)
		}
		memberBalance = e.pointsSpending(&m.awards, m.adjusts, forMember, at).Balance
	}
	return memberBalance, partnerBalance, nil
}

// PartnerTierAt returns a partner's tier at t (the tier that decides a
// reward's eligibility), "" when the program has no tiers.
func (e *Engine) PartnerTierAt(partner string, t time.Time) string {
	tier, _, _ := e.PartnerSummary(partner, t)
	return tier
}

// redemptionEntries returns the ledger entries of the redemptions charged
// to a subject with occurred_at in [from, to): the hold or spend at the
// request, and for a rejected one the points given back at the decision.
// With partner set, only the redemptions for that partner.
func (e *Engine) redemptionEntries(awards *awardList, from, to int64, partner string) []LedgerEntry {
	var out []LedgerEntry
	in := func(t time.Time) bool { n := t.UnixNano(); return n >= from && n < to }
	for _, r := range e.redeemed.spent[awards] {
		if partner != "" && r.Partner != partner {
			continue
		}
		le := LedgerEntry{Kind: "redemption", Points: -r.Points, Event: r.ID, Member: r.Member, Partner: r.Partner,
			OccurredAt: r.RequestedAt, By: r.RequestedBy, Reason: "reward " + r.Reward, Note: r.Status}
		if in(r.RequestedAt) {
			out = append(out, le)
		}
		if r.Status == rung.RedemptionRejected && in(r.DecidedAt) {
			le.Kind, le.Points, le.OccurredAt, le.By = "redemption_returned", r.Points, r.DecidedAt, r.DecidedBy
			le.Reason = "reward " + r.Reward + " rejected"
			if r.Reason != "" {
				le.Reason += ": " + r.Reason
			}
			out = append(out, le)
		}
	}
	return out
}

// LiabilityLine is one partner's points outstanding at a time: the
// balance its members and it could still redeem, and the points held by
// pending redemptions.
type LiabilityLine struct {
	Partner string `json:"partner"`
	Name    string `json:"name"`
	Points  int64  `json:"points"`
	Held    int64  `json:"held"`
}

// Liability returns every partner's points outstanding at t (zero: now),
// by partner id. Partners with nothing outstanding or held are left out.
func (e *Engine) Liability(t time.Time) []LiabilityLine {
	at := e.asOf(t)
	ids := e.PartnerIDs()
	out := []LiabilityLine{}
	for _, id := range ids {
		p := e.partners[id]
		pts := e.points(&p.awards, p.adjusts, at.UnixNano())
		var held int64
		for _, r := range e.redeemed.spent[&p.awards] {
			if r.StatusAt(at) == rung.RedemptionPending {
				held += r.Points
			}
		}
		if pts.Balance == 0 && held == 0 {
			continue
		}
		out = append(out, LiabilityLine{Partner: id, Name: p.latest().Name, Points: pts.Balance, Held: held})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Partner < out[j].Partner })
	return out
}

// debit is points spent at a time: a deduction or a redemption.
type debit struct {
	at  int64
	amt int64
}
