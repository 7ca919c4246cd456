package program

// Metric returns the metric with a name: PointsMetric for "points", nil
// when the program defines none by that name.
func (p *Program) Metric(name string) *Metric {
	if name == PointsMetric.Name {
		return PointsMetric
	}
	return p.Metrics[name]
}

// TierRank returns the position of a tier in Tiers.Levels (0 is the
// lowest), or -1 when the tier is unknown or the program has no tiers.
func (p *Program) TierRank(name string) int {
	if p.Tiers == nil {
		return -1
	}
	for i, t := range p.Tiers.Levels {
		if t == name {
			return i
		}
	}
	return -1
}

// Vanity reports whether an event type is marked vanity: shown in feeds,
// never scored or ranked.
func (p *Program) Vanity(eventType string) bool {
	return p.Activities[eventType].Vanity
}

// LevelAt returns the member level reached with lifetime points, and the
// next level (nil at the top). Without levels it returns the zero Level.
func (p *Program) LevelAt(lifetime int64) (cur Level, next *Level) {
	for i, l := range p.Levels {
		if l.At > lifetime {
			n := p.Levels[i]
			return cur, &n
		}
		cur = l
	}
	return cur, nil
}

// Cohort returns the cohort with a name, or nil.
func (p *Program) Cohort(name string) *Cohort {
	for i := range p.Cohorts {
		if p.Cohorts[i].Name == name {
			return &p.Cohorts[i]
		}
	}
	return nil
}

// Rule returns the points rule with an id, or nil.
func (p *Program) Rule(id string) *Rule {
	for _, r := range p.Points.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Badge returns the badge with an id, or nil.
func (p *Program) Badge(id string) *Badge {
	for _, b := range p.Badges {
		if b.ID == id {
			return b
		}
	}
	return nil
}

// Challenge returns the challenge with an id, or nil.
func (p *Program) Challenge(id string) *Challenge {
	for _, c := range p.Challenges {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// Leaderboard returns the leaderboard with an id, or nil.
func (p *Program) Leaderboard(id string) *Leaderboard {
	for _, b := range p.Leaderboards {
		if b.ID == id {
			return b
		}
	}
	return nil
}

// Reward returns the catalog reward with an id, or nil.
func (p *Program) Reward(id string) *Reward {
	for _, r := range p.Rewards {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// CriteriaFor returns the criteria a partner of a type must meet for a
// tier: the by_type criteria when the type lists that tier, else the
// general ones; nil when the tier has none.
func (t *Tiers) CriteriaFor(partnerType, tier string) []Criterion {
	if byTier, ok := t.ByType[partnerType]; ok {
		if cs, ok := byTier[tier]; ok {
			return cs
		}
	}
	return t.Criteria[tier]
}
