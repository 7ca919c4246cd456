package program

import (
	"time"

	"gopkg.in/yaml.v3"
)

func (p *parser) challengeSection(n *yaml.Node) {
	items, _ := p.list(n, "challenges", "a list of challenges")
	ids := map[string]*yaml.Node{}
	for i, it := range items {
		if c := p.challenge(it, index("challenges", i), ids); c != nil {
			p.prog.Challenges = append(p.prog.Challenges, c)
		}
	}
}

func (p *parser) challenge(n *yaml.Node, path string, ids map[string]*yaml.Node) *Challenge {
	m := p.fields(n, path, "a challenge mapping with id, starts, ends and metric or steps", challengeKeys...)
	if m == nil {
		return nil
	}
	c := &Challenge{For: SubjectMember, Winners: 3, FinalizeAfter: 24 * time.Hour, Line: m.node.Line}
	id, good := p.uniqueID(m, ids, "challenge")
	c.ID, c.Name = id, id
	if id != "" {
		p.challenges[id] = true
	}
	if v := m.get("name"); v != nil {
		c.Name, _ = p.text(v, m.at("name"))
	}
	if v := m.get("description"); v != nil {
		c.Description, _ = p.text(v, m.at("description"))
	}
	var okS, okE bool
	if v := p.require(m, "starts", "the first day, a date like 2026-11-01"); v != nil {
		c.Starts, okS = p.date(v, m.at("starts"))
	}
	if v := p.require(m, "ends", "the last day (inclusive), a date like 2026-11-30"); v != nil {
		var last time.Time
		last, okE = p.date(v, m.at("ends"))
		if okE {
			c.Ends = time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, p.loc)
			if okS && last.Before(c.Starts) {
				p.errorf(v, m.at("ends"), "the challenge ends (%s) before it starts (%s)", last.Format(time.DateOnly), c.Starts.Format(time.DateOnly))
				okE = false
			}
		}
	}
	good = good && okS && okE
	if v := m.get("for"); v != nil {
		var ok bool
		c.For, ok = p.subject(v, m.at("for"))
		good = good && ok
	}
	switch {
	case m.has("metric") && m.has("steps"):
		p.errorf(m.keys["steps"], m.at("steps"), "a challenge ranks a metric or is a quest with steps, not both")
		good = false
	case m.has("steps"):
		var ok bool
		c.Steps, ok = p.steps(m.get("steps"), m.at("steps"))
		good = good && ok
		c.Within, c.From, c.Ordered, ok = p.stepWindow(m)
		good = good && ok
		for _, k := range []string{"goal", "cohort", "winners"} {
			if v := m.get(k); v != nil && !(k == "winners" && v.Value == "0") {
				kn := m.keys[k]
				p.errorf(kn, m.at(k), "%s is only used by challenges that rank a metric; a quest rewards everyone who completes its steps", k)
				good = false
			}
		}
	default:
		if v := p.require(m, "metric", "the metric the challenge ranks (or steps, for a quest)"); v != nil {
			name, ok := p.id(v, m.at("metric"))
			if ok {
				p.metricRef(v, m.at("metric"), name)
			}
			c.Metric = name
			good = good && ok
		} else {
			good = false
		}
		for _, k := range []string{"within", "from", "ordered", "role"} {
			if kn, ok := m.keys[k]; ok {
				p.errorf(kn, m.at(k), "%s is only used by quests (challenges with steps)", k)
				good = false
			}
		}
	}
	if v := m.get("goal"); v != nil {
		f, ok := p.number(v, m.at("goal"))
		c.Goal = &f
		good = good && ok
	}
	if v := m.get("cohort"); v != nil {
		name, ok := p.id(v, m.at("cohort"))
		if ok {
			p.later(func() { p.reference(v, m.at("cohort"), "cohort", name, p.cohorts, "") })
		}
		c.Cohort = name
		good = good && ok
	}
	if v := m.get("winners"); v != nil {
		var ok bool
		c.Winners, ok = p.smallInt(v, m.at("winners"), 0)
		good = good && ok
	}
	if v := m.get("finalize_after"); v != nil {
		var ok bool
		c.FinalizeAfter, ok = p.duration(v, m.at("finalize_after"))
		good = good && ok
	}
	if v := m.get("role"); v != nil {
		c.Role, _ = p.text(v, m.at("role"))
		if c.For == SubjectPartner && m.has("steps") {
			p.errorf(v, m.at("role"), "role limits a quest to members with that role; a quest for partners has no role (drop role or use for: member)")
			good = false
		}
	}
	if v := m.get("reward"); v != nil {
		rm := p.fields(v, m.at("reward"), "a mapping like {points: 1000, badge: sprint-winner}", rewardKeys...)
		if rm == nil {
			good = false
		} else {
			if pv := rm.get("points"); pv != nil {
				var ok bool
				c.Reward.Points, ok = p.integer(pv, rm.at("points"), 0)
				good = good && ok
			}
			if bv := rm.get("badge"); bv != nil {
				name, ok := p.id(bv, rm.at("badge"))
				if ok {
					p.rewardBadges[name] = true
					p.later(func() {
						p.reference(bv, rm.at("badge"), "badge", name, p.badges, "")
						for _, b := range p.prog.Badges {
							if b.ID == name && (len(b.On) > 0 || len(b.Steps) > 0 || b.Metric != "") {
								p.errorf(bv, rm.at("badge"), "badge %q is awarded by its own rule (on, metric or steps); a challenge's reward badge has none, so only challenges award it (define a separate badge)", name)
							}
						}
					})
				}
				c.Reward.Badge = name
				good = good && ok
			}
		}
	}
	if !good {
		return nil
	}
	return c
}

