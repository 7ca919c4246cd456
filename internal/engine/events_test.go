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
