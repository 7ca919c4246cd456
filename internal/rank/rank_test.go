package rank

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// byName returns a cmpID that orders handles by names[h].
func byName(names []string) func(a, b uint32) int {
	return func(a, b uint32) int { return strings.Compare(names[a], names[b]) }
}

// set is one Set call in a table test.
type set struct {
	id    uint32
	value float64
	at    int64
}

// placed is what a test expects of one subject.
type placed struct {
	id   uint32
	rank int
}

// order lists the index as (id, rank) pairs via Range.
func order(x *Index) []placed {
	var got []placed
	x.Range(0, x.Len(), func(rank, _ int, e Entry) bool {
		got = append(got, placed{e.ID, rank})
		return true
	})
	return got
}

// names are the string ids of handles 0..5 in the table tests; their order
// differs from handle order so tests see which one the index used.
var names = []string{"delta", "alpha", "echo", "charlie", "bravo", "foxtrot"}

func TestOrderAndRanks(t *testing.T) {
	tests := []struct {
		name string
		sets []set
		del  []uint32
		want []placed
	}{
		{
			name: "ties share a rank and skip the next",
			sets: []set{{0, 9, 1}, {1, 7, 1}, {2, 7, 2}, {3, 5, 1}},
			want: []placed{{0, 1}, {1, 2}, {2, 2}, {3, 4}},
		},
		{
			name: "within a tie the earlier At comes first",
			sets: []set{{0, 7, 30}, {1, 7, 10}, {2, 7, 20}},
			want: []placed{{1, 1}, {2, 1}, {0, 1}},
		},
		{
			name: "within a tie of value and At the id decides, not the handle",
			sets: []set{{0, 7, 10}, {1, 7, 10}, {2, 7, 10}, {3, 7, 5}},
			// names: 0 delta, 1 alpha, 2 echo; handle 3 came first.
			want: []placed{{3, 1}, {1, 1}, {0, 1}, {2, 1}},
		},
		{
			name: "delete closes the gap and re-ranks",
			sets: []set{{0, 9, 1}, {1, 7, 1}, {2, 7, 2}, {3, 5, 1}},
			del:  []uint32{1},
			want: []placed{{0, 1}, {2, 2}, {3, 3}},
		},
		{
			name: "moving an entry up",
			sets: []set{{0, 9, 1}, {1, 7, 1}, {2, 5, 1}, {2, 10, 2}},
			want: []placed{{2, 1}, {0, 2}, {1, 3}},
		},
		{
			name: "moving an entry down",
			sets: []set{{0, 9, 1}, {1, 7, 1}, {2, 5, 1}, {0, 6, 2}},
			want: []placed{{1, 1}, {0, 2}, {2, 3}},
		},
		{
			name: "moving into a tie takes the new At",
			sets: []set{{0, 9, 1}, {1, 7, 5}, {0, 7, 3}},
			want: []placed{{0, 1}, {1, 1}},
		},
		{
			name: "negative, infinite and NaN values; NaN ranks last",
			sets: []set{{0, math.NaN(), 1}, {1, math.Inf(-1), 1}, {2, -3, 1}, {3, math.Inf(1), 1}, {4, math.NaN(), 0}},
			want: []placed{{3, 1}, {2, 2}, {1, 3}, {4, 4}, {0, 4}},
		},
		{
			name: "negative zero ties with zero",
			sets: []set{{0, math.Copysign(0, -1), 2}, {1, 0, 1}, {2, -1e-300, 0}},
			want: []placed{{1, 1}, {0, 1}, {2, 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := New(byName(names))
			for _, s := range tt.sets {
				x.Set(s.id, s.value, s.at)
			}
			for _, id := range tt.del {
				if !x.Delete(id) {
					t.Fatalf("Delete(%d) = false", id)
				}
			}
			got := order(x)
			if len(got) != len(tt.want) {
				t.Fatalf("order = %v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				if got[i] != w {
					t.Fatalf("order = %v, want %v", got, tt.want)
				}
				if r, ok := x.Rank(w.id); !ok || r != w.rank {
					t.Errorf("Rank(%d) = %d, %v; want %d", w.id, r, ok, w.rank)
				}
				if p, ok := x.Position(w.id); !ok || p != i {
					t.Errorf("Position(%d) = %d, %v; want %d", w.id, p, ok, i)
				}
			}
			if err := x.check(uint32(len(names))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMissingSubject(t *testing.T) {
	x := New(nil)
	for _, check := range []func() bool{
		func() bool { _, ok := x.Rank(3); return ok },
		func() bool { _, ok := x.Position(3); return ok },
		func() bool { _, ok := x.Get(3); return ok },
		func() bool { return x.Delete(3) },
	} {
		if check() {
			t.Fatal("empty index found handle 3")
		}
	}
	x.Set(1, 5, 0)
	x.Set(1000, 5, 0)
	if _, ok := x.Rank(3); ok {
		t.Error("Rank(3) found a handle never set")
	}
	if _, ok := x.Rank(1 << 30); ok {
		t.Error("Rank(1<<30) found a handle never set")
	}
	x.Delete(1)
	if _, ok := x.Rank(1); ok {
		t.Error("Rank(1) found a deleted handle")
	}
	if x.Delete(1) {
		t.Error("Delete(1) twice reported true")
	}
}

func TestRankOfValue(t *testing.T) {
	x := New(nil)
	for i, v := range []float64{9, 7, 7, 5} {
		x.Set(uint32(i), v, 0)
	}
	for _, tt := range []struct {
		v    float64
		want int
	}{
		{10, 1}, {9, 1}, {8, 2}, {7, 2}, {6, 4}, {5, 4}, {4, 5},
		{math.Inf(-1), 5}, {math.NaN(), 5}, {math.Inf(1), 1},
	} {
		if got := x.RankOfValue(tt.v); got != tt.want {
			t.Errorf("RankOfValue(%v) = %d, want %d", tt.v, got, tt.want)
		}
	}
	if got := New(nil).RankOfValue(3); got != 1 {
		t.Errorf("empty RankOfValue = %d, want 1", got)
	}
}

func TestRangeFromTheMiddle(t *testing.T) {
	// 1000 subjects, values 0..99 ten times each: several leaves, with ties
	// that straddle leaf boundaries.
	x := New(nil)
	for i := range 1000 {
		x.Set(uint32(i), float64(i%100), int64(i))
	}
	type row struct{ rank, pos, id int }
	var got []row
	x.Range(505, 12, func(rank, pos int, e Entry) bool {
		got = append(got, row{rank, pos, int(e.ID)})
		return true
	})
	// Value v holds positions (99-v)*10 .. +9, in At (= id) order; its rank
	// is (99-v)*10 + 1. Position 505 is the sixth of value 49.
	var want []row
	for pos := 505; pos < 517; pos++ {
		v := 99 - pos/10
		want = append(want, row{(99-v)*10 + 1, pos, v + 100*(pos%10)})
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	calls := 0
	x.Range(998, 10, func(int, int, Entry) bool { calls++; return true })
	if calls != 2 {
		t.Errorf("Range past the end made %d calls, want 2", calls)
	}
	calls = 0
	x.Range(0, 10, func(int, int, Entry) bool { calls++; return calls < 3 })
	if calls != 3 {
		t.Errorf("Range stopped by fn made %d calls, want 3", calls)
	}
	calls = 0
	x.Range(-5, 2, func(_, pos int, _ Entry) bool {
		if pos != calls {
			t.Errorf("Range(-5, 2) gave pos %d, want %d", pos, calls)
		}
		calls++
		return true
	})
	if calls != 2 {
		t.Errorf("Range(-5, 2) made %d calls, want 2", calls)
	}
	x.Range(1000, 1, func(int, int, Entry) bool { t.Error("Range past Len called fn"); return true })
	x.Range(0, 0, func(int, int, Entry) bool { t.Error("Range of 0 called fn"); return true })
}

func TestValueRoundTrips(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 1.5, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
		-math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), 123456.789} {
		if got := decode(encode(v)); got != v {
			t.Errorf("decode(encode(%v)) = %v", v, got)
		}
	}
	if got := decode(encode(math.NaN())); !math.IsNaN(got) {
		t.Errorf("decode(encode(NaN)) = %v", got)
	}
	if got := decode(encode(math.Copysign(0, -1))); got != 0 || math.Signbit(got) {
		t.Errorf("decode(encode(-0)) = %v, want +0", got)
	}
}

// values mixes a few common values, to make ties, with arbitrary ones.
var values = []float64{0, 1, 2, 3, -1, 2.5, 1e9, math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1)}

// probes are the values RankOfValue is asked about.
var probes = append([]float64{-2, 0.5, 1.5, 4, 1e10, -1e10}, values...)

// shuffledNames gives n handles string ids whose order is not handle order.
func shuffledNames(n int, r *rand.Rand) []string {
	ns := make([]string, n)
	for i, p := range r.Perm(n) {
		ns[i] = string(rune('a'+p%26)) + string(rune('a'+p/26%26)) + string(rune('a'+p/676))
	}
	return ns
}

// TestAgreesWithSortedSlice runs random Set and Delete sequences on indexes
// with small and full-size nodes and compares every answer with a naive
// sorted slice, checking the tree's invariants after each step.
func TestAgreesWithSortedSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		leafMax := rapid.SampledFrom([]int{3, 4, 5, 8, leafCap}).Draw(t, "leafMax")
		innerMax := rapid.SampledFrom([]int{4, 5, 7, innerCap}).Draw(t, "innerMax")
		handles := rapid.IntRange(1, 300).Draw(t, "handles")
		ns := shuffledNames(handles, rand.New(rand.NewPCG(uint64(handles), 1)))
		x := newWithCaps(byName(ns), leafMax, innerMax)
		m := newModel(ns)

		// Some runs feed values in sorted order, the worst case for splits.
		mode := rapid.IntRange(0, 2).Draw(t, "mode")
		next := 0.0
		steps := rapid.IntRange(1, 400).Draw(t, "steps")
		for step := range steps {
			id := uint32(rapid.IntRange(0, handles-1).Draw(t, "id"))
			if rapid.IntRange(0, 4).Draw(t, "op") == 0 {
				_, in := m.entries[id]
				if got := x.Delete(id); got != in {
					t.Fatalf("step %d: Delete(%d) = %v, want %v", step, id, got, in)
				}
				delete(m.entries, id)
			} else {
				var v float64
				switch mode {
				case 0:
					v = rapid.SampledFrom(values).Draw(t, "value")
				case 1:
					v, next = next, next+1
				case 2:
					v, next = next, next-1
				}
				at := int64(rapid.IntRange(0, 3).Draw(t, "at"))
				x.Set(id, v, at)
				m.entries[id] = Entry{ID: id, Value: v, At: at}
			}
			if err := x.check(uint32(handles)); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if len(m.entries) < 40 || step%10 == 0 || step == steps-1 {
				if err := agree(x, m, probes); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
		}
	})
}

// TestLargeRandomWorkload grows a full-size tree to three levels, churns it,
// then empties it, comparing with the naive model along the way.
func TestLargeRandomWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("large workload")
	}
	r := rand.New(rand.NewPCG(7, 7))
	const handles = 6000
	ns := shuffledNames(handles, r)
	x := New(byName(ns))
	m := newModel(ns)
	step := func(phase string, i int) {
		if i%1500 == 0 {
			if err := x.check(handles); err != nil {
				t.Fatalf("%s %d: %v", phase, i, err)
			}
		}
	}
	for i := range 30000 {
		id := uint32(r.IntN(handles))
		if r.IntN(6) == 0 {
			x.Delete(id)
			delete(m.entries, id)
		} else {
			var v float64
			if e, ok := m.entries[id]; ok && r.IntN(2) == 0 {
				v = e.Value + float64(r.IntN(5)) // an increment, the common move
			} else {
				v = float64(r.IntN(2000))
			}
			at := int64(r.IntN(50))
			x.Set(id, v, at)
			m.entries[id] = Entry{ID: id, Value: v, At: at}
		}
		step("churn", i)
	}
	if x.root == nil || x.root.leafKids {
		t.Fatalf("tree did not grow past two levels (n=%d)", x.Len())
	}
	if err := agreeSampled(x, m, r); err != nil {
		t.Fatal(err)
	}
	for i, id := range r.Perm(handles) {
		x.Delete(uint32(id))
		delete(m.entries, uint32(id))
		step("drain", i)
		if i%1000 == 0 {
			if err := agreeSampled(x, m, r); err != nil {
				t.Fatalf("drain %d: %v", i, err)
			}
		}
	}
	if x.Len() != 0 || x.root != nil {
		t.Fatalf("after draining: Len %d, root %v", x.Len(), x.root != nil)
	}
	if err := x.check(handles); err != nil {
		t.Fatal(err)
	}
}