func (p *parser) leaderboards(n *yaml.Node) {
	items, _ := p.list(n, "leaderboards", "a list of leaderboards")
	ids := map[string]*yaml.Node{}
	for i, it := range items {
		if b := p.leaderboard(it, index("leaderboards", i), ids); b != nil {
			p.prog.Leaderboards = append(p.prog.Leaderboards, b)
		}
	}
}

func (p *parser) leaderboard(n *yaml.Node, path string, ids map[string]*yaml.Node) *Leaderboard {
	m := p.fields(n, path, "a leaderboard mapping with id, metric, for and window", boardKeys...)
	if m == nil {
		return nil
	}
	b := &Leaderboard{For: SubjectMember, Window: Window{Kind: WindowAll}, Line: m.node.Line}
	id, good := p.uniqueID(m, ids, "leaderboard")
	b.ID, b.Name = id, id
	if v := m.get("name"); v != nil {
		b.Name, _ = p.text(v, m.at("name"))
	}
	if v := m.get("description"); v != nil {
		b.Description, _ = p.text(v, m.at("description"))
	}
	if v := p.require(m, "metric", "the metric to rank by, or points"); v != nil {
		name, ok := p.id(v, m.at("metric"))
		if ok {
			p.metricRef(v, m.at("metric"), name)
		}
		b.Metric = name
		good = good && ok
	} else {
		good = false
	}
	if v := m.get("for"); v != nil {
		var ok bool
		b.For, ok = p.subject(v, m.at("for"))
		good = good && ok
	}
	if v := m.get("window"); v != nil {
		var ok bool
		b.Window, ok = p.window(v, m.at("window"), true)
		good = good && ok
	} else if m.has("challenge") {
		b.Window = Window{Kind: WindowChallenge}
	}
	if v := m.get("cohort"); v != nil {
		name, ok := p.id(v, m.at("cohort"))
		if ok {
			p.later(func() { p.reference(v, m.at("cohort"), "cohort", name, p.cohorts, "") })
		}
		b.Cohort = name
		good = good && ok
	}
	if v := m.get("challenge"); v != nil {
		name, ok := p.id(v, m.at("challenge"))
		if ok {
			p.later(func() { p.reference(v, m.at("challenge"), "challenge", name, p.challenges, "") })
		}
		b.Challenge = name
		good = good && ok
		if b.Window.Kind != WindowChallenge && m.has("window") {
			p.errorf(v, m.at("challenge"), "challenge is only used with window: challenge")
			good = false
		}
	} else if b.Window.Kind == WindowChallenge {
		p.errorf(m.get("window"), m.at("challenge"), "window: challenge needs challenge: <id> naming the challenge whose window to use")
		good = false
	}
	if !good {
		return nil
	}
	return b
}
