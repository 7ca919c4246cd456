// Package rank keeps live leaderboards in memory.
//
// An Index is an order-statistic index over subjects: it answers "at which
// place and with which rank is this subject", "what rank would this value
// have" and "who holds places p to p+n" in O(log n), while subjects' values
// change one at a time. The engine keeps one Index per leaderboard and one per
// cohort value, so an Index is also cheap when it holds only a few entries.
//
// Order. Entries are ordered by Value descending, then by At ascending (the
// subject that reached the value first comes first), then by subject id
// ascending. Ties share a rank: the rank of an entry is 1 + the number of
// entries with a strictly greater Value, so four entries valued 9, 7, 7, 5
// have ranks 1, 2, 2, 4.
//
// Values. NaN is accepted and ranks below every number, -Inf included; all
// NaNs tie with each other. -0 is stored as 0. No other value is altered.
package rank

import "math"

// Entry is one subject on a board.
type Entry struct {
	ID    uint32  // the subject's handle
	Value float64 // what the subject is ranked by; higher ranks first
	At    int64   // when the subject reached Value (unix nanos); earlier first within a tie
}

// Index is an order-statistic index of entries, one per subject handle.
//
// The zero Index is not usable; call New. An Index is not safe for concurrent
// use: the caller serializes access. Get, Len, Position, Rank, RankOfValue and
// Range do not modify the Index, so several of them may run at once (say,
// under a sync.RWMutex read lock) as long as no Set or Delete runs.
//
// Cost. Set, Delete, Get, Position, Rank and RankOfValue take O(log n) time;
// Range takes O(log n) plus O(1) per entry. A million entries take about
// 42 bytes each. An Index of a few entries takes a few hundred bytes; once
// it outgrows one leaf (64 entries) it also keeps a table from handle to
// leaf in pages of 256 handles, so a sparse set of handles costs up to 2 KiB
// per page touched plus 8 bytes per 256 handles up to the largest one.
type Index struct {
	cmpID func(a, b uint32) int
	n     int

	root   *inner // nil while every entry fits in one leaf
	single *leaf  // the only leaf while root is nil; nil before the first Set

	// tracked says that owner is kept up to date. It turns on the first
	// time the index outgrows one leaf and stays on; before that, finding a
	// handle is a scan of the single leaf.
	tracked bool
	owner   owners

	leafMax, leafMin, innerMax, innerMin int
}

// New returns an empty index. cmpID orders two handles by their subjects'
// string ids, like strings.Compare; it breaks ties between entries with equal
// Value and At, and must not change its answer for handles in the index. If it
// is nil, or returns 0 for two different handles, the smaller handle comes
// first.
func New(cmpID func(a, b uint32) int) *Index {
	return newWithCaps(cmpID, leafCap, innerCap)
}

// newWithCaps returns an index whose nodes hold at most leafMax entries and
// innerMax children (no more than leafCap and innerCap). Tests use small
// nodes to build deep trees from few entries.
func newWithCaps(cmpID func(a, b uint32) int, leafMax, innerMax int) *Index {
	if leafMax < 3 || leafMax > leafCap || innerMax < 4 || innerMax > innerCap {
		panic("rank: node capacity out of range")
	}
	return &Index{
		cmpID:    cmpID,
		leafMax:  leafMax,
		leafMin:  max(1, leafMax/4),
		innerMax: innerMax,
		innerMin: max(2, innerMax/4),
	}
}

// Len returns the number of entries.
func (x *Index) Len() int { return x.n }

