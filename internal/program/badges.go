package program

import (
	"time"

	"gopkg.in/yaml.v3"
)

func (p *parser) badgeSection(n *yaml.Node) {
	items, _ := p.list(n, "badges", "a list of badges")
	ids := map[string]*yaml.Node{}
	for i, it := range items {
		if b := p.badge(it, index("badges", i), ids); b != nil {
			p.prog.Badges = append(p.prog.Badges, b)
		}
	}
}

func (p *parser) badge(n *yaml.Node, path string, ids map[string]*yaml.Node) *Badge {
	m := p.fields(n, path, "a badge mapping with id, name and on, metric or steps", badgeKeys...)
	if m == nil {
		return nil
	}
	b := &Badge{Line: m.node.Line}
	id, good := p.uniqueID(m, ids, "badge")
	b.ID, b.Name = id, id
	if id != "" {
		p.badges[id] = true
	}
	if v := m.get("name"); v != nil {
		b.Name, _ = p.text(v, m.at("name"))
	}
	if v := m.get("description"); v != nil {
		b.Description, _ = p.text(v, m.at("description"))
	}
	if v := m.get("for"); v != nil {
		var ok bool
		b.For, ok = p.subject(v, m.at("for"))
		good = good && ok
	}
	if v := m.get("role"); v != nil {
		b.Role, _ = p.text(v, m.at("role"))
	}
	if v := m.get("points"); v != nil {
		var ok bool
		b.Points, ok = p.integer(v, m.at("points"), 0)
		good = good && ok
	}
	var kinds []string
	for _, k := range []string{"on", "metric", "steps"} {
		if m.has(k) {
			kinds = append(kinds, k)
		}
	}
	only := func(key string, kind Phrase) {
		if k, ok := m.keys[key]; ok {
			p.errorf(k, m.at(key), "%s is only used by %s", key, kind)
			good = false
		}
	}
	switch {
	case len(kinds) > 1:
		p.errorf(m.node, path, "a badge is awarded one way, by an event (on), a metric (metric with levels) or steps; this one has %s", joinAnd(kinds))
		return nil
	case len(kinds) == 0:
		// Allowed only when a challenge gives it as a reward.
		node := m.node
		p.later(func() {
			if !p.rewardBadges[id] {
				p.errorf(node, path, "a badge needs on (awarded by an event), metric with levels (by a metric) or steps (by completing steps), unless a challenge gives it as a reward")
			}
		})
		for _, k := range []string{"when", "evidence", "levels", "within", "from", "ordered"} {
			only(k, "event, metric or step badges")
		}
	case kinds[0] == "on":
		var ok bool
		b.On, ok = p.eventTypes(m.get("on"), m.at("on"))
		good = good && ok
		if v := m.get("when"); v != nil {
			b.When = p.eventExpr(v, m.at("when"), wantBool)
			good = good && b.When != nil
		}
		if v := p.require(m, "evidence", "a CEL expression naming the proof, like event.attrs.cert_id (an event badge needs evidence)"); v != nil {
			b.Evidence = p.eventExpr(v, m.at("evidence"), wantString)
		}
		good = good && b.Evidence != nil
		for _, k := range []string{"levels", "within", "from", "ordered"} {
			only(k, "metric or step badges")
		}
	case kinds[0] == "metric":
		v := m.get("metric")
		name, ok := p.id(v, m.at("metric"))
		b.Metric = name
		if ok {
			p.metricRef(v, m.at("metric"), name)
		}
		good = good && ok
		if lv := p.require(m, "levels", "the badge's levels, like {Bronze: 5, Silver: 20, Gold: 50}"); lv != nil {
			b.Levels, ok = p.badgeLevels(lv, m.at("levels"))
			good = good && ok
		} else {
			good = false
		}
		for _, k := range []string{"when", "evidence", "within", "from", "ordered"} {
			only(k, "event or step badges")
		}
	case kinds[0] == "steps":
		var ok bool
		b.Steps, ok = p.steps(m.get("steps"), m.at("steps"))
		good = good && ok
		b.Within, b.From, b.Ordered, ok = p.stepWindow(m)
		good = good && ok
		for _, k := range []string{"when", "evidence", "levels"} {
			only(k, "event or metric badges")
		}
	}
	if !good {
		return nil
	}
	return b
}

// badgeLevels reads {Bronze: 5, Silver: 20}: ascending thresholds.
func (p *parser) badgeLevels(n *yaml.Node, path string) ([]BadgeLevel, bool) {
	es, ok := p.entries(n, path, "a mapping of level names to thresholds, like {Bronze: 5, Silver: 20, Gold: 50}")
	if !ok {
		return nil, false
	}
	if len(es) == 0 {
		p.errorf(n, path, "expected at least one level, like {Bronze: 5}")
		return nil, false
	}
	var out []BadgeLevel
	for _, e := range es {
		epath := join(path, e.key)
		f, good := p.number(e.v, epath)
		if !good {
			ok = false
			continue
		}
		if len(out) > 0 && f <= out[len(out)-1].At {
			p.errorf(e.v, epath, "badge levels must ascend: %s is not above %v of %s", e.v.Value, out[len(out)-1].At, out[len(out)-1].Name)
			ok = false
		}
		out = append(out, BadgeLevel{Name: e.key, At: f})
	}
	return out, ok
}

// steps reads the steps of a step badge or quest: each an event type or a
// mapping {type, where, count}.
func (p *parser) steps(n *yaml.Node, path string) ([]Step, bool) {
	items, ok := p.list(n, path, "a list of steps: event types, or mappings like {type: demo.passed, count: 2}")
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		p.errorf(n, path, "expected at least one step")
		return nil, false
	}
	var out []Step
	for i, it := range items {
		ipath := index(path, i)
		if scalar(it) {
			t, good := p.eventType(it, ipath)
			ok = ok && good
			out = append(out, Step{Type: t, Count: 1})
			continue
		}
		m := p.fields(it, ipath, "an event type or a mapping like {type: demo.passed, where: ..., count: 2}", stepKeys...)
		if m == nil {
			ok = false
			continue
		}
		s := Step{Count: 1}
		if v := p.require(m, "type", "the event type of the step"); v != nil {
			var good bool
			s.Type, good = p.eventType(v, m.at("type"))
			ok = ok && good
		} else {
			ok = false
		}
		if v := m.get("where"); v != nil {
			s.Where = p.eventExpr(v, m.at("where"), wantBool)
			ok = ok && s.Where != nil
		}
		if v := m.get("count"); v != nil {
			var good bool
			s.Count, good = p.smallInt(v, m.at("count"), 1)
			ok = ok && good
		}
		out = append(out, s)
	}
	return out, ok
}

// stepWindow reads within, from and ordered of a step badge or quest.
func (p *parser) stepWindow(m *mapping) (within time.Duration, from string, ordered bool, ok bool) {
	ok, from = true, "joined_at"
	if v := m.get("within"); v != nil {
		var good bool
		within, good = p.duration(v, m.at("within"))
		ok = ok && good
	}
	if v := m.get("from"); v != nil {
		var good bool
		from, good = p.enum(v, m.at("from"), "joined_at", "first_step")
		ok = ok && good
	}
	if v := m.get("ordered"); v != nil {
		var good bool
		ordered, good = p.boolean(v, m.at("ordered"))
		ok = ok && good
	}
	return within, from, ordered, ok
}
