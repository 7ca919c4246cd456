package service

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"
)

// toMap returns the index as a map, for comparisons.
func (x *eventIndex) toMap() map[string]indexedEvent {
	m := make(map[string]indexedEvent, x.len())
	x.each(func(id string, ev indexedEvent) { m[id] = ev })
	return m
}

// TestEventIndexActsAsAMap checks the writer's index of events against a
// map under random adds, overwrites and lookups, from tables made too
// small (so they grow many times) and made for the whole run.
func TestEventIndexActsAsAMap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		presize int
		ops     int
		ids     int // distinct ids drawn from
	}{
		{"empty", 0, 0, 1},
		{"the zero index", -1, 5000, 3000},
		{"grows from nothing", 0, 20000, 8000},
		{"presized", 20000, 20000, 8000},
		{"few ids, many versions", 4, 5000, 40},
		{"presized too small", 100, 30000, 30000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.ops), uint64(tc.ids)))
			x := newEventIndex(tc.presize)
			if tc.presize < 0 {
				x = &eventIndex{}
			}
			want := map[string]indexedEvent{}
			var order []string
			for i := range tc.ops {
				id := fmt.Sprintf("ev-%d", rng.IntN(tc.ids))
				switch rng.IntN(4) {
				case 0: // a lookup
					got, ok := x.get(id)
					w, wok := want[id]
					if ok != wok || got != w {
						t.Fatalf("op %d: get(%q) = %+v, %v; want %+v, %v", i, id, got, ok, w, wok)
					}
				case 1: // a change through find's pointer
					p := x.find(id)
					if _, ok := want[id]; ok != (p != nil) {
						t.Fatalf("op %d: find(%q) = %v, want found %v", i, id, p, ok)
					}
					if p != nil {
						p.hash = uint64(i) + 1
						w := want[id]
						w.hash = uint64(i) + 1
						want[id] = w
					}
				default: // a new event or version
					ev := indexedEvent{seq: int64(i), version: want[id].version + 1, retracted: rng.IntN(5) == 0}
					if _, ok := want[id]; !ok {
						order = append(order, id)
					}
					x.set(id, ev)
					want[id] = ev
				}
			}
			if x.len() != len(want) {
				t.Fatalf("len = %d, want %d", x.len(), len(want))
			}
			if got := x.toMap(); !maps.Equal(got, want) {
				t.Fatalf("index holds %d events, not the %d set", len(got), len(want))
			}
			var each []string
			x.each(func(id string, _ indexedEvent) { each = append(each, id) })
			if fmt.Sprint(each) != fmt.Sprint(order) {
				t.Errorf("each visits events out of the order they were added")
			}
			if n := len(x.slots); n&(n-1) != 0 || x.len()*4 > n*3 {
				t.Errorf("table of %d slots holds %d events: not a power of two or over 3/4 full", n, x.len())
			}
			if _, ok := x.get("never-added"); ok {
				t.Errorf("an id never added is found")
			}
		})
	}
}

// TestEventIndexPresizedDoesNotGrow checks that an index made for n events
// holds n without growing, so a start's index is allocated once.
func TestEventIndexPresizedDoesNotGrow(t *testing.T) {
	for _, n := range []int{1, 12, 13, 1000, 3 << 10, 100000} {
		x := newEventIndex(n)
		slots := len(x.slots)
		for i := range n {
			x.set(fmt.Sprint(i), indexedEvent{seq: int64(i)})
		}
		if len(x.slots) != slots {
			t.Errorf("made for %d: grew from %d to %d slots", n, slots, len(x.slots))
		}
		if slots > 16 && slots/2*3/4 >= n {
			t.Errorf("made for %d: %d slots, twice what it needs", n, slots)
		}
	}
}

// TestEventIndexFindsEverythingWhileItGrows checks the index at every step
// of a move to a larger table: each id added so far is found, whether its
// slot was copied yet or not, and a change made through either table is
// the entry's.
func TestEventIndexFindsEverythingWhileItGrows(t *testing.T) {
	x := newEventIndex(0)
	var ids []string
	moves := 0
	for i := range 5000 {
		id := fmt.Sprintf("e%d", i)
		x.set(id, indexedEvent{seq: int64(i), version: 1})
		ids = append(ids, id)
		if x.old == nil {
			continue
		}
		moves++
		for j, id := range ids {
			e := x.find(id)
			if e == nil || e.seq != int64(j) {
				t.Fatalf("after %d adds, with %d of %d old slots copied: %q is %v", i+1, x.moved, len(x.old), id, e)
			}
		}
		// A new version of an early event, mid-move.
		x.set(ids[0], indexedEvent{seq: 0, version: int32(moves) + 1})
	}
	if moves == 0 {
		t.Fatal("the index never grew a step at a time")
	}
	if e, _ := x.get(ids[0]); e.version != int32(moves)+1 {
		t.Errorf("%q is at version %d, want %d", ids[0], e.version, moves+1)
	}
	if x.len() != len(ids) {
		t.Errorf("len %d, want %d", x.len(), len(ids))
	}
}

// BenchmarkEventIndexSet adds 4M events to an index made empty, as ingest
// adds them past what a start presized, and reports the longest a single
// set took: with the table's growth spread over many sets, no set copies
// the whole table.
func BenchmarkEventIndexSet(b *testing.B) {
	const n = 4 << 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("evt-%09d", i)
	}
	var worst time.Duration
	for b.Loop() {
		x := newEventIndex(0)
		for i, id := range ids {
			start := time.Now()
			x.set(id, indexedEvent{seq: int64(i), version: 1})
			worst = max(worst, time.Since(start))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/set")
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs/set")
}
