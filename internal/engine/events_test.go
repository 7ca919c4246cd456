package engine

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// The event table finds every event it was given, by id and by handle,
// and nothing else, whether it grew from empty or was sized beforehand.
func TestEventTableFindsEveryEvent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := rapid.SliceOfDistinct(rapid.StringN(0, 12, -1), rapid.ID[string]).Draw(t, "ids")
		var tab eventTable
		if rapid.Bool().Draw(t, "presized") {
			tab.grow(rapid.IntRange(0, 2*len(ids)).Draw(t, "size"))
		}
		for i, id := range ids {
			if tab.get(id) != nil {
				t.Fatalf("%q found before it was added", id)
			}
			ev := tab.add(id)
			if ev.h != uint32(i+1) || ev.id != id || tab.at(ev.h) != ev {
				t.Fatalf("add(%q) gave handle %d, id %q", id, ev.h, ev.id)
			}
		}
		if tab.len() != len(ids) {
			t.Fatalf("len %d, want %d", tab.len(), len(ids))
		}
		for i, id := range ids {
			if ev := tab.get(id); ev == nil || ev.h != uint32(i+1) {
				t.Fatalf("get(%q) = %v", id, ev)
			}
		}
		if id := rapid.String().Draw(t, "other"); tab.get(id) != nil != slices.Contains(ids, id) {
			t.Fatalf("get(%q) disagrees with the ids", id)
		}
		n := 0
		for ev := range tab.all {
			n++
			if ev.h != uint32(n) {
				t.Fatalf("all yields handle %d at %d", ev.h, n)
			}
		}
		if n != len(ids) {
			t.Fatalf("all yields %d events, want %d", n, len(ids))
		}
	})
}

func TestEventTableManyEvents(t *testing.T) {
	var tab eventTable
	const n = 100_000
	for i := range n {
		tab.add(fmt.Sprintf("ev-%d", i))
	}
	for i := range n {
		if ev := tab.get(fmt.Sprintf("ev-%d", i)); ev == nil || ev.h != uint32(i+1) {
			t.Fatalf("ev-%d: %v", i, ev)
		}
	}
	if tab.get("ev-100000") != nil {
		t.Fatal("found an id never added")
	}
}

// A bulk load takes its blocks of event states made ahead on another
// goroutine: every event is found by id and handle, with a zeroed state
// but for its id and handle, and blocks are not shared.
func TestEventTableLoadMakesBlocksAhead(t *testing.T) {
	var tab eventTable
	const n = 20*eventBlock + 7
	tab.grow(n)
	tab.beginLoad(n)
	if tab.load.ahead.c == nil {
		t.Fatal("a load of many events makes no blocks ahead")
	}
	for i := range n {
		ev := tab.addFirst(fmt.Sprintf("ev-%d", i))
		if ev.version != 0 || ev.at != 0 || ev.fx != nil {
			t.Fatalf("ev-%d: a new event's state is not zeroed: %+v", i, ev)
		}
		ev.version = uint32(i) // what a record writes
	}
	tab.endLoad()
	for i := range n {
		ev := tab.get(fmt.Sprintf("ev-%d", i))
		if ev == nil || ev.h != uint32(i+1) || ev.version != uint32(i) {
			t.Fatalf("ev-%d: %+v", i, ev)
		}
	}
	// Events added after the load make blocks of their own.
	for i := n; i < n+3*eventBlock; i++ {
		ev, added := tab.getOrAdd(fmt.Sprintf("ev-%d", i))
		if !added || ev.version != 0 || ev.at != 0 || ev.fx != nil {
			t.Fatalf("ev-%d: a new event's state is not zeroed: %+v", i, ev)
		}
		ev.version = uint32(i)
	}
	for i := range n + 3*eventBlock {
		ev := tab.get(fmt.Sprintf("ev-%d", i))
		if ev == nil || ev.h != uint32(i+1) || ev.version != uint32(i) {
			t.Fatalf("ev-%d: %+v", i, ev)
		}
	}
	for i := 1; i < len(tab.blocks); i++ {
		if &tab.blocks[i][0] == &tab.blocks[i-1][0] {
			t.Fatalf("blocks %d and %d are one", i-1, i)
		}
		if len(tab.blocks[i-1]) != eventBlock || cap(tab.blocks[i-1]) != eventBlock {
			t.Fatalf("block %d holds %d events, room for %d", i-1, len(tab.blocks[i-1]), cap(tab.blocks[i-1]))
		}
	}
}

// Bodies come back as they were kept, small ones packed into blocks and
// large ones in blocks of their own; a zero reference is no body.
func TestBodyStoreKeepsBodies(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s bodyStore
		if s.get(bodyRef{}) != nil {
			t.Fatal("a zero reference has a body")
		}
		bodies := rapid.SliceOf(rapid.OneOf(
			rapid.SliceOfN(rapid.Byte(), 0, 200),
			rapid.SliceOfN(rapid.Byte(), bodyChunk/4-10, bodyChunk/4+10),
		)).Draw(t, "bodies")
		refs := make([]bodyRef, len(bodies))
		for i, b := range bodies {
			refs[i] = s.keep(b)
		}
		for i, b := range bodies {
			got := s.get(refs[i])
			if got == nil || !bytes.Equal(got, b) || cap(got) != len(got) {
				t.Fatalf("body %d: got %d bytes (cap %d), want %d", i, len(got), cap(got), len(b))
			}
		}
	})
}