// agreeSampled is agree for large indexes: every position, ranks of a sample.
func agreeSampled(x *Index, m *model, r *rand.Rand) error {
	want := m.sorted()
	if x.Len() != len(want) {
		return errorf("Len = %d, want %d", x.Len(), len(want))
	}
	// Ranks from the sorted slice in one pass.
	ranks := make([]int, len(want))
	for i := range want {
		if i > 0 && !greater(want[i-1].Value, want[i].Value) {
			ranks[i] = ranks[i-1]
		} else {
			ranks[i] = i + 1
		}
	}
	for pos, e := range want {
		if p, ok := x.Position(e.ID); !ok || p != pos {
			return errorf("Position(%d) = %d, %v; want %d", e.ID, p, ok, pos)
		}
		if r, ok := x.Rank(e.ID); !ok || r != ranks[pos] {
			return errorf("Rank(%d) = %d, %v; want %d", e.ID, r, ok, ranks[pos])
		}
	}
	i := 0
	var err error
	x.Range(0, len(want), func(rank, pos int, e Entry) bool {
		if pos != i || !sameEntry(e, want[i]) || rank != ranks[i] {
			err = errorf("Range at %d: (%d, %d, %+v), want (%d, %+v)", i, rank, pos, e, ranks[i], want[i])
		}
		i++
		return err == nil
	})
	if err != nil {
		return err
	}
	for range 50 {
		v := float64(r.IntN(2200) - 100)
		if got, w := x.RankOfValue(v), m.rankOfValue(v); got != w {
			return errorf("RankOfValue(%v) = %d, want %d", v, got, w)
		}
	}
	return nil
}

