package rank

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// check verifies the tree's invariants (see tree.go) and returns the first
// violation found. maxID bounds the handles the owner table is checked for.
func (x *Index) check(maxID uint32) error {
	var leaves []*leaf
	depth := -1
	var walk func(p *inner, d int) (int, *item, error)
	walk = func(p *inner, d int) (int, *item, error) {
		if p.n < 2 || p.n > x.innerMax {
			return 0, nil, fmt.Errorf("inner node at depth %d has %d children", d, p.n)
		}
		total := 0
		for j := 0; j < p.n; j++ {
			var (
				cnt   int
				first *item
			)
			if p.leafKids {
				l := p.leaves[j]
				if p.inners[j] != nil {
					return 0, nil, fmt.Errorf("leaf parent holds an inner child")
				}
				if l.parent != p || l.pidx != j {
					return 0, nil, fmt.Errorf("leaf %d at depth %d: parent link wrong (pidx %d)", j, d, l.pidx)
				}
				if l.size() == 0 || l.size() > x.leafMax {
					return 0, nil, fmt.Errorf("leaf holds %d entries", l.size())
				}
				if len(l.id) != l.size() {
					return 0, nil, fmt.Errorf("leaf columns differ in length")
				}
				if depth == -1 {
					depth = d + 1
				} else if depth != d+1 {
					return 0, nil, fmt.Errorf("leaves at depths %d and %d", depth, d+1)
				}
				leaves = append(leaves, l)
				it := l.item(0)
				cnt, first = l.size(), &it
			} else {
				c := p.inners[j]
				if p.leaves[j] != nil {
					return 0, nil, fmt.Errorf("inner parent holds a leaf child")
				}
				if c.parent != p || c.pidx != j {
					return 0, nil, fmt.Errorf("inner %d at depth %d: parent link wrong", j, d)
				}
				var err error
				if cnt, first, err = walk(c, d+1); err != nil {
					return 0, nil, err
				}
			}
			if int(p.counts[j]) != cnt {
				return 0, nil, fmt.Errorf("depth %d child %d: count %d, holds %d", d, j, p.counts[j], cnt)
			}
			if p.keys[j] != *first {
				return 0, nil, fmt.Errorf("depth %d child %d: key %+v, smallest %+v", d, j, p.keys[j], *first)
			}
			total += cnt
		}
		for j := p.n; j < innerCap; j++ {
			if p.leaves[j] != nil || p.inners[j] != nil {
				return 0, nil, fmt.Errorf("stale child pointer at %d", j)
			}
		}
		return total, &p.keys[0], nil
	}

	total := 0
	if x.root == nil {
		if x.single != nil {
			l := x.single
			if l.parent != nil || l.prev != nil || l.next != nil {
				return fmt.Errorf("lone leaf has links")
			}
			leaves = append(leaves, l)
			total = l.size()
		}
	} else {
		if x.single != nil {
			return fmt.Errorf("single leaf set beside a root")
		}
		if x.root.parent != nil {
			return fmt.Errorf("root has a parent")
		}
		var err error
		if total, _, err = walk(x.root, 0); err != nil {
			return err
		}
	}
	if total != x.n {
		return fmt.Errorf("tree holds %d items, n is %d", total, x.n)
	}

	// Leaf list, order, owners.
	var prev *item
	seen := map[uint32]bool{}
	for i, l := range leaves {
		want := (*leaf)(nil)
		if i > 0 {
			want = leaves[i-1]
		}
		if l.prev != want {
			return fmt.Errorf("leaf %d: prev link wrong", i)
		}
		want = nil
		if i+1 < len(leaves) {
			want = leaves[i+1]
		}
		if l.next != want {
			return fmt.Errorf("leaf %d: next link wrong", i)
		}
		for j := range l.size() {
			it := l.item(j)
			if prev != nil && x.cmp(prev, &it) >= 0 {
				return fmt.Errorf("entries out of order: %+v then %+v", *prev, it)
			}
			prev = &it
			if seen[it.id] {
				return fmt.Errorf("handle %d held twice", it.id)
			}
			seen[it.id] = true
			if x.tracked && x.owner.get(it.id) != l {
				return fmt.Errorf("owner of %d is not its leaf", it.id)
			}
		}
	}
	if !x.tracked && x.root != nil {
		return fmt.Errorf("tree with a root is not tracked")
	}
	if x.tracked {
		for id := uint32(0); id <= maxID; id++ {
			if !seen[id] && x.owner.get(id) != nil {
				return fmt.Errorf("owner of absent %d is set", id)
			}
		}
	}
	return nil
}

