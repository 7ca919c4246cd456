package analytics

import (
	"sort"
	"time"
)

// The sections below read facts that other parts of Rung keep (challenges,
// tiers, rewards). Each reads them through a small interface; a nil source
// gives an empty section that says there is no data yet, so the pages
// work before those parts are wired in.

// ChallengeRun is a challenge and the partners that took part.
type ChallengeRun struct {
	ID, Name     string
	Starts, Ends time.Time
	Participants []string // partner ids
}

// ChallengeSource lists the challenges that ran (at least partly) in a
// period.
type ChallengeSource interface {
	Challenges(from, to time.Time) []ChallengeRun
}

// ChallengeEffect compares a challenge's participants with the other
// partners of the cohort, before the challenge (a window as long as it,
// ending at its start) and during it: mean engagement points and revenue
// per partner.
type ChallengeEffect struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Participants GroupTrend `json:"participants"`
	Others       GroupTrend `json:"others"`
}

// GroupTrend is a group of partners before and during a challenge.
type GroupTrend struct {
	N             int     `json:"n"`
	PointsBefore  float64 `json:"points_before"` // mean per partner
	PointsDuring  float64 `json:"points_during"`
	RevenueBefore float64 `json:"revenue_before"`
	RevenueDuring float64 `json:"revenue_during"`
}

func (s *Snapshot) challengeEffect(in []bool, c ChallengeRun) ChallengeEffect {
	ce := ChallengeEffect{ID: c.ID, Name: c.Name}
	part := map[string]bool{}
	for _, id := range c.Participants {
		part[id] = true
	}
	start, end := c.Starts.UnixNano(), c.Ends.UnixNano()
	before := start - (end - start)
	pts := func(from, to int64) []float64 {
		v := make([]float64, len(s.Partners))
		for _, a := range s.awardsIn(from, to) {
			if !a.Outcome {
				v[a.Partner] += float64(a.Points)
			}
		}
		return v
	}
	rev := func(from, to int64) []float64 {
		v := make([]float64, len(s.Partners))
		for _, a := range s.revenueIn(from, to) {
			v[a.Partner] += a.Value
		}
		return v
	}
	pb, pd, rb, rd := pts(before, start), pts(start, end), rev(before, start), rev(start, end)
	for i, p := range s.Partners {
		if !in[i] {
			continue
		}
		g := &ce.Others
		if part[p.ID] {
			g = &ce.Participants
		}
		g.N++
		g.PointsBefore += pb[i]
		g.PointsDuring += pd[i]
		g.RevenueBefore += rb[i]
		g.RevenueDuring += rd[i]
	}
	for _, g := range []*GroupTrend{&ce.Participants, &ce.Others} {
		if g.N > 0 {
			n := float64(g.N)
			g.PointsBefore, g.PointsDuring, g.RevenueBefore, g.RevenueDuring =
				g.PointsBefore/n, g.PointsDuring/n, g.RevenueBefore/n, g.RevenueDuring/n
		}
	}
	return ce
}

// TierDecision is one partner's tier decision of a quarter's review.
type TierDecision struct {
	Partner string
	Quarter string
	From    string
	To      string
	Outcome string // upgrade | stay | grace | downgrade | override
}

// TierGrace is a partner keeping its tier in grace.
type TierGrace struct {
	Partner string    `json:"partner"`
	Tier    string    `json:"tier"`
	Until   time.Time `json:"until"`
}

// TierAppeal is an appeal of a tier decision.
type TierAppeal struct {
	Partner string
	Quarter string
	Outcome string // pending | upheld | overturned
}

// TierSource gives the tier reviews' decisions in a period, the partners
// in grace at a time, and the appeals of a period.
type TierSource interface {
	Decisions(from, to time.Time) []TierDecision
	InGrace(at time.Time) []TierGrace
	Appeals(from, to time.Time) []TierAppeal
}

// Tiers is the tier mobility table per quarter, the partners in grace and
// the appeals with their outcomes.
type Tiers struct {
	Head
	Mobility []Mobility     `json:"mobility"`
	Grace    []TierGrace    `json:"grace"`
	Appeals  map[string]int `json:"appeals"` // by outcome
}

// Mobility is how many partners of a quarter's review went from one tier
// to another.
type Mobility struct {
	Quarter string `json:"quarter"`
	From    string `json:"from"`
	To      string `json:"to"`
	Count   int    `json:"count"`
}

