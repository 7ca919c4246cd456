package engine

import "testing"

// Blocks made ahead are zeroed, of the size asked for, with no room to
// grow into the next, and never handed out twice; with nothing started or
// once stopped, next hands out none.
func TestAheadHandsOutZeroedBlocksOnce(t *testing.T) {
	var a ahead[Award]
	if b := a.next(); b != nil {
		t.Fatalf("the zero ahead handed out %d awards", len(b))
	}
	a.start(slabAwards)
	seen := map[*Award]bool{}
	got := 0
	for got < 5*aheadBlocks {
		b := a.next()
		if b == nil {
			continue // not made yet
		}
		got++
		if len(b) != slabAwards || cap(b) != slabAwards {
			t.Fatalf("block of len %d cap %d, want %d", len(b), cap(b), slabAwards)
		}
		for i := range b {
			if b[i] != (Award{}) {
				t.Fatalf("award %d of block %d is not zeroed: %+v", i, got, b[i])
			}
			if seen[&b[i]] {
				t.Fatalf("award %d of block %d was handed out before", i, got)
			}
			seen[&b[i]] = true
			b[i].Points = int64(i + 1) // what a load writes
		}
	}
	a.stop()
	if b := a.next(); b != nil {
		t.Fatalf("a stopped ahead handed out %d awards", len(b))
	}
}

// During a bulk load the slab hands out what its blocks made ahead hold,
// and after it blocks of its own; either way zeroed and not shared.
func TestSlabLoadBlocks(t *testing.T) {
	var s slab
	s.startLoad()
	seen := map[*effects]bool{}
	for i := range 20 * slabEffects {
		if i == 10*slabEffects {
			s.endLoad()
		}
		fx := s.effects()
		if fx.evals != nil || fx.contribs != nil || seen[fx] {
			t.Fatalf("effects %d: not a fresh zeroed one", i)
		}
		seen[fx] = true
		fx.evals = s.evals([]ruleEval{{amount: int64(i)}})
		fx.contribs = s.contribs([]contrib{{v: float64(i)}})
	}
	for fx := range seen {
		if len(fx.evals) != 1 || float64(fx.evals[0].amount) != fx.contribs[0].v {
			t.Fatalf("an event's evaluations were overwritten: %+v / %+v", fx.evals, fx.contribs)
		}
	}
}
