package program

import (
	"gopkg.in/yaml.v3"
)

func (p *parser) tierSection(n *yaml.Node) *Tiers {
	m := p.fields(n, "tiers", "a mapping with levels, criteria and the review settings", tierKeys...)
	if m == nil {
		return nil
	}
	p.hasTiers = true
	t := &Tiers{
		Window:       Window{Kind: WindowQuarters, N: 4},
		DecisionDays: 10,
		Grace:        1,
		NudgeAt:      0.8,
		AppealDays:   10,
		Criteria:     map[string][]Criterion{},
		Line:         m.node.Line,
	}
	good := true
	if v := p.require(m, "levels", "the tier names, lowest first, like [Registered, Select, Elite]"); v != nil {
		names, ok := p.texts(v, m.at("levels"), "a list of tier names, lowest first, like [Registered, Select, Elite]")
		good = good && ok
		for _, name := range names {
			if p.tiers[name.text] {
				p.errorf(name.node, name.path, "duplicate tier %q", name.text)
				good = false
				continue
			}
			p.tiers[name.text] = true
			t.Levels = append(t.Levels, name.text)
		}
		if ok && len(names) == 0 {
			p.errorf(v, m.at("levels"), "expected at least one tier")
			good = false
		}
	} else {
		good = false
	}
	if v := m.get("window"); v != nil {
		var ok bool
		t.Window, ok = p.window(v, m.at("window"), false)
		good = good && ok
	}
	ints := []struct {
		key string
		lo  int64
		dst *int
	}{{"decision_days", 0, &t.DecisionDays}, {"grace", 0, &t.Grace}, {"appeal_days", 1, &t.AppealDays}}
	for _, f := range ints {
		if v := m.get(f.key); v != nil {
			var ok bool
			*f.dst, ok = p.smallInt(v, m.at(f.key), f.lo)
			good = good && ok
		}
	}
	if v := m.get("auto_upgrade"); v != nil {
		var ok bool
		t.AutoUpgrade, ok = p.boolean(v, m.at("auto_upgrade"))
		good = good && ok
	}
	if v := m.get("nudge_at"); v != nil {
		f, ok := p.number(v, m.at("nudge_at"))
		if ok && (f < 0 || f > 1) {
			p.errorf(v, m.at("nudge_at"), "expected a share of progress between 0 and 1, like 0.8, got %s", v.Value)
			ok = false
		}
		t.NudgeAt = f
		good = good && ok
	}
	if v := m.get("criteria"); v != nil {
		var ok bool
		t.Criteria, ok = p.criteriaByTier(v, m.at("criteria"))
		good = good && ok
	}
	if v := m.get("by_type"); v != nil {
		t.ByType = map[string]map[string][]Criterion{}
		es, ok := p.entries(v, m.at("by_type"), "a mapping of partner types to criteria by tier, like {isv: {Select: [...]}}")
		good = good && ok
		for _, e := range es {
			c, ok := p.criteriaByTier(e.v, join(m.at("by_type"), e.key))
			good = good && ok
			t.ByType[e.key] = c
		}
	}
	if v := m.get("benefits"); v != nil {
		t.Benefits = map[string][]string{}
		es, ok := p.entries(v, m.at("benefits"), "a mapping of tier names to lists of benefits")
		good = good && ok
		for _, e := range es {
			epath := join(m.at("benefits"), e.key)
			p.tierRef(e.k, epath, e.key)
			list, ok := p.texts(e.v, epath, "a list of benefits, like [Priority support, MDF]")
			good = good && ok
			t.Benefits[e.key] = textsOf(list)
		}
	}
	if !good {
		return nil
	}
	return t
}

// criteriaByTier reads {Select: [criteria], Elite: [criteria]}.
func (p *parser) criteriaByTier(n *yaml.Node, path string) (map[string][]Criterion, bool) {
	es, ok := p.entries(n, path, "a mapping of tier names to lists of criteria")
	out := map[string][]Criterion{}
	for _, e := range es {
		tpath := join(path, e.key)
		p.tierRef(e.k, tpath, e.key)
		items, good := p.list(e.v, tpath, "a list of criteria like {id: revenue, metric: sourced_revenue, at_least: 250000}")
		ok = ok && good
		ids := map[string]*yaml.Node{}
		for i, it := range items {
			c, good := p.criterion(it, index(tpath, i), ids)
			ok = ok && good
			out[e.key] = append(out[e.key], c)
		}
	}
	return out, ok
}

func (p *parser) criterion(n *yaml.Node, path string, ids map[string]*yaml.Node) (Criterion, bool) {
	m := p.fields(n, path, "a criterion like {id: revenue, metric: sourced_revenue, at_least: 250000}", criterionKeys...)
	if m == nil {
		return Criterion{}, false
	}
	c := Criterion{Line: m.node.Line}
	ok := true
	if v := p.require(m, "metric", "the metric the criterion tests"); v != nil {
		var good bool
		c.Metric, good = p.id(v, m.at("metric"))
		if good {
			p.metricRef(v, m.at("metric"), c.Metric)
		}
		ok = ok && good
	} else {
		ok = false
	}
	idNode := m.get("id")
	c.ID = c.Metric
	if idNode != nil {
		var good bool
		c.ID, good = p.id(idNode, m.at("id"))
		ok = ok && good
	} else {
		idNode = m.node
	}
	if first, dup := ids[c.ID]; dup && c.ID != "" {
		p.errorf(idNode, m.at("id"), "duplicate criterion id %q in this tier (first on line %d); give each criterion its own id", c.ID, first.Line)
		ok = false
	} else {
		ids[c.ID] = idNode
	}
	if v := m.get("label"); v != nil {
		c.Label, _ = p.text(v, m.at("label"))
	}
	for _, b := range []struct {
		key string
		dst **float64
	}{{"at_least", &c.AtLeast}, {"at_most", &c.AtMost}} {
		if v := m.get(b.key); v != nil {
			f, good := p.number(v, m.at(b.key))
			ok = ok && good
			*b.dst = &f
		}
	}
	switch {
	case !m.has("at_least") && !m.has("at_most"):
		p.errorf(m.node, m.at("at_least"), "missing the target: expected at_least (or at_most) with a number")
		ok = false
	case m.has("at_least") && m.has("at_most"):
		p.errorf(m.keys["at_most"], m.at("at_most"), "expected one target, at_least or at_most, not both")
		ok = false
	}
	return c, ok
}