func TestSmallIndexScansItsOnlyLeaf(t *testing.T) {
	x := New(nil)
	big := []uint32{math.MaxUint32, math.MaxUint32 - 1, 1 << 31, 7}
	for i, id := range big {
		x.Set(id, float64(i), 0)
	}
	if x.tracked || x.owner.pages != nil {
		t.Fatal("a small index built a handle table")
	}
	for i, id := range big {
		if r, ok := x.Rank(id); !ok || r != len(big)-i {
			t.Errorf("Rank(%d) = %d, %v; want %d", id, r, ok, len(big)-i)
		}
	}
	if !x.Delete(math.MaxUint32) || x.Len() != 3 {
		t.Errorf("Delete(MaxUint32) failed: Len %d", x.Len())
	}
}

// A board loaded in order (best first, or worst first) fills its leaves
// rather than leaving them half empty.
func TestSortedLoadFillsLeaves(t *testing.T) {
	for _, dir := range []float64{-1, 1} {
		x := New(nil)
		const n = 10_000
		for i := range n {
			x.Set(uint32(i), dir*float64(i), 0)
		}
		if err := x.check(n); err != nil {
			t.Fatal(err)
		}
		leaves := 0
		for l, _ := x.leafAt(0); l != nil; l = l.next {
			leaves++
		}
		if most := n/(leafCap-1) + 1; leaves > most {
			t.Errorf("direction %v: %d leaves for %d entries, want at most %d", dir, leaves, n, most)
		}
	}
}