// getOrAdd finds an id already in the table and adds one that is not, in
// the same order of handles as get then add, with or without a table sized
// beforehand and with ids met again and again.
func TestEventTableGetOrAddMatchesGetThenAdd(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := rapid.SliceOf(rapid.StringN(0, 6, -1)).Draw(t, "ids")
		var one, two eventTable
		if rapid.Bool().Draw(t, "presized") {
			n := rapid.IntRange(0, 2*len(ids)).Draw(t, "size")
			one.grow(n)
			two.grow(n)
		}
		for _, id := range ids {
			want := two.get(id)
			isNew := want == nil
			if isNew {
				want = two.add(id)
			}
			got, added := one.getOrAdd(id)
			if got.h != want.h || got.id != id || one.at(got.h) != got {
				t.Fatalf("getOrAdd(%q) gave handle %d, id %q; want handle %d", id, got.h, got.id, want.h)
			}
			if added != isNew {
				t.Fatalf("getOrAdd(%q) added %v", id, added)
			}
		}
		if one.len() != two.len() {
			t.Fatalf("len %d, want %d", one.len(), two.len())
		}
		for _, id := range ids {
			if ev := one.get(id); ev == nil || ev.id != id {
				t.Fatalf("get(%q) after getOrAdd = %v", id, ev)
			}
		}
	})
}

func TestEventTableGetOrAdd(t *testing.T) {
	var tab eventTable
	tests := []struct {
		id        string
		wantH     uint32
		wantAdded bool
	}{
		{"a", 1, true},
		{"b", 2, true},
		{"a", 1, false},
		{"", 3, true},
		{"", 3, false},
		{"b", 2, false},
		{"c", 4, true},
	}
	for _, tt := range tests {
		ev, added := tab.getOrAdd(tt.id)
		if ev.h != tt.wantH || added != tt.wantAdded {
			t.Errorf("getOrAdd(%q) = handle %d, added %v; want %d, %v", tt.id, ev.h, added, tt.wantH, tt.wantAdded)
		}
	}
}

// During a bulk load the table answers every lookup as it does without
// one: ids met again are found, new ones get the next handle, whatever
// the filter's size (too small, it gives up), whether records of version 1
// skipped it, and wherever loads begin and end.
func TestEventTableLoadAnswersAsWithout(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var tab eventTable
		model := map[string]uint32{}
		n := rapid.IntRange(0, 300).Draw(t, "ops")
		for i := range n {
			switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
			case op == 0:
				tab.beginLoad(rapid.IntRange(-1, 200).Draw(t, "records"))
			case op == 1:
				tab.endLoad()
			case op == 2:
				id := rapid.StringN(0, 3, -1).Draw(t, "get")
				ev := tab.get(id)
				if h, ok := model[id]; ok != (ev != nil) || ok && (ev.h != h || ev.id != id) {
					t.Fatalf("op %d: get(%q) = %v, want handle %d (%v)", i, id, ev, h, ok)
				}
			case op == 3:
				id := fmt.Sprintf("new-%d", i) // never met before
				if ev := tab.add(id); ev.h != uint32(len(model)+1) {
					t.Fatalf("op %d: add(%q) gave handle %d", i, id, ev.h)
				}
				model[id] = uint32(len(model) + 1)
			case op == 4 && tab.load != nil:
				id := fmt.Sprintf("first-%d", i) // a record of version 1
				if ev := tab.addFirst(id); ev.h != uint32(len(model)+1) || ev.id != id {
					t.Fatalf("op %d: addFirst(%q) gave handle %d", i, id, ev.h)
				}
				model[id] = uint32(len(model) + 1)
			default:
				id := rapid.StringN(0, 3, -1).Draw(t, "id")
				ev, added := tab.getOrAdd(id)
				h, known := model[id]
				if !known {
					h = uint32(len(model) + 1)
					model[id] = h
				}
				if added == known || ev.h != h || ev.id != id || tab.at(h) != ev {
					t.Fatalf("op %d: getOrAdd(%q) = handle %d, added %v; want %d, %v", i, id, ev.h, added, h, !known)
				}
			}
		}
		tab.endLoad()
		if tab.len() != len(model) {
			t.Fatalf("len %d, want %d", tab.len(), len(model))
		}
		for id, h := range model {
			if ev := tab.get(id); ev == nil || ev.h != h {
				t.Fatalf("get(%q) after the load = %v, want handle %d", id, ev, h)
			}
		}
	})
}

// A load of many new ids, a few of them met again, finds the repeats and
// keeps each id's first handle.
func TestEventTableLoadFindsRepeats(t *testing.T) {
	tests := []struct {
		name    string
		records int
	}{
		{"sized for the load", 20_000},
		{"sized too small", 100},
		{"unsized", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tab eventTable
			tab.beginLoad(tt.records)
			for i := range 20_000 {
				id := fmt.Sprintf("ev-%d", i)
				if i%100 == 99 {
					id = fmt.Sprintf("ev-%d", i-50) // a correction of an earlier event
				}
				ev, added := tab.getOrAdd(id)
				if repeat := i%100 == 99; added == repeat {
					t.Fatalf("%s: added %v", id, added)
				}
				if tab.at(ev.h).id != id {
					t.Fatalf("%s: handle %d holds %q", id, ev.h, tab.at(ev.h).id)
				}
			}
			tab.endLoad()
			if want := 20_000 - 200; tab.len() != want {
				t.Fatalf("len %d, want %d", tab.len(), want)
			}
			if tab.get("ev-0") == nil || tab.get("ev-19998") == nil || tab.get("ev-20000") != nil {
				t.Fatal("lookups after the load are wrong")
			}
		})
	}
}

// A log that numbers two records of one event 1 is not taken for two
// events: indexing the second panics.
func TestEventTableAddFirstRefusesAKnownID(t *testing.T) {
	var tab eventTable
	tab.add("a")
	tab.beginLoad(10)
	tab.addFirst("b")
	tab.addFirst("a")
	defer func() {
		if recover() == nil {
			t.Fatal("indexing a second event a did not panic")
		}
	}()
	tab.endLoad()
}