// TiersOf computes the tiers report from ts (nil: no data yet).
func TiersOf(s *Snapshot, q Query, ts TierSource) Tiers {
	r := Tiers{Head: head(q), Mobility: []Mobility{}, Grace: []TierGrace{}, Appeals: map[string]int{}}
	if ts == nil {
		r.Empty, r.Message = true, "No tier data yet"
		return r
	}
	in := s.inByID(q)
	cells := map[Mobility]int{}
	for _, d := range ts.Decisions(q.From, q.To) {
		if in(d.Partner) {
			cells[Mobility{Quarter: d.Quarter, From: d.From, To: d.To}]++
		}
	}
	for m, n := range cells {
		m.Count = n
		r.Mobility = append(r.Mobility, m)
	}
	sort.Slice(r.Mobility, func(i, j int) bool {
		a, b := r.Mobility[i], r.Mobility[j]
		if a.Quarter != b.Quarter {
			return a.Quarter < b.Quarter
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	for _, g := range ts.InGrace(q.To) {
		if in(g.Partner) {
			r.Grace = append(r.Grace, g)
		}
	}
	for _, a := range ts.Appeals(q.From, q.To) {
		if in(a.Partner) {
			r.Appeals[a.Outcome]++
		}
	}
	if len(r.Mobility) == 0 && len(r.Grace) == 0 && len(r.Appeals) == 0 {
		r.none()
	}
	return r
}

// inByID returns whether a partner id is in the query's cohort.
func (s *Snapshot) inByID(q Query) func(string) bool {
	in := s.in(q)
	idx := make(map[string]int, len(s.Partners))
	for i, p := range s.Partners {
		idx[p.ID] = i
	}
	return func(id string) bool {
		i, ok := idx[id]
		return ok && in[i]
	}
}

// Redemption is a reward redeemed.
type Redemption struct {
	Partner string
	Member  string
	Reward  string
	At      time.Time
	Points  int64
	Status  string // pending | fulfilled | rejected
}

// RewardSource gives the redemptions of a period and the configured value
// of one point in the program's currency.
type RewardSource interface {
	Redemptions(from, to time.Time) []Redemption
	PointValue() float64
}

// Rewards is the redemptions of the period, their cost, the outstanding
// liability and the revenue of redeeming partners against the others.
type Rewards struct {
	Head
	Redemptions int     `json:"redemptions"`
	Points      int64   `json:"points"` // redeemed, rejected ones left out
	PointValue  float64 `json:"point_value"`
	Cost        float64 `json:"cost"`
	// Outstanding points at the period's end, and their value.
	Outstanding int64          `json:"outstanding_points"`
	Liability   float64        `json:"liability"`
	ByReward    map[string]int `json:"by_reward"`
	// Mean revenue in the period of partners that redeemed, and of the
	// cohort's other active partners.
	Redeemers      GroupRevenue `json:"redeemers"`
	Others         GroupRevenue `json:"others"`
	RewardsMissing bool         `json:"-"`
}

// GroupRevenue is a group's size and mean revenue.
type GroupRevenue struct {
	N           int     `json:"n"`
	MeanRevenue float64 `json:"mean_revenue"`
}

// RewardsOf computes the rewards report from rs (nil: no data yet). The
// outstanding points come from the ledger either way.
func RewardsOf(s *Snapshot, q Query, rs RewardSource) Rewards {
	r := Rewards{Head: head(q), ByReward: map[string]int{}}
	in := s.in(q)
	from, to := q.bounds()
	s.lots(in, to, func(lt lot) {
		if lt.expires == 0 || lt.expires > to {
			r.Outstanding += lt.left
		}
	})
	if rs == nil {
		r.Empty, r.Message = true, "No rewards data yet"
		return r
	}
	r.PointValue = rs.PointValue()
	r.Liability = float64(r.Outstanding) * r.PointValue
	inID := s.inByID(q)
	redeemers := map[string]bool{}
	for _, d := range rs.Redemptions(q.From, q.To) {
		if !inID(d.Partner) || d.Status == "rejected" {
			continue
		}
		r.Redemptions++
		r.Points += d.Points
		r.ByReward[d.Reward]++
		redeemers[d.Partner] = true
	}
	r.Cost = float64(r.Points) * r.PointValue
	for _, row := range s.partnerRows(in, from, to) {
		if row == nil {
			continue
		}
		g := &r.Others
		if redeemers[row.Partner] {
			g = &r.Redeemers
		}
		g.MeanRevenue = (g.MeanRevenue*float64(g.N) + row.Revenue) / float64(g.N+1)
		g.N++
	}
	if r.Redemptions == 0 {
		r.none()
	}
	return r
}
