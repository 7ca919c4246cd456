package engine

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

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
	if s.fxAhead.c == nil || s.evalAhead.c == nil || s.contribAhead.c == nil || s.markAhead.c == nil || s.awardAhead.c == nil {
		t.Fatal("a load makes some of the slab's blocks without making them ahead")
	}
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

// A part's panic reaches the goroutine that called inParts, after every
// part is done, whichever part panicked.
func TestInPartsRaisesAPartsPanic(t *testing.T) {
	defer func(n int) { partMin = n }(partMin)
	partMin = 2
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	for _, bad := range []int{0, 7} {
		var done atomic.Int32
		func() {
			defer func() {
				if p := recover(); p != "part" {
					t.Errorf("item %d: recovered %v, want the part's panic", bad, p)
				}
			}()
			inParts(8, func(lo, hi int) {
				defer done.Add(1)
				if lo <= bad && bad < hi {
					panic("part")
				}
			})
			t.Errorf("item %d: inParts returned", bad)
		}()
		if n := done.Load(); n < 2 {
			t.Errorf("item %d: %d parts done before the panic was raised, want every one", bad, n)
		}
	}
}

// EndBulk's catching up of the id index runs beside the member lists; a
// log that gives one event two first records still panics on the loading
// goroutine.
func TestEndBulkPanicsOnTheLoadingGoroutine(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, badgeProgram, now)
	const n = 5 * eventBlock
	h.e.BeginBulk(n)
	for i := range n {
		id := fmt.Sprintf("e%d", i)
		if i == n-1 {
			id = "e0" // a second record of version 1
		}
		h.e.Apply(&rung.Record{Seq: int64(i + 1), Version: 1, Event: rung.Event{ID: id, Type: "training.completed",
			Partner: "p1", Member: "m1", OccurredAt: now.Add(-time.Duration(i) * time.Minute)}})
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "two records of version 1") {
			t.Errorf("recovered %v, want the index's panic", p)
		}
	}()
	h.e.EndBulk(now)
	t.Error("EndBulk returned")
}
