package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/program"
)

// The rules and metrics an event type's readers carry are those a scan of
// the newest program finds for the type, in the program's order, each
// once: what score evaluated before it kept them by type.
func TestTypeReadersHoldTheTypesRulesAndMetrics(t *testing.T) {
	const many = `
name: t
timezone: UTC
activities: {a: {label: A}, b: {label: B}, c: {label: C}}
metrics:
  as: {count: a}
  abs: {count: [a, b]}
  bs: {sum: b, value: event.attrs.v}
  rate: {ratio: [as, bs], min_sample: 1}
points:
  rules:
    - {id: r1, on: [a, b], award: 1}
    - {id: r2, on: [b, a], award: 2}
    - {id: r3, on: c, award: 3}
    - {id: r4, on: a, award: 4}
`
	for _, src := range [][]byte{[]byte(many), demo.Program, []byte(testProgram)} {
		p, err := program.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		// Parse lists a type once; a program built otherwise may not.
		for _, r := range p.Points.Rules {
			r.On = append(r.On, r.On[0])
		}
		for _, m := range p.Metrics {
			if len(m.Types) > 0 {
				m.Types = append(m.Types, m.Types[0])
			}
		}
		e := New()
		if err := e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		for typ, x := range e.scored {
			var rules []*program.Rule
			for _, r := range p.Points.Rules {
				if slices.Contains(r.On, typ) {
					rules = append(rules, r)
				}
			}
			if !slices.Equal(x.rules, rules) {
				t.Errorf("%s: %s has %d rules, the program %d", p.Name, typ, len(x.rules), len(rules))
			}
			var metrics []typeMetric
			for i, name := range p.MetricOrder {
				m := p.Metrics[name]
				if m.Kind != program.MetricRatio && slices.Contains(m.Types, typ) {
					metrics = append(metrics, typeMetric{i: i, name: name, m: m})
				}
			}
			if !slices.Equal(x.metrics, metrics) {
				t.Errorf("%s: %s counts in %+v, the program says %+v", p.Name, typ, x.metrics, metrics)
			}
		}
	}
}
