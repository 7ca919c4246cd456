package demo

import (
	"math"
	"time"
)

// Vendor referrals make the demo's analytics tell a story: engagement goes
// with sourced revenue in some regions and not in others.
//
// In EMEA the partner program is the channel: a partner's sourced revenue
// comes from the deals its people register and work (60% of its wins are
// sourced), so the more engaged partners bring in more. Elsewhere the
// vendor's own field team finds most deals and refers them to an
// incumbent partner, whatever its engagement: only 5% of the wins a
// partner works itself count as sourced, and each partner, dormant ones too, gets
// referred wins at a rate of its own (its incumbency, drawn once and
// independent of its activity). The analytics' rank correlation between
// engagement points and sourced revenue is therefore strong for EMEA and
// weak for the other regions (the demo test checks both).

// sourcedShare is the share of a partner's own wins that count as sourced.
func sourcedShare(region string) float64 {
	if region == "emea" {
		return 0.6
	}
	return 0.05
}

// referralRate is the vendor-referred wins a month of a partner at
// incumbency 1 outside EMEA (a year's worth over the history).
const referralRate = 1.5

// referrals draws the vendor-referred wins of an active partner outside
// EMEA, with the generator's separate referral stream so that the rest of
// the history does not change with it.
func (g *gen) referrals(pr *profile) {
	if pr.p.Region == "emea" || len(pr.members) == 0 {
		return
	}
	r := g.ref
	incumbency := math.Exp(1.1 * r.NormFloat64())
	lo := g.start
	if pr.p.JoinedAt.After(lo) {
		lo = pr.p.JoinedAt
	}
	if !lo.Before(g.now) {
		return
	}
	// a year's worth, however long the partner has been in: an account
	// is referred to its incumbent whether it joined last month or years ago
	lambda := referralRate * incumbency * 12
	n := 0
	for l := math.Exp(-lambda); ; n++ { // Knuth's method: lambda stays small
		if l >= 1 || n > 200 {
			break
		}
		l /= r.Float64()
		if l >= 1 {
			break
		}
	}
	for range n {
		t := lo.Add(time.Duration(r.Int64N(int64(g.now.Sub(lo)))))
		local := t.In(pr.loc)
		t = time.Date(local.Year(), local.Month(), local.Day(), 9+r.IntN(8), r.IntN(60), r.IntN(60), 0, pr.loc).UTC()
		if t.After(g.now) || t.Before(lo) {
			continue
		}
		amount := max(5000, min(400000, math.Round(60000*math.Exp(0.8*r.NormFloat64())/100)*100))
		m := &g.d.Members[pr.members[r.IntN(len(pr.members))]]
		mm := &member{idx: -1, m: m}
		for _, k := range pr.members {
			if &g.d.Members[k] == m {
				mm.idx = int32(k)
			}
		}
		g.add(kindReferred, pr, mm, t, -1, map[string]any{"amount": amount, "sourced": true, "referred": true, "company": g.refCustomer()})
	}
}

// refCustomer names a referred deal's customer from the referral stream.
func (g *gen) refCustomer() string {
	return namePrefixes[g.ref.IntN(len(namePrefixes))] + " " + customerSuffixes[g.ref.IntN(len(customerSuffixes))]
}
