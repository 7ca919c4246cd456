package demo

import (
	"testing"

	"github.com/rung-dev/rung/internal/program"
)

func TestDemoProgramMapsSources(t *testing.T) {
	p, err := program.Parse(Program)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ source, object, typ string }{
		{"hubspot", "deal", "deal.won"}, {"salesforce", "Opportunity", "deal.won"}, {"webhook", "course", "training.completed"},
	} {
		ms := p.MappingsFor(s.source, s.object)
		if len(ms) != 1 || ms[0].Type != s.typ {
			t.Errorf("%s %s: mappings %+v, want one making %s", s.source, s.object, ms, s.typ)
		}
	}
}