// cmp orders two items as the index does: value descending, then at
// ascending, then id.
func (x *Index) cmp(a, b *item) int {
	if a.s != b.s {
		if a.s < b.s {
			return -1
		}
		return 1
	}
	return x.cmpTail(a.at, a.id, b)
}

// model is a naive leaderboard: a map of entries sorted on demand.
type model struct {
	names   []string // string id of each handle
	entries map[uint32]Entry
}

func newModel(names []string) *model {
	return &model{names: names, entries: map[uint32]Entry{}}
}

// greater reports whether value a ranks above value b (NaN below all).
func greater(a, b float64) bool {
	switch {
	case math.IsNaN(a):
		return false
	case math.IsNaN(b):
		return true
	}
	return a > b
}

func (m *model) sorted() []Entry {
	es := make([]Entry, 0, len(m.entries))
	for _, e := range m.entries {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b Entry) int {
		switch {
		case greater(a.Value, b.Value):
			return -1
		case greater(b.Value, a.Value):
			return 1
		}
		if c := cmp.Compare(a.At, b.At); c != 0 {
			return c
		}
		return cmp.Compare(m.names[a.ID], m.names[b.ID])
	})
	return es
}

func (m *model) rankOfValue(v float64) int {
	r := 1
	for _, e := range m.entries {
		if greater(e.Value, v) {
			r++
		}
	}
	return r
}

// sameEntry compares entries, treating NaN as equal to NaN and -0 as 0.
func sameEntry(a, b Entry) bool {
	if a.ID != b.ID || a.At != b.At {
		return false
	}
	return a.Value == b.Value || math.IsNaN(a.Value) && math.IsNaN(b.Value)
}

// agree compares x with m on every query and returns the first difference.
func agree(x *Index, m *model, probes []float64) error {
	if x.Len() != len(m.entries) {
		return fmt.Errorf("Len = %d, want %d", x.Len(), len(m.entries))
	}
	want := m.sorted()
	for pos, e := range want {
		got, ok := x.Get(e.ID)
		if !ok || !sameEntry(got, e) {
			return fmt.Errorf("Get(%d) = %+v, %v; want %+v", e.ID, got, ok, e)
		}
		if p, ok := x.Position(e.ID); !ok || p != pos {
			return fmt.Errorf("Position(%d) = %d, %v; want %d", e.ID, p, ok, pos)
		}
		wr := m.rankOfValue(e.Value)
		if r, ok := x.Rank(e.ID); !ok || r != wr {
			return fmt.Errorf("Rank(%d) = %d, %v; want %d", e.ID, r, ok, wr)
		}
	}
	for id := range uint32(len(m.names)) {
		if _, in := m.entries[id]; in {
			continue
		}
		if _, ok := x.Get(id); ok {
			return fmt.Errorf("Get(%d) found a deleted handle", id)
		}
		if _, ok := x.Position(id); ok {
			return fmt.Errorf("Position(%d) found a deleted handle", id)
		}
		if _, ok := x.Rank(id); ok {
			return fmt.Errorf("Rank(%d) found a deleted handle", id)
		}
	}
	for _, v := range probes {
		if got, w := x.RankOfValue(v), m.rankOfValue(v); got != w {
			return fmt.Errorf("RankOfValue(%v) = %d, want %d", v, got, w)
		}
	}
	// Every suffix and a few windows through Range.
	for start := 0; start <= len(want); start += max(1, len(want)/7) {
		for _, n := range []int{1, 3, len(want)} {
			if err := agreeRange(x, m, want, start, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func agreeRange(x *Index, m *model, want []Entry, start, n int) error {
	i := start
	var err error
	x.Range(start, n, func(rank, pos int, e Entry) bool {
		switch {
		case i >= len(want) || i >= start+n:
			err = fmt.Errorf("Range(%d, %d) went past position %d", start, n, i)
		case pos != i:
			err = fmt.Errorf("Range(%d, %d): pos %d, want %d", start, n, pos, i)
		case !sameEntry(e, want[i]):
			err = fmt.Errorf("Range(%d, %d) at %d: %+v, want %+v", start, n, i, e, want[i])
		case rank != m.rankOfValue(e.Value):
			err = fmt.Errorf("Range(%d, %d) at %d: rank %d, want %d", start, n, i, rank, m.rankOfValue(e.Value))
		}
		i++
		return err == nil
	})
	if err != nil {
		return err
	}
	if w := min(start+n, len(want)); start < len(want) && i != w {
		return fmt.Errorf("Range(%d, %d) stopped at %d, want %d", start, n, i, w)
	}
	return nil
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
