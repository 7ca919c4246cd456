package program

import (
	"gopkg.in/yaml.v3"
)

func (p *parser) points(n *yaml.Node) {
	m := p.fields(n, "points", "a mapping with expire and rules", pointsKeys...)
	if m == nil {
		return
	}
	if v := m.get("expire"); v != nil {
		p.prog.Points.Expire, _ = p.expiry(v, m.at("expire"))
	}
	v := m.get("rules")
	if v == nil {
		return
	}
	items, _ := p.list(v, m.at("rules"), "a list of rules")
	ids := map[string]*yaml.Node{}
	for i, it := range items {
		if r := p.rule(it, index(m.at("rules"), i), ids); r != nil {
			p.prog.Points.Rules = append(p.prog.Points.Rules, r)
		}
	}
}

// expiry reads never, quarter, year or <N>d.
func (p *parser) expiry(n *yaml.Node, path string) (Expiry, bool) {
	if scalar(n) {
		switch n.Value {
		case "never":
			return Expiry{Kind: ExpireNever}, true
		case "quarter":
			return Expiry{Kind: ExpireQuarter}, true
		case "year":
			return Expiry{Kind: ExpireYear}, true
		}
		if k, unit, ok := amount(n.Value); ok && unit == "d" {
			return Expiry{Kind: ExpireDays, Days: k}, true
		}
	}
	p.errorf(n, path, "expected never, quarter, year or <N>d (like 90d), got %s", describe(n))
	return Expiry{}, false
}

// uniqueID reads a required id and checks it is not used twice in a list.
func (p *parser) uniqueID(m *mapping, seen map[string]*yaml.Node, what Phrase) (string, bool) {
	v := p.requireAs(m, "id", message("a unique id for the %s", what))
	if v == nil {
		return "", false
	}
	id, ok := p.id(v, m.at("id"))
	if !ok {
		return "", false
	}
	if first, dup := seen[id]; dup {
		p.errorf(v, m.at("id"), "duplicate %s id %q (first on line %d)", what, id, first.Line)
		return id, false
	}
	seen[id] = v
	return id, true
}

func (p *parser) rule(n *yaml.Node, path string, ids map[string]*yaml.Node) *Rule {
	m := p.fields(n, path, "a rule mapping with id, on and award", ruleKeys...)
	if m == nil {
		return nil
	}
	r := &Rule{Line: m.node.Line}
	id, good := p.uniqueID(m, ids, "rule")
	r.ID = id
	if v := m.get("label"); v != nil {
		r.Label, _ = p.text(v, m.at("label"))
	}
	if v := p.require(m, "on", "an event type or a list of event types"); v != nil {
		var ok bool
		r.On, ok = p.eventTypes(v, m.at("on"))
		good = good && ok
		for _, t := range r.On {
			if p.prog.Activities[t].Vanity {
				p.errorf(v, m.at("on"), "event type %q is marked vanity in activities: vanity activities are shown in feeds but never scored", t)
				good = false
			}
		}
	} else {
		good = false
	}
	if v := m.get("when"); v != nil {
		r.When = p.eventExpr(v, m.at("when"), wantBool)
		good = good && r.When != nil
	}
	if v := p.require(m, "award", "an integer or a CEL expression giving a number"); v != nil {
		r.Award = p.award(v, m.at("award"))
	}
	good = good && r.Award != nil
	if v := m.get("to"); v != nil {
		var ok bool
		r.To, ok = p.subject(v, m.at("to"))
		good = good && ok
	}
	if v := m.get("limit"); v != nil {
		r.Limit = p.limit(v, m.at("limit"))
		good = good && r.Limit != nil
	}
	if v := m.get("once_per"); v != nil {
		r.OncePer = p.eventExpr(v, m.at("once_per"), wantAny)
		good = good && r.OncePer != nil
	}
	if v := m.get("multiplier"); v != nil {
		r.Multiplier = map[string]float64{}
		es, ok := p.entries(v, m.at("multiplier"), "a mapping of tier names to factors, like {Select: 1.2}")
		good = good && ok
		for _, e := range es {
			epath := join(m.at("multiplier"), e.key)
			f, ok := p.number(e.v, epath)
			if ok && f < 0 {
				p.errorf(e.v, epath, "expected a factor of 0 or more, got %s", e.v.Value)
				ok = false
			}
			good = good && ok
			r.Multiplier[e.key] = f
			p.tierRef(e.k, epath, e.key)
		}
	}
	if !good {
		return nil
	}
	return r
}

// tierRef checks, later, that a tier name is one of tiers.levels.
func (p *parser) tierRef(n *yaml.Node, path, name string) {
	p.later(func() {
		if !p.hasTiers {
			p.errorf(n, path, "unknown tier %q: the program has no tiers section", name)
			return
		}
		p.reference(n, path, "tier", name, p.tiers, "")
	})
}

func (p *parser) limit(n *yaml.Node, path string) *Limit {
	m := p.fields(n, path, "a mapping like {max: 200, per: day}", limitKeys...)
	if m == nil {
		return nil
	}
	l := &Limit{}
	good := true
	if v := p.require(m, "max", "the most points per period, a positive whole number"); v != nil {
		var ok bool
		l.Max, ok = p.integer(v, m.at("max"), 1)
		good = good && ok
	} else {
		good = false
	}
	if v := p.require(m, "per", "day, week, month, quarter or year"); v != nil {
		s, ok := p.enum(v, m.at("per"), "day", "week", "month", "quarter", "year")
		l.Per = Period(s)
		good = good && ok
	} else {
		good = false
	}
	if !good {
		return nil
	}
	return l
}

func (p *parser) levels(n *yaml.Node) {
	items, _ := p.list(n, "levels", "a list of levels like {name: Rookie, at: 0}")
	names := map[string]*yaml.Node{}
	var prev *Level
	for i, it := range items {
		path := index("levels", i)
		m := p.fields(it, path, "a level like {name: Rookie, at: 0}", levelKeys...)
		if m == nil {
			prev = nil
			continue
		}
		var l Level
		good := true
		if v := p.require(m, "name", "the level's name"); v != nil {
			var ok bool
			l.Name, ok = p.text(v, m.at("name"))
			if first, dup := names[l.Name]; ok && dup {
				p.errorf(v, m.at("name"), "duplicate level name %q (first on line %d)", l.Name, first.Line)
				ok = false
			} else if ok {
				names[l.Name] = v
			}
			good = good && ok
		} else {
			good = false
		}
		v := p.require(m, "at", "the lifetime points where the level starts")
		if v == nil {
			prev = nil
			continue
		}
		at, ok := p.integer(v, m.at("at"), 0)
		if !ok {
			prev = nil
			continue
		}
		l.At = at
		switch {
		case i == 0 && at != 0:
			p.errorf(v, m.at("at"), "the first level must start at 0, got %d", at)
			good = false
		case prev != nil && at <= prev.At:
			p.errorf(v, m.at("at"), "levels must be in ascending order of at: %d is not above %d of %s", at, prev.At, prev.Name)
			good = false
		}
		prev = &l
		if good {
			p.prog.Levels = append(p.prog.Levels, l)
		}
	}
}
