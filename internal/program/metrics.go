package program

import (
	"gopkg.in/yaml.v3"
)

// metricNames returns the defined metric names, for messages.
func (p *parser) metricNames() map[string]bool {
	out := make(map[string]bool, len(p.metricKinds))
	for k := range p.metricKinds {
		out[k] = true
	}
	return out
}

// metricRef checks, later, that a metric name is defined or is points.
func (p *parser) metricRef(n *yaml.Node, path, name string) {
	p.later(func() { p.reference(n, path, "metric", name, p.metricNames(), "points") })
}

func (p *parser) metrics(n *yaml.Node) {
	es, _ := p.entries(n, "metrics", "a mapping of metric names to definitions, like registrations: {count: deal.registered}")
	type ratioPart struct {
		node       *yaml.Node
		path, name string
	}
	var parts []ratioPart
	for _, e := range es {
		path := join("metrics", e.key)
		if e.key == "points" {
			p.errorf(e.k, path, "the metric name points is reserved for the built-in points metric: choose another name")
			continue
		}
		name, ok := p.id(e.k, path)
		if !ok {
			continue
		}
		p.metricKinds[name] = 0
		m := p.fields(e.v, path, "a metric definition such as {count: deal.registered}", metricKeys...)
		if m == nil {
			continue
		}
		var kinds []string
		for _, k := range metricKindKeys {
			if _, ok := m.vals[k]; ok {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) != 1 {
			var got any = Phrase("none")
			if len(kinds) > 1 {
				got = joinAnd(kinds)
			}
			p.errorf(m.node, path, "expected exactly one of count, sum, avg, distinct or ratio, got %s", got)
			continue
		}
		met := &Metric{Name: name, Unit: UnitNumber, Line: e.k.Line}
		good := true
		if v := m.get("label"); v != nil {
			met.Label, _ = p.text(v, m.at("label"))
		}
		if v := m.get("unit"); v != nil {
			u, ok := p.enum(v, m.at("unit"), string(UnitNumber), string(UnitCurrency), string(UnitPercent))
			met.Unit = Unit(u)
			if ok && met.Unit == UnitCurrency {
				p.later(func() {
					if !p.hasCurrency {
						p.errorf(v, m.at("unit"), "unit currency needs the program's currency: add a top-level key like currency: EUR (an ISO 4217 code)")
					}
				})
			}
			good = good && ok
		}
		kind := kinds[0]
		switch kind {
		case "count", "sum", "avg", "distinct":
			met.Kind = map[string]MetricKind{"count": MetricCount, "sum": MetricSum, "avg": MetricAvg, "distinct": MetricDistinct}[kind]
			if v := p.require(m, kind, "an event type or a list of event types"); v != nil {
				met.Types, ok = p.eventTypes(v, m.at(kind))
				good = good && ok
			} else {
				good = false
			}
			if v := m.get("where"); v != nil {
				met.Where = p.eventExpr(v, m.at("where"), wantBool)
				good = good && met.Where != nil
			}
			switch kind {
			case "count":
				if k, ok := m.keys["value"]; ok {
					p.errorf(k, m.at("value"), "a count metric counts events and takes no value: use sum, avg or distinct to aggregate a value")
					good = false
				}
			case "sum", "avg":
				if v := p.require(m, "value", "a CEL expression giving a number, like event.attrs.amount"); v != nil {
					met.Value = p.eventExpr(v, m.at("value"), wantNumber)
				}
				good = good && met.Value != nil
			case "distinct":
				if v := p.require(m, "value", "a CEL expression giving the value counted once, like event.member"); v != nil {
					met.Value = p.eventExpr(v, m.at("value"), wantAny)
				}
				good = good && met.Value != nil
			}
			if k, ok := m.keys["min_sample"]; ok {
				p.errorf(k, m.at("min_sample"), "min_sample applies to ratio metrics only")
				good = false
			}
		case "ratio":
			met.Kind = MetricRatio
			v := p.require(m, "ratio", "a list of two metric names: [numerator, denominator]")
			items, ok := p.list(v, m.at("ratio"), "a list of two metric names: [numerator, denominator]")
			if ok && len(items) != 2 {
				p.errorf(v, m.at("ratio"), "expected a list of two metric names: [numerator, denominator], got %d items", len(items))
				ok = false
			}
			if ok {
				names := make([]string, 2)
				for i, it := range items {
					if s, good := p.id(it, index(m.at("ratio"), i)); good {
						names[i] = s
						parts = append(parts, ratioPart{it, index(m.at("ratio"), i), s})
					} else {
						ok = false
					}
				}
				met.Num, met.Den = names[0], names[1]
			}
			good = good && ok
			if v := m.get("min_sample"); v != nil {
				f, ok := p.number(v, m.at("min_sample"))
				if ok && f < 0 {
					p.errorf(v, m.at("min_sample"), "expected a number of 0 or more, got %s", v.Value)
					ok = false
				}
				met.MinSample = f
				good = good && ok
			}
			for _, k := range []string{"where", "value"} {
				if kn, ok := m.keys[k]; ok {
					p.errorf(kn, m.at(k), "a ratio metric divides two other metrics and takes no %s: put it on those metrics", k)
					good = false
				}
			}
		}
		if good {
			p.metricKinds[name] = met.Kind
			p.prog.Metrics[name] = met
			p.prog.MetricOrder = append(p.prog.MetricOrder, name)
		}
	}
	p.later(func() {
		for _, part := range parts {
			kind, known := p.metricKinds[part.name]
			switch {
			case part.name == "points":
			case !known:
				p.reference(part.node, part.path, "metric", part.name, p.metricNames(), "points")
			case kind == MetricRatio:
				p.errorf(part.node, part.path, "metric %q is itself a ratio: a ratio divides two count, sum, avg or distinct metrics", part.name)
			}
		}
	})
}
