package engine

import (
	"slices"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

// TestChunkedListMatchesASortedSlice drives the chunked list with random
// inserts (in order and out of it, with ties) and removals, past several
// chunk splits, and compares it with a plain sorted slice after each step.
func TestChunkedListMatchesASortedSlice(t *testing.T) {
	type el struct{ k, id int }
	less := func(a, b el) bool { return a.k < b.k }
	rapid.Check(t, func(t *rapid.T) {
		var c chunked[el]
		var want []el
		next := 0
		steps := rapid.IntRange(1, 3000).Draw(t, "steps")
		for s := 0; s < steps; s++ {
			if len(want) > 0 && rapid.IntRange(0, 3).Draw(t, "op") == 0 {
				i := rapid.IntRange(0, len(want)-1).Draw(t, "victim")
				x := want[i]
				if !c.remove(x, less, func(y el) bool { return y == x }) {
					t.Fatalf("remove %v: not found", x)
				}
				want = slices.Delete(want, i, i+1)
			} else {
				k := rapid.IntRange(0, 400).Draw(t, "key")
				if rapid.Bool().Draw(t, "append") && len(want) > 0 {
					k = want[len(want)-1].k + rapid.IntRange(0, 2).Draw(t, "step")
				}
				x := el{k, next}
				next++
				c.insert(x, less)
				i := sort.Search(len(want), func(i int) bool { return less(x, want[i]) })
				want = slices.Insert(want, i, x)
			}
		}
		got := slices.Collect(c.all())
		if !slices.Equal(got, want) {
			t.Fatalf("chunked %v\nwant    %v", got, want)
		}
		for _, ch := range c.chunks {
			if len(ch) == 0 || len(ch) > chunkMax {
				t.Fatalf("chunk of %d elements", len(ch))
			}
		}
		lo := rapid.IntRange(0, 420).Draw(t, "lo")
		hi := rapid.IntRange(lo, 430).Draw(t, "hi")
		var wantWin []el
		for _, x := range want {
			if x.k >= lo && x.k < hi {
				wantWin = append(wantWin, x)
			}
		}
		gotWin := slices.Collect(c.from(func(x el) bool { return x.k >= lo }, func(x el) bool { return x.k < hi }))
		if !slices.Equal(gotWin, wantWin) {
			t.Fatalf("window [%d,%d): %v, want %v", lo, hi, gotWin, wantWin)
		}
	})
}

func TestChunkedListSplitsAndStaysSorted(t *testing.T) {
	type el struct{ k, id int }
	less := func(a, b el) bool { return a.k < b.k }
	var c chunked[el]
	var want []el
	for i := 0; i < 5000; i++ {
		x := el{(i * 7919) % 1000, i}
		c.insert(x, less)
		j := sort.Search(len(want), func(j int) bool { return less(x, want[j]) })
		want = slices.Insert(want, j, x)
	}
	for i := 0; i < 5000; i += 2 {
		x := el{(i * 7919) % 1000, i}
		if !c.remove(x, less, func(y el) bool { return y == x }) {
			t.Fatalf("remove %v: not found", x)
		}
		want = slices.DeleteFunc(want, func(y el) bool { return y == x })
	}
	if len(c.chunks) < 10 {
		t.Fatalf("%d chunks for %d elements: no splits happened", len(c.chunks), len(want))
	}
	if got := slices.Collect(c.all()); !slices.Equal(got, want) {
		t.Fatal("order differs from a sorted slice")
	}
}