// Set gives the subject id the value it reached at time at: it inserts the
// entry, or moves the existing one to its new place.
func (x *Index) Set(id uint32, value float64, at int64) {
	k := item{s: encode(value), at: at, id: id}
	l, i := x.locate(id)
	if l == nil {
		x.n++
		x.add(x.leafFor(&k), k)
		return
	}
	// j is k's index in l once the old entry is out.
	j := x.searchLeaf(l, &k)
	if j > i {
		j--
	}
	if x.fits(l, j, l.size()-1, &k) {
		// The entry stays in its leaf, so no count changes.
		l.move(i, j, k)
		if i == 0 || j == 0 {
			fixMin(l)
		}
		return
	}
	l.remove(i)
	if i == 0 {
		fixMin(l)
	}
	x.add(x.leafNear(l, j, &k), k)
	x.shrink(l)
}

// Delete removes the subject id and reports whether it was present.
func (x *Index) Delete(id uint32) bool {
	l, i := x.locate(id)
	if l == nil {
		return false
	}
	l.remove(i)
	x.n--
	if x.tracked {
		x.owner.set(id, nil)
	}
	if i == 0 {
		fixMin(l)
	}
	x.shrink(l)
	return true
}

// Get returns the entry of the subject id.
func (x *Index) Get(id uint32) (Entry, bool) {
	l, i := x.locate(id)
	if l == nil {
		return Entry{}, false
	}
	return l.item(i).entry(), true
}

// Position returns the 0-based place of the subject id in the order.
func (x *Index) Position(id uint32) (pos int, ok bool) {
	l, i := x.locate(id)
	if l == nil {
		return 0, false
	}
	return position(l, i), true
}

// Rank returns the rank of the subject id: 1 + the number of entries with a
// strictly greater Value.
func (x *Index) Rank(id uint32) (rank int, ok bool) {
	l, i := x.locate(id)
	if l == nil {
		return 0, false
	}
	return x.rankAt(l, i, position(l, i)), true
}

// rankAt returns the rank of entry i of l, at position pos.
func (x *Index) rankAt(l *leaf, i, pos int) int {
	// Find where the tie starts: in l, its rank is its place + 1;
	// before l, count from the root.
	s := l.k[i].s
	f := i
	for f > 0 && l.k[f-1].s == s {
		f--
	}
	if f > 0 || l.prev == nil || l.prev.k[l.prev.size()-1].s != s {
		return pos - (i - f) + 1
	}
	return x.countAbove(s) + 1
}

// RankOfValue returns the rank an entry with value v would have: 1 + the
// number of entries with Value > v.
func (x *Index) RankOfValue(v float64) int {
	return x.countAbove(encode(v)) + 1
}

// Range calls fn for up to n entries in order, starting at position pos, with
// each entry's rank and position, until fn returns false. A negative pos
// counts as 0. fn must not modify the index.
func (x *Index) Range(pos, n int, fn func(rank, pos int, e Entry) bool) {
	pos = max(pos, 0)
	if n <= 0 || pos >= x.n {
		return
	}
	l, i := x.leafAt(pos)
	s := l.k[i].s
	rank := x.rankAt(l, i, pos)
	for ; l != nil; l, i = l.next, 0 {
		for ; i < len(l.k); i++ {
			if l.k[i].s != s {
				s, rank = l.k[i].s, pos+1
			}
			if !fn(rank, pos, Entry{ID: l.id[i], Value: decode(s), At: l.k[i].at}) {
				return
			}
			pos++
			if n--; n == 0 {
				return
			}
		}
	}
}

// item is an entry as the tree stores it.
type item struct {
	s  uint64 // the value, encoded so that a smaller s is a greater value
	at int64
	id uint32
}

func (it item) entry() Entry {
	return Entry{ID: it.id, Value: decode(it.s), At: it.at}
}

// encode maps a value to a key whose unsigned order is the board order:
// greater values get smaller keys, and NaN gets the largest key of all.
func encode(v float64) uint64 {
	if v != v {
		return math.MaxUint64
	}
	if v == 0 {
		v = 0 // fold -0 into +0
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	return ^b
}

// decode is the inverse of encode.
func decode(s uint64) float64 {
	b := ^s
	if b>>63 != 0 {
		b &^= 1 << 63
	} else {
		b = ^b
	}
	return math.Float64frombits(b)
}