// TestTouchReadsOnly checks Touch, the read-ahead of engine.Warm: it finds
// every id the index holds (non-zero), none it does not hold once the
// index has leaves to look in, and leaves the order, the ranks and the
// tree's invariants as they were.
func TestTouchReadsOnly(t *testing.T) {
	for _, n := range []int{0, 3, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 1))
			ns := shuffledNames(n+10, r)
			x := New(byName(ns))
			for id := range uint32(n) {
				x.Set(id, float64(r.IntN(50)), int64(r.IntN(5)))
			}
			if n >= 1000 && !x.tracked {
				t.Fatalf("%d entries and no owner table: the test misses the tracked path", n)
			}
			before := order(x)
			for id := range uint32(n) {
				if x.Touch(id) == 0 {
					t.Fatalf("Touch(%d) = 0 for an id the index holds", id)
				}
			}
			if x.tracked {
				for id := uint32(n); id < uint32(n)+10; id++ {
					if got := x.Touch(id); got != 0 {
						t.Fatalf("Touch(%d) = %d for an id the index does not hold", id, got)
					}
				}
			}
			if after := order(x); !slices.Equal(before, after) {
				t.Fatalf("Touch changed the order")
			}
			if err := x.check(uint32(n) + 10); err != nil {
				t.Fatal(err)
			}
		})
	}
}
