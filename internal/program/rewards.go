package program

import "gopkg.in/yaml.v3"

// pointValue reads `point_value`: what one point is worth in the program's
// currency, a positive number (the liability report multiplies by it).
func (p *parser) pointValue(n *yaml.Node) (float64, bool) {
	v, ok := p.number(n, "point_value")
	if !ok {
		return 0, false
	}
	if v <= 0 || v > 1e6 {
		p.errorf(n, "point_value", "expected what one point is worth in the program's currency, a positive number like 0.01, got %g", v)
		return 0, false
	}
	return v, true
}
